/**
 * `leantrain bench backward`: per conv layer, the dense backward products vs prune + sparse
 * backward on the same pruned gradient, side by side in one run, on real images after a few
 * dense warm-up training steps (so gradients are realistic).
 *
 * How it measures: the pruning policy runs in experiment mode (`compareDense`): where a layer's
 * backward ran the sparse kernels, the dense kernels are also timed on the same pruned gradient
 * (src/ops/weighted.ts; which side runs first alternates per layer and step); where the
 * crossover chose dense, the dense time is the time as run. The pruning transform's own time
 * (threshold, random draws, pruning, statistics), recorded by the policy, is counted on the
 * sparse side. Per layer and over steps: medians.
 */
import { backward, setGradientTransform } from '../autograd/backward.js';
import { kernels } from '../backend/active.js';
import { OptionError } from '../core/errors.js';
import { loadDataset } from '../data/registry.js';
import { transformBatch, transformPreset } from '../data/transforms.js';
import { createModel, modelInfo } from '../models/index.js';
import type { Module } from '../nn/module.js';
import { BufferArena } from '../core/arena.js';
import { crossEntropy } from '../ops/loss.js';
import { SGD } from '../optim/sgd.js';
import { createPruningPolicy, type PruningOptions } from '../sparse/index.js';
import { Tensor } from '../tensor/tensor.js';
import { loadWeights } from '../io/safetensors.js';
import { machineInfo, type MachineInfo } from './report.js';

/** Options shared by `bench backward` and `bench step`. */
export interface SparseBenchSetup {
  /** Model name as for createModel (default 'resnet20'). */
  model: string;
  batch: number;
  /** Pruning options (policy, rate, exclude); experiment fields are set by the bench. */
  pruning: PruningOptions;
  /** Data set name; without it the embedded digits (see loadBenchImages). */
  dataset?: string;
  dataDir?: string;
  threads?: number;
  /** Timed steps (default 10). */
  steps?: number;
  /** Dense training steps before timing (default 3). */
  warmup?: number;
  seed?: number;
  /** Weights to start from (safetensors, e.g. the model.safetensors of a `train` run). */
  initFrom?: string;
  /** Progress lines (stderr in the CLI); none when absent. */
  log?: (line: string) => void;
}

/** Real images as a model input: `batchAt(s)` is the s-th batch (cycling through the data set). */
export interface BenchImages {
  source: string;
  numClasses: number;
  batchAt(s: number): { x: Tensor; labels: Int32Array };
}

/**
 * Images for `modelName` from `dataset` (normalised like the test split, no augmentation).
 * Without a data set: the embedded digits; for a model expecting [C, 32, 32] (C = 1 or 3) each
 * 28x28 digit is zero-padded by 2 pixels to 32x32 and its gray channel replicated C times.
 */
export function loadBenchImages(modelName: string, batch: number, dataset: string | undefined, dataDir: string | undefined): BenchImages {
  const want = modelInfo(modelName).inputShape;
  const ds = loadDataset(dataset ?? 'digits', { split: 'train', dataDir });
  const spec = transformPreset(ds.name, 'test');
  const [c, h, w] = ds.imageShape;
  const same = c === want[0] && h === want[1] && w === want[2];
  const padded = dataset === undefined && c === 1 && h === 28 && w === 28 && want[1] === 32 && want[2] === 32;
  if (!same && !padded) {
    throw new OptionError(`bench: model '${modelName}' expects ${want.join('x')} images; data set '${ds.name}' has ${ds.imageShape.join('x')}`);
  }
  const [C, H, W] = want;
  return {
    source: padded ? `${ds.source} (28x28 gray zero-padded to 32x32, replicated to ${C} channel(s))` : ds.source,
    numClasses: ds.numClasses,
    batchAt(s: number) {
      return buildBatch(s);
    },
  };
  function buildBatch(s: number): { x: Tensor; labels: Int32Array } {
    const B = batch;
    const idx = new Int32Array(B);
    for (let i = 0; i < B; i++) idx[i] = (s * B + i) % ds.length;
    const labels = Int32Array.from(idx, (i) => ds.labels[i]);
    const raw = transformBatch(ds.images, ds.imageShape, idx, spec, 0);
    if (same) return { x: new Tensor(raw, [B, C, H, W]), labels };
    const out = new Float32Array(B * C * H * W);
    for (let b = 0; b < B; b++) {
      for (let ch = 0; ch < C; ch++) {
        for (let y = 0; y < h; y++) {
          const src = b * h * w + y * w;
          out.set(raw.subarray(src, src + w), ((b * C + ch) * H + y + 2) * W + 2);
        }
      }
    }
    return { x: new Tensor(out, [B, C, H, W]), labels };
  }
}

