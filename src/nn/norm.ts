/**
 * BatchNorm2d: per-channel batch normalisation over N, H, W (Ioffe and Szegedy), with PyTorch's
 * names and semantics: parameters weight (gamma, ones) and bias (beta, zeros); buffers
 * running_mean (zeros), running_var (ones) and num_batches_tracked (shape [], counts training
 * forwards). Training normalises with the biased batch variance and updates the running
 * estimates with the unbiased one: running = (1 - momentum) * running + momentum * batch.
 * Shapes: input [N, C, H, W] -> output [N, C, H, W].
 */
import { checkOption } from '../core/errors.js';
import { batchNorm2d, batchNorm2dAct, type BatchNorm2dOptions, type BatchNormActOptions } from '../ops/index.js';
import { Tensor } from '../tensor/tensor.js';
import { positiveInt } from './check.js';
import { Module, type Parameter } from './module.js';

export interface BatchNorm2dLayerOptions {
  /** Added to the variance before the square root; default 1e-5. */
  eps?: number;
  /** Weight of the new batch statistic in the running estimates; default 0.1. */
  momentum?: number;
}

/**
 * Batch normalisation over channels of an NCHW tensor.
 * @example
 * const bn = new BatchNorm2d(16);
 * const y = bn.call(x); // x [N, 16, H, W]; training mode uses batch statistics
 */
export class BatchNorm2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  /** Shape [] counter of training forwards (float storage, exact up to 2^24). */
  readonly numBatchesTracked: Tensor;
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number;

  constructor(numFeatures: number, opts: BatchNorm2dLayerOptions = {}) {
    super();
    positiveInt('BatchNorm2d', 'numFeatures', numFeatures);
    const eps = opts.eps ?? 1e-5;
    const momentum = opts.momentum ?? 0.1;
    checkOption(eps > 0, () => `BatchNorm2d: eps must be > 0, got ${eps}`);
    checkOption(momentum >= 0 && momentum <= 1, () => `BatchNorm2d: momentum must be in [0, 1], got ${momentum}`);
    this.numFeatures = numFeatures;
    this.eps = eps;
    this.momentum = momentum;
    this.weight = this.registerParameter('weight', Tensor.full([numFeatures], 1));
    this.bias = this.registerParameter('bias', Tensor.zeros([numFeatures]));
    this.runningMean = this.registerBuffer('running_mean', Tensor.zeros([numFeatures]));
    this.runningVar = this.registerBuffer('running_var', Tensor.full([numFeatures], 1));
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', Tensor.zeros([]));
  }

  forward(x: Tensor): Tensor {
    const y = batchNorm2d(x, this.weight, this.bias, this.runningMean, this.runningVar, this.options());
    // Counted after the op so a forward that throws on a bad shape does not count.
    if (this.training) this.numBatchesTracked.data[0] += 1;
    return y;
  }

  /**
   * `relu(bn(x) + residual)` as one fused op (`batchNorm2dAct`; same values as the separate
   * ops), in this module's scope. Blocks call it where a ReLU (and a residual add) follows.
   * @param x [N, C, H, W]
   * @param fuse residual [N, C, H, W] (optional), relu (default true)
   */
  callAct(x: Tensor, fuse: BatchNormActOptions = {}): Tensor {
    return this.inScope(() => {
      const y = batchNorm2dAct(x, this.weight, this.bias, this.runningMean, this.runningVar, this.options(), fuse);
      if (this.training) this.numBatchesTracked.data[0] += 1;
      return y;
    });
  }

  private options(): BatchNorm2dOptions {
    return { training: this.training, momentum: this.momentum, eps: this.eps };
  }
}
