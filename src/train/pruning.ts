/**
 * Sparse back-propagation in the trainer: TrainConfig's pruning fields -> PruningOptions (with
 * errors naming the CLI flags), and the per-epoch / end-of-run reporting of per-layer density.
 */
import { OptionError } from '../core/errors.js';
import {
  checkRate, parseExclude, PRUNE_POLICIES, rateFlag, resolvePruningOptions, type PruningOptions, type PrunePolicyName, type PruneSummary,
} from '../sparse/index.js';

/** The pruning fields of a TrainConfig (all optional; `prune` turns it on). */
export interface PruneConfig {
  /** Pruning policy: normal, lognormal, topk, deterministic (unset: dense training). */
  prune?: string;
  /** p for normal / deterministic. */
  pruneRate?: number;
  /** Target sparsity s for lognormal. */
  sparsity?: number;
  /** Kept fraction per sample for topk. */
  keep?: number;
  /** Layer groups left dense: comma list of first, shortcut, fc, or 'none' (default 'fc'). */
  pruneExclude?: string;
  /** Training steps (mini-batches) run dense before pruning starts (default 0). */
  pruneWarmup?: number;
  /** The same in epochs (exclusive with pruneWarmup): epochs x batches per epoch steps. */
  pruneWarmupEpochs?: number;
  /** Measure natural zeros and relative error every n-th pruned step (default 1: summed by the prune kernel in its own pass). */
  pruneStatsEvery?: number;
  /** 'auto' (sparse backward kernels below the measured crossover; default) or 'dense' (always dense). */
  pruneKernels?: string;
  /** Schedule of the target over steps: 'constant' (default) or 'linear:<start>:<steps>'. */
  pruneSchedule?: string;
  /** Cap tau at this quantile of |g| (in (0, 1]; not topk). */
  pruneTauCap?: number;
  /** Experiment mode: also time the dense backward on the same gradient where sparse ran. */
  pruneCompareDense?: boolean;
  /** Write one log.jsonl record ('prune-step') per pruned layer and step. */
  pruneLogSteps?: boolean;
}

/**
 * Parses a pruning schedule: 'constant', or 'linear:<start>:<steps>' = the target moves linearly
 * from <start> at the first pruned step (after warm-up) to the configured rate <steps> steps
 * later, then stays. OptionError names --prune-schedule.
 */
export function parsePruneSchedule(
  spec: string, policy: PrunePolicyName, warmupSteps: number,
): ((step: number, rate: number) => number) | undefined {
  if (spec === 'constant') return undefined;
  const m = /^linear:([^:]+):([^:]+)$/.exec(spec);
  const start = m ? Number(m[1]) : Number.NaN;
  const steps = m ? Number(m[2]) : Number.NaN;
  if (!m || !Number.isFinite(start) || !Number.isSafeInteger(steps) || steps < 1) {
    throw new OptionError(`--prune-schedule must be 'constant' or 'linear:<start>:<steps>' (e.g. linear:0.5:2000), got '${spec}'`);
  }
  checkRate(policy, start, `--prune-schedule start`);
  return (step, rate) => {
    const f = Math.min(1, Math.max(0, (step - warmupSteps) / steps));
    return start + (rate - start) * f;
  };
}

const RATE_FIELDS = [['pruneRate', '--prune-rate'], ['sparsity', '--sparsity'], ['keep', '--keep']] as const;

/**
 * The pruning options of a config, validated (OptionError naming the flag), or null when
 * pruning is off. `seed` keys the pruning RNG (the training seed). `stepsPerEpoch` converts
 * --prune-warmup-epochs to steps (before the data is loaded it is unknown: validation only).
 */
