/**
 * Training checkpoints: a run killed with SIGKILL in the middle of an epoch and resumed from its
 * last checkpoint ends with the same weights, bit for bit, as the uninterrupted run (LeNet-5 on
 * the embedded digits, with activation-gradient pruning, so the pruning draws are covered too);
 * changed options, corrupt files and weights files given as checkpoints are clear errors;
 * --init-from starts from saved weights; `leantrain eval` reports the checkpoint's accuracy and
 * confusion matrix; Dropout's generator position survives a checkpoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Dropout, Rng, Tensor } from '../src/index.js';
import { repoRoot } from './helpers/shared-data.js';

const bin = path.join(repoRoot, 'bin', 'leantrain.js');
const env = { ...process.env, LEANTRAIN_THREADS: '2', LEANTRAIN_QUIET: '1' };
const PRUNED = ['--prune', 'normal', '--prune-rate', '0.9', '--prune-warmup', '10'];

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function records(dir: string): Record<string, unknown>[] {
  return readFileSync(path.join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Starts a 3-epoch run and SIGKILLs it once the log shows a step of epoch 3 after the epoch-2 checkpoint. */
async function runKilledInEpoch3(dir: string): Promise<void> {
  const child = spawn(process.execPath, [bin, 'train', '--epochs', '3', '--out', dir, ...PRUNED], { env, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const log = path.join(dir, 'log.jsonl');
  for (let i = 0; i < 2000; i++) {
    await new Promise((r) => setTimeout(r, 10));
    if (!existsSync(log)) continue;
    const text = readFileSync(log, 'utf8');
    if (text.includes('"type":"checkpoint","epoch":2') && text.includes('"type":"step","epoch":3')) break;
  }
  child.kill('SIGKILL');
  await exited;
}

test('a run SIGKILLed mid-epoch and resumed ends with the uninterrupted run\'s weights, bit for bit', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'leantrain-ck-'));
  try {
    const a = path.join(tmp, 'a');
    const b = path.join(tmp, 'b');
    const full = run(['train', '--epochs', '3', '--out', a, ...PRUNED]);
    assert.equal(full.code, 0, full.stderr);
    await runKilledInEpoch3(b);
    const killed = records(b);
    assert.ok(!killed.some((r) => r.type === 'end'), 'the kill came before the run ended');
    assert.ok(killed.some((r) => r.type === 'step' && r.epoch === 3), 'the kill came during epoch 3');
    assert.ok(!readdirSync(b).some((f) => f.includes('.tmp')), 'no temporary file left behind');
    const resumed = run(['train', '--resume', path.join(b, 'checkpoint.safetensors')]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.ok(readFileSync(path.join(a, 'model.safetensors')).equals(readFileSync(path.join(b, 'model.safetensors'))), 'final weights differ');
    const sa = JSON.parse(readFileSync(path.join(a, 'summary.json'), 'utf8'));
    const sb = JSON.parse(readFileSync(path.join(b, 'summary.json'), 'utf8'));
    assert.deepEqual(sb.history.map((r: { trainLoss: number }) => r.trainLoss), sa.history.map((r: { trainLoss: number }) => r.trainLoss));
    assert.equal(sb.finalTestAccuracy, sa.finalTestAccuracy);
    assert.ok(records(b).some((r) => r.type === 'resume' && r.fromEpoch === 2), 'the log records the resume');
    // The log was cut back to the checkpoint: every step and epoch appears once, as in the full run.
    const count = (dir: string, type: string): number => records(dir).filter((r) => r.type === type).length;
    assert.equal(count(b, 'step'), count(a, 'step'));
    assert.equal(count(b, 'epoch'), 3);
    // The dense warm-up timings survive the checkpoint: the measured backward speed-up is known.
    assert.ok(sb.pruning.backwardSpeedup > 0, `resumed run's backward speed-up ${sb.pruning.backwardSpeedup}`);

    // Changing a training option on resume is refused, naming it; --epochs may change.
    const changed = run(['train', '--resume', path.join(b, 'checkpoint.safetensors'), '--lr', '0.2']);
    assert.notEqual(changed.code, 0);
    assert.match(changed.stderr, /differ from the checkpoint's: lr 0\.2 \(checkpoint: 0\.05\)/);

    // Fewer epochs than the checkpoint has done is refused.
    assert.match(run(['train', '--resume', path.join(b, 'checkpoint.safetensors'), '--epochs', '2']).stderr, /after epoch 3; --epochs 2 is fewer/);

    // --init-from: the saved weights with lr 0 give the same test accuracy.
    const init = run(['train', '--init-from', path.join(a, 'model.safetensors'), '--epochs', '1', '--lr', '0', '--weight-decay', '0', '--json']);
    assert.equal(init.code, 0, init.stderr);
    assert.equal(JSON.parse(init.stdout).finalTestAccuracy, sa.finalTestAccuracy);

    // leantrain eval: the checkpoint's test accuracy and a consistent confusion matrix.
    const ev = run(['eval', '--checkpoint', path.join(a, 'checkpoint.safetensors'), '--json']);
    assert.equal(ev.code, 0, ev.stderr);
    const e = JSON.parse(ev.stdout);
    assert.equal(e.accuracy, sa.finalTestAccuracy);
    const cells = (e.confusion as number[][]).flat();
    assert.equal(cells.reduce((x, y) => x + y, 0), e.samples);
    const diag = (e.confusion as number[][]).reduce((x, row, i) => x + row[i], 0);
    assert.equal(diag / e.samples, e.accuracy);
    assert.equal(e.perClass.length, 10);
    const evw = run(['eval', '--weights', path.join(a, 'model.safetensors'), '--model', 'lenet5', '--dataset', 'digits', '--json']);
    assert.equal(JSON.parse(evw.stdout).accuracy, sa.finalTestAccuracy, evw.stderr);
    assert.match(run(['eval', '--weights', path.join(a, 'model.safetensors')]).stderr, /--model is required with --weights/);

    // A weights file is not a checkpoint; a truncated checkpoint is a clear error.
    assert.match(run(['train', '--resume', path.join(a, 'model.safetensors')]).stderr, /not a leantrain training checkpoint.*--init-from/);
    const bad = path.join(tmp, 'truncated.safetensors');
    writeFileSync(bad, readFileSync(path.join(a, 'checkpoint.safetensors')).subarray(0, 5000));
    const t = run(['train', '--resume', bad]);
    assert.notEqual(t.code, 0);
    assert.match(t.stderr, /truncated\.safetensors/);
    assert.doesNotMatch(t.stderr, /\n\s+at /);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('Dropout: the generator position survives extraState / loadExtraState', () => {
  const x = Tensor.full([4, 64], 1);
  const a = new Dropout(0.5, { rng: new Rng(3) });
  a.call(x);
  const saved = JSON.parse(JSON.stringify(a.extraState()));
  const next = Array.from(a.call(x).data);
  const b = new Dropout(0.5, { rng: new Rng(99) });
  b.loadExtraState(saved);
  assert.deepEqual(Array.from(b.call(x).data), next);
  assert.throws(() => b.loadExtraState({ calls: -1 }), /Dropout: extra state/);
});
