/**
 * `leantrain bench backward` and `bench step` (sparse back-propagation benchmarks): on LeNet-5
 * with a tiny batch and the embedded digits, --json gives the fields with sane values;
 * bad options give one clear error line. This checks the harness, not the speed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadBenchImages, median } from '../src/index.js';
import { repoRoot } from './helpers/shared-data.js';

const bin = path.join(repoRoot, 'bin', 'leantrain.js');

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, LEANTRAIN_THREADS: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const FAST = ['--model', 'lenet5', '--batch', '8', '--steps', '2', '--warmup', '1', '--threads', '1', '--json'];
const positive = (x: unknown, what: string): void => assert.ok(typeof x === 'number' && Number.isFinite(x) && x > 0, `${what} = ${String(x)}`);
const density = (x: unknown, what: string): void => assert.ok(typeof x === 'number' && x > 0 && x <= 1, `${what} = ${String(x)} not in (0, 1]`);

test('bench backward --json: per conv layer density, dense and sparse ms, speed-up; totals; analytic MAC ratio', () => {
  const r = run(['bench', 'backward', ...FAST, '--prune', 'normal', '--prune-rate', '0.9']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as {
    layers: { layer: string; density: number; denseMs: number; sparseMs: number; speedup: number; pruneMs: number }[];
    total: { denseMs: number; sparseMs: number; speedup: number };
    analytic: { macRatio: number; speedupBound: number };
    steps: number;
    excluded: { layer: string; reason: string }[];
  };
  // LeNet-5: conv1 (1x5x5 per output) stays dense (sparse never faster), fc excluded by default.
  assert.deepEqual(j.layers.map((l) => l.layer), ['conv2']);
  assert.deepEqual(j.excluded, [{ layer: 'conv1', reason: 'no-sparse-gain' }]);
  for (const l of j.layers) {
    density(l.density, `${l.layer}.density`);
    assert.ok(l.density < 1, `${l.layer}: p = 0.9 prunes something`);
    positive(l.denseMs, `${l.layer}.denseMs`);
    positive(l.sparseMs, `${l.layer}.sparseMs`);
    positive(l.pruneMs, `${l.layer}.pruneMs`);
    assert.ok(l.pruneMs <= l.sparseMs, 'prune time is part of the sparse time');
    assert.ok(Math.abs(l.speedup - l.denseMs / l.sparseMs) < 1e-9);
  }
  positive(j.total.denseMs, 'total.denseMs');
  positive(j.total.sparseMs, 'total.sparseMs');
  assert.ok(Math.abs(j.total.speedup - j.total.denseMs / j.total.sparseMs) < 1e-9);
  density(j.analytic.macRatio, 'analytic.macRatio');
  assert.ok(Math.abs(j.analytic.speedupBound * j.analytic.macRatio - 1) < 1e-9);
  assert.equal(j.steps, 2);
});

test('bench step --json: dense vs pruned ms/step and images/s, speed-up, the bound density allows', () => {
  const r = run(['bench', 'step', ...FAST, '--prune-exclude', 'none']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as {
    dense: { msPerStep: number; imagesPerSec: number };
    pruned: { msPerStep: number; imagesPerSec: number; density: number };
    speedup: number;
    bound: { msPerStep: number; speedup: number; fractionOfSpeedup: number };
    pruning: { rate: number; exclude: string[] };
  };
  assert.equal(j.pruning.rate, 0.9, 'default --prune normal --prune-rate 0.9');
  assert.deepEqual(j.pruning.exclude, []);
  for (const side of [j.dense, j.pruned]) {
    positive(side.msPerStep, 'msPerStep');
    assert.ok(Math.abs(side.imagesPerSec - 8000 / side.msPerStep) < 1e-6);
  }
  density(j.pruned.density, 'pruned.density');
  assert.ok(j.pruned.density < 1);
  assert.ok(Math.abs(j.speedup - j.dense.msPerStep / j.pruned.msPerStep) < 1e-9);
  positive(j.bound.msPerStep, 'bound.msPerStep');
  assert.ok(j.bound.msPerStep <= j.dense.msPerStep, 'the bound is never slower than dense');
  assert.ok(Math.abs(j.bound.fractionOfSpeedup - j.speedup / j.bound.speedup) < 1e-9);
});

test('bad bench options give one error line naming the flag', () => {
  const cases: [string[], RegExp][] = [
    [['bench', 'backward', '--prune-rate', '1.5'], /^leantrain: pruning rate p \(--prune-rate\) for policy 'normal' must be in \[0, 1\), got 1\.5\n$/],
    [['bench', 'step', '--steps', '0'], /^leantrain: --steps must be an integer >= 1, got '0'\n$/],
    [['bench', 'backward', '--prune', 'magnitude'], /^leantrain: --prune: unknown pruning policy 'magnitude'/],
    [['bench', 'step', '--model', 'lenet5', '--dataset', 'cifar10', '--data-dir', '/nonexistent-leantrain'], /^leantrain: .*\n$/],
  ];
  for (const [args, pattern] of cases) {
    const r = run(args);
    assert.equal(r.code, 1, `${args.join(' ')}: exit code`);
    assert.match(r.stderr, pattern, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  }
});

test('digits fallback for a 3x32x32 model: zero-padded to 32x32, gray replicated', () => {
  const im = loadBenchImages('resnet20', 2, undefined, undefined);
  const { x, labels } = im.batchAt(0);
  assert.deepEqual(x.shape, [2, 3, 32, 32]);
  assert.equal(labels.length, 2);
  const d = x.data;
  const at = (b: number, c: number, y: number, xx: number): number => d[((b * 3 + c) * 32 + y) * 32 + xx];
  assert.equal(at(0, 0, 0, 5), 0, 'padding row');
  assert.equal(at(1, 2, 10, 31), 0, 'padding column');
  let differs = 0;
  for (let y = 2; y < 30; y++) for (let xx = 2; xx < 30; xx++) {
    assert.equal(at(0, 1, y, xx), at(0, 0, y, xx));
    assert.equal(at(0, 2, y, xx), at(0, 0, y, xx));
    if (at(0, 0, y, xx) !== at(0, 0, 2, 2)) differs++;
  }
  assert.ok(differs > 50, 'a real digit, not a constant image');
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
});

test('bench backward --init-from starts from the weights a train run wrote; a bad file is named', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leantrain-bench-init-'));
  try {
    const t = run(['train', '--model', 'lenet5', '--epochs', '1', '--limit-batches', '2', '--threads', '1', '--out', dir, '--json']);
    assert.equal(t.code, 0, t.stderr);
    const weights = path.join(dir, 'model.safetensors');
    const r = run(['bench', 'backward', ...FAST, '--prune', 'normal', '--prune-rate', '0.9', '--init-from', weights]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).initFrom, weights);
    const bad = path.join(dir, 'summary.json');
    const e = run(['bench', 'backward', ...FAST, '--init-from', bad]);
    assert.notEqual(e.code, 0);
    assert.match(e.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not a valid safetensors file`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
