/**
 * `leantrain bench step`: whole training steps (forward + backward + SGD step), dense vs pruned,
 * alternating in one process after dense warm-up, medians over the timed steps of each. Also the
 * bound that density allows: the dense step time with every pruned layer's backward products
 * scaled by its density (per-layer dense product times and densities from experiment-mode steps,
 * `compareDense`), everything else unchanged; and the fraction of that bound's speed-up reached.
 */
import { setGradientTransform } from '../autograd/backward.js';
import { createPruningPolicy, summarizePruning } from '../sparse/index.js';
import {
  median, prepareBench, sparseBenchHeader, summarizeLayerTimes, timedPrunedSteps, type SparseBenchHeader, type SparseBenchSetup,
} from './backward.js';

export interface StepBenchResult extends SparseBenchHeader {
  command: 'bench step';
  dense: { msPerStep: number; imagesPerSec: number };
  /** density: MAC-weighted over every conv/linear layer (excluded layers count as 1); prunedDensity: over pruned layers. */
  pruned: { msPerStep: number; imagesPerSec: number; density: number; prunedDensity: number };
  /** dense msPerStep / pruned msPerStep. */
  speedup: number;
  /**
   * The bound that density allows: dense step minus sum over pruned conv layers of
   * denseProductMs x (1 - density); its speed-up; the fraction of it reached (speedup / bound
   * speed-up) and of its time saving ((dense - pruned) / (dense - bound)).
   */
  bound: { msPerStep: number; speedup: number; fractionOfSpeedup: number; fractionOfSaving: number; denseBackwardProductsMs: number };
}

/**
 * Times `steps` dense and `steps` pruned training steps alternately (the order flips every pair),
 * then `steps` experiment-mode steps for the bound. Medians.
 * @example const r = runStepBench({ model: 'resnet20', batch: 128, pruning: { policy: 'normal', rate: 0.9 } });
 */
export function runStepBench(o: SparseBenchSetup): StepBenchResult {
  const w = prepareBench(o, 'step');
  const steps = o.steps ?? 10;
  const warmup = o.warmup ?? 3;
  // As in training: statistics every step unless the options say otherwise (they come from the prune pass).
  const policy = createPruningPolicy({ ...o.pruning, compareDense: false, warmupSteps: 0 });
  const denseMs: number[] = [];
  const prunedMs: number[] = [];
  let s = warmup;
  const dense = (): void => {
    const t0 = performance.now();
    w.trainStep(s++);
    denseMs.push(performance.now() - t0);
  };
  const pruned = (): void => {
    const prev = setGradientTransform(policy.transform);
    try {
      policy.beginStep(s);
      const t0 = performance.now();
      w.trainStep(s++);
      prunedMs.push(performance.now() - t0);
    } finally {
      setGradientTransform(prev);
    }
  };
  for (let i = 0; i < steps; i++) {
    o.log?.(`[bench] step pair ${i + 1}/${steps} (dense and pruned)`);
    if (i % 2 === 0) {
      dense();
      pruned();
    } else {
      pruned();
      dense();
    }
  }
  const dens = summarizePruning(policy.layers(), policy.takeRecords());
  const perLayer = summarizeLayerTimes(timedPrunedSteps(w, o.pruning, s, steps, o.log).perStep);
  const d = median(denseMs);
  const p = median(prunedMs);
  const products = perLayer.layers.reduce((a, l) => a + l.denseMs, 0);
  const saved = perLayer.layers.reduce((a, l) => a + l.denseMs * (1 - l.density), 0);
  const boundMs = d - saved;
  const speedup = d / p;
  const boundSpeedup = d / boundMs;
  const n = o.batch;
  return {
    command: 'bench step', ...sparseBenchHeader(o, w),
    dense: { msPerStep: d, imagesPerSec: (1000 * n) / d },
    pruned: { msPerStep: p, imagesPerSec: (1000 * n) / p, density: dens.overallDensity, prunedDensity: dens.prunedDensity },
    speedup,
    bound: {
      msPerStep: boundMs, speedup: boundSpeedup, fractionOfSpeedup: speedup / boundSpeedup,
      fractionOfSaving: saved > 0 ? (d - p) / saved : 0, denseBackwardProductsMs: products,
    },
  };
}

/** A short report of a bench step result. */
export function formatStepBench(r: StepBenchResult): string {
  const b = r.bound;
  return [
    `bench step: ${r.model}, batch ${r.batch}, ${r.threads} thread(s), ${r.pruning.policy} ${r.pruning.rate} (exclude ${r.pruning.exclude.join(',') || 'none'}), ` +
      `median of ${r.steps} steps each (alternating) after ${r.warmup} dense warm-up steps${r.initFrom ? ` from the weights ${r.initFrom}` : ''}`,
    `${r.machine.backend} on ${r.machine.cpu}, ${r.machine.date}`,
    `data: ${r.data}`,
    '',
    `dense   ${r.dense.msPerStep.toFixed(1).padStart(8)} ms/step  ${r.dense.imagesPerSec.toFixed(1).padStart(7)} images/s`,
    `pruned  ${r.pruned.msPerStep.toFixed(1).padStart(8)} ms/step  ${r.pruned.imagesPerSec.toFixed(1).padStart(7)} images/s  density ${r.pruned.density.toFixed(3)} ` +
      `(MAC-weighted; ${r.pruned.prunedDensity.toFixed(3)} over pruned layers)`,
    `speed-up ${r.speedup.toFixed(2)}x`,
    `bound that density allows: ${b.msPerStep.toFixed(1)} ms/step = ${b.speedup.toFixed(2)}x (dense step with each pruned conv's dense backward products, ` +
      `${b.denseBackwardProductsMs.toFixed(1)} ms in all, scaled by its density); reached ${(100 * b.fractionOfSpeedup).toFixed(0)}% of that speed-up, ` +
      `${(100 * b.fractionOfSaving).toFixed(0)}% of its time saving`,
  ].join('\n');
}
