/**
 * Learning-rate schedules, evaluated per iteration (the trainer sets `optimizer.lr` before each
 * step). Written as strings on the command line (`--schedule`):
 *
 *   constant                   lr = baseLr
 *   cosine                     torch's CosineAnnealingLR (eta_min 0) over every iteration
 *   step:E[:gamma]             lr x gamma every E epochs (gamma default 0.1), as StepLR
 *   multistep:E1,E2,...[:gamma] lr x gamma at each listed epoch, as MultiStepLR
 *   warmup:W+<one of the above> linear warm-up over W epochs, then the schedule counted from the
 *                              end of the warm-up (its epochs and iterations start at 0 there)
 *
 * Formulas, with s the 0-based iteration, S = stepsPerEpoch, T = epochs * S, w = W * S the
 * warm-up iterations (w = 0 without warm-up), t = s - w and n = T - w:
 *
 *   warm-up (s < w):  lr = baseLr * (s + 1) / w        (baseLr / w at s = 0, baseLr at s = w - 1)
 *   constant:         lr = baseLr
 *   cosine:           lr = baseLr * (1 + cos(pi * min(t, n) / n)) / 2   (0 at t = n and after)
 *   step:E:gamma:     lr = baseLr * gamma ^ floor(floor(t / S) / E)
 *   multistep:        lr = baseLr * gamma ^ (number of milestones Ei <= floor(t / S))
 *
 * With S = 1 these equal torch's schedulers stepped once per epoch; the warm-up equals torch's
 * LinearLR(start_factor = 1/w, total_iters = w - 1) followed by SequentialLR.
 */
import { OptionError } from '../core/errors.js';

/** A schedule without warm-up. */
export type BaseScheduleSpec =
  | { kind: 'constant' }
  | { kind: 'cosine' }
  | { kind: 'step'; everyEpochs: number; gamma: number }
  | { kind: 'multistep'; milestones: number[]; gamma: number };

/** A parsed `--schedule` value: an optional warm-up (0 = none) and the schedule after it. */
export interface ScheduleSpec {
  warmupEpochs: number;
  base: BaseScheduleSpec;
}

/** How many iterations a schedule spans. */
export interface ScheduleOptions {
  /** Peak learning rate (the `--lr` value), >= 0. */
  baseLr: number;
  /** Training epochs, a positive integer. */
  epochs: number;
  /** Iterations (batches) per epoch, a positive integer. */
  stepsPerEpoch: number;
}

/** A learning rate for every iteration of a run. */
export interface LrSchedule {
  readonly spec: ScheduleSpec;
  /** epochs * stepsPerEpoch. */
  readonly totalSteps: number;
  /** Warm-up iterations (warmupEpochs * stepsPerEpoch). */
  readonly warmupSteps: number;
  /** The lr of 0-based iteration `step` (an integer >= 0; steps past the end continue the formula, cosine stays 0). */
  lrAt(step: number): number;
}

/** The accepted forms, for error messages and help text. */
export const SCHEDULE_FORMS =
  "constant | cosine | step:E[:gamma] | multistep:E1,E2,...[:gamma] | warmup:W+<one of those> " +
  "(E, W: epochs as positive integers; gamma > 0, default 0.1; e.g. 'warmup:5+cosine', 'step:30', 'multistep:100,150:0.1')";

const DEFAULT_GAMMA = 0.1;

function bad(spec: string, why: string): OptionError {
  return new OptionError(`--schedule: '${spec}' is not a valid schedule (${why}); accepted forms: ${SCHEDULE_FORMS}`);
}

function parseEpochs(spec: string, text: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw bad(spec, `${what} must be a positive integer number of epochs, got '${text}'`);
  return Number(text);
}

function parseGamma(spec: string, text: string | undefined): number {
  if (text === undefined) return DEFAULT_GAMMA;
  const g = Number(text);
  if (!/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) || !Number.isFinite(g) || g <= 0) {
    throw bad(spec, `gamma must be a number > 0, got '${text}'`);
  }
  return g;
}

function parseBase(spec: string, text: string): BaseScheduleSpec {
  const parts = text.split(':');
  const kind = parts[0];
  if ((kind === 'constant' || kind === 'cosine') && parts.length === 1) return { kind };
  if (kind === 'step' && (parts.length === 2 || parts.length === 3)) {
    return { kind, everyEpochs: parseEpochs(spec, parts[1], 'the step interval E'), gamma: parseGamma(spec, parts[2]) };
  }
  if (kind === 'multistep' && (parts.length === 2 || parts.length === 3)) {
    const milestones = parts[1].split(',').map((e) => parseEpochs(spec, e, 'each milestone'));
    for (let i = 1; i < milestones.length; i++) {
      if (milestones[i] <= milestones[i - 1]) throw bad(spec, `milestones must be strictly increasing, got ${parts[1]}`);
    }
    return { kind, milestones, gamma: parseGamma(spec, parts[2]) };
  }
  if (kind === 'warmup') throw bad(spec, 'warm-up must come first and only once');
  const known = ['constant', 'cosine', 'step', 'multistep'].includes(kind);
  throw bad(spec, known ? `wrong number of ':' fields for '${kind}'` : `unknown schedule '${kind}'`);
}

