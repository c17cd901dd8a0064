/**
 * DataLoader and transforms: seeded shuffling, batching, dropLast, worker == main thread, exact
 * crop/flip/normalize on hand-made images, one worker kept across epochs (next epoch prepared
 * ahead), and no worker left running after an early break.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  DataLoader,
  OptionError,
  Rng,
  augmentKey,
  augmentParams,
  transformBatch,
  transformPreset,
  type Batch,
  type Dataset,
  type TransformSpec,
} from '../src/index.js';
import { repoRoot } from './helpers/shared-data.js';

/** A synthetic data set of seeded random bytes; labels i % 10. */
function makeDataset(n: number, shape: [number, number, number], seed: number, shared = false): Dataset {
  const size = n * shape[0] * shape[1] * shape[2];
  const images = shared ? new Uint8Array(new SharedArrayBuffer(size)) : new Uint8Array(size);
  const rng = new Rng(seed);
  for (let i = 0; i < size; i++) images[i] = rng.int(256);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) labels[i] = i % 10;
  return { name: 'synthetic', split: 'train', length: n, imageShape: shape, numClasses: 10, classNames: [...'0123456789'], images, labels, source: 'test' };
}

async function collect(loader: DataLoader, epoch: number): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of loader.batches(epoch)) out.push(b);
  return out;
}

test('seeded shuffle: a permutation, reproducible, different across epochs and seeds; identity without shuffle', () => {
  const ds = makeDataset(100, [1, 2, 2], 1);
  const a = new DataLoader(ds, { batchSize: 10, shuffle: true, seed: 7, prefetch: false });
  const b = new DataLoader(ds, { batchSize: 10, shuffle: true, seed: 7, prefetch: false });
  const o0 = a.order(0);
  assert.deepEqual(Array.from(o0).sort((x, y) => x - y), [...Array(100).keys()]);
  assert.deepEqual(b.order(0), o0);
  assert.notDeepEqual(a.order(1), o0);
  assert.notDeepEqual(new DataLoader(ds, { batchSize: 10, shuffle: true, seed: 8, prefetch: false }).order(0), o0);
  assert.deepEqual(Array.from(new DataLoader(ds, { batchSize: 10, shuffle: false, seed: 7, prefetch: false }).order(3)), [...Array(100).keys()]);
});

test('batching covers every index once; dropLast drops the remainder; labels follow indices', async () => {
  const ds = makeDataset(23, [1, 3, 3], 2);
  const keep = new DataLoader(ds, { batchSize: 5, shuffle: true, seed: 3, prefetch: false });
  assert.equal(keep.numBatches, 5);
  const batches = await collect(keep, 0);
  assert.deepEqual(batches.map((b) => b.indices.length), [5, 5, 5, 5, 3]);
  const seen = batches.flatMap((b) => Array.from(b.indices)).sort((x, y) => x - y);
  assert.deepEqual(seen, [...Array(23).keys()]);
  for (const b of batches) {
    assert.deepEqual(b.x.shape, [b.indices.length, 1, 3, 3]);
    assert.deepEqual(Array.from(b.labels), Array.from(b.indices, (i) => i % 10));
    assert.ok(b.waitMs >= 0);
  }
  const drop = new DataLoader(ds, { batchSize: 5, shuffle: true, seed: 3, dropLast: true, prefetch: false });
  assert.equal(drop.numBatches, 4);
  const dropped = await collect(drop, 0);
  assert.deepEqual(dropped.map((b) => b.indices.length), [5, 5, 5, 5]);
  assert.deepEqual(Array.from(dropped[3].indices), Array.from(batches[3].indices));
});

test('worker and main-thread batches are identical (crop + flip + normalize), over two epochs', async () => {
  const spec: TransformSpec = { randomCrop: { size: 8, padding: 2 }, hflip: true, normalize: { mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3] } };
  for (const shared of [false, true]) {
    const ds = makeDataset(37, [3, 8, 8], 3, shared);
    const main = new DataLoader(ds, { batchSize: 8, shuffle: true, seed: 11, transform: spec, prefetch: false });
    const worker = new DataLoader(ds, { batchSize: 8, shuffle: true, seed: 11, transform: spec, prefetch: true });
    try {
      for (const epoch of [0, 1]) {
        const a = await collect(main, epoch);
        const b = await collect(worker, epoch);
        assert.equal(b.length, 5);
        for (let i = 0; i < a.length; i++) {
          assert.deepEqual(b[i].indices, a[i].indices);
          assert.deepEqual(b[i].labels, a[i].labels);
          assert.deepEqual(b[i].x.shape, a[i].x.shape);
          assert.deepEqual(b[i].x.data, a[i].x.data);
          assert.ok(Number.isFinite(b[i].waitMs) && b[i].waitMs >= 0);
        }
      }
    } finally {
      await worker.close();
    }
    await assert.rejects(async () => collect(worker, 0), OptionError);
  }
});

