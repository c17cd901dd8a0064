/**
 * linear: fully connected layer y = x W^T + b (PyTorch weight layout OUT x IN).
 * Shapes: x[N,IN], weight[OUT,IN], bias[OUT] -> y[N,OUT].
 */
import { kernels } from '../backend/active.js';
import type { LinearDims } from '../backend/kernels.js';
import { sparseLinearCrossover } from '../backend/sparse_crossover.js';
import { checkShape } from '../core/errors.js';
import { formatShape } from '../core/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkSameDtype, where } from './common.js';
import { recordWeightedOp, type WeightedBackwardKernels } from './weighted.js';

/**
 * Fully connected layer.
 * @param x [N, IN] (flatten conv features first)
 * @param weight [OUT, IN]
 * @param bias [OUT] or null
 * @returns [N, OUT]
 * @example const logits = linear(flatten(h), fc.weight, fc.bias);
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  const op = where('linear');
  checkShape(x.ndim === 2, () => `${op}: input must be 2-D [N, IN], got ${formatShape(x.shape)} (flatten it first)`);
  checkShape(weight.ndim === 2, () => `${op}: weight must be 2-D [OUT, IN], got ${formatShape(weight.shape)}`);
  const [N, IN] = x.shape;
  const [OUT, INw] = weight.shape;
  checkShape(
    IN === INw,
    () => `${op}: input has ${IN} features (shape ${formatShape(x.shape)}), weight expects ${INw} (shape ${formatShape(weight.shape)})`,
  );
  if (bias !== null) {
    checkShape(bias.ndim === 1 && bias.shape[0] === OUT, () => `${op}: bias must be [${OUT}], got ${formatShape(bias.shape)}`);
  }
  checkSameDtype(op, { input: x, weight, bias });
  const d: LinearDims = { N, IN, OUT };
  const y = Tensor.empty([N, OUT], x.dtype);
  kernels().linearForward(x.data, weight.data, bias ? bias.data : null, y.data, d);
  return recordWeightedOp('linear', x, weight, bias, y, linearBackwardKernels(d));
}

/** linear's backward products bound to its dims (module level: captures no tensor). */
function linearBackwardKernels(d: LinearDims): WeightedBackwardKernels {
  const cross = sparseLinearCrossover(d);
  return {
    input: (dy, w, dx) => kernels().linearBackwardInput(dy, w, dx, d),
    weight: (x, dy, dw, db) => kernels().linearBackwardWeight(x, dy, dw, db, d),
    // Used for a pruned dy below the measured crossover (measured on native only: ref stays dense).
    sparse: {
      crossover: () => (kernels().name === 'native' ? cross : 0),
      shapeCrossover: cross,
      input: (dy, w, dx) => kernels().linearBackwardInputSparse(dy, w, dx, d),
      weight: (x, dy, dw, db) => kernels().linearBackwardWeightSparse(x, dy, dw, db, d),
    },
  };
}
