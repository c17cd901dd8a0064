/**
 * Elementwise binary ops. add: a + b of identical shapes (the residual connection).
 */
import { recordOp, type BackwardFn } from '../autograd/graph.js';
import { kernels } from '../backend/active.js';
import { checkShape } from '../core/errors.js';
import { formatShape, shapesEqual } from '../core/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkSameDtype, where } from './common.js';

/**
 * Elementwise sum of two tensors of the same shape (no broadcasting).
 * @param a any shape
 * @param b same shape as a
 * @returns a + b
 * @example const out = relu(add(bn2(conv2(h)), shortcut));
 */
export function add(a: Tensor, b: Tensor): Tensor {
  const op = where('add');
  checkShape(shapesEqual(a.shape, b.shape), () => `${op}: shapes differ: ${formatShape(a.shape)} and ${formatShape(b.shape)} (no broadcasting)`);
  checkSameDtype(op, { a, b });
  const y = Tensor.empty(a.shape, a.dtype);
  kernels().add(a.data, b.data, y.data, a.size);
  return recordOp('add', [a, b], y, null, addBackward);
}

/**
 * Backward of add: both inputs receive the output gradient itself. Sharing it is safe: the
 * driver never writes into a buffer it did not allocate, and gradient transforms must not
 * mutate their input (see GradientTransform).
 */
const addBackward: BackwardFn = (ctx, dy) => [ctx.needsInputGrad(0) ? dy : null, ctx.needsInputGrad(1) ? dy : null];