test('augmentation depends on (seed, epoch, index) only, not on the batch it lands in', () => {
  const ds = makeDataset(30, [3, 6, 6], 4);
  const spec: TransformSpec = { randomCrop: { size: 6, padding: 3 }, hflip: true };
  const key = augmentKey(5, 2);
  const all = transformBatch(ds.images, ds.imageShape, Int32Array.from({ length: 30 }, (_, i) => i), spec, key);
  const one = transformBatch(ds.images, ds.imageShape, Int32Array.of(17, 3), spec, key);
  const per = 3 * 6 * 6;
  assert.deepEqual(one.subarray(0, per), all.subarray(17 * per, 18 * per));
  assert.deepEqual(one.subarray(per), all.subarray(3 * per, 4 * per));
  const otherEpoch = transformBatch(ds.images, ds.imageShape, Int32Array.from({ length: 30 }, (_, i) => i), spec, augmentKey(5, 3));
  assert.notDeepEqual(otherEpoch, all);
});

/** Expected output of crop(size, padding) then optional flip, built from the zero-padded image by definition. */
function expectedCrop(img: number[][][], size: number, pad: number, dy: number, dx: number, flip: boolean): number[] {
  const out: number[] = [];
  for (const plane of img) {
    const h = plane.length;
    const w = plane[0].length;
    const padded = Array.from({ length: h + 2 * pad }, (_, y) =>
      Array.from({ length: w + 2 * pad }, (_, x) => (y >= pad && y < h + pad && x >= pad && x < w + pad ? plane[y - pad][x - pad] : 0)),
    );
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) out.push(Math.fround(padded[dy + y][dx + (flip ? size - 1 - x : x)] / 255));
  }
  return out;
}

