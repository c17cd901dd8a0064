/**
 * `leantrain experiment`: the paper's protocol on one model and data set. Dense training and
 * each pruning setting run with the same seeds, schedule and epoch budget (one after another in
 * this process), each in `<out>/runs/<name>/` with its own log, summary, weights and checkpoint.
 * Then `<out>/results.{json,csv,md}` and `<out>/report.html` with SVG plots are written.
 *
 * Interrupted experiments resume: a run whose summary.json matches its planned config is
 * reused, a run with a checkpoint continues from it (bit-identically), the rest start fresh.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { OptionError } from '../core/errors.js';
import { DataLoader, transformPreset } from '../data/index.js';
import { loadWeights } from '../io/safetensors.js';
import { validateTrainConfig, type TrainConfig } from '../train/config.js';
import { loadSplits, modelFor, runTraining, type TrainSummary } from '../train/trainer.js';
import { captureGradient, fitGradient, type GradientFit } from './gradient.js';
import { writeReport } from './report.js';
import { resultRow, type ResultRow } from './results.js';

/** Pruning policies an experiment sweeps (rate 0 is always dense training). */
export const EXPERIMENT_POLICIES = ['normal', 'lognormal', 'deterministic', 'topk'] as const;
export type ExperimentPolicy = (typeof EXPERIMENT_POLICIES)[number];

export interface ExperimentConfig {
  /** Training options shared by every run (seed = the first seed). */
  base: TrainConfig;
  policy: ExperimentPolicy;
  /**
   * Settings to compare; 0 = dense. normal / deterministic: the rate p; lognormal: the target
   * sparsity s; topk: the pruned fraction (keep = 1 - rate).
   */
  rates: number[];
  /** Runs per setting, with seeds base.seed, base.seed + 1, ... */
  seeds: number;
  /** Output directory. */
  out: string;
  /** Conv layer (module path) whose activation gradient is histogrammed; default: a middle pruned conv. */
  histogramLayer?: string;
}

/** One planned run. */
export interface PlannedRun {
  name: string;
  rate: number;
  seed: number;
  config: TrainConfig;
}

export interface ExperimentHooks {
  info?: (line: string) => void;
}

/** The runs of an experiment, in execution order (all settings of seed 0, then seed 1, ...). */
export function planRuns(e: ExperimentConfig): PlannedRun[] {
  if (!EXPERIMENT_POLICIES.includes(e.policy)) throw new OptionError(`--prune: '${e.policy}' (valid: ${EXPERIMENT_POLICIES.join(', ')})`);
  if (e.rates.length === 0) throw new OptionError('--rates: give at least one setting, e.g. 0,0.9,0.99');
  for (const r of e.rates) {
    if (!(Number.isFinite(r) && r >= 0 && r < 1)) throw new OptionError(`--rates: each rate must be in [0, 1), got ${r}`);
  }
  if (new Set(e.rates).size !== e.rates.length) throw new OptionError(`--rates: repeated setting in ${e.rates.join(',')}`);
  if (!Number.isSafeInteger(e.seeds) || e.seeds < 1) throw new OptionError(`--seeds must be a positive integer, got ${e.seeds}`);
  const { prune: _p, pruneRate: _r, sparsity: _s, keep: _k, out: _o, ...shared } = e.base;
  const runs: PlannedRun[] = [];
  for (let i = 0; i < e.seeds; i++) {
    const seed = e.base.seed + i;
    for (const rate of e.rates) {
      const name = rate === 0 ? `dense-seed${seed}` : `${e.policy}-${rate}-seed${seed}`;
      const config: TrainConfig = { ...shared, seed, out: path.join(e.out, 'runs', name) };
      if (rate > 0) {
        config.prune = e.policy;
        if (e.policy === 'lognormal') config.sparsity = rate;
        else if (e.policy === 'topk') config.keep = 1 - rate;
        else config.pruneRate = rate;
      } else {
        for (const k of Object.keys(config) as (keyof TrainConfig)[]) if (k.startsWith('prune')) delete config[k];
      }
      validateTrainConfig(config);
      runs.push({ name, rate, seed, config });
    }
  }
  return runs;
}

/** A summary.json of `run` written with the same config, or null. */
function finishedSummary(run: PlannedRun): TrainSummary | null {
  const file = path.join(run.config.out!, 'summary.json');
  if (!existsSync(file)) return null;
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as TrainSummary;
    return JSON.stringify(s.config) === JSON.stringify(run.config) ? s : null;
  } catch {
    return null;
  }
}

/** Runs (or resumes) every planned run, then writes the results and the report. */
export async function runExperiment(e: ExperimentConfig, hooks: ExperimentHooks = {}): Promise<ResultRow[]> {
  const info = hooks.info ?? (() => {});
  const runs = planRuns(e);
  mkdirSync(e.out, { recursive: true });
  const summaries = new Map<string, TrainSummary>();
  for (const [i, run] of runs.entries()) {
    const tag = `[${i + 1}/${runs.length} ${run.name}]`;
    const done = finishedSummary(run);
    if (done !== null) {
      info(`${tag} already done (${run.config.out}/summary.json): final test accuracy ${(100 * done.finalTestAccuracy).toFixed(2)}%`);
      summaries.set(run.name, done);
      continue;
    }
    const ck = path.join(run.config.out!, 'checkpoint.safetensors');
    const resume = existsSync(ck) ? ck : undefined;
    info(`${tag} ${resume ? `resuming from ${ck}` : 'starting'}`);
    const s = await runTraining(run.config, { info: (line) => info(`${tag} ${line}`) }, { resume });
    info(`${tag} final test accuracy ${(100 * s.finalTestAccuracy).toFixed(2)}%, ${s.meanSecondsPerEpoch.toFixed(1)} s/epoch`);
    summaries.set(run.name, s);
  }
  const rows = runs.map((r) => {
    const dense = summaries.get(`dense-seed${r.seed}`) ?? null;
    return resultRow(r, summaries.get(r.name)!, dense);
  });
  const gradient = await gradientHistogram(e, runs, summaries, info);
  writeReport(e, runs, rows, gradient);
  info(`results: ${path.join(e.out, 'results.md')}, report: ${path.join(e.out, 'report.html')}`);
  return rows;
}

/** The activation gradient of one layer, from the final weights of the first run, on the first training batch. */
async function gradientHistogram(
  e: ExperimentConfig, runs: PlannedRun[], summaries: Map<string, TrainSummary>, info: (l: string) => void,
): Promise<{ layer: string; run: string; fit: GradientFit } | null> {
  const first = runs[0];
  const pruned = runs.map((r) => summaries.get(r.name)?.pruning).find((p) => p !== undefined);
  const candidates = pruned ? pruned.layers.filter((l) => !l.excluded && l.op === 'conv2d').map((l) => l.layer) : [];
  const layer = e.histogramLayer ?? candidates[Math.floor(candidates.length / 2)];
  if (layer === undefined) {
    info('gradient histogram: no pruned conv layer to pick (give --histogram-layer); skipped');
    return null;
  }
  const c = first.config;
  const { train } = loadSplits(c);
  const model = modelFor(c, train);
  loadWeights(model, path.join(c.out!, 'model.safetensors'));
  const loader = new DataLoader(train, { batchSize: c.batchSize, shuffle: true, seed: c.seed, transform: transformPreset(c.dataset, c.augment ? 'train' : 'test', { imageSize: c.imageSize }) });
  try {
    for await (const b of loader.batches(0)) {
      const g = captureGradient(model, b.x, b.labels, layer);
      return { layer, run: first.name, fit: fitGradient(g) };
    }
  } finally {
    await loader.close();
  }
  return null;
}
