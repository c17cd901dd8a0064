/**
 * A backend that is `base` with some kernels replaced: for tools that watch or stand in for kernel
 * calls (conv shape recording, FLOP counting, ONNX tracing). Kernels not in `overrides` pass
 * through to `base`, do nothing, or throw, as `others` says; `threads`/`setThreads` and
 * non-function members always pass through.
 */
import type { Kernels } from './kernels.js';

export type OtherKernels = 'pass' | 'noop' | ((kernel: string) => never);

export function wrapKernels(base: Kernels, overrides: Partial<Kernels>, others: OtherKernels = 'pass'): Kernels {
  return new Proxy(base, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && Object.hasOwn(overrides, prop)) return overrides[prop as keyof Kernels];
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function' || others === 'pass' || prop === 'threads' || prop === 'setThreads') return v;
      if (others === 'noop') return () => {};
      return () => others(String(prop));
    },
  });
}
