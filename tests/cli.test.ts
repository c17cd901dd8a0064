/** The leantrain command: bad input gives one clear line and a non-zero exit; --json is parseable. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './helpers/shared-data.js';

const bin = path.join(repoRoot, 'bin', 'leantrain.js');

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, LEANTRAIN_THREADS: '2' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertUserError(args: string[], pattern: RegExp): void {
  const r = run(args);
  assert.notEqual(r.code, 0, `expected a failure for ${args.join(' ')}`);
  assert.match(r.stderr, pattern, `stderr for ${args.join(' ')}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, `a stack trace was printed for ${args.join(' ')}: ${r.stderr}`);
}

test('bad numeric options name the option', () => {
  assertUserError(['train', '--epochs', 'abc'], /--epochs must be an integer >= 1, got 'abc'/);
  assertUserError(['train', '--batch-size', '-4'], /--batch-size/);
  assertUserError(['train', '--lr', 'fast'], /--lr must be a number/);
  assertUserError(['train', '--momentum', '1.5'], /--momentum must be in \[0, 1\)/);
  assertUserError(['train', '--threads', '0'], /--threads/);
  assertUserError(['train', '--schedule', 'zigzag'], /--schedule/);
});

test('unknown model and dataset names list the known ones', () => {
  assertUserError(['train', '--model', 'resnet7'], /resnet7.*lenet5/s);
  assertUserError(['train', '--dataset', 'imagenet'], /imagenet.*cifar10/s);
});

test('missing and malformed data files are named', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leantrain-cli-'));
  try {
    assertUserError(['train', '--dataset', 'mnist', '--data-dir', path.join(dir, 'nope')], /nope/);
    mkdirSync(path.join(dir, 'bad'));
    writeFileSync(path.join(dir, 'bad', 'train-images-idx3-ubyte'), Buffer.alloc(100));
    assertUserError(['train', '--dataset', 'mnist', '--data-dir', path.join(dir, 'bad')], /train-images-idx3-ubyte|train-labels/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--json prints the summary on stdout and --out writes the run files', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'leantrain-cli-out-'));
  try {
    const r = run(['train', '--epochs', '1', '--limit-batches', '4', '--json', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const key of ['finalTestAccuracy', 'bestTestAccuracy', 'epochs', 'secondsPerEpoch', 'imagesPerSec']) {
      assert.ok(key in summary, `summary lacks ${key}`);
    }
    assert.match(r.stderr, /mnist@1\.1\.0/, 'the embedded data set and its split are announced');
    assert.ok(existsSync(path.join(out, 'summary.json')));
    const lines = readFileSync(path.join(out, 'log.jsonl'), 'utf8').trim().split('\n');
    const types = lines.map((l) => (JSON.parse(l) as { type: string }).type);
    assert.equal(types.filter((t) => t === 'step').length, 4);
    assert.equal(types.filter((t) => t === 'epoch').length, 1);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
