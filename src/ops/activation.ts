/**
 * Elementwise activations: relu and (inverted) dropout. Any shape; output has the input's shape.
 */
import { recordOp, type BackwardFn } from '../autograd/graph.js';
import { kernels } from '../backend/active.js';
import { checkOption } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { metaUint8, where } from './common.js';

/**
 * Rectified linear unit, y = max(x, 0). The gradient at 0 is 0 (as PyTorch).
 * @param x any shape
 * @returns same shape as x
 * @example const h = relu(conv2d(x, w, null, { padding: 1 }));
 */
export function relu(x: Tensor): Tensor {
  const y = Tensor.empty(x.shape, x.dtype);
  kernels().reluForward(x.data, y.data, x.size);
  return recordOp('relu', [x], y, (ctx) => ctx.save(y), reluBackward(x.shape));
}

/** Backward of relu from the saved output (y > 0 exactly where x > 0). */
function reluBackward(shape: Shape): BackwardFn {
  return (ctx, dy) => {
    const [ys] = ctx.saved();
    const dx = Tensor.empty(shape, dy.dtype);
    kernels().reluBackward(dy.data, ys.data, dx.data, dx.size);
    return [dx];
  };
}

export interface DropoutOptions {
  /** Probability of zeroing an element, in [0, 1]. */
  p: number;
  /** Identity when false. */
  training: boolean;
  /** Counter-RNG key, `counterKey(seed, stream)` from core/rng.ts (the caller picks the stream, e.g. per step). */
  key: number;
  /** Index of the first element in the key's stream (default 0). */
  offset?: number;
}

/**
 * Inverted dropout: keeps each element with probability 1 - p and scales it by 1 / (1 - p).
 * The mask is a pure function of (key, offset + i), so native and ref agree and a fixed key gives
 * a fixed (differentiable) map. Returns `x` itself when not training or p == 0.
 * @param x any shape
 * @returns same shape as x
 * @example const y = dropout(x, { p: 0.5, training: true, key: counterKey(seed, step) });
 */
export function dropout(x: Tensor, opts: DropoutOptions): Tensor {
  const op = where('dropout');
  const { p, training, key } = opts;
  const offset = opts.offset ?? 0;
  checkOption(Number.isFinite(p) && p >= 0 && p <= 1, () => `${op}: option 'p' must be in [0, 1], got ${p}`);
  checkOption(Number.isSafeInteger(key), () => `${op}: option 'key' must be an integer (from counterKey), got ${key}`);
  checkOption(Number.isSafeInteger(offset) && offset >= 0, () => `${op}: option 'offset' must be an integer >= 0, got ${offset}`);
  if (!training || p === 0) return x;
  const y = Tensor.empty(x.shape, x.dtype);
  const mask = new Uint8Array(x.size);
  kernels().dropoutForward(x.data, y.data, mask, p, key >>> 0, offset, x.size);
  return recordOp(
    'dropout',
    [x],
    y,
    (ctx) => {
      ctx.meta.mask = mask;
    },
    dropoutBackward(x.shape, p),
  );
}

/** Backward of dropout from the mask kept in ctx.meta. */
function dropoutBackward(shape: Shape, p: number): BackwardFn {
  return (ctx, dy) => {
    const dx = Tensor.empty(shape, dy.dtype);
    kernels().dropoutBackward(dy.data, metaUint8(ctx, 'mask'), p, dx.data, dx.size);
    return [dx];
  };
}
