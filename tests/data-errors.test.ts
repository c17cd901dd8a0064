/**
 * Bad data files give one clear DataError/OptionError naming the file and what is wrong. Each test
 * builds its files in a fresh temp directory.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { DataError, OptionError, loadDataset } from '../src/index.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'leantrain-data-errors-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;

function freshDir(): string {
  const dir = path.join(root, `case${dirCount++}`);
  mkdirSync(dir);
  return dir;
}

function u32be(...words: number[]): Buffer {
  const b = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => b.writeUInt32BE(w, i * 4));
  return b;
}

/** An IDX image file: header (magic, count, rows, cols) then `pixelCount` bytes (default count*rows*cols). */
function idxImages(count: number, opts: { magic?: number; rows?: number; cols?: number; pixelCount?: number } = {}): Buffer {
  const rows = opts.rows ?? 28;
  const cols = opts.cols ?? 28;
  const n = opts.pixelCount ?? count * rows * cols;
  const pixels = Buffer.alloc(n);
  for (let i = 0; i < n; i++) pixels[i] = (i * 7) % 256;
  return Buffer.concat([u32be(opts.magic ?? 2051, count, rows, cols), pixels]);
}

function idxLabels(labels: number[], magic = 2049): Buffer {
  return Buffer.concat([u32be(magic, labels.length), Buffer.from(labels)]);
}

/** The four files of a small valid MNIST set: 3 train images (labels 0 1 2), 2 test images (7 2). */
function mnistFiles(): Record<string, Buffer> {
  return {
    'train-images-idx3-ubyte': idxImages(3),
    'train-labels-idx1-ubyte': idxLabels([0, 1, 2]),
    't10k-images-idx3-ubyte': idxImages(2),
    't10k-labels-idx1-ubyte': idxLabels([7, 2]),
  };
}

/** A small MNIST directory; `override` replaces files by name (null removes one). */
function mnistDir(override: Record<string, Buffer | null> = {}): string {
  const dir = freshDir();
  const files: Record<string, Buffer | null> = { ...mnistFiles(), ...override };
  for (const [name, bytes] of Object.entries(files)) if (bytes !== null) writeFileSync(path.join(dir, name), bytes);
  return dir;
}

function throwsWith(fn: () => unknown, kind: typeof DataError | typeof OptionError, ...patterns: (RegExp | string)[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof kind, `expected ${kind.name}, got ${String(e)}`);
    for (const p of patterns) {
      if (typeof p === 'string') assert.ok(e.message.includes(p), `message '${e.message}' should contain '${p}'`);
      else assert.match(e.message, p);
    }
    return true;
  });
}

test('valid tiny IDX files load, raw and gzipped alike', () => {
  const raw = mnistDir();
  const gz = freshDir();
  for (const [name, bytes] of Object.entries(mnistFiles())) writeFileSync(path.join(gz, `${name}.gz`), gzipSync(bytes));
  const a = loadDataset('mnist', { split: 'train', dataDir: raw });
  const b = loadDataset('mnist', { split: 'train', dataDir: gz });
  assert.equal(a.length, 3);
  assert.deepEqual(Array.from(a.labels), [0, 1, 2]);
  assert.deepEqual(Array.from(a.images.subarray(0, 3)), [0, 7, 14]);
  assert.deepEqual(b.images, a.images);
  assert.deepEqual(b.labels, a.labels);
  assert.match(b.source, /train-images-idx3-ubyte\.gz/);
  const t = loadDataset('mnist', { split: 'test', dataDir: gz });
  assert.deepEqual(Array.from(t.labels), [7, 2]);
});

test('missing data directory names the path and the files expected', () => {
  const dir = path.join(root, 'does-not-exist');
  throwsWith(() => loadDataset('mnist', { split: 'train', dataDir: dir }), DataError, dir, 'does not exist', 'train-images-idx3-ubyte[.gz]', 't10k-labels-idx1-ubyte[.gz]');
});

test('missing file names the path, the files expected and what is there', () => {
  const dir = mnistDir({ 'train-labels-idx1-ubyte': null });
  throwsWith(
    () => loadDataset('mnist', { split: 'train', dataDir: dir }),
    DataError,
    `missing file ${path.join(dir, 'train-labels-idx1-ubyte[.gz]')}`,
    'expects train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz]',
    'found: t10k-images-idx3-ubyte',
  );
});