/**
 * Parses a `--schedule` string.
 * @example parseSchedule('warmup:5+cosine') // { warmupEpochs: 5, base: { kind: 'cosine' } }
 * @throws OptionError naming '--schedule' and listing the accepted forms.
 */
export function parseSchedule(spec: string): ScheduleSpec {
  if (typeof spec !== 'string') throw bad(String(spec), 'expected a string');
  const text = spec.trim();
  const warm = /^warmup:([^+]*)\+(.*)$/.exec(text);
  if (warm) return { warmupEpochs: parseEpochs(spec, warm[1], 'the warm-up length W'), base: parseBase(spec, warm[2]) };
  if (text.startsWith('warmup')) throw bad(spec, "warm-up is written 'warmup:W+<schedule>'");
  return { warmupEpochs: 0, base: parseBase(spec, text) };
}

/** The canonical string of a spec (what `parseSchedule` accepts), e.g. for run logs. */
export function formatSchedule(spec: ScheduleSpec): string {
  const b = spec.base;
  const base =
    b.kind === 'step'
      ? `step:${b.everyEpochs}:${b.gamma}`
      : b.kind === 'multistep'
        ? `multistep:${b.milestones.join(',')}:${b.gamma}`
        : b.kind;
  return spec.warmupEpochs > 0 ? `warmup:${spec.warmupEpochs}+${base}` : base;
}

function requirePositiveInt(x: number, name: string): void {
  if (!Number.isInteger(x) || x < 1) throw new OptionError(`createSchedule: '${name}' must be a positive integer, got ${x}`);
}

/**
 * Builds the per-iteration schedule of a run (formulas in the file header).
 * @example
 * const s = createSchedule('warmup:2+cosine', { baseLr: 0.1, epochs: 10, stepsPerEpoch: 390 });
 * optimizer.lr = s.lrAt(iteration);
 * @throws OptionError for a bad spec, or a warm-up that does not leave at least one epoch.
 */
export function createSchedule(spec: ScheduleSpec | string, opts: ScheduleOptions): LrSchedule {
  const parsed = typeof spec === 'string' ? parseSchedule(spec) : spec;
  const { baseLr, epochs, stepsPerEpoch } = opts;
  if (!(Number.isFinite(baseLr) && baseLr >= 0)) throw new OptionError(`createSchedule: 'baseLr' must be a finite number >= 0, got ${baseLr}`);
  requirePositiveInt(epochs, 'epochs');
  requirePositiveInt(stepsPerEpoch, 'stepsPerEpoch');
  const text = formatSchedule(parsed);
  if (!Number.isInteger(parsed.warmupEpochs) || parsed.warmupEpochs < 0) throw bad(text, 'the warm-up length must be an integer >= 0');
  if (parsed.warmupEpochs >= epochs) {
    throw bad(text, `a warm-up of ${parsed.warmupEpochs} epochs leaves nothing of a ${epochs}-epoch run; use fewer warm-up epochs`);
  }
  const totalSteps = epochs * stepsPerEpoch;
  const warmupSteps = parsed.warmupEpochs * stepsPerEpoch;
  const mainSteps = totalSteps - warmupSteps;
  const b = parsed.base;

  const after = (t: number): number => {
    switch (b.kind) {
      case 'constant':
        return baseLr;
      case 'cosine':
        return (baseLr * (1 + Math.cos((Math.PI * Math.min(t, mainSteps)) / mainSteps))) / 2;
      case 'step':
        return baseLr * b.gamma ** Math.floor(Math.floor(t / stepsPerEpoch) / b.everyEpochs);
      case 'multistep': {
        const epoch = Math.floor(t / stepsPerEpoch);
        let passed = 0;
        for (const e of b.milestones) if (e <= epoch) passed++;
        return baseLr * b.gamma ** passed;
      }
    }
  };

  return {
    spec: parsed,
    totalSteps,
    warmupSteps,
    lrAt(step: number): number {
      if (!Number.isInteger(step) || step < 0) throw new OptionError(`lrAt: step must be an integer >= 0, got ${step}`);
      if (step < warmupSteps) return (baseLr * (step + 1)) / warmupSteps;
      return after(step - warmupSteps);
    },
  };
}
