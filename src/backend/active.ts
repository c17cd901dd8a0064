/**
 * The active backend: ops dispatch to `kernels()`. The composition root (src/index.ts) selects
 * the default backend at import (native when the addon loads, ref otherwise, loudly).
 */
import { LeantrainError } from '../core/errors.js';
import type { Kernels } from './kernels.js';

let current: Kernels | null = null;

/** The kernels ops dispatch to. */
export function kernels(): Kernels {
  if (current === null) {
    throw new LeantrainError(
      'no backend selected: import the package entry (src/index.ts) or call useBackend() first',
    );
  }
  return current;
}

/** Makes `k` the active backend; returns the previous one (or null). */
export function useBackend(k: Kernels): Kernels | null {
  const prev = current;
  current = k;
  return prev;
}

/** Runs `fn` with backend `k` active, restoring the previous backend afterwards. */
export function withBackend<T>(k: Kernels, fn: () => T): T {
  const prev = current;
  current = k;
  try {
    return fn();
  } finally {
    current = prev;
  }
}