test('truncated image file names the file and expected vs actual bytes', () => {
  const dir = mnistDir({ 'train-images-idx3-ubyte': idxImages(3, { pixelCount: 2 * 784 }) });
  throwsWith(
    () => loadDataset('mnist', { split: 'train', dataDir: dir }),
    DataError,
    path.join(dir, 'train-images-idx3-ubyte'),
    'truncated',
    '2,368 bytes',
    'file has 1,584 bytes',
  );
  // A file shorter than the header.
  const dir2 = mnistDir({ 'train-labels-idx1-ubyte': Buffer.from([0, 0, 8]) });
  throwsWith(() => loadDataset('mnist', { split: 'train', dataDir: dir2 }), DataError, path.join(dir2, 'train-labels-idx1-ubyte'), 'truncated', '3 bytes');
});

test('truncated gzip stream names the file', () => {
  const dir = mnistDir({ 'train-images-idx3-ubyte': null });
  const gz = gzipSync(idxImages(3));
  writeFileSync(path.join(dir, 'train-images-idx3-ubyte.gz'), gz.subarray(0, gz.length - 20));
  throwsWith(() => loadDataset('mnist', { split: 'train', dataDir: dir }), DataError, path.join(dir, 'train-images-idx3-ubyte.gz'), 'gzip');
});

test('wrong magic names the file, found vs expected', () => {
  const dir = mnistDir({ 'train-images-idx3-ubyte': idxImages(3, { magic: 2049 }) });
  throwsWith(() => loadDataset('mnist', { split: 'train', dataDir: dir }), DataError, path.join(dir, 'train-images-idx3-ubyte'), 'wrong magic number 2049 (0x00000801), expected 2051 (0x00000803)');
  const dir2 = mnistDir({ 't10k-labels-idx1-ubyte': idxLabels([1, 2], 2051) });
  throwsWith(() => loadDataset('mnist', { split: 'test', dataDir: dir2 }), DataError, path.join(dir2, 't10k-labels-idx1-ubyte'), 'wrong magic number 2051', 'expected 2049');
});

test('image dims other than 28x28 are rejected', () => {
  const dir = mnistDir({ 'train-images-idx3-ubyte': idxImages(3, { rows: 32, cols: 32 }) });
  throwsWith(() => loadDataset('fashion-mnist', { split: 'train', dataDir: dir }), DataError, 'train-images-idx3-ubyte', 'images are 32x32, expected 28x28');
});

test('record count mismatch between images and labels names both files', () => {
  const dir = mnistDir({ 'train-labels-idx1-ubyte': idxLabels([0, 1]) });
  throwsWith(() => loadDataset('mnist', { split: 'train', dataDir: dir }), DataError, 'record count mismatch', 'has 3 images', 'has 2 labels', 'train-labels-idx1-ubyte');
});

test('IDX label out of range names the file and the record', () => {
  const dir = mnistDir({ 'train-labels-idx1-ubyte': idxLabels([0, 10, 2]) });
  throwsWith(() => loadDataset('mnist', { split: 'train', dataDir: dir }), DataError, path.join(dir, 'train-labels-idx1-ubyte'), 'label 10 of record 1 is out of range (expected 0..9)');
});

/** CIFAR-10 record: label then 3072 pixel bytes (R plane value r, G g, B b). */
function cifarRecord(label: number, r = 1, g = 2, b = 3): Buffer {
  return Buffer.concat([Buffer.from([label]), Buffer.alloc(1024, r), Buffer.alloc(1024, g), Buffer.alloc(1024, b)]);
}

function cifar10Dir(override: Record<string, Buffer> = {}): string {
  const dir = freshDir();
  const files: Record<string, Buffer> = { 'test_batch.bin': Buffer.concat([cifarRecord(3), cifarRecord(8)]) };
  for (let i = 1; i <= 5; i++) files[`data_batch_${i}.bin`] = cifarRecord(i);
  Object.assign(files, override);
  for (const [name, bytes] of Object.entries(files)) writeFileSync(path.join(dir, name), bytes);
  return dir;
}

