/**
 * crossEntropy: softmax cross-entropy with integer labels, mean over the batch.
 * Shapes: logits[N,classes], labels Int32Array(N) -> loss [] (a scalar tensor).
 */
import { recordOp, type BackwardFn } from '../autograd/graph.js';
import { kernels } from '../backend/active.js';
import type { SoftmaxDims } from '../backend/kernels.js';
import { checkShape, UnsupportedError } from '../core/errors.js';
import { formatShape, type Shape } from '../core/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { metaInt32, where } from './common.js';

/**
 * Mean softmax cross-entropy, as PyTorch `F.cross_entropy(logits, labels)`.
 * @param logits [N, classes]
 * @param labels N class indices, each in [0, classes)
 * @returns a shape-[] tensor holding the mean loss
 * @example const loss = crossEntropy(model.call(x), batch.labels); backward(loss);
 */
export function crossEntropy(logits: Tensor, labels: Int32Array): Tensor {
  const op = where('crossEntropy');
  if (!(labels instanceof Int32Array)) {
    throw new UnsupportedError(`${op}: labels must be an Int32Array (convert with Int32Array.from), got ${Object.prototype.toString.call(labels)}`);
  }
  checkShape(logits.ndim === 2, () => `${op}: logits must be 2-D [N, classes], got ${formatShape(logits.shape)}`);
  const [N, classes] = logits.shape;
  checkShape(N > 0 && classes > 0, () => `${op}: logits ${formatShape(logits.shape)} are empty`);
  checkShape(
    labels.length === N,
    () => `${op}: ${labels.length} labels for logits of shape ${formatShape(logits.shape)}, expected ${N}`,
  );
  for (let i = 0; i < N; i++) {
    const v = labels[i];
    checkShape(v >= 0 && v < classes, () => `${op}: label at index ${i} is ${v}, expected a class in [0, ${classes})`);
  }
  const d: SoftmaxDims = { N, classes };
  const probs = Tensor.empty(logits.shape, logits.dtype);
  const mean = kernels().softmaxCrossEntropyForward(logits.data, labels, probs.data, d);
  const loss = Tensor.full([], mean, logits.dtype);
  return recordOp(
    'crossEntropy',
    [logits],
    loss,
    (ctx) => {
      ctx.save(probs);
      // A copy: callers reuse label buffers between batches.
      ctx.meta.labels = labels.slice();
    },
    crossEntropyBackward(logits.shape, d),
  );
}

/** Backward of crossEntropy from the saved softmax probabilities and the labels in ctx.meta. */
function crossEntropyBackward(shape: Shape, d: SoftmaxDims): BackwardFn {
  return (ctx, dy) => {
    const [ps] = ctx.saved();
    const dlogits = Tensor.empty(shape, dy.dtype);
    kernels().softmaxCrossEntropyBackward(ps.data, metaInt32(ctx, 'labels'), dy.data[0] / d.N, dlogits.data, d);
    return [dlogits];
  };
}
