/**
 * createPruningPolicy: activation-gradient pruning as a GradientTransform on the autograd seam.
 * At each conv2d (and linear, unless excluded) node's incoming gradient it computes the policy's
 * threshold, prunes with the backend's pruneGradient kernel (counter RNG keyed by seed, layer
 * index and step: identical for any thread count) and returns a PrunedGradient carrying the
 * density, which the op's backward uses to choose dense or sparse kernels. Layers and models do
 * not change. Per layer and step it records tau, density, natural zeros, relative error and the
 * backward time (stats.ts).
 *
 * @example
 * const policy = createPruningPolicy({ policy: 'normal', rate: 0.9, exclude: ['first'] });
 * const uninstall = policy.install();
 * policy.beginStep(step); backward(loss);            // per training step
 * const s = summarizePruning(policy.layers(), policy.takeRecords());
 * uninstall();
 */
import { setGradientTransform, type GradientTransform } from '../autograd/backward.js';
import type { Node } from '../autograd/graph.js';
import { PrunedGradient } from '../autograd/pruned.js';
import { kernels } from '../backend/active.js';
import { allocFloat, type DType, type FloatArray } from '../core/dtype.js';
import { counterKey } from '../core/rng.js';
import { shapeSize } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkRate, resolvePruningOptions, type PruningOptions, type ResolvedPruningOptions } from './options.js';
import { measurePruning, type PruneLayerInfo, type PruneRecord } from './stats.js';
import { absQuantile, fitLogMagnitude, lognormalThreshold, normalThreshold } from './threshold.js';
import { pruneTopk } from './topk.js';

export interface PruningPolicy {
  readonly options: ResolvedPruningOptions;
  /** The transform (install() sets it on the autograd seam). */
  readonly transform: GradientTransform;
  /**
   * Sets the step of the next backward pass (warm-up, schedule and RNG key use it). Without it,
   * each new backward pass advances the step by one.
   */
  beginStep(step: number): void;
  /** The step the policy is at. */
  readonly step: number;
  /** Installs the transform; returns a function restoring the previous one. */
  install(): () => void;
  /** The layers seen so far, in order of first sight. */
  layers(): PruneLayerInfo[];
  /** Records since the last call (the trainer drains them per epoch). */
  takeRecords(): PruneRecord[];
  /** Per layer: [sum of ms, count] of the dense backward timed in the warm-up (for checkpoints). */
  warmupTimings(): Record<string, [number, number]>;
  /** Seeds the warm-up timings of layers not met yet (a resumed run: its warm-up is over). */
  restoreWarmupTimings(t: Record<string, [number, number]>): void;
}

/** True for the stem: a conv2d node with no conv2d upstream of it. */
function hasConvUpstream(node: Node): boolean {
  const seen = new Set<Node>();
  const stack: Node[] = [];
  for (const e of node.inputs) if (e.gradFn) stack.push(e.gradFn);
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    if (n.op === 'conv2d') return true;
    for (const e of n.inputs) if (e.gradFn && !seen.has(e.gradFn)) stack.push(e.gradFn);
  }
  return false;
}

