/**
 * Conv2d: 2-D convolution layer (groups = 1, dilation = 1), PyTorch parameter names.
 * Shapes: input [N, C, H, W], weight [K, C, R, S], bias [K] -> output [N, K, P, Q].
 */
import type { Rng } from '../core/rng.js';
import { conv2d } from '../ops/index.js';
import { Tensor } from '../tensor/tensor.js';
import { pairArg, positiveInt, nonNegativeInt } from './check.js';
import { initLayer, type LayerInit } from './init.js';
import { Module, type Parameter } from './module.js';

export interface Conv2dLayerOptions {
  /** Default 1. */
  stride?: number | [number, number];
  /** Zero padding on each side; default 0. */
  padding?: number | [number, number];
  /** Learnable per-output-channel bias; default true. */
  bias?: boolean;
  /** Generator for the initial weights (required: every weight comes from a seed). */
  rng: Rng;
  /** Weight init scheme; default 'pytorch' (see LayerInit). */
  init?: LayerInit;
}

/**
 * 2-D convolution with learnable weight [K, C, R, S] and optional bias [K].
 * @example
 * const conv = new Conv2d(3, 16, 3, { padding: 1, bias: false, rng: new Rng(0) });
 * const y = conv.call(x); // x [N, 3, 32, 32] -> y [N, 16, 32, 32]
 */
export class Conv2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];

  constructor(inChannels: number, outChannels: number, kernelSize: number | [number, number], opts: Conv2dLayerOptions) {
    super();
    positiveInt('Conv2d', 'inChannels', inChannels);
    positiveInt('Conv2d', 'outChannels', outChannels);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = pairArg('Conv2d', 'kernelSize', kernelSize, positiveInt);
    this.stride = pairArg('Conv2d', 'stride', opts.stride ?? 1, positiveInt);
    this.padding = pairArg('Conv2d', 'padding', opts.padding ?? 0, nonNegativeInt);
    const [r, s] = this.kernelSize;
    const w = Tensor.zeros([outChannels, inChannels, r, s]);
    const b = (opts.bias ?? true) ? Tensor.zeros([outChannels]) : null;
    initLayer(w, b, opts.init ?? 'pytorch', opts.rng);
    this.weight = this.registerParameter('weight', w);
    this.bias = b === null ? null : this.registerParameter('bias', b);
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding });
  }
}