/** A model after `warmup` dense SGD steps on real images, ready for timed steps. */
export interface WarmModel {
  model: Module;
  optimizer: SGD;
  images: BenchImages;
  /** One training step (forward, loss, backward, SGD step) on batch `s`. */
  trainStep(s: number): void;
}

/** Validates the shared options, sets threads, loads images, builds and warms up the model. */
export function prepareBench(o: SparseBenchSetup, what: string): WarmModel {
  if (!Number.isInteger(o.batch) || o.batch < 1) throw new OptionError(`bench ${what}: --batch must be a positive integer, got ${o.batch}`);
  const steps = o.steps ?? 10;
  if (!Number.isInteger(steps) || steps < 1) throw new OptionError(`bench ${what}: --steps must be a positive integer, got ${steps}`);
  createPruningPolicy(o.pruning); // validates the pruning options before data loads
  if (o.threads !== undefined) kernels().setThreads(o.threads);
  const images = loadBenchImages(o.model, o.batch, o.dataset, o.dataDir);
  const model = createModel(o.model, { numClasses: images.numClasses, inChannels: modelInfo(o.model).inputShape[0], seed: o.seed ?? 0 });
  if (o.initFrom !== undefined) loadWeights(model, o.initFrom);
  model.train();
  const optimizer = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
  const arena = new BufferArena(); // as in training: op outputs recycled from step to step
  const trainStep = (s: number): void =>
    arena.run(() => {
      const { x, labels } = images.batchAt(s);
      const loss = crossEntropy(model.call(x), labels);
      optimizer.zeroGrad();
      backward(loss);
      optimizer.step();
    });
  const warmup = o.warmup ?? 3;
  for (let s = 0; s < warmup; s++) {
    o.log?.(`[bench] dense warm-up step ${s + 1}/${warmup}`);
    trainStep(s);
  }
  return { model, optimizer, images, trainStep };
}

/** Median of a non-empty list (mean of the middle two for even length). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Per layer and step: what the pruned backward of one layer measured. */
export interface LayerStepTimes {
  layer: string;
  macs: number;
  density: number;
  /** The pruning transform's ms (threshold, draws, prune, allocation). */
  pruneMs: number;
  /** The backward products as run (sparse or dense by the crossover). */
  backwardMs: number;
  /** Dense kernels on the same pruned gradient. */
  denseMs: number;
  sparse: boolean;
}

/**
 * Runs `trainStep` under the policy in experiment mode (each record carries the transform's own
 * time, statistics included as in training); returns one list of LayerStepTimes per step (conv layers only, pruned ones) and the conv layers
 * left dense.
 */
export function timedPrunedSteps(
  w: WarmModel, pruning: PruningOptions, first: number, steps: number, log?: (l: string) => void,
): { perStep: LayerStepTimes[][]; excluded: ExcludedLayer[] } {
  const policy = createPruningPolicy({ ...pruning, compareDense: true, warmupSteps: 0 });
  const prev = setGradientTransform(policy.transform);
  const perStep: LayerStepTimes[][] = [];
  try {
    for (let s = 0; s < steps; s++) {
      log?.(`[bench] pruned step ${s + 1}/${steps} (compare dense)`);
      policy.beginStep(first + s);
      w.trainStep(first + s);
      const macs = new Map(policy.layers().map((l) => [l.name, { macs: l.macs, op: l.op }]));
      const rows: LayerStepTimes[] = [];
      for (const r of policy.takeRecords()) {
        const info = macs.get(r.layer);
        if (info?.op !== 'conv2d' || r.backwardMs === null || r.denseMs === null) continue;
        rows.push({
          layer: r.layer, macs: info.macs, density: r.density, pruneMs: r.pruneMs,
          backwardMs: r.backwardMs, denseMs: r.denseMs, sparse: r.sparse === true,
        });
      }
      perStep.push(rows);
    }
  } finally {
    setGradientTransform(prev);
  }
  const excluded = policy
    .layers()
    .filter((l) => l.excluded && l.op === 'conv2d')
    .map((l): ExcludedLayer => ({ layer: l.name, reason: l.excludedBy === 'no-sparse-gain' ? 'no-sparse-gain' : 'option' }));
  return { perStep, excluded };
}

