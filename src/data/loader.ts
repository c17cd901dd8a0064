/**
 * DataLoader: seeded shuffling, batching and transforms, with one worker thread (kept from the
 * first epoch until close()) that prepares the next batches while the consumer trains on the
 * current one, across epoch boundaries.
 *
 * Shapes: each Batch has x [B, C, OH, OW] float32 (OH x OW = crop size or image size),
 * labels [B] and indices [B] (dataset indices), B = batchSize except maybe the last batch.
 */
import { DataError, OptionError } from '../core/errors.js';
import { counterKey, Rng } from '../core/rng.js';
import { Tensor } from '../tensor/tensor.js';
import { sharedBytes, type Dataset } from './dataset.js';
import { PrefetchWorker } from './prefetch.js';
import { augmentKey, transformBatch, transformedShape, validateTransform, type TransformSpec } from './transforms.js';

export interface DataLoaderOptions {
  /** Images per batch (positive integer). */
  batchSize: number;
  /** Shuffle the order each epoch (seeded by seed and epoch). */
  shuffle: boolean;
  /** Seed of the shuffles and of the augmentation. */
  seed: number;
  /** Transform applied to every batch; default: ToTensor only (bytes / 255). */
  transform?: TransformSpec;
  /** Drop the last incomplete batch (default false). */
  dropLast?: boolean;
  /** Prepare batches in a worker thread ahead of the consumer (default true). */
  prefetch?: boolean;
}

/** One batch. */
export interface Batch {
  /** [B, C, OH, OW] float32. */
  x: Tensor;
  /** [B] labels. */
  labels: Int32Array;
  /** [B] dataset indices of the images. */
  indices: Int32Array;
  /** Milliseconds the consumer waited for this batch (preparation time when not prefetching). */
  waitMs: number;
}

/** A batch requested from the worker. */
interface Requested {
  indices: Int32Array;
  data: Promise<Float32Array>;
}

/** Batches 0, 1, ... of `epoch`, requested from `worker` before anyone asked for that epoch. */
interface Speculation {
  epoch: number;
  worker: PrefetchWorker;
  items: Requested[];
}

/** How many batches the worker works ahead of the consumer. */
const PREFETCH_DEPTH = 2;
/** Separates the shuffle stream from the augmentation stream of the same (seed, epoch). */
const SHUFFLE_SALT = 0x5f3759df;

/**
 * @example
 * const loader = new DataLoader(train, { batchSize: 128, shuffle: true, seed: 0, transform: transformPreset('cifar10', 'train') });
 * for await (const { x, labels } of loader.batches(epoch)) { ... }   // x: [128, 3, 32, 32]
 * await loader.close();
 */
export class DataLoader {
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly transform: TransformSpec;
  readonly dropLast: boolean;
  readonly prefetch: boolean;
  /** Batches per epoch: floor(N / B) with dropLast, else ceil(N / B). */
  readonly numBatches: number;
  /** [C, OH, OW] of one transformed image. */
  readonly outputShape: [number, number, number];
  private readonly workerImages: Uint8Array | null;
  /** Batches are the same in every epoch (no shuffle, no random transform). */
  private readonly epochFree: boolean;
  private worker: PrefetchWorker | null = null;
  private starts = 0;
  /** First batches of a future epoch, requested by the last iteration before it ended. */
  private speculation: Speculation | null = null;
  private closed = false;

  constructor(dataset: Dataset, opts: DataLoaderOptions) {
    const { batchSize, seed } = opts;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new OptionError(`DataLoader: batchSize must be a positive integer, got ${batchSize}`);
    if (!Number.isInteger(seed)) throw new OptionError(`DataLoader: seed must be an integer, got ${seed}`);
    const [c, h, w] = dataset.imageShape;
    if (dataset.images.length !== dataset.length * c * h * w || dataset.labels.length !== dataset.length) {
      throw new DataError(
        `DataLoader: dataset '${dataset.name}' (${dataset.split}) has ${dataset.images.length} image bytes and ${dataset.labels.length} labels; ` +
          `${dataset.length} images of ${c}x${h}x${w} need ${dataset.length * c * h * w} bytes and ${dataset.length} labels`,
      );
    }
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = opts.shuffle;
    this.seed = seed >>> 0;
    this.transform = structuredClone(opts.transform ?? {});
    validateTransform(this.transform, dataset.imageShape, 'DataLoader transform');
    this.dropLast = opts.dropLast ?? false;
    this.prefetch = opts.prefetch ?? true;
    this.numBatches = this.dropLast ? Math.floor(dataset.length / batchSize) : Math.ceil(dataset.length / batchSize);
    this.outputShape = transformedShape(dataset.imageShape, this.transform);
    this.epochFree = !this.shuffle && this.transform.randomCrop === undefined && this.transform.hflip !== true;
    // The worker reads the images from shared memory: copy once unless the reader already shared them.
    if (this.prefetch) {
      if (dataset.images.buffer instanceof SharedArrayBuffer) {
        this.workerImages = dataset.images;
      } else {
        this.workerImages = sharedBytes(dataset.images.length);
        this.workerImages.set(dataset.images);
      }
    } else {
      this.workerImages = null;
    }
  }

