/**
 * Worker of the image-folder loader: decodes its share of the files and resamples each into the
 * shared image array, then marks it done. Started by imagefolder.ts, which blocks on the shared
 * counter (Atomics.wait) so loading stays a synchronous call while decoding runs off the main
 * thread, on every core.
 */
import { readFileSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { decodeImage, resizeCenterSquare } from './image.js';

interface DecodeJob {
  files: string[];
  /** Dataset index of files[0]. */
  first: number;
  size: number;
  images: Uint8Array;
  /** Per dataset index: 1 decoded, 2 failed. */
  status: Int32Array;
  /** [0]: files finished by all workers. */
  done: Int32Array;
}

const job = workerData as DecodeJob;
const per = 3 * job.size * job.size;
for (let i = 0; i < job.files.length; i++) {
  const index = job.first + i;
  try {
    const img = decodeImage(readFileSync(job.files[i]));
    resizeCenterSquare(img, job.size, job.images, index * per);
    Atomics.store(job.status, index, 1);
  } catch {
    Atomics.store(job.status, index, 2);
  }
  Atomics.add(job.done, 0, 1);
  Atomics.notify(job.done, 0);
}