/** A conv layer left dense (not pruned), and why. */
export interface ExcludedLayer {
  layer: string;
  /** 'option': an --prune-exclude group; 'no-sparse-gain': its sparse kernels never beat dense for its shape. */
  reason: 'option' | 'no-sparse-gain';
}

export interface BackwardBenchLayer {
  layer: string;
  /** Median density (non-zeros / size of the pruned conv-output gradient). */
  density: number;
  /** Median ms of the dense dX + dW on the same pruned gradient. */
  denseMs: number;
  /** Median ms of prune + the backward products as run (sparse, or dense where the crossover chose dense). */
  sparseMs: number;
  /** denseMs / sparseMs. */
  speedup: number;
  /** Median ms of the pruning transform alone (part of sparseMs). */
  pruneMs: number;
  /** Median ms of the backward products as run (part of sparseMs). */
  backwardMs: number;
  /** Fraction of steps on which the sparse kernels ran. */
  sparseFraction: number;
  /** Forward multiply-adds (= each dense backward product's). */
  macs: number;
}

/** What `bench backward` and `bench step` results both say about the run. */
export interface SparseBenchHeader {
  machine: MachineInfo;
  model: string;
  batch: number;
  threads: number;
  steps: number;
  warmup: number;
  data: string;
  /** The weights the model started from (null: the seed's initialisation). */
  initFrom: string | null;
  pruning: { policy: string; rate: number; exclude: readonly string[] };
}

/** The header of a sparse bench result for setup `o`, run on `w`. */
export function sparseBenchHeader(o: SparseBenchSetup, w: WarmModel): SparseBenchHeader {
  const p = createPruningPolicy(o.pruning).options;
  return {
    machine: machineInfo(), model: o.model, batch: o.batch, threads: kernels().threads(), steps: o.steps ?? 10, warmup: o.warmup ?? 3,
    data: w.images.source, initFrom: o.initFrom ?? null, pruning: { policy: p.policy, rate: p.rate, exclude: p.exclude },
  };
}

export interface BackwardBenchResult extends SparseBenchHeader {
  command: 'bench backward';
  layers: BackwardBenchLayer[];
  /** Conv layers left dense (same time on both sides; not in layers or total). */
  excluded: ExcludedLayer[];
  /** Medians over steps of the per-step sums over the pruned conv layers. */
  total: { denseMs: number; sparseMs: number; speedup: number; pruneMs: number; backwardMs: number };
  /** Analytic (not measured): sum(MACs x density) / sum(MACs) over the conv layers, and 1 / that. */
  analytic: { macRatio: number; speedupBound: number };
}

/** Summarises per-step layer times into the bench backward result's layers, total and analytic figures. */
export function summarizeLayerTimes(perStep: readonly LayerStepTimes[][]): Pick<BackwardBenchResult, 'layers' | 'total' | 'analytic'> {
  const by = new Map<string, LayerStepTimes[]>();
  for (const rows of perStep) for (const r of rows) by.set(r.layer, [...(by.get(r.layer) ?? []), r]);
  const layers: BackwardBenchLayer[] = [];
  let macs = 0, macsD = 0;
  // Records come in backward order; list the layers in forward order.
  for (const [layer, rs] of [...by].reverse()) {
    const denseMs = median(rs.map((r) => r.denseMs));
    const sparseMs = median(rs.map((r) => r.pruneMs + r.backwardMs));
    const density = median(rs.map((r) => r.density));
    layers.push({
      layer, density, denseMs, sparseMs, speedup: denseMs / sparseMs,
      pruneMs: median(rs.map((r) => r.pruneMs)), backwardMs: median(rs.map((r) => r.backwardMs)),
      sparseFraction: rs.filter((r) => r.sparse).length / rs.length, macs: rs[0].macs,
    });
    macs += rs[0].macs;
    macsD += rs[0].macs * density;
  }
  const sum = (rows: LayerStepTimes[], f: (r: LayerStepTimes) => number): number => rows.reduce((a, r) => a + f(r), 0);
  const denseMs = median(perStep.map((rows) => sum(rows, (r) => r.denseMs)));
  const sparseMs = median(perStep.map((rows) => sum(rows, (r) => r.pruneMs + r.backwardMs)));
  const macRatio = macs > 0 ? macsD / macs : 1;
  return {
    layers,
    total: {
      denseMs, sparseMs, speedup: denseMs / sparseMs,
      pruneMs: median(perStep.map((rows) => sum(rows, (r) => r.pruneMs))), backwardMs: median(perStep.map((rows) => sum(rows, (r) => r.backwardMs))),
    },
    analytic: { macRatio, speedupBound: 1 / macRatio },
  };
}

