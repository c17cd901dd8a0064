/**
 * Per-layer pruning statistics: one record per pruned layer per step, and their summary
 * (per layer and overall, the overall density weighted by each layer's multiply-adds).
 */
import type { FloatArray } from '../core/dtype.js';

/** A layer the policy has seen (conv2d or linear node scope). */
export interface PruneLayerInfo {
  /** Module path, e.g. 'layer1.0.conv1'. */
  name: string;
  /** 'conv2d' or 'linear'. */
  op: string;
  /** Index in order of first sight (a component of the RNG key). */
  index: number;
  /** Forward multiply-adds of one call (= each backward product's, dense). */
  macs: number;
  /** True when the layer stays dense (never pruned). */
  excluded: boolean;
  /**
   * Why: 'option' (an --prune-exclude group), 'no-sparse-gain' (its sparse kernels never beat
   * dense for its shape, so pruning would only cost time; pass sparseKernels: false to prune it
   * anyway), null when pruned.
   */
  excludedBy: 'option' | 'no-sparse-gain' | null;
  /**
   * Dense-equivalent backward time: running [sum of ms, count] of the layer's dense backward
   * products timed during the dense warm-up (dense conv time does not depend on the values, so
   * it is the reference for the pruned steps' time). [0, 0] when there was no warm-up.
   */
  warmupDenseMs: [number, number];
}

/** What one pruning of one layer at one step measured. */
export interface PruneRecord {
  step: number;
  layer: string;
  /** The target used (p, s or keep) at this step. */
  rate: number;
  /** Threshold; null for topk (one per sample). */
  tau: number | null;
  /** Non-zeros / size after pruning. */
  density: number;
  /** Fraction of exact zeros before pruning (null when not measured this step). */
  naturalZeros: number | null;
  /** ||G' - G|| / ||G|| (null when not measured this step, or G = 0). */
  relError: number | null;
  /** Wall-clock ms of the pruning transform (threshold, draws, prune, statistics). */
  pruneMs: number;
  /** Wall-clock ms of the layer's backward products (null until its backward ran). */
  backwardMs: number | null;
  /** Whether the sparse kernels ran (null until the backward ran). */
  sparse: boolean | null;
  /** Experiment mode (compareDense): the dense kernels' ms on the same gradient; else null. */
  denseMs: number | null;
}

/** Natural zero fraction of g and ||out - g|| / ||g|| in one float64 pass. */
export function measurePruning(g: FloatArray, out: FloatArray): { naturalZeros: number; relError: number | null } {
  const n = g.length;
  let zeros = 0;
  let gg = 0;
  let dd = 0;
  for (let i = 0; i < n; i++) {
    const x = g[i];
    if (x === 0) zeros++;
    gg += x * x;
    const d = out[i] - x;
    dd += d * d;
  }
  return { naturalZeros: n > 0 ? zeros / n : 0, relError: gg > 0 ? Math.sqrt(dd / gg) : null };
}

export interface LayerPruneSummary {
  layer: string;
  op: string;
  macs: number;
  excluded: boolean;
  /** Why it stays dense (PruneLayerInfo.excludedBy). */
  excludedBy: 'option' | 'no-sparse-gain' | null;
  /** Pruned steps summarised (0 for excluded layers or during warm-up). */
  steps: number;
  /** Mean density over those steps (1 for excluded layers). */
  density: number;
  /** Mean target (p, s or keep) over those steps (differs from the configured one under a schedule). */
  meanRate: number | null;
  meanTau: number | null;
  meanRelError: number | null;
  meanNaturalZeros: number | null;
  meanBackwardMs: number | null;
  /** Fraction of those steps whose backward ran the sparse kernels (null if none reported). */
  sparseFraction: number | null;
  /** Mean dense-kernel ms on the same gradients (compareDense only; else null). */
  meanDenseMs: number | null;
  /** Mean ms of the pruning transform over the pruned steps. */
  meanPruneMs: number | null;
  /** Mean dense backward ms during the dense warm-up (the dense-equivalent time; null without warm-up). */
  warmupDenseMs: number | null;
  /**
   * Measured backward speed-up of the layer: dense-equivalent ms (meanDenseMs in compare mode,
   * else warmupDenseMs) / (meanPruneMs + meanBackwardMs). Null when either side is unknown.
   */
  backwardSpeedup: number | null;
}

export interface PruneSummary {
  layers: LayerPruneSummary[];
  /**
   * MAC-weighted mean density over every seen layer, excluded layers counting as 1, over the
   * pruned steps (steps of a dense warm-up are not in it: they have no records).
   */
  overallDensity: number;
  /** MAC-weighted mean density over the pruned layers only. */
  prunedDensity: number;
  /**
   * Over the pruned layers with a dense-equivalent time: sum of dense-equivalent ms / sum of
   * (prune + backward) ms per step; null when none has one.
   */
  backwardSpeedup: number | null;
}

