/**
 * The training loop: data -> model -> cross-entropy -> backward -> optimizer step, with a
 * per-iteration learning-rate schedule, test accuracy after every epoch, a JSONL run log and a
 * summary. Layers and models know nothing of this loop; features (pruning, compression) plug
 * into the autograd seams, not here.
 */
import os from 'node:os';
import path from 'node:path';
import { backward } from '../autograd/backward.js';
import { LeantrainError, OptionError } from '../core/errors.js';
import { BufferArena } from '../core/arena.js';
import { kernels } from '../backend/active.js';
import { DataLoader, loadDataset, transformPreset, type Dataset } from '../data/index.js';
import { createModel, modelInfo } from '../models/index.js';
import type { Module } from '../nn/module.js';
import { crossEntropy } from '../ops/index.js';
import { AdamW, createSchedule, parseSchedule, SGD, type Optimizer } from '../optim/index.js';
import { evaluate, type EvalResult } from './evaluate.js';
import { countCorrect, EpochMeter } from './metrics.js';
import { Progress, formatDuration } from './progress.js';
import { RunLog } from './runlog.js';
import { loadWeights, writeSafetensors } from '../io/safetensors.js';
import { readCheckpoint, restoreCheckpoint, writeCheckpoint } from './checkpoint.js';
import { validateTrainConfig, type TrainConfig } from './config.js';
import { createPruningPolicy, PruneAccumulator, type PruningPolicy } from '../sparse/index.js';
import { formatPruningReport, pruningFromConfig, type PruningReport } from './pruning.js';

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss: number;
  testAccuracy: number;
  seconds: number;
  trainSeconds: number;
  evalSeconds: number;
  imagesPerSec: number;
  dataWaitSeconds: number;
  lr: number;
}

export interface TrainSummary {
  model: string;
  dataset: string;
  dataSource: string;
  trainSamples: number;
  testSamples: number;
  parameters: number;
  backend: string;
  threads: number;
  epochs: number;
  batchSize: number;
  seed: number;
  finalTestAccuracy: number;
  bestTestAccuracy: number;
  bestEpoch: number;
  secondsPerEpoch: number[];
  meanSecondsPerEpoch: number;
  /** Training throughput (forward + backward + update, excluding evaluation), over all epochs. */
  imagesPerSec: number;
  totalSeconds: number;
  history: EpochRecord[];
  config: TrainConfig;
  machine: { cpu: string; cores: number; node: string };
  /** Sparse back-propagation: per-layer and overall (MAC-weighted) density; absent when dense. */
  pruning?: PruningReport;
}

/** How to start a run. */
export interface RunOptions {
  /**
   * Continue from this training checkpoint (written by a run with `out`): weights, optimizer
   * state, position and statistics are restored and training continues with the next epoch,
   * exactly as the uninterrupted run would (same seed, same config). `c` must be the config the
   * checkpoint was written with, except out, threads, checkpointEvery, logEvery, evalBatchSize
   * and epochs (RESUME_MAY_CHANGE); a changed epoch count continues a schedule that spans the
   * run (cosine) on the new length, so only the unchanged count reproduces the original run.
   * The run log continues from the checkpoint's point (what the interrupted run logged after
   * it is cut).
   */
  resume?: string;
}

export interface TrainHooks {
  /** Human-readable lines (dataset source, epoch results). */
  info?: (line: string) => void;
  /** Where the progress bar or lines go (default: none). */
  progress?: Progress;
  /** Called after each epoch (e.g. to stop early in tests). */
  onEpoch?: (rec: EpochRecord, model: Module) => void;
}

function makeOptimizer(c: TrainConfig, model: Module): Optimizer {
  const params = model.parameters();
  return c.optimizer === 'adamw'
    ? new AdamW(params, { lr: c.lr, weightDecay: c.weightDecay })
    : new SGD(params, { lr: c.lr, momentum: c.momentum, nesterov: c.nesterov, weightDecay: c.weightDecay });
}

