/**
 * linear: fully connected layer y = x W^T + b (PyTorch weight layout OUT x IN).
 * Shapes: x[N,IN], weight[OUT,IN], bias[OUT] -> y[N,OUT].
 */
import { recordOp, type BackwardFn } from '../autograd/graph.js';
import { kernels } from '../backend/active.js';
import type { LinearDims } from '../backend/kernels.js';
import { checkShape } from '../core/errors.js';
import { formatShape, type Shape } from '../core/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkSameDtype, where } from './common.js';

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
  const inputs = bias ? [x, weight, bias] : [x, weight];
  // dW/db need x, dx needs the weight: save only what the inputs that want a gradient need.
  const needX = weight.requiresGrad || (bias !== null && bias.requiresGrad);
  const needW = x.requiresGrad;
  return recordOp(
    'linear',
    inputs,
    y,
    (ctx) => {
      if (needX) ctx.save(x);
      if (needW) ctx.save(weight);
    },
    linearBackward(d, x.shape, weight.shape, bias === null ? null : bias.shape, needX, needW),
  );
}

/** Backward of linear; captures only shapes and dims (the tensors come from ctx.saved()). */
function linearBackward(
  d: LinearDims, xShape: Shape, wShape: Shape, bShape: Shape | null, savedX: boolean, savedW: boolean,
): BackwardFn {
  return (ctx, dy) => {
    const saved = ctx.saved();
    const xs = savedX ? saved[0] : null;
    const ws = savedW ? saved[savedX ? 1 : 0] : null;
    const k = kernels();
    let dx: Tensor | null = null;
    if (ws !== null) {
      dx = Tensor.empty(xShape, dy.dtype);
      k.linearBackwardInput(dy.data, ws.data, dx.data, d);
    }
    let dw: Tensor | null = null;
    let db: Tensor | null = null;
    if (xs !== null) {
      dw = Tensor.empty(wShape, dy.dtype);
      db = bShape ? Tensor.empty(bShape, dy.dtype) : null;
      k.linearBackwardWeight(xs.data, dy.data, dw.data, db ? db.data : null, d);
    }
    return bShape ? [dx, dw, db] : [dx, dw];
  };
}
