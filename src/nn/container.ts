/**
 * Sequential: runs its children in order; children are named '0', '1', ... as in PyTorch, so a
 * Sequential registered as 'shortcut' gives state dict names 'shortcut.0.weight', 'shortcut.1.running_mean'.
 */
import { checkOption } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

/**
 * A chain of modules: forward(x) = m_{n-1}(...m_1(m_0(x))).
 * @example
 * const block = new Sequential(new Conv2d(16, 32, 1, { stride: 2, bias: false, rng }), new BatchNorm2d(32));
 */
export class Sequential extends Module {
  private readonly items: Module[] = [];

  constructor(...modules: Module[]) {
    super();
    for (const m of modules) this.append(m);
  }

  /** Adds `m` as the next child (named by its index); returns this. */
  append(m: Module): this {
    checkOption(m instanceof Module, () => `Sequential: child ${this.items.length} is not a Module`);
    this.registerModule(String(this.items.length), m);
    this.items.push(m);
    return this;
  }

  /** Number of children. */
  get length(): number {
    return this.items.length;
  }

  /** The child at `index` (negative counts from the end). */
  at(index: number): Module {
    const m = this.items.at(index);
    checkOption(m !== undefined, () => `Sequential: no child at index ${index} (length ${this.items.length})`);
    return m;
  }

  forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this.items) y = m.call(y);
    return y;
  }
}