/** Loads the train and test splits named by the config. */
export function loadSplits(c: TrainConfig, warn?: (line: string) => void): { train: Dataset; test: Dataset } {
  const imageFolder = { storeSize: c.imageSize, onBadImage: c.onBadImage, warn };
  return {
    train: loadDataset(c.dataset, { split: 'train', dataDir: c.dataDir, imageFolder }),
    test: loadDataset(c.dataset, { split: 'test', dataDir: c.dataDir, imageFolder }),
  };
}

/** The model a run of `c` trains on `train` (classes and channels from the data set), seeded. */
export function modelFor(c: TrainConfig, train: Dataset): Module {
  return createModel(c.model, {
    numClasses: train.numClasses,
    inChannels: train.imageShape[0],
    seed: c.seed,
    ...(c.shortcut ? { shortcut: c.shortcut } : {}),
  });
}

/** Trains per `c`; returns the summary (also written to <out>/summary.json when `out` is set). */
export async function runTraining(c: TrainConfig, hooks: TrainHooks = {}, run: RunOptions = {}): Promise<TrainSummary> {
  // Everything that can be checked without the data is checked before loading it.
  validateTrainConfig(c);
  const schedSpec = parseSchedule(c.schedule);
  modelInfo(c.model);
  const pruneOpts = pruningFromConfig(c, c.seed);
  const info = hooks.info ?? (() => {});
  const k = kernels();
  if (c.threads !== undefined) k.setThreads(c.threads);
  const { train, test } = loadSplits(c, info);
  const model = modelFor(c, train);
  if (c.initFrom !== undefined) loadWeights(model, c.initFrom);
  const optimizer = makeOptimizer(c, model);
  const ck = run.resume !== undefined ? readCheckpoint(run.resume) : null;
  if (ck !== null) {
    checkResumeConfig(run.resume!, ck.config, c);
    if (c.epochs < ck.position.epoch) {
      throw new OptionError(`--resume ${run.resume}: the checkpoint is after epoch ${ck.position.epoch}; --epochs ${c.epochs} is fewer`);
    }
    if (c.epochs !== ck.config.epochs && c.schedule !== 'constant') {
      info(
        `resume: --epochs changed from ${ck.config.epochs} to ${c.epochs}; the '${c.schedule}' schedule now spans ${c.epochs} epochs, ` +
          `so the learning rate from here differs from the original run's`,
      );
    }
    restoreCheckpoint(run.resume!, ck, model, optimizer);
  }
  const trainLoader = new DataLoader(train, {
    batchSize: c.batchSize,
    shuffle: true,
    seed: c.seed,
    transform: transformPreset(c.dataset, c.augment ? 'train' : 'test', { imageSize: c.imageSize }),
    dropLast: false,
  });
  const testLoader = new DataLoader(test, {
    batchSize: c.evalBatchSize,
    shuffle: false,
    seed: c.seed,
    transform: transformPreset(c.dataset, 'test', { imageSize: c.imageSize }),
  });
  const batchesPerEpoch = c.limitBatches > 0 ? Math.min(c.limitBatches, trainLoader.numBatches) : trainLoader.numBatches;
  const schedule = createSchedule(schedSpec, { baseLr: c.lr, epochs: c.epochs, stepsPerEpoch: batchesPerEpoch });
  // A warm-up given in epochs becomes steps once the batches per epoch are known.
  const pruning = pruneOpts && c.pruneWarmupEpochs !== undefined ? pruningFromConfig(c, c.seed, batchesPerEpoch) : pruneOpts;
  const log = c.out ? new RunLog(c.out, ck !== null, (ck?.position.extra as Partial<ResumeExtra> | undefined)?.logBytes) : null;
  const checkpointFile = c.out && c.checkpointEvery > 0 ? path.join(c.out, 'checkpoint.safetensors') : null;

  info(`data: ${train.source}`);
  info(`data: ${train.length} training and ${test.length} test images of ${train.imageShape.join('x')}, ${train.numClasses} classes`);
  info(
    `model: ${c.model} (${model.parameterCount().toLocaleString('en-US')} parameters), backend ${k.name}, ` +
      `${k.threads()} thread(s), batch ${c.batchSize}, ${c.epochs} epochs, ${c.optimizer} lr ${c.lr} (${c.schedule})`,
  );
  log?.write({
    type: ck ? 'resume' : 'start', time: new Date().toISOString(), config: c, backend: k.name, threads: k.threads(), dataSource: train.source,
    ...(ck ? { fromEpoch: ck.position.epoch, checkpoint: run.resume } : {}),
  });
  if (ck) info(`resume: from ${run.resume} after epoch ${ck.position.epoch} (step ${ck.position.step})`);

  const history: EpochRecord[] = ck ? (ck.position.history as EpochRecord[]) : [];
  // Pruning plugs into the autograd seam; the trainer only sets the step and collects stats.
  const policy: PruningPolicy | null = pruning ? createPruningPolicy(pruning) : null;
  const uninstallPolicy = policy ? policy.install() : null;
  if (policy && ck) policy.restoreWarmupTimings((ck.position.extra as Partial<ResumeExtra>).warmupTimings ?? {});
  const resumed = (ck?.position.extra ?? {}) as Partial<ResumeExtra>;
  const pruneRun = resumed.pruneRun !== undefined ? PruneAccumulator.restore(resumed.pruneRun) : new PruneAccumulator();
  const prunePerEpoch: PruningReport['perEpoch'] = resumed.prunePerEpoch ?? [];
  if (policy) {
    const o = policy.options;
    info(`pruning: ${o.policy} ${o.rate} at conv outputs, exclude [${o.exclude.join(', ')}], dense warm-up ${o.warmupSteps} steps`);
  }
  const arena = new BufferArena();
  const tStart = performance.now();
  let step = ck?.position.step ?? 0;
  let trainImages = resumed.trainImages ?? 0;
  let trainSecondsTotal = resumed.trainSecondsTotal ?? 0;
  const secondsBefore = resumed.totalSeconds ?? 0;
  try {
    for (let epoch = (ck?.position.epoch ?? 0) + 1; epoch <= c.epochs; epoch++) {
      model.train();
      const meter = new EpochMeter();
      const tEpoch = performance.now();
      let waitMs = 0;
      let b = 0;
      let lr = optimizer.lr;
      for await (const batch of trainLoader.batches(epoch - 1)) {
        const tStep = performance.now();
        waitMs += batch.waitMs;
        lr = schedule.lrAt(step);
        optimizer.lr = lr;
        // One arena run per step: its op outputs are recycled by the next step (no per-step
        // allocation or GC pressure); only numbers leave the run.
        const [lossValue, correct] = arena.run(() => {
          const logits = model.call(batch.x);
          const loss = crossEntropy(logits, batch.labels);
          optimizer.zeroGrad();
          policy?.beginStep(step);
          backward(loss);
          optimizer.step();
          return [loss.item(), countCorrect(logits, batch.labels)];
        });
        if (!Number.isFinite(lossValue)) {
          throw new LeantrainError(`training diverged: loss is ${lossValue} at epoch ${epoch}, step ${step} (lr ${lr}); try a lower --lr`);
        }
        const n = batch.labels.length;
        meter.add(lossValue, correct, n);
        b++;
        step++;
        if (log && step % c.logEvery === 0) {
          log.write({ type: 'step', epoch, step, loss: lossValue, accuracy: correct / n, lr, ms: performance.now() - tStep, waitMs: batch.waitMs });
        }
        const elapsed = (performance.now() - tEpoch) / 1000;
        hooks.progress?.update({
          epoch,
          epochs: c.epochs,
          batch: b,
          batches: batchesPerEpoch,
          loss: meter.loss,
          accuracy: meter.accuracy,
          imagesPerSec: meter.samples / Math.max(elapsed, 1e-9),
          etaSec: (elapsed / b) * (batchesPerEpoch - b),
        });
        if (b >= batchesPerEpoch) break;
      }
      const trainSeconds = (performance.now() - tEpoch) / 1000;
      trainSecondsTotal += trainSeconds;
      trainImages += meter.samples;
      const ev: EvalResult = await evaluate(model, testLoader);
      const rec: EpochRecord = {
        epoch,
        trainLoss: meter.loss,
        trainAccuracy: meter.accuracy,
        testLoss: ev.loss,
        testAccuracy: ev.accuracy,
        seconds: trainSeconds + ev.seconds,
        trainSeconds,
        evalSeconds: ev.seconds,
        imagesPerSec: meter.samples / trainSeconds,
        dataWaitSeconds: waitMs / 1000,
        lr,
      };
      history.push(rec);
      log?.write({ type: 'epoch', ...rec });
      let pruneLine = '';
      if (policy) {
        const recs = policy.takeRecords();
        pruneRun.add(recs);
        if (c.pruneLogSteps) for (const r of recs) log?.write({ type: 'prune-step', epoch, ...r });
        const ep = new PruneAccumulator();
        ep.add(recs);
        const s = ep.summary(policy.layers());
        prunePerEpoch.push({ epoch, overallDensity: s.overallDensity, prunedDensity: s.prunedDensity });
        for (const l of s.layers) {
          log?.write({
            type: 'prune', epoch, layer: l.layer, op: l.op, excluded: l.excluded, excludedBy: l.excludedBy, steps: l.steps, density: l.density, meanRate: l.meanRate,
            meanTau: l.meanTau, meanRelError: l.meanRelError, meanNaturalZeros: l.meanNaturalZeros, meanBackwardMs: l.meanBackwardMs,
            sparseFraction: l.sparseFraction, meanDenseMs: l.meanDenseMs, meanPruneMs: l.meanPruneMs, warmupDenseMs: l.warmupDenseMs,
            backwardSpeedup: l.backwardSpeedup,
          });
        }
        pruneLine = `  density ${s.overallDensity.toFixed(3)}` + (s.backwardSpeedup === null ? '' : `  backward ${s.backwardSpeedup.toFixed(2)}x`);
      }
      const line =
        `epoch ${epoch}/${c.epochs}  train loss ${rec.trainLoss.toFixed(4)} acc ${(100 * rec.trainAccuracy).toFixed(2)}%  ` +
        `test loss ${rec.testLoss.toFixed(4)} acc ${(100 * rec.testAccuracy).toFixed(2)}%  ` +
        `${formatDuration(rec.seconds)} (${rec.imagesPerSec.toFixed(0)} img/s, data wait ${rec.dataWaitSeconds.toFixed(2)} s)${pruneLine}`;
      if (hooks.progress) hooks.progress.line(line);
      else info(line);
      if (checkpointFile !== null && (epoch % c.checkpointEvery === 0 || epoch === c.epochs)) {
        // The log record first: the checkpoint remembers the log's length with it, and a resume
        // cuts the log back to that length (dropping what the interrupted run wrote after it).
        log?.write({ type: 'checkpoint', epoch, step, file: checkpointFile });
        const extra: ResumeExtra = {
          trainImages, trainSecondsTotal, prunePerEpoch, pruneRun: pruneRun.snapshot(),
          totalSeconds: secondsBefore + (performance.now() - tStart) / 1000,
          warmupTimings: policy?.warmupTimings() ?? {},
          logBytes: log?.size() ?? 0,
        };
        writeCheckpoint(checkpointFile, { config: c, model, optimizer, position: { epoch, step, history, extra: { ...extra } } });
      }
      hooks.onEpoch?.(rec, model);
    }
  } finally {
    uninstallPolicy?.();
    await trainLoader.close();
    await testLoader.close();
  }

  const best = history.reduce((a, r) => (r.testAccuracy > a.testAccuracy ? r : a), history[0]);
  const summary: TrainSummary = {
    model: c.model,
    dataset: c.dataset,
    dataSource: train.source,
    trainSamples: train.length,
    testSamples: test.length,
    parameters: model.parameterCount(),
    backend: k.name,
    threads: k.threads(),
    epochs: c.epochs,
    batchSize: c.batchSize,
    seed: c.seed,
    finalTestAccuracy: history[history.length - 1].testAccuracy,
    bestTestAccuracy: best.testAccuracy,
    bestEpoch: best.epoch,
    secondsPerEpoch: history.map((r) => r.seconds),
    meanSecondsPerEpoch: history.reduce((s, r) => s + r.seconds, 0) / history.length,
    imagesPerSec: trainImages / trainSecondsTotal,
    totalSeconds: secondsBefore + (performance.now() - tStart) / 1000,
    history,
    config: c,
    machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism(), node: process.version },
  };
  if (policy) {
    summary.pruning = { ...pruneRun.summary(policy.layers()), ...pruneHeader(policy), perEpoch: prunePerEpoch };
    for (const line of formatPruningReport(summary.pruning)) info(line);
  }
  log?.write({ type: 'end', finalTestAccuracy: summary.finalTestAccuracy, bestTestAccuracy: summary.bestTestAccuracy, totalSeconds: summary.totalSeconds });
  log?.writeSummary(summary);
  // The trained weights, PyTorch-style names (atomic write).
  if (c.out) writeSafetensors(path.join(c.out, 'model.safetensors'), model.stateDict(), { format: 'pt', model: c.model, framework: 'leantrain' });
  return summary;
}

