/**
 * Stochastic gradient descent with momentum, dampening, Nesterov momentum and coupled weight
 * decay, exactly as torch.optim.SGD (PyTorch 1.13). For each parameter p with gradient g:
 *
 *   d = g + weightDecay * p
 *   if momentum > 0:
 *     buf = d                                         (first update of p)
 *     buf = momentum * buf + (1 - dampening) * d      (later updates)
 *     d = nesterov ? d + momentum * buf : buf
 *   p = p - lr * d
 */
import { kernels } from '../backend/active.js';
import { sgdUpdateLoop, type SgdScalars } from '../backend/sgd_update.js';
import type { FloatArray } from '../core/dtype.js';
import { OptionError } from '../core/errors.js';
import type { Parameter } from '../nn/module.js';
import {
  OptimizerBase,
  isNonNegative,
  isUnitInterval,
  requireOption,
  scalarFor,
  type OptimizerState,
  type ParamState,
  type SGDConfig,
} from './optimizer.js';

/** Options of `new SGD(params, options)`; defaults as torch.optim.SGD (lr is required). */
export interface SGDOptions {
  /** Learning rate, >= 0. */
  lr: number;
  /** Momentum factor in [0, 1); default 0 (plain SGD, no buffer kept). */
  momentum?: number;
  /** Dampening of the momentum in [0, 1]; default 0. */
  dampening?: number;
  /** Nesterov momentum; requires momentum > 0 and dampening 0. Default false. */
  nesterov?: boolean;
  /** L2 penalty added to the gradient (coupled), >= 0; default 0. */
  weightDecay?: number;
}

function resolveSGD(o: SGDOptions): SGDConfig {
  if (o === null || typeof o !== 'object') throw new OptionError('SGD: options must be an object with at least { lr }');
  const c: SGDConfig = {
    lr: o.lr,
    momentum: o.momentum ?? 0,
    dampening: o.dampening ?? 0,
    nesterov: o.nesterov ?? false,
    weightDecay: o.weightDecay ?? 0,
  };
  requireOption(isNonNegative(c.lr), 'SGD', 'lr', 'a finite number >= 0', c.lr);
  requireOption(isUnitInterval(c.momentum), 'SGD', 'momentum', 'a number in [0, 1)', c.momentum);
  requireOption(isNonNegative(c.dampening) && c.dampening <= 1, 'SGD', 'dampening', 'a number in [0, 1]', c.dampening);
  requireOption(typeof c.nesterov === 'boolean', 'SGD', 'nesterov', 'a boolean', c.nesterov);
  requireOption(isNonNegative(c.weightDecay), 'SGD', 'weightDecay', 'a finite number >= 0', c.weightDecay);
  if (c.nesterov && (c.momentum <= 0 || c.dampening !== 0)) {
    throw new OptionError(
      `SGD: option 'nesterov' requires momentum > 0 and dampening = 0, got momentum ${c.momentum} and dampening ${c.dampening}`,
    );
  }
  return c;
}

/**
 * SGD over a list of parameters (float32 or float64 storage), updated in place.
 *
 * @example
 * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
 * opt.zeroGrad(); backward(loss); opt.step();
 */
export class SGD extends OptimizerBase {
  private config: SGDConfig;
  /** Per parameter: momentum buffer (null until the first update, or when momentum = 0). */
  private readonly buffers: (FloatArray | null)[];
  /** Per parameter: number of updates applied. */
  private readonly steps: number[];

  constructor(params: readonly Parameter[], options: SGDOptions) {
    super('SGD', params);
    this.config = resolveSGD(options);
    this.lr = this.config.lr;
    this.buffers = this.params.map(() => null);
    this.steps = this.params.map(() => 0);
  }

  /** The resolved options; `lr` is the current learning rate. */
  get options(): Readonly<SGDConfig> {
    return { ...this.config, lr: this.lr };
  }

  step(): void {
    const { momentum, dampening, nesterov, weightDecay } = this.config;
    const k = kernels();
    for (let i = 0; i < this.params.length; i++) {
      const g = this.gradOf(i);
      if (g === null) continue;
      const p = this.params[i].data;
      const f = scalarFor(p);
      let buf: FloatArray | null = null;
      let s: SgdScalars;
      if (momentum === 0) {
        s = { mode: 'plain', lr: f(this.lr), wd: f(weightDecay), bm: 0, bd: 0, m: 0 };
      } else {
        buf = this.buffers[i];
        const first = buf === null;
        if (buf === null) buf = this.buffers[i] = this.zerosLike(i);
        // The first update copies d into the (zero) buffer: 0 * 0 + 1 * d is exactly d.
        s = {
          mode: nesterov ? 'nesterov' : 'momentum', lr: f(this.lr), wd: f(weightDecay), bm: first ? 0 : f(momentum),
          bd: first ? 1 : f(1 - dampening), m: f(momentum),
        };
      }
      // float32: the backend's kernel (native: vectorised and threaded, same bits); float64
      // (gradient checks): the specification loop itself.
      if (p instanceof Float32Array && g instanceof Float32Array) k.sgdUpdate(p, g, buf, p.length, s);
      else sgdUpdateLoop(p, g, buf, p.length, s);
      this.steps[i]++;
    }
  }

  stateDict(): OptimizerState {
    const state: Record<string, ParamState> = {};
    for (let i = 0; i < this.params.length; i++) {
      if (this.steps[i] === 0) continue;
      const buf = this.buffers[i];
      state[String(i)] = buf === null ? { step: this.steps[i] } : { step: this.steps[i], momentumBuffer: Array.from(buf) };
    }
    return { type: 'SGD', options: { ...this.config, lr: this.lr }, state };
  }

  loadStateDict(s: OptimizerState): void {
    if (s.type !== 'SGD') throw new OptionError(`SGD.loadStateDict: the state was saved by ${String(s.type)}, not SGD`);
    const config = resolveSGD(s.options);
    const entries = this.loadedEntries(s.state);
    const buffers = this.params.map((): FloatArray | null => null);
    const steps = this.params.map(() => 0);
    for (const [i, e] of entries) {
      steps[i] = e.step;
      if (config.momentum !== 0 && e.step > 0) buffers[i] = this.bufferFrom(i, 'momentumBuffer', e.momentumBuffer);
    }
    this.config = config;
    this.lr = config.lr;
    buffers.forEach((b, i) => (this.buffers[i] = b));
    steps.forEach((n, i) => (this.steps[i] = n));
  }
}
