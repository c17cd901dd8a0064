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

/** An IDX header (big-endian magic, count, then dims) followed by `payload` bytes. */
function idx(magic: number, dims: number[], payload: number): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.alloc(payload)]);
}

function mnistDir(root: string, name: string, images: Buffer, labels: Buffer): string {
  const dir = path.join(root, name);
  mkdirSync(dir);
  for (const split of ['train', 't10k']) {
    writeFileSync(path.join(dir, `${split}-images-idx3-ubyte`), images);
    writeFileSync(path.join(dir, `${split}-labels-idx1-ubyte`), labels);
  }
  return dir;
}

test('missing and malformed data files are named', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leantrain-cli-'));
  try {
    assertUserError(['train', '--dataset', 'mnist', '--data-dir', path.join(dir, 'nope')], /nope/);
    const labels = idx(2049, [10], 10);
    // 10 images announced, 5 present.
    const truncated = mnistDir(dir, 'truncated', idx(2051, [10, 28, 28], 5 * 784), labels);
    assertUserError(['train', '--dataset', 'mnist', '--data-dir', truncated], /train-images-idx3-ubyte.*(truncated|bytes)/s);
    const magic = mnistDir(dir, 'magic', idx(2049, [10, 28, 28], 10 * 784), labels);
    assertUserError(['train', '--dataset', 'mnist', '--data-dir', magic], /train-images-idx3-ubyte.*2049.*2051|train-images-idx3-ubyte.*magic/s);
    const count = mnistDir(dir, 'count', idx(2051, [10, 28, 28], 10 * 784), idx(2049, [9], 9));
    assertUserError(['train', '--dataset', 'mnist', '--data-dir', count], /10.*9|9.*10/s);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad environment variable or option combination is one clear line', () => {
  const r = spawnSync(process.execPath, [bin, 'train', '--epochs', '1'], {
    encoding: 'utf8',
    env: { ...process.env, LEANTRAIN_THREADS: 'many' },
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /LEANTRAIN_THREADS must be a positive integer, got 'many'/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assertUserError(['train', '--data-dir', '/tmp'], /--data-dir.*--dataset/s);
  assertUserError(['train', '--optimizer', 'adamw', '--nesterov'], /--nesterov/);
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
