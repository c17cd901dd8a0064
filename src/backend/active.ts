/**
 * The active backend: ops dispatch to `kernels()`. The composition root (src/index.ts) selects
 * the default backend at import (native when the addon loads, ref otherwise, loudly).
 */
import { LeantrainError } from '../core/errors.js';
import type { Kernels } from './kernels.js';

let current: Kernels | null = null;
let defaultProvider: (() => Kernels) | null = null;

/**
 * Registers how the default backend is chosen the first time a kernel is needed (the package
 * entry registers native-with-ref-fallback). Lazy, so importing never throws: a bad
 * LEANTRAIN_* variable surfaces at first use, where callers report it.
 */
export function setDefaultBackendProvider(provider: () => Kernels): void {
  defaultProvider = provider;
}

/** The kernels ops dispatch to (the default backend is selected on first use). */
export function kernels(): Kernels {
  if (current === null) {
    if (defaultProvider === null) {
      throw new LeantrainError(
        'no backend selected: import the package entry (src/index.ts) or call useBackend() first',
      );
    }
    current = defaultProvider();
  }
  return current;
}

/** Makes `k` the active backend; returns the previous one (or null). */
export function useBackend(k: Kernels): Kernels | null {
  const prev = current;
  current = k;
  return prev;
}

/**
 * Runs `fn` with backend `k` active, restoring the previous backend afterwards. Synchronous
 * only: for async work (training loops) use `withBackendAsync`.
 */
export function withBackend<T>(k: Kernels, fn: () => T): T {
  const prev = current;
  current = k;
  try {
    return fn();
  } finally {
    current = prev;
  }
}

/** Async twin of `withBackend`: `k` stays active until the promise settles. */
export async function withBackendAsync<T>(k: Kernels, fn: () => Promise<T>): Promise<T> {
  const prev = current;
  current = k;
  try {
    return await fn();
  } finally {
    current = prev;
  }
}