test('CIFAR-10: small valid files load (planes in CHW order), gz accepted', () => {
  const dir = cifar10Dir({ 'data_batch_2.bin': cifarRecord(9, 10, 20, 30) });
  writeFileSync(path.join(dir, 'test_batch.bin.gz'), gzipSync(Buffer.concat([cifarRecord(3), cifarRecord(8)])));
  rmSync(path.join(dir, 'test_batch.bin'));
  const train = loadDataset('cifar10', { split: 'train', dataDir: dir });
  assert.equal(train.length, 5);
  assert.deepEqual(Array.from(train.labels), [1, 9, 3, 4, 5]);
  assert.deepEqual([train.images[3072], train.images[3072 + 1024], train.images[3072 + 2048]], [10, 20, 30]);
  assert.equal(train.classNames[9], 'truck');
  const test_ = loadDataset('cifar10', { split: 'test', dataDir: dir });
  assert.deepEqual(Array.from(test_.labels), [3, 8]);
});

test('CIFAR-10: file size not a multiple of 3073 names the file', () => {
  const dir = cifar10Dir({ 'test_batch.bin': Buffer.concat([cifarRecord(3), cifarRecord(8), Buffer.alloc(5)]) });
  throwsWith(() => loadDataset('cifar10', { split: 'test', dataDir: dir }), DataError, path.join(dir, 'test_batch.bin'), '6,151 bytes is not a multiple of the 3073-byte record size', '2 whole records + 5 stray bytes');
});

test('CIFAR-10: label out of range names the file and record', () => {
  const dir = cifar10Dir({ 'data_batch_3.bin': Buffer.concat([cifarRecord(2), cifarRecord(10)]) });
  throwsWith(() => loadDataset('cifar10', { split: 'train', dataDir: dir }), DataError, path.join(dir, 'data_batch_3.bin'), 'label 10 of record 1 is out of range (expected 0..9)');
});

test('CIFAR-10: a missing batch names it', () => {
  const dir = cifar10Dir();
  rmSync(path.join(dir, 'data_batch_4.bin'));
  throwsWith(() => loadDataset('cifar10', { split: 'train', dataDir: dir }), DataError, `missing file ${path.join(dir, 'data_batch_4.bin[.gz]')}`, 'test_batch.bin[.gz]');
});

test('CIFAR-100: fine labels are used; 3074-byte records; fine label 100 is rejected', () => {
  const dir = freshDir();
  const rec = (coarse: number, fine: number): Buffer => Buffer.concat([Buffer.from([coarse]), cifarRecord(fine, 5, 6, 7)]);
  writeFileSync(path.join(dir, 'train.bin'), Buffer.concat([rec(4, 99), rec(0, 12)]));
  writeFileSync(path.join(dir, 'test.bin'), Buffer.concat([rec(1, 100)]));
  const train = loadDataset('cifar100', { split: 'train', dataDir: dir });
  assert.equal(train.length, 2);
  assert.deepEqual(Array.from(train.labels), [99, 12]);
  assert.equal(train.numClasses, 100);
  assert.equal(train.classNames[99], 'worm');
  assert.deepEqual([train.images[0], train.images[1024], train.images[2048]], [5, 6, 7]);
  throwsWith(() => loadDataset('cifar100', { split: 'test', dataDir: dir }), DataError, path.join(dir, 'test.bin'), 'label 100 of record 0 is out of range (expected 0..99)');
  writeFileSync(path.join(dir, 'test.bin'), cifarRecord(1));
  throwsWith(() => loadDataset('cifar100', { split: 'test', dataDir: dir }), DataError, path.join(dir, 'test.bin'), 'not a multiple of the 3074-byte record size');
});

test('unknown dataset, missing data dir and bad split are OptionErrors naming the choice', () => {
  throwsWith(() => loadDataset('imagenet', { split: 'train' }), OptionError, "unknown dataset 'imagenet'", 'digits, mnist, fashion-mnist, cifar10, cifar100');
  throwsWith(() => loadDataset('cifar10', { split: 'train' }), OptionError, "dataset 'cifar10' needs a data directory (--data-dir)", 'data_batch_1..5.bin');
  throwsWith(() => loadDataset('digits', { split: 'val' as 'train' }), OptionError, "split must be 'train' or 'test', got 'val'");
});
