/**
 * End to end (oracle 5): a few training steps from a fixed seed give a fixed loss trajectory,
 * identical across runs and matching the reference backend; LeNet-5 learns the embedded digits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_TRAIN_CONFIG, refBackend, runTraining, withBackendAsync, type TrainConfig } from '../src/index.js';
import { E2E_TRAJECTORY } from './helpers/tolerances.js';

function stepLosses(dir: string): number[] {
  return readFileSync(path.join(dir, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; loss?: number })
    .filter((r) => r.type === 'step')
    .map((r) => r.loss as number);
}

interface ShortRun {
  losses: number[];
  backend: string;
}

async function shortRunWithBackend(extra: Partial<TrainConfig>): Promise<ShortRun> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leantrain-e2e-'));
  try {
    const summary = await runTraining({
      ...DEFAULT_TRAIN_CONFIG,
      epochs: 1,
      batchSize: 32,
      limitBatches: 20,
      schedule: 'constant',
      lr: 0.1,
      evalBatchSize: 1000,
      seed: 7,
      threads: 2,
      out: dir,
      ...extra,
    });
    return { losses: stepLosses(dir), backend: summary.backend };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function shortRun(extra: Partial<TrainConfig>): Promise<number[]> {
  return (await shortRunWithBackend(extra)).losses;
}

/**
 * Recorded from this test's configuration (LeNet-5, embedded digits, seed 7, batch 32, SGD at a
 * constant 0.1 with momentum 0.9, augmentation on, 20 steps). It pins init, data order,
 * augmentation and the maths: a change to any of them moves these numbers.
 */
// Recorded from an AVX-512 run after the counter RNG became two-round (augmentation draws changed).
const RECORDED = [
  2.2996, 2.29921, 2.31705, 2.29727, 2.29783, 2.31965, 2.31255, 2.28069, 2.29265, 2.25761, 2.29096, 2.31, 2.22865,
  2.19144, 2.13939, 2.21225, 2.05057, 2.00922, 2.10662, 1.58593,
];

test('a fixed seed gives a fixed loss trajectory', async () => {
  const a = await shortRun({});
  const b = await shortRun({});
  assert.equal(a.length, 20);
  const head = (a[0] + a[1] + a[2]) / 3;
  const tail = (a[17] + a[18] + a[19]) / 3;
  assert.ok(tail < head - 0.1, `the loss did not fall over 20 steps: ${a.map((v) => v.toFixed(4)).join(', ')}`);
  assert.deepEqual(a, b, 'two runs with the same seed and threads differ');
  for (let i = 0; i < a.length; i++) {
    assert.ok(
      Math.abs(a[i] - RECORDED[i]) <= E2E_TRAJECTORY.abs + E2E_TRAJECTORY.rel * RECORDED[i],
      `step ${i + 1}: loss ${a[i]} differs from the recorded ${RECORDED[i]} (all: ${a.map((v) => v.toFixed(5)).join(', ')})`,
    );
  }
  const other = await shortRun({ seed: 8 });
  assert.notDeepEqual(other, a, 'a different seed gave the same trajectory');
});

test('the native trajectory matches the reference backend', async () => {
  const native = await shortRunWithBackend({ limitBatches: 3 });
  const ref = await withBackendAsync(refBackend(), () => shortRunWithBackend({ limitBatches: 3 }));
  assert.equal(native.backend, 'native');
  assert.equal(ref.backend, 'ref');
  for (let i = 0; i < native.losses.length; i++) {
    assert.ok(
      Math.abs(native.losses[i] - ref.losses[i]) <= E2E_TRAJECTORY.abs + E2E_TRAJECTORY.rel * ref.losses[i],
      `step ${i + 1}: native ${native.losses[i]} vs ref ${ref.losses[i]}`,
    );
  }
});

test('LeNet-5 learns the embedded digits', async () => {
  const summary = await runTraining({ ...DEFAULT_TRAIN_CONFIG, epochs: 2, threads: 2 });
  assert.ok(summary.finalTestAccuracy >= LENET_DIGITS_2EPOCH_MIN, `test accuracy ${summary.finalTestAccuracy} after 2 epochs`);
  assert.ok(summary.history[1].trainLoss < summary.history[0].trainLoss, 'training loss did not fall');
});

/** LeNet-5 after 2 epochs on the 8,000 embedded training digits (the full default run reaches >= 97%). */
const LENET_DIGITS_2EPOCH_MIN = 0.93;
