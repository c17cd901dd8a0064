/**
 * Shape layers without parameters: Flatten (dimensions startDim..end into one) and Identity.
 * Shapes: Flatten(1): [N, C, H, W] -> [N, C*H*W].
 */
import { checkOption } from '../core/errors.js';
import { flatten } from '../ops/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

/**
 * Flattens dimensions from `startDim` to the last into one (storage is shared).
 * @example const f = new Flatten(); // [N, 16, 5, 5] -> [N, 400]
 */
export class Flatten extends Module {
  readonly startDim: number;

  constructor(startDim = 1) {
    super();
    checkOption(Number.isSafeInteger(startDim) && startDim >= 0, () => `Flatten: startDim must be a non-negative integer, got ${String(startDim)}`);
    this.startDim = startDim;
  }

  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim);
  }
}

/** Returns its input unchanged (a placeholder child, e.g. an identity shortcut). */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}
