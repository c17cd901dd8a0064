/**
 * Image folders: a synthetic folder of PNG and JPEG files (written with pngjs / jpeg-js) loads
 * with torchvision's class order, the centre square resampled to the stored size; unreadable
 * images fail naming the file or are skipped with a warning; JPEG decoding agrees with PIL
 * (libjpeg) on real tiny-imagenet-small files; the ImageNet-style transforms are deterministic
 * per (seed, epoch, index) and stay inside the image.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { DataError, loadDataset, transformPreset } from '../src/index.js';
import { decodeImage } from '../src/data/image.js';
import { augmentKey, resizedCropWindow, transformBatch } from '../src/data/transforms.js';
import { repoRoot, sharedData, skipUnlessShared } from './helpers/shared-data.js';

/**
 * leantrain (jpeg-js) vs PIL (libjpeg) on baseline JPEGs: the IDCTs round differently and
 * libjpeg's "fancy" chroma upsampling interpolates where jpeg-js replicates, so single pixels
 * differ by a few levels: mean |diff| over a row, and the difference of channel means.
 */
const JPEG_VS_PIL_ROW = 2.0;
const JPEG_VS_PIL_CHANNEL_MEAN = 0.5;

function png(w: number, h: number, f: (x: number, y: number) => [number, number, number]): Buffer {
  const p = new PNG({ width: w, height: h });
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [r, g, b] = f(x, y);
      p.data.set([r, g, b, 255], 4 * (y * w + x));
    }
  }
  return PNG.sync.write(p);
}

function jpg(w: number, h: number, rgb: [number, number, number]): Buffer {
  const data = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) data.set([...rgb, 255], 4 * i);
  return jpeg.encode({ data, width: w, height: h }, 95).data;
}

function makeFolder(root: string): void {
  for (const split of ['train', 'val']) {
    for (const cls of ['zebra', 'apple']) mkdirSync(path.join(root, split, cls), { recursive: true });
  }
  // 40x20: the centre square is x 10..29, left half red (x < 20), right half blue.
  writeFileSync(path.join(root, 'train', 'apple', 'a.png'), png(40, 20, (x) => (x < 20 ? [255, 0, 0] : [0, 0, 255])));
  writeFileSync(path.join(root, 'train', 'apple', 'b.jpg'), jpg(30, 50, [0, 200, 0]));
  writeFileSync(path.join(root, 'train', 'zebra', 'c.PNG'), png(8, 8, () => [10, 20, 30]));
  writeFileSync(path.join(root, 'train', 'zebra', 'notes.txt'), 'not an image');
  writeFileSync(path.join(root, 'val', 'zebra', 'd.png'), png(16, 16, () => [1, 2, 3]));
}