test('random crop with padding 4 + flip on a hand-made 2x32x32 image are exact; offsets cover 0..8, flips ~half', () => {
  const h = 32;
  const img = [0, 1].map((c) => Array.from({ length: h }, (_, y) => Array.from({ length: h }, (_, x) => (c * 97 + y * 7 + x * 3) % 256)));
  const n = 200;
  const images = new Uint8Array(n * 2 * h * h);
  const flat = img.flat(2);
  for (let i = 0; i < n; i++) images.set(flat, i * flat.length);
  const spec: TransformSpec = { randomCrop: { size: 32, padding: 4 }, hflip: true };
  const key = augmentKey(42, 0);
  const indices = Int32Array.from({ length: n }, (_, i) => i);
  const out = transformBatch(images, [2, h, h], indices, spec, key);
  const dys = new Set<number>();
  const dxs = new Set<number>();
  let flips = 0;
  for (let i = 0; i < n; i++) {
    const { dy, dx, flip } = augmentParams(key, i, spec, [2, h, h]);
    dys.add(dy);
    dxs.add(dx);
    if (flip) flips++;
    const want = expectedCrop(img, 32, 4, dy, dx, flip);
    assert.deepEqual(Array.from(out.subarray(i * want.length, (i + 1) * want.length)), want, `image ${i} (dy ${dy}, dx ${dx}, flip ${flip})`);
  }
  assert.deepEqual([...dys].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual([...dxs].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.ok(flips > 70 && flips < 130, `${flips} flips of ${n}`);
});

test('crop on a tiny literal image: 1x2x3, size 2, padding 1 (non-square, every offset)', () => {
  const img = [[[10, 20, 30], [40, 50, 60]]];
  const images = Uint8Array.from(img.flat(2));
  const spec: TransformSpec = { randomCrop: { size: 2, padding: 1 }, hflip: true };
  const key = augmentKey(0, 0);
  const seen = new Set<string>();
  // The same image under many dataset indices (images beyond the first repeat it).
  const n = 64;
  const many = new Uint8Array(n * 6);
  for (let i = 0; i < n; i++) many.set(images, i * 6);
  const out = transformBatch(many, [1, 2, 3], Int32Array.from({ length: n }, (_, i) => i), spec, key);
  for (let i = 0; i < n; i++) {
    const p = augmentParams(key, i, spec, [1, 2, 3]);
    assert.ok(p.dy >= 0 && p.dy <= 2 && p.dx >= 0 && p.dx <= 3);
    seen.add(`${p.dy},${p.dx},${p.flip}`);
    assert.deepEqual(Array.from(out.subarray(i * 4, i * 4 + 4)), expectedCrop(img, 2, 1, p.dy, p.dx, p.flip));
  }
  // The oracle itself, by hand: dy=1, dx=1 is the window [[10, 20], [40, 50]]; dy=0, dx=0 flipped is [[0, 0], [10, 0]].
  assert.ok(seen.size > 10, `only ${seen.size} distinct augmentations`);
  assert.deepEqual(expectedCrop(img, 2, 1, 1, 1, false), [10, 20, 40, 50].map((v) => Math.fround(v / 255)));
  assert.deepEqual(expectedCrop(img, 2, 1, 0, 0, true), [0, 0, 10, 0].map((v) => Math.fround(v / 255)));
});

test('ToTensor + normalize are exact per channel', () => {
  const images = Uint8Array.from({ length: 3 * 256 }, (_, i) => i % 256); // one 3x16x16 image, each plane 0..255
  const mean = [0.4914, 0.4822, 0.4465];
  const std = [0.247, 0.2435, 0.2616];
  const out = transformBatch(images, [3, 16, 16], Int32Array.of(0), { normalize: { mean, std } }, 0);
  for (let c = 0; c < 3; c++) for (let v = 0; v < 256; v++) assert.equal(out[c * 256 + v], Math.fround((v / 255 - mean[c]) / std[c]));
  const half = transformBatch(Uint8Array.of(0, 255, 51), [1, 1, 3], Int32Array.of(0), { normalize: { mean: [0.5], std: [0.5] } }, 0);
  assert.deepEqual(Array.from(half), [-1, 1, Math.fround((0.2 - 0.5) / 0.5)]);
  const plain = transformBatch(Uint8Array.of(0, 255, 51), [1, 1, 3], Int32Array.of(0), {}, 0);
  assert.deepEqual(Array.from(plain), [0, 1, Math.fround(0.2)]);
});

test('transformPreset: CIFAR train crop+flip+normalize, test normalize only; digits train crop 28 pad 2; MNIST/digits 0.1307/0.3081', () => {
  assert.deepEqual(transformPreset('cifar10', 'train'), {
    randomCrop: { size: 32, padding: 4 },
    hflip: true,
    normalize: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
  });
  assert.deepEqual(transformPreset('cifar10', 'test'), { normalize: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] } });
  const mnistNorm = { normalize: { mean: [0.1307], std: [0.3081] } };
  // The embedded digits set is small (7,996 training images): small random shifts, no flip.
  assert.deepEqual(transformPreset('digits', 'train'), { randomCrop: { size: 28, padding: 2 }, ...mnistNorm });
  assert.deepEqual(transformPreset('digits', 'test'), mnistNorm);
  for (const split of ['train', 'test'] as const) assert.deepEqual(transformPreset('mnist', split), mnistNorm);
  assert.throws(() => transformPreset('imagenet', 'train'), OptionError);
  const ds = makeDataset(4, [1, 28, 28], 5);
  assert.throws(() => new DataLoader(ds, { batchSize: 2, shuffle: false, seed: 0, transform: transformPreset('cifar10', 'train') }), /normalize\.mean: needs 1 value for 1-channel images/);
  assert.throws(() => new DataLoader(ds, { batchSize: 0, shuffle: false, seed: 0 }), /batchSize must be a positive integer/);
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function assertSameBatches(got: Batch[], want: Batch[], what: string): void {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < want.length; i++) {
    assert.deepEqual(got[i].indices, want[i].indices, `${what}, batch ${i}`);
    assert.deepEqual(got[i].x.data, want[i].x.data, `${what}, batch ${i}`);
  }
}

test('one worker serves every epoch; the next epoch\'s first batch is prepared ahead; an early break or a skipped epoch is harmless', async () => {
  // A deliberately slow transform: 128 images of 3x48x48 per batch, crop + flip + normalize.
  const spec: TransformSpec = { randomCrop: { size: 48, padding: 4 }, hflip: true, normalize: { mean: [0.5], std: [0.25] } };
  const ds = makeDataset(512, [3, 48, 48], 6);
  const opts = { batchSize: 128, shuffle: true, seed: 9, transform: spec };
  const ref = new DataLoader(ds, { ...opts, prefetch: false });
  const loader = new DataLoader(ds, { ...opts, prefetch: true });
  let transformMs = Infinity; // the fastest of 3 (warm) main-thread preparations of one batch
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    transformBatch(ds.images, ds.imageShape, ref.order(1).subarray(0, 128), spec, augmentKey(9, 1));
    transformMs = Math.min(transformMs, performance.now() - t0);
  }
  try {
    assert.equal(loader.workerStarts, 0);
    assertSameBatches(await collect(loader, 0), await collect(ref, 0), 'epoch 0');
    assert.equal(loader.workerStarts, 1);
    // The consumer is busy elsewhere (evaluation, say); meanwhile the worker prepares epoch 1.
    await sleep(200 + 10 * transformMs);
    const epoch1 = await collect(loader, 1);
    assertSameBatches(epoch1, await collect(ref, 1), 'epoch 1');
    assert.equal(loader.workerStarts, 1, 'epoch 1 reused the worker');
    assert.ok(
      epoch1[0].waitMs < transformMs / 4,
      `epoch 1 waited ${epoch1[0].waitMs.toFixed(2)} ms for its first batch (one batch takes ${transformMs.toFixed(1)} ms to prepare): not prefetched`,
    );
    // Break out of epoch 2 after one batch; epoch 3 is complete and exact on the same worker.
    for await (const b of loader.batches(2)) {
      assert.deepEqual(b.indices, ref.order(2).subarray(0, 128));
      break;
    }
    assertSameBatches(await collect(loader, 3), await collect(ref, 3), 'epoch 3 after a break');
    // Epoch 7 when epoch 4 was prepared ahead: the guess is dropped, the batches are still right.
    assertSameBatches(await collect(loader, 7), await collect(ref, 7), 'epoch 7 after epoch 3');
    assert.equal(loader.workerStarts, 1);
  } finally {
    await loader.close();
  }
  await assert.rejects(async () => collect(loader, 0), OptionError);

  // An evaluation loader (no shuffle, no random transform) asks for epoch 0 every time: also ahead.
  const evalSpec: TransformSpec = { normalize: { mean: [0.5], std: [0.25] } };
  const evalRef = new DataLoader(ds, { batchSize: 128, shuffle: false, seed: 9, transform: evalSpec, prefetch: false });
  const evalLoader = new DataLoader(ds, { batchSize: 128, shuffle: false, seed: 9, transform: evalSpec, prefetch: true });
  let evalMs = Infinity;
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    transformBatch(ds.images, ds.imageShape, evalRef.order(0).subarray(0, 128), evalSpec, 0);
    evalMs = Math.min(evalMs, performance.now() - t0);
  }
  try {
    const want = await collect(evalRef, 0);
    assertSameBatches(await collect(evalLoader, 0), want, 'first evaluation');
    await sleep(200 + 10 * transformMs);
    const again = await collect(evalLoader, 0);
    assertSameBatches(again, want, 'second evaluation');
    assert.equal(evalLoader.workerStarts, 1);
    assert.ok(
      again[0].waitMs < evalMs / 4,
      `second evaluation waited ${again[0].waitMs.toFixed(2)} ms for its first batch (one batch takes ${evalMs.toFixed(1)} ms to prepare): not prefetched`,
    );
  } finally {
    await evalLoader.close();
  }
});

