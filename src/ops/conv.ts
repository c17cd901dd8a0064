/**
 * conv2d: the functional convolution op. Validates shapes with messages that name the scope,
 * records the graph node and dispatches the backend's conv kernels.
 * Shapes: x[N,C,H,W], weight[K,C,R,S], bias[K] -> y[N,K,P,Q].
 */
import { kernels } from '../backend/active.js';
import type { Conv2dDims } from '../backend/kernels.js';
import { sparseCrossover } from '../backend/sparse_crossover.js';
import { checkShape } from '../core/errors.js';
import { convOutSize, formatShape } from '../core/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkSameDtype, intPair, where, type IntPair } from './common.js';
import { recordWeightedOp, type WeightedBackwardKernels } from './weighted.js';

export interface Conv2dOptions {
  /** Step between windows (default 1). */
  stride?: IntPair;
  /** Zero padding on each side (default 0). */
  padding?: IntPair;
}

/** The dims of a convolution of `x` with `weight`, validated (ShapeError / OptionError naming the op). */
export function conv2dDims(x: Tensor, weight: Tensor, opts: Conv2dOptions = {}): Conv2dDims {
  const op = where('conv2d');
  const [strideH, strideW] = intPair(opts.stride, [1, 1], op, 'stride', 1);
  const [padH, padW] = intPair(opts.padding, [0, 0], op, 'padding', 0);
  checkShape(x.ndim === 4, () => `${op}: input must be 4-D [N, C, H, W], got ${formatShape(x.shape)}`);
  checkShape(weight.ndim === 4, () => `${op}: weight must be 4-D [K, C, R, S], got ${formatShape(weight.shape)}`);
  const [N, C, H, W] = x.shape;
  const [K, Cw, R, S] = weight.shape;
  checkShape(
    C === Cw,
    () => `${op}: input has ${C} channels (shape ${formatShape(x.shape)}), weight expects ${Cw} (shape ${formatShape(weight.shape)})`,
  );
  const P = convOutSize(H, R, strideH, padH);
  const Q = convOutSize(W, S, strideW, padW);
  checkShape(
    P > 0 && Q > 0,
    () => `${op}: input ${formatShape(x.shape)} is smaller than the ${R}x${S} kernel with padding ${padH},${padW}`,
  );
  return { N, C, H, W, K, R, S, P, Q, strideH, strideW, padH, padW };
}

/**
 * 2-D convolution (cross-correlation, as PyTorch), groups = 1.
 * @param x input [N, C, H, W]
 * @param weight [K, C, R, S]
 * @param bias [K] or null
 * @returns [N, K, P, Q] with P = floor((H + 2*padH - R) / strideH) + 1 (Q likewise)
 * @example const y = conv2d(x, w, null, { stride: 1, padding: 1 });
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  const d = conv2dDims(x, weight, opts);
  if (bias !== null) {
    checkShape(bias.ndim === 1 && bias.shape[0] === d.K, () => `${where('conv2d')}: bias must be [${d.K}], got ${formatShape(bias.shape)}`);
  }
  checkSameDtype(where('conv2d'), { input: x, weight, bias });
  const y = Tensor.empty([d.N, d.K, d.P, d.Q], x.dtype);
  kernels().conv2dForward(x.data, weight.data, bias ? bias.data : null, y.data, d);
  return recordWeightedOp('conv2d', x, weight, bias, y, conv2dBackwardKernels(d));
}

/** conv2d's backward products bound to its dims (module level: captures no tensor). */
function conv2dBackwardKernels(d: Conv2dDims): WeightedBackwardKernels {
  const cross = sparseCrossover(d);
  return {
    input: (dy, w, dx) => kernels().conv2dBackwardInput(dy, w, dx, d),
    weight: (x, dy, dw, db) => kernels().conv2dBackwardWeight(x, dy, dw, db, d),
    // Used for a pruned dy below the measured crossover (measured on native only: ref stays dense).
    sparse: {
      crossover: () => (kernels().name === 'native' ? cross : 0),
      shapeCrossover: cross,
      input: (dy, w, dx) => kernels().conv2dBackwardInputSparse(dy, w, dx, d),
      weight: (x, dy, dw, db) => kernels().conv2dBackwardWeightSparse(x, dy, dw, db, d),
    },
  };
}
