/**
 * End to end (oracle 5): a few training steps from a fixed seed give a fixed loss trajectory,
 * identical across runs and matching the reference backend; LeNet-5 learns the embedded digits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_TRAIN_CONFIG, refBackend, runTraining, withBackend, type TrainConfig } from '../src/index.js';
import { E2E_TRAJECTORY } from './helpers/tolerances.js';

function stepLosses(dir: string): number[] {
  return readFileSync(path.join(dir, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; loss?: number })
    .filter((r) => r.type === 'step')
    .map((r) => r.loss as number);
}

async function shortRun(extra: Partial<TrainConfig>): Promise<number[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leantrain-e2e-'));
  try {
    await runTraining({
      ...DEFAULT_TRAIN_CONFIG,
      epochs: 1,
      batchSize: 32,
      limitBatches: 6,
      evalBatchSize: 1000,
      seed: 7,
      threads: 2,
      out: dir,
      ...extra,
    });
    return stepLosses(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Recorded from this test's configuration (LeNet-5, embedded digits, seed 7, batch 32, SGD 0.05
 * momentum 0.9, cosine, augmentation on). It pins init, data order, augmentation and the maths:
 * a change to any of them moves these numbers.
 */
const RECORDED = [2.28975, 2.29764, 2.33075, 2.30624, 2.33106, 2.29611];

test('a fixed seed gives a fixed loss trajectory', async () => {
  const a = await shortRun({});
  const b = await shortRun({});
  assert.equal(a.length, 6);
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
  const native = await shortRun({ limitBatches: 3 });
  const ref = await withBackend(refBackend(), () => shortRun({ limitBatches: 3 }));
  for (let i = 0; i < native.length; i++) {
    assert.ok(
      Math.abs(native[i] - ref[i]) <= E2E_TRAJECTORY.abs + E2E_TRAJECTORY.rel * ref[i],
      `step ${i + 1}: native ${native[i]} vs ref ${ref[i]}`,
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