/** What the trainer keeps in a checkpoint beside the history, for its summary. */
interface ResumeExtra {
  trainImages: number;
  trainSecondsTotal: number;
  totalSeconds: number;
  prunePerEpoch: PruningReport['perEpoch'];
  pruneRun: ReturnType<PruneAccumulator['snapshot']>;
  /** The pruning policy's dense warm-up timings (the measured speed-up needs them). */
  warmupTimings: Record<string, [number, number]>;
  /** log.jsonl's length when the checkpoint was written. */
  logBytes: number;
}

/** Options a resumed run may change; every other one must equal the checkpoint's. */
export const RESUME_MAY_CHANGE: readonly (keyof TrainConfig)[] = ['epochs', 'out', 'threads', 'checkpointEvery', 'logEvery', 'evalBatchSize'];

/** OptionError listing the options of `c` that differ from the checkpoint's config (except RESUME_MAY_CHANGE). */
function checkResumeConfig(file: string, saved: TrainConfig, c: TrainConfig): void {
  const keys = new Set([...Object.keys(saved), ...Object.keys(c)] as (keyof TrainConfig)[]);
  const diff: string[] = [];
  for (const key of keys) {
    if (RESUME_MAY_CHANGE.includes(key)) continue;
    const a = JSON.stringify(saved[key]);
    const b = JSON.stringify(c[key]);
    if (a !== b) diff.push(`${key} ${b ?? 'unset'} (checkpoint: ${a ?? 'unset'})`);
  }
  if (diff.length > 0) {
    throw new OptionError(
      `--resume ${file}: the run's options differ from the checkpoint's: ${diff.join('; ')}. ` +
        `A resumed run keeps its config; only ${RESUME_MAY_CHANGE.join(', ')} may change`,
    );
  }
}

function pruneHeader(p: PruningPolicy): Pick<PruningReport, 'policy' | 'rate' | 'exclude' | 'warmupSteps'> {
  return { policy: p.options.policy, rate: p.options.rate, exclude: p.options.exclude, warmupSteps: p.options.warmupSteps };
}
