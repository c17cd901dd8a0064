/**
 * Activation and regularisation layers without parameters: ReLU and Dropout.
 * Shapes: any -> same shape.
 */
import { checkOption, OptionError } from '../core/errors.js';
import { counterKey, type Rng, type RngState } from '../core/rng.js';
import { dropout, relu } from '../ops/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

/**
 * max(x, 0) elementwise.
 * @example const y = new ReLU().call(x);
 */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

export interface DropoutLayerOptions {
  /** Source of the per-forward mask keys (required: masks are reproducible from a seed). */
  rng: Rng;
}

/**
 * Inverted dropout: in training, zeroes each element with probability p and scales the rest by
 * 1 / (1 - p); identity in eval mode. Each training forward draws a fresh 32-bit key from its
 * Rng, and the mask is the counter-based function of (key, element index), so it is the same on
 * every backend and thread count.
 * @example const drop = new Dropout(0.5, { rng: new Rng(1) }); const y = drop.call(x);
 */
export class Dropout extends Module {
  readonly p: number;
  private readonly rng: Rng;
  /** Number of training forwards so far (the stream index of the next key). */
  private calls = 0;

  constructor(p: number, opts: DropoutLayerOptions) {
    super();
    checkOption(Number.isFinite(p) && p >= 0 && p < 1, () => `Dropout: p must be in [0, 1), got ${String(p)}`);
    this.p = p;
    this.rng = opts.rng;
  }

  /** The mask generator's position: its Rng state and the forward count (for checkpoints). */
  override extraState(): unknown {
    return { rng: this.rng.state(), calls: this.calls };
  }

  override loadExtraState(state: unknown): void {
    const st = state as { rng?: RngState; calls?: unknown } | null;
    if (!st || st.rng === undefined || !Number.isInteger(st.calls) || (st.calls as number) < 0) {
      throw new OptionError(`Dropout: extra state must be { rng, calls }, got ${JSON.stringify(state)}`);
    }
    this.rng.setState(st.rng);
    this.calls = st.calls as number;
  }

  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    const key = counterKey(this.rng.nextU32(), this.calls++);
    return dropout(x, { p: this.p, training: true, key });
  }
}
