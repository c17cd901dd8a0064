/**
 * Options of activation-gradient pruning and their validation. Errors are OptionErrors naming
 * the option (with its CLI flag) and what was expected.
 */
import { OptionError } from '../core/errors.js';

/** The threshold rules (see threshold.ts / topk.ts). */
export const PRUNE_POLICIES = ['normal', 'lognormal', 'topk', 'deterministic'] as const;
export type PrunePolicyName = (typeof PRUNE_POLICIES)[number];

/** Layer groups that can be left dense. */
export const PRUNE_EXCLUDES = ['first', 'shortcut', 'fc'] as const;
export type PruneExclude = (typeof PRUNE_EXCLUDES)[number];

/** The default exclude list: the classifier stays dense (as in METHOD.md's reference run). */
export const DEFAULT_PRUNE_EXCLUDE: readonly PruneExclude[] = ['fc'];

export interface PruningOptions {
  policy: PrunePolicyName;
  /**
   * The policy's target: normal / deterministic: pruning rate p in [0, 1) (--prune-rate);
   * lognormal: target sparsity s in [0, 1) (--sparsity); topk: kept fraction per sample in (0, 1] (--keep).
   */
  rate: number;
  /**
   * Layers left dense: 'first' (the stem: a conv2d with no conv2d upstream of it), 'shortcut'
   * (scopes containing 'shortcut' or 'downsample'), 'fc' (linear layers). Default ['fc'];
   * [] prunes every conv2d and linear layer.
   */
  exclude?: readonly string[];
  /** Backward passes (training steps) run dense before pruning starts. Default 0. */
  warmupSteps?: number;
  /** Per-step target: returns the rate for `step` (same range as `rate`); default: constant `rate`. */
  schedule?: (step: number, rate: number) => number;
  /** Seed of the pruning RNG (key from (seed, layer index, step)). Default 0. */
  seed?: number;
  /** Measure natural zeros and relative error every n-th pruned step (a JS pass over G and G'). Default 1. */
  statsEvery?: number;
  /** Let ops use their sparse backward kernels below the backend's crossover. Default true. */
  sparseKernels?: boolean;
  /**
   * Cap tau at this quantile of |g| (in (0, 1]; normal, deterministic, lognormal): guards against
   * thresholds above almost every entry. Default: no cap.
   */
  tauQuantileCap?: number;
  /** Experiment mode: also time the dense backward on the same gradient where sparse ran. Default false. */
  compareDense?: boolean;
}

export interface ResolvedPruningOptions {
  policy: PrunePolicyName;
  rate: number;
  exclude: readonly PruneExclude[];
  warmupSteps: number;
  schedule: ((step: number, rate: number) => number) | null;
  seed: number;
  statsEvery: number;
  sparseKernels: boolean;
  tauQuantileCap: number | null;
  compareDense: boolean;
}

/** The CLI flag that sets each policy's target. */
export function rateFlag(policy: PrunePolicyName): string {
  return policy === 'lognormal' ? '--sparsity' : policy === 'topk' ? '--keep' : '--prune-rate';
}

/** Throws OptionError unless `rate` is valid for `policy`. */
export function checkRate(policy: PrunePolicyName, rate: number, context = ''): void {
  const flag = rateFlag(policy);
  const where = context ? ` (${context})` : '';
  if (policy === 'topk') {
    if (!(Number.isFinite(rate) && rate > 0 && rate <= 1)) {
      throw new OptionError(`kept fraction (${flag}) for policy 'topk' must be in (0, 1], got ${rate}${where}`);
    }
  } else if (!(Number.isFinite(rate) && rate >= 0 && rate < 1)) {
    const name = policy === 'lognormal' ? 'target sparsity s' : 'pruning rate p';
    throw new OptionError(`${name} (${flag}) for policy '${policy}' must be in [0, 1), got ${rate}${where}`);
  }
}

/** Parses an exclude list ('none' or a comma list) into layer groups. */
export function parseExclude(spec: string): PruneExclude[] {
  const t = spec.trim();
  if (t === 'none' || t === '') return [];
  return checkExclude(t.split(',').map((s) => s.trim()));
}

function checkExclude(names: readonly string[]): PruneExclude[] {
  const out: PruneExclude[] = [];
  for (const n of names) {
    const hit = PRUNE_EXCLUDES.find((e) => e === n);
    if (hit === undefined) {
      throw new OptionError(
        `--prune-exclude: unknown layer group '${n}' (valid: ${PRUNE_EXCLUDES.join(', ')}, or 'none' to prune every layer)`,
      );
    }
    if (!out.includes(hit)) out.push(hit);
  }
  return out;
}

function nonNegInt(flag: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new OptionError(`${flag} must be a non-negative integer, got ${v}`);
}

/** Validates and fills defaults; throws OptionError naming the first bad option. */
export function resolvePruningOptions(o: PruningOptions): ResolvedPruningOptions {
  const policy = PRUNE_POLICIES.find((p) => p === o.policy);
  if (policy === undefined) {
    throw new OptionError(`--prune: unknown pruning policy '${String(o.policy)}' (valid: ${PRUNE_POLICIES.join(', ')})`);
  }
  checkRate(policy, o.rate);
  const warmupSteps = o.warmupSteps ?? 0;
  nonNegInt('--prune-warmup', warmupSteps);
  const seed = o.seed ?? 0;
  nonNegInt('pruning seed', seed);
  if (seed > 0xffffffff) throw new OptionError(`pruning seed must be below 2^32 (it keys a 32-bit counter RNG), got ${seed}`);
  const statsEvery = o.statsEvery ?? 1;
  if (!Number.isSafeInteger(statsEvery) || statsEvery < 1) {
    throw new OptionError(`--prune-stats-every must be a positive integer, got ${statsEvery}`);
  }
  const cap = o.tauQuantileCap;
  if (cap !== undefined) {
    if (!(Number.isFinite(cap) && cap > 0 && cap <= 1)) throw new OptionError(`--prune-tau-cap must be a quantile in (0, 1], got ${cap}`);
    if (policy === 'topk') throw new OptionError("--prune-tau-cap does not apply to --prune topk (it has no threshold)");
  }
  return {
    policy,
    rate: o.rate,
    exclude: checkExclude(o.exclude ?? DEFAULT_PRUNE_EXCLUDE),
    warmupSteps,
    schedule: o.schedule ?? null,
    seed,
    statsEvery,
    sparseKernels: o.sparseKernels ?? true,
    tauQuantileCap: o.tauQuantileCap ?? null,
    compareDense: o.compareDense ?? false,
  };
}
