/**
 * Adaptive average pooling to a fixed output size, as PyTorch's AdaptiveAvgPool2d: output cell
 * (i, j) averages rows floor(i*H/OH) .. ceil((i+1)*H/OH)-1 and columns floor(j*W/OW) ..
 * ceil((j+1)*W/OW)-1. Output 1x1 runs the global-pool kernels, evenly dividing sizes the
 * average-pool kernels (the same windows); other sizes (overlapping or uneven windows) a
 * TypeScript loop (rare: AlexNet at non-224 inputs).
 * Shapes: x[N,C,H,W] -> y[N,C,OH,OW].
 */
import { recordOp, type BackwardFn } from '../autograd/graph.js';
import { checkShape } from '../core/errors.js';
import { formatShape, type Shape } from '../core/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { where } from './common.js';
import { adaptiveAvgPool2d1, avgPool2d } from './pool.js';

/** Window [start, end) of output index i of n over an input of size len. */
function window(i: number, n: number, len: number): [number, number] {
  return [Math.floor((i * len) / n), Math.ceil(((i + 1) * len) / n)];
}

/**
 * Adaptive average pooling.
 * @param x [N, C, H, W]
 * @param outputSize [OH, OW] (each >= 1) or one number for both
 * @returns [N, C, OH, OW]
 * @example const y = adaptiveAvgPool2d(features, [6, 6]); // AlexNet's [N, 256, 6, 6]
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | readonly [number, number]): Tensor {
  const op = where('adaptiveAvgPool2d');
  const [OH, OW] = typeof outputSize === 'number' ? [outputSize, outputSize] : outputSize;
  checkShape(
    Number.isSafeInteger(OH) && Number.isSafeInteger(OW) && OH >= 1 && OW >= 1,
    () => `${op}: output size must be positive integers, got ${JSON.stringify(outputSize)}`,
  );
  checkShape(x.ndim === 4, () => `${op}: input must be 4-D [N, C, H, W], got ${formatShape(x.shape)}`);
  const [N, C, H, W] = x.shape;
  checkShape(H >= 1 && W >= 1, () => `${op}: input ${formatShape(x.shape)} has an empty plane`);
  if (OH === 1 && OW === 1) return adaptiveAvgPool2d1(x);
  if (H % OH === 0 && W % OW === 0) return avgPool2d(x, { kernelSize: [H / OH, W / OW] });
  const y = Tensor.empty([N, C, OH, OW], x.dtype);
  const xd = x.data;
  const yd = y.data;
  for (let pl = 0; pl < N * C; pl++) {
    for (let i = 0; i < OH; i++) {
      const [h0, h1] = window(i, OH, H);
      for (let j = 0; j < OW; j++) {
        const [w0, w1] = window(j, OW, W);
        let s = 0;
        for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) s += xd[(pl * H + h) * W + w];
        yd[(pl * OH + i) * OW + j] = s / ((h1 - h0) * (w1 - w0));
      }
    }
  }
  return recordOp('adaptiveAvgPool2d', [x], y, null, adaptiveBackward(x.shape, OH, OW));
}

/** Backward: each output cell's gradient spread evenly over its window (windows may overlap). */
function adaptiveBackward(xShape: Shape, OH: number, OW: number): BackwardFn {
  const [N, C, H, W] = xShape;
  return (_ctx, dy) => {
    const dx = Tensor.zeros(xShape, dy.dtype);
    const g = dy.data;
    const dxd = dx.data;
    for (let pl = 0; pl < N * C; pl++) {
      for (let i = 0; i < OH; i++) {
        const [h0, h1] = window(i, OH, H);
        for (let j = 0; j < OW; j++) {
          const [w0, w1] = window(j, OW, W);
          const v = g[(pl * OH + i) * OW + j] / ((h1 - h0) * (w1 - w0));
          for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) dxd[(pl * H + h) * W + w] += v;
        }
      }
    }
    return [dx];
  };
}