  /** The dataset indices in epoch `epoch`'s order: Fisher-Yates with an Rng seeded by (seed, epoch), or 0..N-1. */
  order(epoch: number): Int32Array {
    const order = new Int32Array(this.dataset.length);
    for (let i = 0; i < order.length; i++) order[i] = i;
    if (this.shuffle) new Rng(counterKey(this.seed ^ SHUFFLE_SALT, epoch)).shuffle(order);
    return order;
  }

  /**
   * The batches of epoch `epoch` (a non-negative integer), in order. With prefetch, one worker
   * thread serves every epoch until close(): while the consumer works on an epoch's last batches
   * (or after it breaks out early), the worker already prepares the first batches of epoch + 1
   * (of any epoch when the batches do not depend on it: no shuffle, no random transform), so the
   * next epoch starts without waiting. The worker holds the process open only while it has
   * batches to prepare, so a loader that is never closed does not keep Node running.
   */
  async *batches(epoch: number): AsyncGenerator<Batch, void, undefined> {
    if (!Number.isInteger(epoch) || epoch < 0) throw new OptionError(`DataLoader.batches: epoch must be a non-negative integer, got ${epoch}`);
    if (this.closed) throw new OptionError('DataLoader.batches: the loader is closed');
    const order = this.order(epoch);
    if (!this.prefetch || this.workerImages === null) {
      const key = augmentKey(this.seed, epoch);
      for (let b = 0; b < this.numBatches; b++) {
        const t0 = performance.now();
        const indices = this.slice(order, b);
        const data = transformBatch(this.dataset.images, this.dataset.imageShape, indices, this.transform, key);
        yield this.makeBatch(data, indices, performance.now() - t0);
      }
      return;
    }
    const worker = await this.acquireWorker(this.workerImages);
    const request = (ep: number, ord: Int32Array, b: number): Requested => {
      const indices = this.slice(ord, b);
      return { indices, data: worker.request(ep, indices) };
    };
    // This epoch's batches already requested (speculatively, by the previous iteration), then ours.
    const ahead = this.takeSpeculation(epoch, worker);
    let next = ahead.length;
    // The first batches of the following epoch, requested once all of this epoch's are.
    const following = epoch + 1;
    let followingOrder: Int32Array | null = null;
    const spec: Requested[] = [];
    const specCount = Math.min(PREFETCH_DEPTH, this.numBatches);
    const requestFollowing = (): void => {
      followingOrder ??= this.order(following);
      spec.push(request(following, followingOrder, spec.length));
    };
    const fill = (): void => {
      while (ahead.length + spec.length < PREFETCH_DEPTH) {
        if (next < this.numBatches) ahead.push(request(epoch, order, next++));
        else if (spec.length < specCount) requestFollowing();
        else break;
      }
    };
    try {
      for (let b = 0; b < this.numBatches; b++) {
        fill();
        const item = ahead.shift();
        if (item === undefined) break;
        const t0 = performance.now();
        const data = await item.data;
        const waitMs = performance.now() - t0;
        fill();
        yield this.makeBatch(data, item.indices, waitMs);
      }
    } finally {
      // Finished or broken off: the worker stays for the next epoch, already working on it.
      // Batches of this epoch still in flight are simply never read.
      if (!this.closed && this.worker === worker && !worker.failed) {
        while (spec.length < specCount) requestFollowing();
        this.speculation = { epoch: following, worker, items: spec };
      }
    }
  }

  /** Number of worker threads this loader has started (1 for its whole life unless a worker crashed). */
  get workerStarts(): number {
    return this.starts;
  }

  /** Stops the worker (if any); the loader cannot be iterated afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    this.speculation = null;
    const w = this.worker;
    this.worker = null;
    if (w !== null) await w.terminate();
  }

  private slice(order: Int32Array, b: number): Int32Array {
    return order.slice(b * this.batchSize, Math.min((b + 1) * this.batchSize, order.length));
  }

  /**
   * The batches of `epoch` requested ahead by the previous iteration, if it guessed this epoch
   * (or the batches do not depend on the epoch); otherwise none, and the worker's results for the
   * wrong guess are dropped.
   */
  private takeSpeculation(epoch: number, worker: PrefetchWorker): Requested[] {
    const s = this.speculation;
    this.speculation = null;
    if (s === null || s.worker !== worker) return [];
    return s.epoch === epoch || this.epochFree ? s.items : [];
  }

  private makeBatch(data: Float32Array, indices: Int32Array, waitMs: number): Batch {
    const labels = new Int32Array(indices.length);
    for (let i = 0; i < indices.length; i++) labels[i] = this.dataset.labels[indices[i]];
    const [c, oh, ow] = this.outputShape;
    return { x: new Tensor(data, [indices.length, c, oh, ow]), labels, indices, waitMs };
  }

  /** The loader's worker, started on first use; a crashed one is replaced (its error was already reported). */
  private async acquireWorker(images: Uint8Array): Promise<PrefetchWorker> {
    if (this.worker !== null && this.worker.failed) {
      const dead = this.worker;
      this.worker = null;
      this.speculation = null;
      await dead.terminate();
    }
    if (this.worker === null) {
      this.worker = new PrefetchWorker({ images, imageShape: [...this.dataset.imageShape], transform: this.transform, seed: this.seed });
      this.starts++;
    }
    return this.worker;
  }
}
