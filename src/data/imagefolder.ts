/**
 * Image folders as torchvision's ImageFolder: `root/<split>/<class>/<image>` (JPEG or PNG, any
 * size), classes = the sorted subfolder names of the training split, labels their indices. The
 * test split is `root/val` (or `root/test`). Every image is decoded in worker threads and stored
 * once at `storeSize` x `storeSize` (shorter side resized, centre square kept), so the batch
 * transforms (random-resized crop, centre crop, flip, normalize) work from memory like CIFAR.
 *
 * An unreadable image fails the load naming the file, or with onBadImage 'skip' is left out
 * with a warning naming it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { DataError, OptionError } from '../core/errors.js';
import { sharedBytes, type Dataset, type Split } from './dataset.js';
import { decodeImage } from './image.js';

export interface ImageFolderOptions {
  /** Stored side length in pixels (default 64). */
  storeSize?: number;
  /** 'fail' (default): an unreadable image is a DataError naming it; 'skip': leave it out, warn. */
  onBadImage?: 'fail' | 'skip';
  /** Decode threads (default: the cores, at most 8). */
  threads?: number;
  /** Warnings (skipped images). */
  warn?: (line: string) => void;
}

const IMAGE_EXT = /\.(jpe?g|png)$/i;

/** The class folders of `dir`, sorted (torchvision's order). */
function classDirs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

/** The split's directory under `root`: train, or val / test. */
export function imageFolderSplitDir(root: string, split: Split): string {
  const names = split === 'train' ? ['train'] : ['val', 'test'];
  for (const n of names) {
    const d = path.join(root, n);
    if (existsSync(d) && statSync(d).isDirectory()) return d;
  }
  throw new DataError(`image folder ${root}: no '${names.join("' or '")}' directory for the ${split} split (expected ${root}/${names[0]}/<class>/<image>)`);
}

/** Loads one split of an image folder (see the file comment). */
export function loadImageFolder(root: string | undefined, split: Split, opts: ImageFolderOptions = {}): Dataset {
  if (root === undefined) throw new OptionError("dataset 'imagefolder' needs --data-dir ROOT (ROOT/train/<class>/<image>, ROOT/val/<class>/<image>)");
  const size = opts.storeSize ?? 64;
  if (!Number.isSafeInteger(size) || size < 8 || size > 1024) throw new OptionError(`--image-size: stored size must be an integer in 8..1024, got ${size}`);
  const classes = classDirs(imageFolderSplitDir(root, 'train'));
  if (classes.length < 2) throw new DataError(`image folder ${root}/train: needs at least 2 class folders, found ${classes.length}`);
  const dir = imageFolderSplitDir(root, split);
  const files: string[] = [];
  const labels: number[] = [];
  for (const extra of classDirs(dir)) {
    if (!classes.includes(extra)) throw new DataError(`image folder ${dir}: class folder '${extra}' is not a class of ${root}/train`);
  }
  classes.forEach((c, label) => {
    const cdir = path.join(dir, c);
    if (!existsSync(cdir)) return;
    for (const f of readdirSync(cdir).sort()) {
      if (!IMAGE_EXT.test(f)) continue;
      files.push(path.join(cdir, f));
      labels.push(label);
    }
  });
  if (files.length === 0) throw new DataError(`image folder ${dir}: no .jpg/.jpeg/.png images in its class folders`);
  if (classes.length > 256) throw new DataError(`image folder ${root}: ${classes.length} classes; at most 256 are supported (labels are bytes)`);

  const per = 3 * size * size;
  const images = sharedBytes(files.length * per);
  const status = new Int32Array(new SharedArrayBuffer(4 * files.length));
  const done = new Int32Array(new SharedArrayBuffer(4));
  const nWorkers = Math.max(1, Math.min(opts.threads ?? Math.min(8, os.availableParallelism()), files.length));
  const chunk = Math.ceil(files.length / nWorkers);
  const workers: Worker[] = [];
  let workerError: Error | null = null;
  for (let w = 0; w < nWorkers; w++) {
    const first = w * chunk;
    const worker = new Worker(new URL('./decode-worker.js', import.meta.url), {
      workerData: { files: files.slice(first, first + chunk), first, size, images, status, done },
    });
    worker.on('error', (e) => (workerError = e));
    workers.push(worker);
  }
  // Block until every file is decoded (or failed); the workers update `done` as they go. A
  // worker that dies cannot report it while this thread waits, so the wait ends when no image
  // has finished for STALL_MS (one image decodes in well under a second, 12 MP in ~3 s).
  const STALL_MS = 120_000;
  let last = -1;
  let lastChange = Date.now();
  while (Atomics.load(done, 0) < files.length) {
    const now = Atomics.load(done, 0);
    if (now !== last) {
      last = now;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > STALL_MS) break;
    Atomics.wait(done, 0, now, 1000);
  }
  for (const w of workers) void w.terminate();
  if (Atomics.load(done, 0) < files.length) {
    throw new DataError(
      `image folder ${dir}: decoding stopped after ${Atomics.load(done, 0)} of ${files.length} images (no progress for ${STALL_MS / 1000} s: ` +
        `a decode worker failed${workerError ? `: ${String(workerError)}` : ', e.g. out of memory or dist/src/data/decode-worker.js missing'})`,
    );
  }
  const bad: number[] = [];
  for (let i = 0; i < files.length; i++) if (status[i] !== 1) bad.push(i);
  if (bad.length > 0) {
    const reason = (i: number): string => {
      try {
        decodeImage(readFileSync(files[i]));
        return 'unknown error';
      } catch (e) {
        return (e as Error).message;
      }
    };
    if (opts.onBadImage !== 'skip') {
      throw new DataError(`image folder: cannot read ${files[bad[0]]}: ${reason(bad[0])}${bad.length > 1 ? ` (and ${bad.length - 1} more unreadable images)` : ''}; pass --on-bad-image skip to leave such files out`);
    }
    for (const i of bad) opts.warn?.(`warning: skipping unreadable image ${files[i]}: ${reason(i)}`);
  }
  const keep = files.map((_, i) => i).filter((i) => status[i] === 1);
  const outImages = keep.length === files.length ? images : sharedBytes(keep.length * per);
  const outLabels = new Uint8Array(keep.length);
  keep.forEach((src, k) => {
    if (outImages !== images) outImages.set(images.subarray(src * per, (src + 1) * per), k * per);
    outLabels[k] = labels[src];
  });
  return {
    name: 'imagefolder',
    split,
    length: keep.length,
    imageShape: [3, size, size],
    numClasses: classes.length,
    classNames: classes,
    images: outImages,
    labels: outLabels,
    source: `${dir} (${keep.length} images, ${classes.length} classes, stored at ${size}x${size})`,
  };
}