/**
 * Builds the model, warms it up with dense steps on real images, then runs `steps` pruned steps in
 * experiment mode and reports per conv layer dense vs prune + sparse on the same gradient.
 * @example const r = runBackwardBench({ model: 'resnet20', batch: 128, pruning: { policy: 'normal', rate: 0.9 } });
 */
export function runBackwardBench(o: SparseBenchSetup): BackwardBenchResult {
  const w = prepareBench(o, 'backward');
  const steps = o.steps ?? 10;
  const warmup = o.warmup ?? 3;
  const { perStep, excluded } = timedPrunedSteps(w, o.pruning, warmup, steps, o.log);
  if (perStep.every((rows) => rows.length === 0)) {
    throw new OptionError(`bench backward: no conv layer of '${o.model}' was pruned (check --prune-exclude)`);
  }
  return { command: 'bench backward', ...sparseBenchHeader(o, w), ...summarizeLayerTimes(perStep), excluded };
}

const f2 = (x: number): string => x.toFixed(2);

/** Aligned table of a bench backward result. */
export function formatBackwardBench(r: BackwardBenchResult): string {
  const head =
    `bench backward: ${r.model}, batch ${r.batch}, ${r.threads} thread(s), ${r.pruning.policy} ${r.pruning.rate} (exclude ${r.pruning.exclude.join(',') || 'none'}), ` +
    `median of ${r.steps} steps after ${r.warmup} dense warm-up steps${r.initFrom ? ` from the weights ${r.initFrom}` : ''}\n${r.machine.backend} on ${r.machine.cpu}, ${r.machine.date}\ndata: ${r.data}\n` +
    `dense = dense dX+dW on the same pruned gradient; sparse = prune + backward as run (sparse kernels, or dense where the crossover chose dense)\n\n`;
  const lines = ['layer                   density  dense ms  sparse ms (prune)  speed-up  sparse steps'];
  for (const l of r.layers) {
    lines.push(
      `${l.layer.padEnd(22)}  ${l.density.toFixed(3).padStart(7)}  ${f2(l.denseMs).padStart(8)}  ${f2(l.sparseMs).padStart(9)} ${`(${f2(l.pruneMs)})`.padStart(7)}  ` +
        `${`${f2(l.speedup)}x`.padStart(8)}  ${`${Math.round(100 * l.sparseFraction)}%`.padStart(12)}`,
    );
  }
  const t = r.total;
  lines.push(`${'total'.padEnd(22)}  ${''.padStart(7)}  ${f2(t.denseMs).padStart(8)}  ${f2(t.sparseMs).padStart(9)} ${`(${f2(t.pruneMs)})`.padStart(7)}  ${`${f2(t.speedup)}x`.padStart(8)}`);
  for (const e of r.excluded) {
    lines.push(`${e.layer.padEnd(22)}  dense, not pruned (${e.reason === 'option' ? '--prune-exclude' : 'sparse kernels never faster for this shape'})`);
  }
  lines.push('', `analytic MAC ratio (sum MACs x density / sum MACs): ${r.analytic.macRatio.toFixed(3)} -> analytic bound ${f2(r.analytic.speedupBound)}x`);
  return head + lines.join('\n');
}
