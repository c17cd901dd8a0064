/**
 * Linear: fully connected layer y = x W^T + b, PyTorch parameter names.
 * Shapes: input [N, IN], weight [OUT, IN], bias [OUT] -> output [N, OUT].
 */
import type { Rng } from '../core/rng.js';
import { linear } from '../ops/index.js';
import { Tensor } from '../tensor/tensor.js';
import { positiveInt } from './check.js';
import { initLayer, type LayerInit } from './init.js';
import { Module, type Parameter } from './module.js';

export interface LinearOptions {
  /** Learnable bias [OUT]; default true. */
  bias?: boolean;
  /** Generator for the initial weights (required). */
  rng: Rng;
  /** Weight init scheme; default 'pytorch' (see LayerInit). */
  init?: LayerInit;
}

/**
 * Fully connected layer.
 * @example
 * const fc = new Linear(64, 10, { rng: new Rng(0) });
 * const logits = fc.call(features); // [N, 64] -> [N, 10]
 */
export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(inFeatures: number, outFeatures: number, opts: LinearOptions) {
    super();
    positiveInt('Linear', 'inFeatures', inFeatures);
    positiveInt('Linear', 'outFeatures', outFeatures);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    const w = Tensor.zeros([outFeatures, inFeatures]);
    const b = (opts.bias ?? true) ? Tensor.zeros([outFeatures]) : null;
    initLayer(w, b, opts.init ?? 'pytorch', opts.rng);
    this.weight = this.registerParameter('weight', w);
    this.bias = b === null ? null : this.registerParameter('bias', b);
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}
