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
  /** True when an exclude rule leaves it dense. */
  excluded: boolean;
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
  /** Wall-clock ms of the layer's backward products (null until its backward ran). */
  backwardMs: number | null;
  /** Whether the sparse kernels ran (null until the backward ran). */
  sparse: boolean | null;
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
  /** Pruned steps summarised (0 for excluded layers or during warm-up). */
  steps: number;
  /** Mean density over those steps (1 for excluded layers). */
  density: number;
  meanTau: number | null;
  meanRelError: number | null;
  meanNaturalZeros: number | null;
  meanBackwardMs: number | null;
}

export interface PruneSummary {
  layers: LayerPruneSummary[];
  /** MAC-weighted mean density over every seen layer (excluded and unpruned steps count as 1). */
  overallDensity: number;
  /** MAC-weighted mean density over the pruned layers only. */
  prunedDensity: number;
}

function mean(xs: (number | null)[]): number | null {
  let s = 0;
  let c = 0;
  for (const x of xs) {
    if (x !== null && Number.isFinite(x)) {
      s += x;
      c++;
    }
  }
  return c > 0 ? s / c : null;
}

/** Summarises records per layer; layers without records count as dense (density 1). */
export function summarizePruning(layers: readonly PruneLayerInfo[], records: readonly PruneRecord[]): PruneSummary {
  const by = new Map<string, PruneRecord[]>();
  for (const r of records) {
    const list = by.get(r.layer);
    if (list) list.push(r);
    else by.set(r.layer, [r]);
  }
  const out: LayerPruneSummary[] = [];
  let wAll = 0, dAll = 0, wPr = 0, dPr = 0;
  for (const l of layers) {
    const rs = by.get(l.name) ?? [];
    const density = rs.length > 0 ? rs.reduce((s, r) => s + r.density, 0) / rs.length : 1;
    out.push({
      layer: l.name,
      op: l.op,
      macs: l.macs,
      excluded: l.excluded,
      steps: rs.length,
      density,
      meanTau: mean(rs.map((r) => r.tau)),
      meanRelError: mean(rs.map((r) => r.relError)),
      meanNaturalZeros: mean(rs.map((r) => r.naturalZeros)),
      meanBackwardMs: mean(rs.map((r) => r.backwardMs)),
    });
    wAll += l.macs;
    dAll += l.macs * density;
    if (!l.excluded) {
      wPr += l.macs;
      dPr += l.macs * density;
    }
  }
  return { layers: out, overallDensity: wAll > 0 ? dAll / wAll : 1, prunedDensity: wPr > 0 ? dPr / wPr : 1 };
}
