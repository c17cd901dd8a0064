/**
 * Shape ops: reshape and flatten (views sharing storage) and the option-A ResNet shortcut
 * (strided subsampling plus zero channels, He et al. 2016; kernels shortcutPadForward/Backward).
 */
import { recordOp, type BackwardFn } from '../autograd/graph.js';
import { kernels } from '../backend/active.js';
import type { ShortcutDims } from '../backend/kernels.js';
import { checkOption, checkShape } from '../core/errors.js';
import { formatShape, shapeSize, type Shape } from '../core/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { where } from './common.js';

function resolveShape(op: string, x: Tensor, shape: Shape): number[] {
  const out = [...shape];
  const infer = out.indexOf(-1);
  checkShape(
    out.every((d, i) => Number.isSafeInteger(d) && (d >= 0 || (d === -1 && i === infer))),
    () => `${op}: target shape ${formatShape(shape)} must hold integers >= 0 and at most one -1`,
  );
  if (infer >= 0) {
    const rest = shapeSize(out.filter((_, i) => i !== infer));
    checkShape(
      rest > 0 && x.size % rest === 0,
      () => `${op}: cannot infer the -1 in ${formatShape(shape)} for input ${formatShape(x.shape)} (${x.size} elements)`,
    );
    out[infer] = x.size / rest;
  }
  checkShape(
    shapeSize(out) === x.size,
    () => `${op}: input ${formatShape(x.shape)} has ${x.size} elements, target shape ${formatShape(shape)} has ${shapeSize(out)}`,
  );
  return out;
}

function viewOp(name: string, x: Tensor, shape: Shape): Tensor {
  const y = new Tensor(x.data, shape);
  return recordOp(name, [x], y, null, viewBackward(x.shape));
}

/** Backward of a view op: the output gradient seen in the input's shape (shared storage). */
function viewBackward(shape: Shape): BackwardFn {
  return (_ctx, dy) => [dy.view(shape)];
}

/**
 * A tensor with the same elements in a new shape, sharing storage with `x`; one dimension may
 * be -1 (inferred).
 * @param x any shape
 * @param shape target shape of the same size
 * @example const y = reshape(x, [x.shape[0], -1]);
 */
export function reshape(x: Tensor, shape: Shape): Tensor {
  return viewOp('reshape', x, resolveShape(where('reshape'), x, shape));
}

/**
 * Merges dimensions `startDim`..last into one (shares storage), as `torch.flatten(x, startDim)`.
 * @param x [d0, ..., dk]
 * @param startDim first merged dimension (default 1; negative counts from the end)
 * @returns [d0, ..., d(startDim-1), d(startDim) * ... * dk]
 * @example flatten(x) // [N, C, H, W] -> [N, C*H*W]
 */
export function flatten(x: Tensor, startDim = 1): Tensor {
  const op = where('flatten');
  checkShape(x.ndim >= 1, () => `${op}: input must have at least 1 dimension, got ${formatShape(x.shape)}`);
  const s = startDim < 0 ? startDim + x.ndim : startDim;
  checkShape(
    Number.isSafeInteger(s) && s >= 0 && s < x.ndim,
    () => `${op}: startDim ${startDim} is out of range for input ${formatShape(x.shape)} (expected ${-x.ndim}..${x.ndim - 1})`,
  );
  return viewOp('flatten', x, [...x.shape.slice(0, s), shapeSize(x.shape.slice(s))]);
}

/**
 * ResNet option-A shortcut: `x[:, :, ::stride, ::stride]` padded with zero channels,
 * floor((outChannels - C) / 2) before and the rest after, as
 * `F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4))` in the common CIFAR code.
 * @param x [N, C, H, W]
 * @param outChannels K >= C
 * @param stride subsampling step >= 1
 * @returns [N, K, ceil(H / stride), ceil(W / stride)]
 * @example const sc = shortcutPadA(x, 32, 2); // [N, 16, 32, 32] -> [N, 32, 16, 16]
 */
export function shortcutPadA(x: Tensor, outChannels: number, stride: number): Tensor {
  const op = where('shortcutPadA');
  checkOption(Number.isSafeInteger(stride) && stride >= 1, () => `${op}: stride must be an integer >= 1, got ${stride}`);
  checkShape(x.ndim === 4, () => `${op}: input must be 4-D [N, C, H, W], got ${formatShape(x.shape)}`);
  const [N, C, H, W] = x.shape;
  checkShape(
    Number.isSafeInteger(outChannels) && outChannels >= C,
    () => `${op}: outChannels ${outChannels} must be an integer >= the input's ${C} channels (shape ${formatShape(x.shape)})`,
  );
  const d: ShortcutDims = { N, C, H, W, K: outChannels, stride };
  const y = Tensor.empty([N, outChannels, Math.ceil(H / stride), Math.ceil(W / stride)], x.dtype);
  kernels().shortcutPadForward(x.data, y.data, d);
  return recordOp('shortcutPadA', [x], y, null, shortcutPadABackward(x.shape, d));
}

/** Backward of shortcutPadA: the kept channels' gradient scattered back to the kept pixels. */
function shortcutPadABackward(xShape: Shape, d: ShortcutDims): BackwardFn {
  return (_ctx, dy) => {
    const dx = Tensor.empty(xShape, dy.dtype);
    kernels().shortcutPadBackward(dy.data, dx.data, d);
    return [dx];
  };
}
