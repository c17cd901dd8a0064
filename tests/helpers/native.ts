/**
 * The native backend for tests that compare it with the reference: `skipNative` is the node:test
 * skip reason when the addon did not load (CI sets LEANTRAIN_REQUIRE_NATIVE=1, so there it cannot
 * be skipped silently: tests/backend.test.ts fails instead).
 */
import { nativeBackend, nativeLoadError } from '../../src/index.js';
import type { IsaName, Kernels, NativeIsaControl } from '../../src/index.js';

const nat = nativeBackend();

/** Skip reason for native-only tests, or false when the addon is loaded. */
export const skipNative: string | false = nat === null ? `native addon unavailable: ${nativeLoadError()}` : false;

/** The native backend; only call it inside tests skipped by `skipNative`. */
export function native(): Kernels & NativeIsaControl {
  if (nat === null) throw new Error('unreachable: tests are skipped without the addon');
  return nat;
}

/** The native backend or null (for code that also runs without it). */
export const nativeOrNull: (Kernels & NativeIsaControl) | null = nat;

/** The ISA variants the addon can run here ([] without the addon). */
export const nativeIsas: IsaName[] = nat ? nat.availableIsas() : [];