test('a synthetic image folder: classes sorted, labels, centre square at the stored size', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'leantrain-if-'));
  try {
    makeFolder(root);
    const d = loadDataset('imagefolder', { split: 'train', dataDir: root, imageFolder: { storeSize: 16 } });
    assert.deepEqual(d.classNames, ['apple', 'zebra']);
    assert.equal(d.length, 3);
    assert.deepEqual(d.imageShape, [3, 16, 16]);
    assert.deepEqual([...d.labels], [0, 0, 1]);
    const plane = 16 * 16;
    const img = (i: number): Uint8Array => d.images.subarray(i * 3 * plane, (i + 1) * 3 * plane);
    // a.png: left half of the centre square red, right half blue; the edges exact.
    assert.deepEqual([img(0)[0], img(0)[plane], img(0)[2 * plane]], [255, 0, 0]);
    assert.deepEqual([img(0)[15], img(0)[plane + 15], img(0)[2 * plane + 15]], [0, 0, 255]);
    // Solid colours stay (the JPEG within its quantisation error).
    assert.ok(img(2).subarray(0, plane).every((v) => v === 10) && img(2).subarray(2 * plane).every((v) => v === 30));
    assert.ok(Math.abs(img(1)[plane + 100] - 200) <= 3 && img(1)[100] <= 3);
    const v = loadDataset('imagefolder', { split: 'test', dataDir: root, imageFolder: { storeSize: 16 } });
    assert.equal(v.length, 1);
    assert.deepEqual([...v.labels], [1], 'the val split uses the train split\'s class indices');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('an unreadable image fails naming the file, or is skipped with a warning', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'leantrain-if-'));
  try {
    makeFolder(root);
    const bad = path.join(root, 'train', 'zebra', 'broken.jpg');
    writeFileSync(bad, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 1, 2, 3]));
    assert.throws(
      () => loadDataset('imagefolder', { split: 'train', dataDir: root }),
      (e: unknown) => e instanceof DataError && e.message.includes(bad) && /--on-bad-image skip/.test(e.message),
    );
    const warnings: string[] = [];
    const d = loadDataset('imagefolder', { split: 'train', dataDir: root, imageFolder: { onBadImage: 'skip', warn: (l) => warnings.push(l) } });
    assert.equal(d.length, 3);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /skipping unreadable image .*broken\.jpg/);
    assert.throws(() => loadDataset('imagefolder', { split: 'train', dataDir: path.join(root, 'nope') }), /no 'train' directory/);
    assert.throws(() => loadDataset('imagefolder', { split: 'train' }), /needs --data-dir/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('JPEG decoding agrees with PIL on real tiny-imagenet-small files', { skip: skipUnlessShared('tiny-imagenet-small') }, () => {
  const root = sharedData('tiny-imagenet-small')!;
  const golden = JSON.parse(readFileSync(path.join(repoRoot, 'tests', 'fixtures', 'jpeg_golden.json'), 'utf8')) as {
    cases: { file: string; width: number; height: number; mean: number[]; row0: number[] }[];
  };
  assert.ok(golden.cases.length >= 3);
  for (const c of golden.cases) {
    const img = decodeImage(readFileSync(path.join(root, c.file)));
    assert.deepEqual([img.width, img.height], [c.width, c.height], c.file);
    let diff = 0;
    for (let i = 0; i < c.row0.length; i++) diff += Math.abs(img.rgb[i] - c.row0[i]);
    assert.ok(diff / c.row0.length <= JPEG_VS_PIL_ROW, `${c.file}: first row mean |diff| ${diff / c.row0.length}`);
    for (let ch = 0; ch < 3; ch++) {
      let s = 0;
      for (let i = ch; i < img.rgb.length; i += 3) s += img.rgb[i];
      const m = s / (img.width * img.height);
      assert.ok(Math.abs(m - c.mean[ch]) <= JPEG_VS_PIL_CHANNEL_MEAN, `${c.file}: channel ${ch} mean ${m} vs PIL ${c.mean[ch]}`);
    }
  }
  const train = loadDataset('imagefolder', { split: 'train', dataDir: root });
  const val = loadDataset('imagefolder', { split: 'test', dataDir: root });
  assert.deepEqual([train.length, val.length, train.numClasses], [3000, 500, 10]);
});

test('ImageNet-style transforms: deterministic random-resized crops inside the image, centre crop', () => {
  const h = 20, w = 30;
  for (let i = 0; i < 200; i++) {
    const [top, left, ch, cw] = resizedCropWindow(augmentKey(3, 1), i, h, w, [0.08, 1], [3 / 4, 4 / 3]);
    assert.ok(top >= 0 && left >= 0 && ch >= 1 && cw >= 1 && top + ch <= h && left + cw <= w, `window ${[top, left, ch, cw]}`);
    assert.deepEqual(resizedCropWindow(augmentKey(3, 1), i, h, w, [0.08, 1], [3 / 4, 4 / 3]), [top, left, ch, cw]);
  }
  const images = new Uint8Array(2 * 3 * 16 * 16).map((_, i) => i % 251);
  const train = transformPreset('imagefolder', 'train', { imageSize: 16 });
  const a = transformBatch(images, [3, 16, 16], Int32Array.of(1, 0), train, augmentKey(0, 2));
  const b = transformBatch(images, [3, 16, 16], Int32Array.of(0, 1), train, augmentKey(0, 2));
  assert.equal(a.length, 2 * 3 * 14 * 14);
  assert.deepEqual(a.subarray(0, 3 * 14 * 14), b.subarray(3 * 14 * 14), 'image 1 gets the same crop in any batch position');
  const test_ = transformPreset('imagefolder', 'test', { imageSize: 16 });
  const t = transformBatch(images, [3, 16, 16], Int32Array.of(0), test_, 0);
  // Centre crop 14 of 16 starts at (1, 1); value = (byte / 255 - mean) / std.
  assert.ok(Math.abs(t[0] - (images[17] / 255 - 0.485) / 0.229) < 1e-6);
});
