/**
 * Model summaries for `leantrain models`: parameter count and forward multiply-adds at an input
 * size. Multiply-adds are counted as torchvision's model docs count "GFLOPS" (one multiply-add of
 * a conv or linear layer = one FLOP; BN, activations and pooling not counted), so the figures
 * compare directly: resnet18 1.81, resnet50 4.09, alexnet 0.71 at 3x224x224.
 * They come from a model built without weight init and one forward of a single image with
 * kernels that only record their dims (no arithmetic): the whole zoo is summarised in about a second.
 */
import { noGrad } from '../autograd/graph.js';
import { kernels, withBackend } from '../backend/active.js';
import type { Conv2dDims, Kernels, LinearDims } from '../backend/kernels.js';
import { wrapKernels } from '../backend/wrap.js';
import { checkShape } from '../core/errors.js';
import { formatShape } from '../core/shape.js';
import { withoutInit } from '../nn/init.js';
import { Tensor } from '../tensor/tensor.js';
import { createModel, modelInfo } from './registry.js';

export interface ModelSummary {
  /** Registry name, e.g. 'resnet18'. */
  name: string;
  description: string;
  /** Trainable parameters (as `sum(p.numel() for p in model.parameters())`). */
  parameters: number;
  /** Forward multiply-adds of conv and linear layers for one image, in units of 1e9. */
  gflops: number;
  /** [C, H, W] the figures are for. */
  input: [number, number, number];
  numClasses: number;
}

export interface SummaryOptions {
  /** [C, H, W]; default the model's own input shape. */
  input?: [number, number, number];
  /** Default the model's default class count. */
  numClasses?: number;
}

/** A backend whose conv and linear forwards record multiply-adds and every kernel does nothing. */
function counting(base: Kernels, add: (macs: number) => void): Kernels {
  return wrapKernels(
    base,
    {
      conv2dForward: (_x, _w, _b, _y, d: Conv2dDims) => add(d.N * d.K * d.C * d.R * d.S * d.P * d.Q),
      linearForward: (_x, _w, _b, _y, d: LinearDims) => add(d.N * d.IN * d.OUT),
    },
    'noop',
  );
}

/**
 * Parameters and forward GFLOPs (multiply-adds, torchvision's convention) of a zoo model.
 * @example modelSummary('resnet50') // { parameters: 25557032, gflops: 4.09, ... } at 3x224x224
 */
export function modelSummary(name: string, opts: SummaryOptions = {}): ModelSummary {
  const info = modelInfo(name);
  const input = opts.input ?? info.inputShape;
  const numClasses = opts.numClasses ?? info.defaultNumClasses;
  checkShape(
    input.length === 3 && input.every((v) => Number.isSafeInteger(v) && v > 0),
    () => `models: input must be C x H x W with positive integers, got ${formatShape(input)}`,
  );
  const model = withoutInit(() => createModel(name, { numClasses, inChannels: input[0] }));
  model.eval();
  let macs = 0;
  withBackend(counting(kernels(), (m) => (macs += m)), () => noGrad(() => model.call(Tensor.empty([1, ...input]))));
  return { name, description: info.description, parameters: model.parameterCount(), gflops: macs / 1e9, input: [...input], numClasses };
}
