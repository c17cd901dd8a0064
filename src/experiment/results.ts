/**
 * One row of experiment results per run, and the table formats (CSV, Markdown).
 * - density: MAC-weighted density of the conv/linear activation gradients over the pruned steps,
 *   excluded layers counted as 1 (1 for dense runs);
 * - backwardSpeedup: measured in training, prune + backward of the pruned layers vs their dense
 *   backward timed in the dense warm-up (null when it could not be measured, e.g. no warm-up);
 * - stepSpeedup: training images/s of the run over the dense run of the same seed (wall-clock,
 *   runs one after another on the same machine);
 * - analyticMacRatio: backward multiply-adds dense / pruned = 1 / density (analytic, labelled so).
 */
import type { TrainSummary } from '../train/trainer.js';
import type { PlannedRun } from './run.js';

export interface ResultRow {
  run: string;
  policy: string;
  rate: number;
  seed: number;
  epochs: number;
  finalAccuracy: number;
  bestAccuracy: number;
  bestEpoch: number;
  density: number;
  prunedDensity: number;
  perLayerDensity: Record<string, number>;
  backwardSpeedup: number | null;
  perLayerSpeedup: Record<string, number | null>;
  stepSpeedup: number | null;
  analyticMacRatio: number;
  imagesPerSec: number;
  secondsPerEpoch: number;
  totalSeconds: number;
}

export function resultRow(run: PlannedRun, s: TrainSummary, dense: TrainSummary | null): ResultRow {
  const p = s.pruning;
  const perLayerDensity: Record<string, number> = {};
  const perLayerSpeedup: Record<string, number | null> = {};
  for (const l of p?.layers ?? []) {
    perLayerDensity[l.layer] = l.density;
    if (!l.excluded) perLayerSpeedup[l.layer] = l.backwardSpeedup;
  }
  const density = p ? p.overallDensity : 1;
  return {
    run: run.name,
    policy: run.rate === 0 ? 'dense' : (run.config.prune ?? 'dense'),
    rate: run.rate,
    seed: run.seed,
    epochs: s.epochs,
    finalAccuracy: s.finalTestAccuracy,
    bestAccuracy: s.bestTestAccuracy,
    bestEpoch: s.bestEpoch,
    density,
    prunedDensity: p ? p.prunedDensity : 1,
    perLayerDensity,
    backwardSpeedup: p ? p.backwardSpeedup : null,
    perLayerSpeedup,
    stepSpeedup: dense && run.rate > 0 ? s.imagesPerSec / dense.imagesPerSec : run.rate === 0 ? 1 : null,
    analyticMacRatio: 1 / density,
    imagesPerSec: s.imagesPerSec,
    secondsPerEpoch: s.meanSecondsPerEpoch,
    totalSeconds: s.totalSeconds,
  };
}

const COLUMNS: [string, (r: ResultRow) => string][] = [
  ['run', (r) => r.run],
  ['policy', (r) => r.policy],
  ['rate', (r) => String(r.rate)],
  ['seed', (r) => String(r.seed)],
  ['epochs', (r) => String(r.epochs)],
  ['final_acc_%', (r) => (100 * r.finalAccuracy).toFixed(2)],
  ['best_acc_%', (r) => (100 * r.bestAccuracy).toFixed(2)],
  ['density', (r) => r.density.toFixed(3)],
  ['pruned_layer_density', (r) => r.prunedDensity.toFixed(3)],
  ['backward_speedup_measured', (r) => (r.backwardSpeedup === null ? '' : r.backwardSpeedup.toFixed(2))],
  ['step_speedup_measured', (r) => (r.stepSpeedup === null ? '' : r.stepSpeedup.toFixed(2))],
  ['mac_ratio_analytic', (r) => r.analyticMacRatio.toFixed(2)],
  ['images_per_s', (r) => r.imagesPerSec.toFixed(0)],
  ['s_per_epoch', (r) => r.secondsPerEpoch.toFixed(1)],
  ['total_s', (r) => r.totalSeconds.toFixed(0)],
];

/** CSV with a header row (RFC 4180 quoting where needed). */
export function resultsCsv(rows: readonly ResultRow[]): string {
  const q = (v: string): string => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [COLUMNS.map(([h]) => h).join(','), ...rows.map((r) => COLUMNS.map(([, f]) => q(f(r))).join(','))].join('\n') + '\n';
}

/** A Markdown table. */
export function resultsMarkdown(rows: readonly ResultRow[]): string {
  const head = COLUMNS.map(([h]) => h);
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${COLUMNS.map(([, f]) => f(r) || '-').join(' | ')} |`),
  ].join('\n') + '\n';
}
