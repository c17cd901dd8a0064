/**
 * The conv shapes of a real model, found by running it: one forward under noGrad with a recording
 * wrapper around the active kernels. Shapes legend: N batch, C in-channels, K out-channels,
 * H x W input, R x S kernel, P x Q output.
 */
import { kernels, withBackend } from '../backend/active.js';
import type { Conv2dDims, Kernels } from '../backend/kernels.js';
import { wrapKernels } from '../backend/wrap.js';
import { noGrad } from '../autograd/graph.js';
import { OptionError } from '../core/errors.js';
import type { Module } from '../nn/module.js';
import { Tensor } from '../tensor/tensor.js';

/** A short, stable label: '16x32x32->16 k3 s1 p1' (C x H x W -> K, kernel, stride, padding). */
export function shapeLabel(d: Conv2dDims): string {
  const pair = (a: number, b: number): string => (a === b ? `${a}` : `${a}x${b}`);
  return `${d.C}x${d.H}x${d.W}->${d.K} k${pair(d.R, d.S)} s${pair(d.strideH, d.strideW)} p${pair(d.padH, d.padW)}`;
}

/** Multiply-adds of one conv (forward; each backward kernel does the same count). */
export function convMacs(d: Conv2dDims): number {
  return d.N * d.K * d.C * d.R * d.S * d.P * d.Q;
}

/** A backend identical to `base` except that conv2dForward also reports its dims. */
function recording(base: Kernels, seen: (d: Conv2dDims) => void): Kernels {
  return wrapKernels(base, {
    conv2dForward: (x, w, b, y, d) => {
      seen({ ...d });
      base.conv2dForward(x, w, b, y, d);
    },
  });
}

/**
 * The distinct conv shapes of `model` for a batch of `batch` images of `inputShape`, in the order
 * the forward pass meets them. The forward runs once on a single zero image in eval mode (so BN
 * and dropout do not change state) and the batch is then set to `batch`.
 * @param model any Module whose forward takes [N, C, H, W]
 * @param inputShape [C, H, W] of one input image
 * @param batch the N to benchmark with
 * @example collectConvShapes(createModel('resnet20'), [3, 32, 32], 128)
 */
export function collectConvShapes(model: Module, inputShape: [number, number, number], batch: number): Conv2dDims[] {
  if (!Number.isInteger(batch) || batch < 1) {
    throw new OptionError(`collectConvShapes: batch must be a positive integer, got ${batch}`);
  }
  const found = new Map<string, Conv2dDims>();
  const wasTraining = model.training;
  model.train(false);
  try {
    withBackend(
      recording(kernels(), (d) => {
        const key = JSON.stringify({ ...d, N: batch });
        if (!found.has(key)) found.set(key, { ...d, N: batch });
      }),
      () => noGrad(() => model.call(Tensor.zeros([1, ...inputShape]))),
    );
  } finally {
    model.train(wasTraining);
  }
  return [...found.values()];
}
