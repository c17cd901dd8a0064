/**
 * The optimizer interface and what SGD and AdamW share: the parameter list, the validated `lr`,
 * `zeroGrad`, and the plain-JSON state used by checkpoints.
 *
 * Semantics follow torch.optim (PyTorch 1.13): a parameter whose `grad` is null is skipped by
 * `step()` (its state does not advance), and `zeroGrad()` sets every `grad` to null.
 */
import { allocFloat, dtypeOf, type FloatArray } from '../core/dtype.js';
import { OptionError, ShapeError } from '../core/errors.js';
import type { Parameter } from '../nn/module.js';

/** What the trainer needs from any optimizer. */
export interface Optimizer {
  /** Learning rate used by the next `step()`; the trainer sets it from the schedule each step. */
  lr: number;
  /** Updates every parameter that has a gradient, in place. */
  step(): void;
  /** Sets every parameter's `grad` to null (as PyTorch's `zero_grad(set_to_none=True)`). */
  zeroGrad(): void;
  /** A deep copy of hyper-parameters and per-parameter state as plain JSON-safe values. */
  stateDict(): OptimizerState;
  /** Restores what `stateDict()` returned (for the same parameter list, in the same order). */
  loadStateDict(state: OptimizerState): void;
}

/**
 * State of one parameter, present once the parameter has been updated at least once.
 * Buffers are plain arrays with one entry per parameter element (row-major, as `param.data`).
 */
export interface ParamState {
  /** Number of updates applied to this parameter (AdamW's bias correction uses it). */
  step: number;
  /** SGD with momentum > 0: the momentum buffer. */
  momentumBuffer?: number[];
  /** AdamW: first-moment running average (PyTorch `exp_avg`). */
  expAvg?: number[];
  /** AdamW: second-moment running average (PyTorch `exp_avg_sq`). */
  expAvgSq?: number[];
}

/** Resolved SGD options (every field present). */
export interface SGDConfig {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
}

/** Resolved AdamW options (every field present). */
export interface AdamWConfig {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
}

/**
 * A checkpointable optimizer state: the optimizer kind, its options (lr included, as PyTorch's
 * param_groups) and per-parameter state keyed by the parameter's index in the list given to the
 * constructor (a decimal string, so the object survives JSON unchanged).
 */
export type OptimizerState =
  | { type: 'SGD'; options: SGDConfig; state: Record<string, ParamState> }
  | { type: 'AdamW'; options: AdamWConfig; state: Record<string, ParamState> };

/** Throws OptionError `<owner>: option '<name>' must be <what>, got <value>` unless `ok`. */
export function requireOption(ok: boolean, owner: string, name: string, what: string, value: unknown): void {
  if (!ok) throw new OptionError(`${owner}: option '${name}' must be ${what}, got ${JSON.stringify(value) ?? String(value)}`);
}

/** True for a finite number >= 0. */
export function isNonNegative(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0;
}

/** True for a number in [0, 1). */
export function isUnitInterval(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0 && x < 1;
}

/** Shared parameter handling of SGD and AdamW. */
export abstract class OptimizerBase implements Optimizer {
  /** The parameters, in the order given (state dict keys are indices into this list). */
  readonly params: readonly Parameter[];
  private lrValue = 0;

  protected constructor(
    /** 'SGD' or 'AdamW', used in error messages. */
    protected readonly owner: string,
    params: readonly Parameter[],
  ) {
    if (!Array.isArray(params) || params.length === 0) {
      throw new OptionError(`${owner}: got an empty parameter list (pass model.parameters())`);
    }
    const seen = new Set<Parameter>();
    params.forEach((p, i) => {
      if (seen.has(p)) throw new OptionError(`${owner}: parameter ${i} appears more than once in the parameter list`);
      seen.add(p);
    });
    this.params = [...params];
  }

  get lr(): number {
    return this.lrValue;
  }
  set lr(v: number) {
    requireOption(isNonNegative(v), this.owner, 'lr', 'a finite number >= 0', v);
    this.lrValue = v;
  }

  abstract step(): void;
  abstract stateDict(): OptimizerState;
  abstract loadStateDict(state: OptimizerState): void;

  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  /** The gradient storage of parameter `i`, or null to skip it; checks its size. */
  protected gradOf(i: number): FloatArray | null {
    const p = this.params[i];
    const g = p.grad;
    if (g === null) return null;
    if (g.size !== p.size) {
      throw new ShapeError(`${this.owner}.step: parameter ${i} has ${p.size} elements but its grad has ${g.size}`);
    }
    return g.data;
  }

  /** Checks the index keys of a loaded state and returns [index, entry] pairs. */
  protected loadedEntries(state: Record<string, ParamState>): [number, ParamState][] {
    const out: [number, ParamState][] = [];
    for (const [key, entry] of Object.entries(state)) {
      const i = Number(key);
      if (!/^\d+$/.test(key) || i >= this.params.length) {
        throw new OptionError(`${this.owner}.loadStateDict: state key '${key}' is not a parameter index in [0, ${this.params.length})`);
      }
      if (!Number.isInteger(entry.step) || entry.step < 0) {
        throw new OptionError(`${this.owner}.loadStateDict: parameter ${i} has step ${entry.step}, expected an integer >= 0`);
      }
      out.push([i, entry]);
    }
    return out;
  }

  /** A buffer for parameter `i` from a plain array, with its length checked; same dtype as the parameter. */
  protected bufferFrom(i: number, name: string, values: readonly number[] | undefined): FloatArray {
    const p = this.params[i];
    if (!Array.isArray(values) || values.length !== p.size) {
      throw new ShapeError(
        `${this.owner}.loadStateDict: parameter ${i} needs '${name}' with ${p.size} values, ` +
          `got ${Array.isArray(values) ? values.length : 'none'}`,
      );
    }
    const buf = allocFloat(dtypeOf(p.data), p.size);
    for (let k = 0; k < buf.length; k++) buf[k] = values[k];
    return buf;
  }

  /** A zeroed buffer with the size and dtype of parameter `i`. */
  protected zerosLike(i: number): FloatArray {
    const p = this.params[i];
    return allocFloat(dtypeOf(p.data), p.size);
  }
}

/** Rounds a coefficient to float32 when the storage is float32, as PyTorch casts scalar arguments. */
export function scalarFor(data: FloatArray): (x: number) => number {
  return data instanceof Float32Array ? Math.fround : (x: number) => x;
}
