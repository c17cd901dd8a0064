/**
 * AdamW: Adam with decoupled weight decay, exactly as torch.optim.AdamW (PyTorch 1.13, amsgrad
 * off). For each parameter p with gradient g, with t its own update count (starting at 1):
 *
 *   p = p * (1 - lr * weightDecay)
 *   m = beta1 * m + (1 - beta1) * g
 *   v = beta2 * v + (1 - beta2) * g^2
 *   p = p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 */
import type { FloatArray } from '../core/dtype.js';
import { OptionError } from '../core/errors.js';
import type { Parameter } from '../nn/module.js';
import {
  OptimizerBase,
  isNonNegative,
  isUnitInterval,
  requireOption,
  scalarFor,
  type AdamWConfig,
  type OptimizerState,
  type ParamState,
} from './optimizer.js';

/** Options of `new AdamW(params, options)`; defaults as torch.optim.AdamW. */
export interface AdamWOptions {
  /** Learning rate, >= 0; default 1e-3. */
  lr?: number;
  /** Decay rates of the first and second moments, each in [0, 1); default [0.9, 0.999]. */
  betas?: readonly [number, number];
  /** Added to the denominator for stability, > 0; default 1e-8. */
  eps?: number;
  /** Decoupled weight decay (p *= 1 - lr * weightDecay), >= 0; default 1e-2. */
  weightDecay?: number;
}

function resolveAdamW(o: AdamWOptions): AdamWConfig {
  if (o === null || typeof o !== 'object') throw new OptionError('AdamW: options must be an object');
  const betas = o.betas ?? [0.9, 0.999];
  const c: AdamWConfig = {
    lr: o.lr ?? 1e-3,
    betas: [betas[0], betas[1]],
    eps: o.eps ?? 1e-8,
    weightDecay: o.weightDecay ?? 1e-2,
  };
  requireOption(isNonNegative(c.lr), 'AdamW', 'lr', 'a finite number >= 0', c.lr);
  requireOption(
    Array.isArray(betas) && betas.length === 2 && isUnitInterval(betas[0]) && isUnitInterval(betas[1]),
    'AdamW',
    'betas',
    'two numbers in [0, 1)',
    betas,
  );
  requireOption(typeof c.eps === 'number' && Number.isFinite(c.eps) && c.eps > 0, 'AdamW', 'eps', 'a finite number > 0', c.eps);
  requireOption(isNonNegative(c.weightDecay), 'AdamW', 'weightDecay', 'a finite number >= 0', c.weightDecay);
  return c;
}

/** Moment buffers and update count of one parameter. */
interface Moments {
  step: number;
  m: FloatArray;
  v: FloatArray;
}

/**
 * AdamW over a list of parameters (float32 or float64 storage), updated in place.
 *
 * @example
 * const opt = new AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.05 });
 * opt.zeroGrad(); backward(loss); opt.step();
 */
export class AdamW extends OptimizerBase {
  private config: AdamWConfig;
  /** Per parameter: moments, null until its first update. */
  private readonly moments: (Moments | null)[];

  constructor(params: readonly Parameter[], options: AdamWOptions = {}) {
    super('AdamW', params);
    this.config = resolveAdamW(options);
    this.lr = this.config.lr;
    this.moments = this.params.map(() => null);
  }

  /** The resolved options; `lr` is the current learning rate. */
  get options(): Readonly<AdamWConfig> {
    return { ...this.config, betas: [...this.config.betas], lr: this.lr };
  }

  step(): void {
    const [beta1, beta2] = this.config.betas;
    const { eps, weightDecay } = this.config;
    const lr = this.lr;
    for (let i = 0; i < this.params.length; i++) {
      const g = this.gradOf(i);
      if (g === null) continue;
      const p = this.params[i].data;
      let st = this.moments[i];
      if (st === null) st = this.moments[i] = { step: 0, m: this.zerosLike(i), v: this.zerosLike(i) };
      st.step++;
      // Scalars as PyTorch computes them in double, then casts to the tensor's dtype.
      const f = scalarFor(p);
      const decay = f(1 - lr * weightDecay);
      const b1 = f(beta1);
      const c1 = f(1 - beta1);
      const b2 = f(beta2);
      const c2 = f(1 - beta2);
      const stepSize = f(lr / (1 - beta1 ** st.step));
      const bc2Sqrt = f(Math.sqrt(1 - beta2 ** st.step));
      const epsS = f(eps);
      const { m, v } = st;
      for (let k = 0; k < p.length; k++) {
        const gk = g[k];
        m[k] = b1 * m[k] + c1 * gk;
        v[k] = b2 * v[k] + c2 * gk * gk;
        p[k] = decay * p[k] - (stepSize * m[k]) / (Math.sqrt(v[k]) / bc2Sqrt + epsS);
      }
    }
  }

  stateDict(): OptimizerState {
    const state: Record<string, ParamState> = {};
    this.moments.forEach((st, i) => {
      if (st !== null) state[String(i)] = { step: st.step, expAvg: Array.from(st.m), expAvgSq: Array.from(st.v) };
    });
    return { type: 'AdamW', options: { ...this.config, betas: [...this.config.betas], lr: this.lr }, state };
  }

  loadStateDict(s: OptimizerState): void {
    if (s.type !== 'AdamW') throw new OptionError(`AdamW.loadStateDict: the state was saved by ${String(s.type)}, not AdamW`);
    const config = resolveAdamW(s.options);
    const moments = this.params.map((): Moments | null => null);
    for (const [i, e] of this.loadedEntries(s.state)) {
      if (e.step === 0) continue;
      moments[i] = { step: e.step, m: this.bufferFrom(i, 'expAvg', e.expAvg), v: this.bufferFrom(i, 'expAvgSq', e.expAvgSq) };
    }
    this.config = config;
    this.lr = config.lr;
    moments.forEach((st, i) => (this.moments[i] = st));
  }
}