/** Creates a pruning policy; validates options first (OptionError naming the option). */
export function createPruningPolicy(options: PruningOptions): PruningPolicy {
  const o = resolvePruningOptions(options);
  const layers = new Map<string, PruneLayerInfo>();
  const restoredWarmup = new Map<string, [number, number]>();
  let records: PruneRecord[] = [];
  let step = 0;
  let explicit = true;
  let lastSeq = -1;
  let occurrences = new Map<string, number>();
  // Pruned outputs are pooled by dtype and size: a buffer returns when the consuming op's backward
  // has run (PrunedGradient.onConsumed), so a step allocates nothing after the first and holds one
  // buffer per distinct gradient size.
  const pool = new Map<string, FloatArray[]>();
  const statsBuf = new Float64Array(3);
  const warmupTimedFrom = o.warmupSteps >= 2 ? Math.max(1, Math.floor(o.warmupSteps / 2)) : 0;
  const takeBuffer = (dtype: DType, n: number): FloatArray => pool.get(`${dtype}:${n}`)?.pop() ?? allocFloat(dtype, n);
  const giveBack = (dtype: DType, buf: FloatArray): void => {
    const key = `${dtype}:${buf.length}`;
    const list = pool.get(key);
    if (list === undefined) pool.set(key, [buf]);
    else list.push(buf);
  };

  // A layer is its weight when that is a parameter (a leaf that requires grad): convs created
  // outside any module scope, or two convs of one module, are then still distinct layers (named
  // by scope, '(conv2d)' outside modules, then '#2', '#3', ... in order of first use). Otherwise
  // (a computed weight) the scope alone names it.
  const byWeight = new WeakMap<Tensor, PruneLayerInfo>();
  const nameUses = new Map<string, number>();
  function layerOf(node: Node, grad: Tensor): PruneLayerInfo {
    const base = node.scope === '' ? `(${node.op})` : node.scope;
    const param = node.inputs[1]?.leaf ?? null;
    let l = param !== null ? byWeight.get(param) : layers.get(base);
    if (l === undefined) {
      const uses = (nameUses.get(base) ?? 0) + 1;
      nameUses.set(base, uses);
      const name = uses === 1 ? base : `${base}#${uses}`;
      const w = node.inputs[1]?.shape ?? [1];
      const macs = grad.size * (shapeSize(w) / Math.max(1, w[0]));
      const byOption =
        (node.op === 'linear' && o.exclude.includes('fc')) ||
        (o.exclude.includes('shortcut') && /shortcut|downsample/.test(name)) ||
        (node.op === 'conv2d' && o.exclude.includes('first') && !hasConvUpstream(node));
      // With sparse kernels on, a layer whose sparse kernels never beat dense stays dense: pruning
      // it would cost time and gain none (e.g. a 3-channel stem).
      const denseOnly = !byOption && o.sparseKernels && node.hints.sparseCrossover === 0;
      const excluded = byOption || denseOnly;
      l = {
        name, op: node.op, index: layers.size, macs, excluded, excludedBy: byOption ? 'option' : denseOnly ? 'no-sparse-gain' : null,
        warmupDenseMs: [...(restoredWarmup.get(name) ?? [0, 0])] as [number, number],
      };
      layers.set(name, l);
      if (param !== null) byWeight.set(param, l);
    }
    return l;
  }

  // During the dense warm-up the layer's gradient passes unchanged (no copy), wrapped so that its
  // dense backward products report their time: the dense-equivalent time of later pruned steps.
  function timedDense(grad: Tensor, layer: PruneLayerInfo): Tensor {
    const pg = new PrunedGradient(grad.data, grad.shape, grad.size);
    pg.sparseAllowed = false;
    pg.onBackward = (r) => {
      layer.warmupDenseMs[0] += r.ms;
      layer.warmupDenseMs[1]++;
    };
    return pg;
  }

  const transform: GradientTransform = (grad, node) => {
    if (node.op !== 'conv2d' && node.op !== 'linear') return grad;
    if (node.seq > lastSeq) {
      // A new backward pass (nodes are visited in decreasing creation order within one).
      if (!explicit) step++;
      explicit = false;
      occurrences = new Map();
    }
    lastSeq = node.seq;
    const layer = layerOf(node, grad);
    if (layer.excluded || grad.size === 0) return grad;
    // Timed over the second half of the warm-up, never its first step (one-off allocation costs),
    // unless the warm-up is a single step.
    if (step < o.warmupSteps) return step >= warmupTimedFrom ? timedDense(grad, layer) : grad;
    const t0 = performance.now();
    const rate = o.schedule ? o.schedule(step, o.rate) : o.rate;
    if (o.schedule) checkRate(o.policy, rate, `schedule value at step ${step}`);
    const occ = occurrences.get(layer.name) ?? 0;
    occurrences.set(layer.name, occ + 1);
    const k = kernels();
    const n = grad.size;
    const out = takeBuffer(grad.dtype, n);
    let tau: number | null;
    let nnz: number;
    // The first pruned step is always measured, then every statsEvery-th.
    const wantStats = (step - o.warmupSteps) % o.statsEvery === 0;
    let measure: { naturalZeros: number; relError: number | null } | null = null;
    if (o.policy === 'topk') {
      tau = null;
      nnz = pruneTopk(grad.data, out, grad.shape[0] ?? 1, rate);
      if (wantStats) measure = measurePruning(grad.data, out);
    } else {
      tau = o.policy === 'lognormal' ? lognormalThreshold(fitLogMagnitude(grad.data, n), rate) : normalThreshold(k.meanAbs(grad.data, n), rate);
      if (o.tauQuantileCap !== null && tau > 0) tau = Math.min(tau, absQuantile(grad.data, n, o.tauQuantileCap));
      // One key per (layer, call within the step): distinct for distinct layers (counterKey is a
      // bijection of the stream for a fixed seed); the step selects the index's high word, so each
      // (layer, call, step) draws its own stream.
      const { key, offset } = drawStream(counterKey(counterKey(o.seed, layer.index), occ), step);
      // Zeros, ||G||^2 and ||G' - G||^2 come from the pruning pass itself (no extra pass).
      nnz = k.pruneGradient(grad.data, out, n, tau, o.policy !== 'deterministic', key, offset, wantStats ? statsBuf : null);
      if (wantStats) measure = { naturalZeros: statsBuf[0] / n, relError: statsBuf[1] > 0 ? Math.sqrt(statsBuf[2] / statsBuf[1]) : null };
    }
    const pg = new PrunedGradient(out, grad.shape, nnz);
    const dtype = grad.dtype;
    pg.onConsumed = () => giveBack(dtype, out);
    pg.sparseAllowed = o.sparseKernels;
    pg.compareDense = o.compareDense;
    pg.denseFirst = (step + layer.index) % 2 === 1;
    const rec: PruneRecord = {
      step,
      layer: layer.name,
      rate,
      tau,
      density: pg.density,
      naturalZeros: measure ? measure.naturalZeros : null,
      relError: measure ? measure.relError : null,
      pruneMs: performance.now() - t0,
      backwardMs: null,
      sparse: null,
      denseMs: null,
    };
    records.push(rec);
    pg.onBackward = (r) => {
      rec.backwardMs = r.ms;
      rec.sparse = r.sparse;
      rec.denseMs = r.denseMs;
    };
    return pg;
  };

  return {
    options: o,
    transform,
    beginStep(s: number) {
      step = s;
      explicit = true;
      lastSeq = -1;
    },
    get step() {
      return step;
    },
    install() {
      const prev = setGradientTransform(transform);
      return () => {
        setGradientTransform(prev);
      };
    },
    layers: () => [...layers.values()],
    takeRecords() {
      const r = records;
      records = [];
      return r;
    },
    warmupTimings: () => Object.fromEntries([...layers.values()].map((l) => [l.name, [...l.warmupDenseMs] as [number, number]])),
    restoreWarmupTimings(t) {
      for (const [name, v] of Object.entries(t)) {
        if (Array.isArray(v) && v.length === 2 && v.every(Number.isFinite)) restoredWarmup.set(name, [v[0], v[1]]);
      }
    },
  };
}

/** Steps whose index high word fits an exact JS number: offset + i stays below 2^53. */
export const STEP_WORDS = 2 ** 21;

/**
 * The counter stream of one (layer, call) key at `step`: the step is the high word of the
 * element index (offset = step * 2^32), so each step draws its own stream. JS numbers are exact
 * below 2^53, so from step 2^21 on the step's upper part is folded into the key instead (steps
 * below 2^21 keep exactly the streams they always had).
 */
export function drawStream(key: number, step: number): { key: number; offset: number } {
  const fold = Math.floor(step / STEP_WORDS);
  return { key: fold === 0 ? key : counterKey(key, fold), offset: (step % STEP_WORDS) * 4294967296 };
}
