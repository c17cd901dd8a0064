/**
 * Pooling ops over NCHW planes: max pool, average pool (padded zeros counted, as PyTorch's
 * count_include_pad=True) and global average pool (AdaptiveAvgPool2d(1)).
 * Shapes: x[N,C,H,W] -> y[N,C,P,Q]; R x S window.
 */
import { recordOp, type BackwardFn } from '../autograd/graph.js';
import { kernels } from '../backend/active.js';
import type { ChannelDims, Pool2dDims } from '../backend/kernels.js';
import { checkOption, checkShape } from '../core/errors.js';
import { convOutSize, formatShape, type Shape } from '../core/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { intPair, metaInt32, where, type IntPair } from './common.js';

export interface Pool2dOptions {
  /** Window size R x S. */
  kernelSize: IntPair;
  /** Step between windows (default: kernelSize). */
  stride?: IntPair;
  /** Implicit padding on each side, at most half the window (default 0). */
  padding?: IntPair;
}

/** The dims of a pooling window over `x`, validated (ShapeError / OptionError naming `opName`). */
export function pool2dDims(opName: string, x: Tensor, opts: Pool2dOptions): Pool2dDims {
  const op = where(opName);
  const [R, S] = intPair(opts.kernelSize, [0, 0], op, 'kernelSize', 1);
  const [strideH, strideW] = intPair(opts.stride, [R, S], op, 'stride', 1);
  const [padH, padW] = intPair(opts.padding, [0, 0], op, 'padding', 0);
  // As PyTorch: a wider pad would create windows that see only padding.
  checkOption(
    2 * padH <= R && 2 * padW <= S,
    () => `${op}: padding ${padH},${padW} must be at most half the ${R}x${S} window`,
  );
  checkShape(x.ndim === 4, () => `${op}: input must be 4-D [N, C, H, W], got ${formatShape(x.shape)}`);
  const [N, C, H, W] = x.shape;
  const P = convOutSize(H, R, strideH, padH);
  const Q = convOutSize(W, S, strideW, padW);
  checkShape(
    P > 0 && Q > 0,
    () => `${op}: input ${formatShape(x.shape)} is smaller than the ${R}x${S} window with padding ${padH},${padW}`,
  );
  return { N, C, H, W, R, S, P, Q, strideH, strideW, padH, padW };
}

/**
 * 2-D max pooling; padding never wins. Gradient flows to the (first) maximum of each window.
 * @param x [N, C, H, W]
 * @returns [N, C, P, Q]
 * @example const y = maxPool2d(x, { kernelSize: 2 }); // [N, C, H/2, W/2]
 */
export function maxPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  const d = pool2dDims('maxPool2d', x, opts);
  const y = Tensor.empty([d.N, d.C, d.P, d.Q], x.dtype);
  const argmax = new Int32Array(y.size);
  kernels().maxPool2dForward(x.data, y.data, argmax, d);
  return recordOp(
    'maxPool2d',
    [x],
    y,
    (ctx) => {
      ctx.meta.argmax = argmax;
    },
    maxPoolBackward(x.shape, d),
  );
}

/** Backward of maxPool2d from the argmax kept in ctx.meta. */
function maxPoolBackward(shape: Shape, d: Pool2dDims): BackwardFn {
  return (ctx, dy) => {
    const dx = Tensor.empty(shape, dy.dtype);
    kernels().maxPool2dBackward(dy.data, metaInt32(ctx, 'argmax'), dx.data, d);
    return [dx];
  };
}

/**
 * 2-D average pooling; padded zeros count in the divisor (PyTorch count_include_pad=True).
 * @param x [N, C, H, W]
 * @returns [N, C, P, Q]
 * @example const y = avgPool2d(x, { kernelSize: 3, stride: 1, padding: 1 }); // same H, W
 */
export function avgPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  const d = pool2dDims('avgPool2d', x, opts);
  const y = Tensor.empty([d.N, d.C, d.P, d.Q], x.dtype);
  kernels().avgPool2dForward(x.data, y.data, d);
  return recordOp('avgPool2d', [x], y, null, avgPoolBackward(x.shape, d));
}

/** Backward of avgPool2d: needs only the dims. */
function avgPoolBackward(shape: Shape, d: Pool2dDims): BackwardFn {
  return (_ctx, dy) => {
    const dx = Tensor.empty(shape, dy.dtype);
    kernels().avgPool2dBackward(dy.data, dx.data, d);
    return [dx];
  };
}

/**
 * Global average pooling (PyTorch AdaptiveAvgPool2d(1)): the mean of each H x W plane.
 * @param x [N, C, H, W]
 * @returns [N, C, 1, 1]
 * @example const feats = flatten(adaptiveAvgPool2d1(x)); // [N, C]
 */
export function adaptiveAvgPool2d1(x: Tensor): Tensor {
  const op = where('adaptiveAvgPool2d1');
  checkShape(x.ndim === 4, () => `${op}: input must be 4-D [N, C, H, W], got ${formatShape(x.shape)}`);
  const [N, C, H, W] = x.shape;
  checkShape(H * W > 0, () => `${op}: input ${formatShape(x.shape)} has an empty plane`);
  const d: ChannelDims = { N, C, HW: H * W };
  const y = Tensor.empty([N, C, 1, 1], x.dtype);
  kernels().globalAvgPoolForward(x.data, y.data, d);
  return recordOp('adaptiveAvgPool2d1', [x], y, null, globalAvgPoolBackward(x.shape, d));
}

/** Backward of adaptiveAvgPool2d1: needs only the dims. */
function globalAvgPoolBackward(shape: Shape, d: ChannelDims): BackwardFn {
  return (_ctx, dy) => {
    const dx = Tensor.empty(shape, dy.dtype);
    kernels().globalAvgPoolBackward(dy.data, dx.data, d);
    return [dx];
  };
}
