/**
 * `leantrain train --prune ...`: pruning options are validated before any data is read (errors
 * name the flag), and a short real run writes per-layer 'prune' records to log.jsonl and a
 * `pruning` field (per-layer and MAC-weighted overall density) to summary.json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parsePruneSchedule } from '../src/index.js';
import { repoRoot } from './helpers/shared-data.js';

const bin = path.join(repoRoot, 'bin', 'leantrain.js');

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, LEANTRAIN_THREADS: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertUserError(args: string[], pattern: RegExp): void {
  // A data set that does not exist: the option error must come first (validated before loading).
  const r = run(['train', '--dataset', 'cifar10', '--data-dir', '/nonexistent-leantrain', ...args]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, pattern, `stderr for ${args.join(' ')}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

test('bad pruning options name the flag, before data loads', () => {
  assertUserError(['--prune', 'magnitude', '--prune-rate', '0.9'], /unknown pruning policy 'magnitude' \(valid: normal, lognormal, topk, deterministic\)/);
  assertUserError(['--prune', 'normal'], /--prune normal needs --prune-rate/);
  assertUserError(['--prune', 'normal', '--prune-rate', '1'], /--prune-rate.*must be in \[0, 1\), got 1/);
  assertUserError(['--prune', 'normal', '--prune-rate', '-0.5'], /--prune-rate.*got -0.5/);
  assertUserError(['--prune', 'normal', '--sparsity', '0.9'], /--sparsity does not apply to --prune normal \(it takes --prune-rate\)/);
  assertUserError(['--prune', 'lognormal', '--sparsity', '0.9', '--prune-exclude', 'first,head'], /unknown layer group 'head' \(valid: first, shortcut, fc/);
  assertUserError(['--prune-rate', '0.9'], /--prune-rate was given without --prune/);
  assertUserError(['--prune', 'topk', '--keep', '0'], /--keep.*\(0, 1\], got 0/);
  assertUserError(['--prune', 'topk', '--keep', '0.1', '--prune-warmup', 'x'], /--prune-warmup must be an integer >= 0/);
  assertUserError(['--prune', 'normal', '--prune-rate', '0.9', '--prune-warmup', '5', '--prune-warmup-epochs', '1'], /--prune-warmup and --prune-warmup-epochs exclude each other/);
  assertUserError(['--prune-warmup-epochs', '1'], /--prune-warmup-epochs.*need --prune/);
  assertUserError(['--prune', 'normal', '--prune-rate', '0.9', '--prune-kernels', 'fast'], /--prune-kernels must be 'auto' or 'dense', got 'fast'/);
  assertUserError(['--prune-kernels', 'dense'], /--prune-kernels need --prune/);
  assertUserError(['--prune-compare-dense'], /--prune-compare-dense.*need --prune/);
  assertUserError(['--prune', 'lognormal', '--sparsity', '0.9', '--prune-tau-cap', '1.5'], /--prune-tau-cap must be a quantile in \(0, 1\], got 1.5/);
  assertUserError(['--prune', 'normal', '--prune-rate', '0.9', '--prune-schedule', 'ramp'], /--prune-schedule must be 'constant' or 'linear:<start>:<steps>'/);
  assertUserError(['--prune', 'normal', '--prune-rate', '0.9', '--prune-schedule', 'linear:1.2:100'], /pruning rate p \(--prune-rate\).*got 1.2 \(--prune-schedule start\)/);
});

test('linear schedule: start after warm-up, the rate after <steps> steps', () => {
  const f = parsePruneSchedule('linear:0.5:100', 'normal', 10)!;
  assert.deepEqual([f(0, 0.9), f(10, 0.9), f(60, 0.9), f(110, 0.9), f(5000, 0.9)], [0.5, 0.5, 0.7, 0.9, 0.9]);
  assert.equal(parsePruneSchedule('constant', 'normal', 0), undefined);
});

test('a short pruned run logs per-layer density and summarises it', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leantrain-prune-'));
  try {
    const r = run([
      'train', '--model', 'lenet5', '--epochs', '2', '--limit-batches', '3', '--prune', 'normal', '--prune-rate', '0.9',
      '--prune-exclude', 'none', '--prune-warmup', '1', '--prune-schedule', 'linear:0.5:4', '--prune-log-steps', '--out', dir, '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    const p = summary.pruning;
    assert.equal(p.policy, 'normal');
    assert.equal(p.rate, 0.9);
    assert.deepEqual(p.exclude, []);
    assert.ok(p.overallDensity > 0 && p.overallDensity < 1, `overall density ${p.overallDensity}`);
    assert.equal(p.perEpoch.length, 2);
    const convs = p.layers.filter((l: { op: string }) => l.op === 'conv2d');
    assert.ok(convs.length >= 2);
    // LeNet-5's conv1 (1x5x5 per output) stays dense: its sparse kernels never beat dense.
    assert.deepEqual(p.layers.filter((l: { excluded: boolean }) => l.excluded).map((l: { layer: string; excludedBy: string }) => [l.layer, l.excludedBy]), [['conv1', 'no-sparse-gain']]);
    for (const l of p.layers.filter((x: { excluded: boolean }) => !x.excluded)) {
      assert.ok(l.steps === 5, `${l.layer}: 6 steps minus 1 warm-up, got ${l.steps}`);
      assert.ok(l.density < 1 && l.meanTau > 0 && l.meanRelError > 0);
    }
    const log = readFileSync(path.join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((s) => JSON.parse(s));
    const prune = log.filter((x) => x.type === 'prune');
    // --prune-log-steps: one record per pruned layer and step (5 pruned steps), with its own timings.
    const perStep = log.filter((x) => x.type === 'prune-step');
    const pruned = p.layers.filter((l: { excluded: boolean }) => !l.excluded);
    assert.equal(perStep.length, 5 * pruned.length);
    assert.ok(perStep.every((x) => x.pruneMs >= 0 && x.backwardMs >= 0 && x.density > 0 && x.relError > 0), JSON.stringify(perStep[0]));
    // The warm-up step timed each pruned layer's dense backward: a measured speed-up per layer and overall.
    for (const l of pruned) assert.ok(l.warmupDenseMs > 0 && l.backwardSpeedup > 0, JSON.stringify(l));
    assert.ok(p.backwardSpeedup > 0);
    assert.match(r.stderr, /measured backward speed-up of the pruned layers [0-9.]+x \(prune \+ backward vs their dense backward timed in the warm-up\)/);
    assert.equal(prune.length, 2 * p.layers.length);
    assert.ok(prune.every((x) => typeof x.density === 'number' && x.epoch >= 1));
    assert.ok(prune.every((x) => x.excluded || typeof x.meanTau === 'number'));
    // Schedule: steps 1..2 in epoch 1 at p = 0.5, 0.6; steps 3..5 in epoch 2 at 0.7, 0.8, 0.9.
    const conv = prune.filter((x) => x.layer === 'conv2');
    assert.ok(Math.abs(conv[0].meanRate - 0.55) < 1e-12 && Math.abs(conv[1].meanRate - 0.8) < 1e-12, JSON.stringify(conv));
    assert.match(r.stderr, /pruning: normal --prune-rate 0.9.*overall density/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--prune-warmup-epochs: whole epochs dense, then pruning', () => {
  const r = run(['train', '--model', 'lenet5', '--epochs', '2', '--limit-batches', '2', '--prune', 'normal', '--prune-rate', '0.9', '--prune-warmup-epochs', '1', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const p = JSON.parse(r.stdout).pruning;
  assert.equal(p.warmupSteps, 2, 'one epoch of 2 batches');
  assert.deepEqual(p.perEpoch.map((e: { overallDensity: number }) => e.overallDensity < 1), [false, true], 'epoch 1 dense, epoch 2 pruned');
  for (const l of p.layers.filter((x: { excluded: boolean }) => !x.excluded)) assert.equal(l.steps, 2);
});