export function pruningFromConfig(c: PruneConfig, seed: number, stepsPerEpoch?: number): PruningOptions | null {
  if (c.prune === undefined) {
    for (const [field, flag] of RATE_FIELDS) {
      if (c[field] !== undefined) throw new OptionError(`${flag} was given without --prune (one of ${PRUNE_POLICIES.join(', ')})`);
    }
    if (c.pruneExclude !== undefined || c.pruneWarmup !== undefined || c.pruneWarmupEpochs !== undefined || c.pruneStatsEvery !== undefined || c.pruneKernels !== undefined || c.pruneSchedule !== undefined || c.pruneTauCap !== undefined || c.pruneCompareDense || c.pruneLogSteps) {
      throw new OptionError(`--prune-exclude, --prune-warmup, --prune-warmup-epochs, --prune-schedule, --prune-tau-cap, --prune-compare-dense, --prune-log-steps, --prune-stats-every and --prune-kernels need --prune (one of ${PRUNE_POLICIES.join(', ')})`);
    }
    return null;
  }
  const policy = PRUNE_POLICIES.find((p) => p === c.prune);
  if (policy === undefined) throw new OptionError(`--prune: unknown pruning policy '${c.prune}' (valid: ${PRUNE_POLICIES.join(', ')})`);
  const want = rateFlag(policy);
  let rate: number | undefined;
  for (const [field, flag] of RATE_FIELDS) {
    const v = c[field];
    if (v === undefined) continue;
    if (flag !== want) throw new OptionError(`${flag} does not apply to --prune ${policy} (it takes ${want})`);
    rate = v;
  }
  if (rate === undefined) throw new OptionError(`--prune ${policy} needs ${want} (${describeRate(policy)})`);
  if (c.pruneKernels !== undefined && c.pruneKernels !== 'auto' && c.pruneKernels !== 'dense') {
    throw new OptionError(`--prune-kernels must be 'auto' or 'dense', got '${c.pruneKernels}'`);
  }
  if (c.pruneWarmupEpochs !== undefined) {
    if (c.pruneWarmup !== undefined) throw new OptionError('--prune-warmup and --prune-warmup-epochs exclude each other (give one)');
    if (!Number.isSafeInteger(c.pruneWarmupEpochs) || c.pruneWarmupEpochs < 0) {
      throw new OptionError(`--prune-warmup-epochs must be a non-negative integer, got ${c.pruneWarmupEpochs}`);
    }
  }
  const warmupSteps = c.pruneWarmupEpochs !== undefined ? c.pruneWarmupEpochs * (stepsPerEpoch ?? 1) : c.pruneWarmup ?? 0;
  const schedule = parsePruneSchedule(c.pruneSchedule ?? 'constant', policy, warmupSteps);
  const o: PruningOptions = {
    policy,
    rate,
    exclude: parseExclude(c.pruneExclude ?? 'fc'),
    warmupSteps,
    ...(schedule ? { schedule } : {}),
    seed,
    statsEvery: c.pruneStatsEvery ?? 1,
    sparseKernels: c.pruneKernels !== 'dense',
    ...(c.pruneTauCap !== undefined ? { tauQuantileCap: c.pruneTauCap } : {}),
    compareDense: c.pruneCompareDense === true,
  };
  resolvePruningOptions(o);
  return o;
}

function describeRate(p: PrunePolicyName): string {
  return p === 'lognormal' ? 'target sparsity in [0, 1), e.g. 0.8' : p === 'topk' ? 'kept fraction in (0, 1], e.g. 0.1' : 'pruning rate p in [0, 1), e.g. 0.9';
}

/** What summary.json's `pruning` field holds. */
export interface PruningReport extends PruneSummary {
  policy: PrunePolicyName;
  /** The configured target (the end point of a schedule). */
  rate: number;
  exclude: readonly string[];
  warmupSteps: number;
  /** MAC-weighted density of every conv/linear layer, per epoch. */
  perEpoch: { epoch: number; overallDensity: number; prunedDensity: number }[];
}

/** One line for the end of `train`: per-layer density and the overall figure. */
export function formatPruningReport(r: PruningReport): string[] {
  const lines = [
    `pruning: ${r.policy} ${rateFlag(r.policy)} ${r.rate}, exclude [${r.exclude.join(', ')}], warm-up ${r.warmupSteps} steps: ` +
      `overall density ${r.overallDensity.toFixed(3)} (MAC-weighted, all layers), ${r.prunedDensity.toFixed(3)} over pruned layers` +
      (r.backwardSpeedup === null
        ? ''
        : `; measured backward speed-up of the pruned layers ${r.backwardSpeedup.toFixed(2)}x (prune + backward vs their dense backward ${
          r.layers.some((l) => l.meanDenseMs !== null) ? 'on the same gradients' : 'timed in the warm-up'})`),
  ];
  for (const l of r.layers) {
    const extra = l.excluded
      ? l.excludedBy === 'no-sparse-gain'
        ? 'dense (sparse kernels never faster for this shape)'
        : 'dense (excluded)'
      : `density ${l.density.toFixed(3)}  tau ${l.meanTau === null ? '-' : l.meanTau.toExponential(2)}  ` +
        `rel.err ${l.meanRelError === null ? '-' : l.meanRelError.toFixed(3)}  natural zeros ${l.meanNaturalZeros === null ? '-' : l.meanNaturalZeros.toFixed(3)}  ` +
        `backward ${l.meanBackwardMs === null ? '-' : `${l.meanBackwardMs.toFixed(1)} ms`} (${l.sparseFraction === null ? '-' : `${(100 * l.sparseFraction).toFixed(0)}% sparse`})` +
        (l.meanPruneMs === null ? '' : `  prune ${l.meanPruneMs.toFixed(1)} ms`) +
        (l.meanDenseMs === null ? '' : `  dense on the same gradient ${l.meanDenseMs.toFixed(1)} ms`) +
        (l.meanDenseMs === null && l.warmupDenseMs !== null ? `  dense (warm-up) ${l.warmupDenseMs.toFixed(1)} ms` : '') +
        (l.backwardSpeedup === null ? '' : `  ${l.backwardSpeedup.toFixed(2)}x`);
    lines.push(`  ${l.layer.padEnd(22)} ${extra}`);
  }
  return lines;
}