interface LayerSums {
  steps: number;
  density: number;
  rate: [number, number];
  tau: [number, number];
  relError: [number, number];
  naturalZeros: [number, number];
  backwardMs: [number, number];
  pruneMs: [number, number];
  sparse: [number, number];
  denseMs: [number, number];
}

function addTo(acc: [number, number], x: number | null): void {
  if (x !== null && Number.isFinite(x)) {
    acc[0] += x;
    acc[1]++;
  }
}

const meanOf = (acc: [number, number]): number | null => (acc[1] > 0 ? acc[0] / acc[1] : null);

/** Running per-layer sums of records (constant memory: the trainer keeps one per epoch and one per run). */
export class PruneAccumulator {
  private readonly sums = new Map<string, LayerSums>();

  /** The sums as plain JSON (for training checkpoints). */
  snapshot(): Record<string, LayerSums> {
    return Object.fromEntries([...this.sums].map(([k, v]) => [k, structuredClone(v)]));
  }

  /** An accumulator continuing from `snapshot()`. */
  static restore(snap: Record<string, LayerSums>): PruneAccumulator {
    const a = new PruneAccumulator();
    for (const [k, v] of Object.entries(snap)) a.sums.set(k, structuredClone(v));
    return a;
  }

  add(records: readonly PruneRecord[]): void {
    for (const r of records) {
      let a = this.sums.get(r.layer);
      if (a === undefined) {
        a = {
          steps: 0, density: 0, rate: [0, 0], tau: [0, 0], relError: [0, 0], naturalZeros: [0, 0], backwardMs: [0, 0], pruneMs: [0, 0], sparse: [0, 0], denseMs: [0, 0],
        };
        this.sums.set(r.layer, a);
      }
      a.steps++;
      a.density += r.density;
      addTo(a.rate, r.rate);
      addTo(a.tau, r.tau);
      addTo(a.relError, r.relError);
      addTo(a.naturalZeros, r.naturalZeros);
      addTo(a.backwardMs, r.backwardMs);
      addTo(a.pruneMs, r.pruneMs);
      addTo(a.sparse, r.sparse === null ? null : r.sparse ? 1 : 0);
      addTo(a.denseMs, r.denseMs);
    }
  }

  /** Per-layer means and the MAC-weighted densities; layers without records count as dense. */
  summary(layers: readonly PruneLayerInfo[]): PruneSummary {
    const out: LayerPruneSummary[] = [];
    let wAll = 0, dAll = 0, wPr = 0, dPr = 0, eqMs = 0, runMs = 0;
    for (const l of layers) {
      const a = this.sums.get(l.name);
      const density = a !== undefined && a.steps > 0 ? a.density / a.steps : 1;
      const meanDenseMs = a ? meanOf(a.denseMs) : null;
      const meanBackwardMs = a ? meanOf(a.backwardMs) : null;
      const meanPruneMs = a ? meanOf(a.pruneMs) : null;
      const warmupDenseMs = meanOf(l.warmupDenseMs);
      const eq = meanDenseMs ?? warmupDenseMs;
      const run = meanBackwardMs !== null && meanPruneMs !== null ? meanBackwardMs + meanPruneMs : null;
      const backwardSpeedup = eq !== null && run !== null && run > 0 ? eq / run : null;
      if (backwardSpeedup !== null && !l.excluded) {
        eqMs += eq!;
        runMs += run!;
      }
      out.push({
        layer: l.name,
        op: l.op,
        macs: l.macs,
        excluded: l.excluded,
        excludedBy: l.excludedBy,
        steps: a?.steps ?? 0,
        density,
        meanRate: a ? meanOf(a.rate) : null,
        meanTau: a ? meanOf(a.tau) : null,
        meanRelError: a ? meanOf(a.relError) : null,
        meanNaturalZeros: a ? meanOf(a.naturalZeros) : null,
        meanBackwardMs,
        sparseFraction: a ? meanOf(a.sparse) : null,
        meanDenseMs,
        meanPruneMs,
        warmupDenseMs,
        backwardSpeedup,
      });
      wAll += l.macs;
      dAll += l.macs * density;
      if (!l.excluded) {
        wPr += l.macs;
        dPr += l.macs * density;
      }
    }
    return {
      layers: out, overallDensity: wAll > 0 ? dAll / wAll : 1, prunedDensity: wPr > 0 ? dPr / wPr : 1,
      backwardSpeedup: runMs > 0 ? eqMs / runMs : null,
    };
  }
}

/** Summarises records per layer (see PruneAccumulator.summary). */
export function summarizePruning(layers: readonly PruneLayerInfo[], records: readonly PruneRecord[]): PruneSummary {
  const acc = new PruneAccumulator();
  acc.add(records);
  return acc.summary(layers);
}
