/**
 * Pooling layers: MaxPool2d, AvgPool2d (windows of R x S, stride default = window) and
 * AdaptiveAvgPool2d (any output size; 1 = global average pool).
 * Shapes: input [N, C, H, W] -> output [N, C, P, Q].
 */
import { checkOption } from '../core/errors.js';
import { adaptiveAvgPool2d, adaptiveAvgPool2d1, avgPool2d, maxPool2d } from '../ops/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { nonNegativeInt, pairArg, positiveInt } from './check.js';
import { Module } from './module.js';

export interface Pool2dLayerOptions {
  /** Default: the kernel size. */
  stride?: number | [number, number];
  /** Implicit zero padding on each side (at most half the kernel, as PyTorch); default 0. */
  padding?: number | [number, number];
}

abstract class Pool2dBase extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];

  constructor(layer: string, kernelSize: number | [number, number], opts: Pool2dLayerOptions) {
    super();
    this.kernelSize = pairArg(layer, 'kernelSize', kernelSize, positiveInt);
    this.stride = pairArg(layer, 'stride', opts.stride ?? this.kernelSize, positiveInt);
    this.padding = pairArg(layer, 'padding', opts.padding ?? 0, nonNegativeInt);
    checkOption(
      this.padding[0] * 2 <= this.kernelSize[0] && this.padding[1] * 2 <= this.kernelSize[1],
      () => `${layer}: padding must be at most half the kernel size, got padding ${this.padding.join(',')} for kernel ${this.kernelSize.join('x')}`,
    );
  }
}

/**
 * Max over each window.
 * @example const pool = new MaxPool2d(2); // [N, C, 28, 28] -> [N, C, 14, 14]
 */
export class MaxPool2d extends Pool2dBase {
  constructor(kernelSize: number | [number, number], opts: Pool2dLayerOptions = {}) {
    super('MaxPool2d', kernelSize, opts);
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(x, { kernelSize: this.kernelSize, stride: this.stride, padding: this.padding });
  }
}

/**
 * Mean over each window.
 * @example const pool = new AvgPool2d(2, { stride: 2 });
 */
export class AvgPool2d extends Pool2dBase {
  constructor(kernelSize: number | [number, number], opts: Pool2dLayerOptions = {}) {
    super('AvgPool2d', kernelSize, opts);
  }

  forward(x: Tensor): Tensor {
    return avgPool2d(x, { kernelSize: this.kernelSize, stride: this.stride, padding: this.padding });
  }
}

/**
 * Adaptive average pool to a fixed output size (PyTorch AdaptiveAvgPool2d; 1 = global average pool).
 * @example const gap = new AdaptiveAvgPool2d(1); // [N, C, H, W] -> [N, C, 1, 1]
 * @example const pool = new AdaptiveAvgPool2d([6, 6]); // AlexNet: [N, 256, H, W] -> [N, 256, 6, 6]
 */
export class AdaptiveAvgPool2d extends Module {
  readonly outputSize: [number, number];

  constructor(outputSize: number | [number, number] = 1) {
    super();
    this.outputSize = pairArg('AdaptiveAvgPool2d', 'outputSize', outputSize, positiveInt);
  }

  forward(x: Tensor): Tensor {
    const [oh, ow] = this.outputSize;
    return oh === 1 && ow === 1 ? adaptiveAvgPool2d1(x) : adaptiveAvgPool2d(x, this.outputSize);
  }
}