/** Runs `code` as an ES module in a child Node process; resolves with its exit code, stdout and time. */
function runChild(code: string, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, LEANTRAIN_QUIET: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

test('the process exits after an early break, an abandoned iterator, or a finished epoch without close()', async () => {
  const entry = pathToFileURL(path.join(repoRoot, 'dist', 'src', 'index.js')).href;
  const setup = `
    import { DataLoader } from ${JSON.stringify(entry)};
    const n = 5000, images = new Uint8Array(n * 3 * 32 * 32).fill(7), labels = new Uint8Array(n);
    const ds = { name: 's', split: 'train', length: n, imageShape: [3, 32, 32], numClasses: 10, classNames: [], images, labels, source: 'child' };
    const loader = new DataLoader(ds, { batchSize: 64, shuffle: true, seed: 1, transform: { randomCrop: { size: 32, padding: 4 }, hflip: true } });`;
  const cases = {
    break: `${setup} let k = 0; for await (const b of loader.batches(0)) { if (++k === 2) break; } console.log('done', k);`,
    abandoned: `${setup} const it = loader.batches(0)[Symbol.asyncIterator](); await it.next(); await it.next(); console.log('done', 2);`,
    finished: `${setup} let k = 0; for await (const b of loader.batches(0)) k++; console.log('done', k);`,
    twoEpochs: `${setup} let k = 0; for (const e of [0, 1]) for await (const b of loader.batches(e)) k++; console.log('done', k);`,
  };
  const results = await Promise.all(Object.values(cases).map((code) => runChild(code, 15000)));
  const names = Object.keys(cases);
  results.forEach((r, i) => {
    assert.equal(r.code, 0, `${names[i]}: exit code ${r.code} (killed after 15 s means a worker kept the process alive); stderr: ${r.stderr}`);
    assert.match(r.stdout, /^done \d+/, names[i]);
    assert.ok(r.ms < 10000, `${names[i]}: took ${r.ms.toFixed(0)} ms to exit`);
  });
  assert.match(results[2].stdout, /done 79/);
  assert.match(results[3].stdout, /done 158/);
});
