/**
 * Chooses the default backend: native when the addon loads, otherwise ref, and says so once on
 * stderr. LEANTRAIN_BACKEND forces one; LEANTRAIN_REQUIRE_NATIVE=1 turns the fallback into an
 * error (CI uses it to prove the native backend is the one tested).
 */
import { flags } from '../core/flags.js';
import { LeantrainError } from '../core/errors.js';
import type { Kernels } from '../backend/kernels.js';
import { useBackend } from '../backend/active.js';
import { loadAddon } from './native/addon.js';
import { createNativeBackend } from './native/index.js';
import { createRefBackend } from './ref/index.js';

export type NativeKernels = ReturnType<typeof createNativeBackend>;

let native: NativeKernels | null | undefined;
let nativeFailure = '';
let ref: Kernels | null = null;
let warned = false;

/** The native backend, or null if the addon did not load (reason in `nativeLoadError()`). */
export function nativeBackend(): NativeKernels | null {
  if (native === undefined) {
    const res = loadAddon();
    if (res.ok) {
      native = createNativeBackend(res.addon);
      native.setThreads(flags().threads);
    } else {
      native = null;
      nativeFailure = res.reason;
    }
  }
  return native;
}

/** Why the native backend did not load ('' if it did or was not tried). */
export function nativeLoadError(): string {
  return nativeFailure;
}

/** The reference backend (a singleton). */
export function refBackend(): Kernels {
  if (ref === null) ref = createRefBackend();
  return ref;
}

/** Selects and activates the default backend as described above; returns it. */
export function selectDefaultBackend(): Kernels {
  const f = flags();
  if (f.backend === 'ref') {
    useBackend(refBackend());
    return refBackend();
  }
  const n = nativeBackend();
  if (n !== null) {
    useBackend(n);
    return n;
  }
  if (f.requireNative || f.backend === 'native') {
    throw new LeantrainError(`native backend required but unavailable: ${nativeFailure}`);
  }
  if (!warned && !f.quiet) {
    warned = true;
    process.stderr.write(`[leantrain] native backend unavailable (${nativeFailure}); running the pure-TypeScript ref backend\n`);
  }
  useBackend(refBackend());
  return refBackend();
}

/** Activates a backend by name ('native' throws if the addon is missing). */
export function selectBackend(name: 'native' | 'ref'): Kernels {
  if (name === 'ref') {
    useBackend(refBackend());
    return refBackend();
  }
  const n = nativeBackend();
  if (n === null) throw new LeantrainError(`native backend unavailable: ${nativeFailure}`);
  useBackend(n);
  return n;
}
