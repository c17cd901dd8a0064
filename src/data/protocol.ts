/**
 * Messages between the DataLoader (main thread) and its prefetch worker (worker.ts).
 * The images travel once, as a Uint8Array over a SharedArrayBuffer in workerData; each batch
 * request carries only indices, and each reply transfers (not copies) its Float32Array.
 */
import type { TransformSpec } from './transforms.js';

/** workerData of the prefetch worker. */
export interface WorkerInit {
  /** All images, NCHW bytes, over a SharedArrayBuffer (shared, not copied). */
  images: Uint8Array;
  imageShape: [number, number, number];
  transform: TransformSpec;
  seed: number;
}

/** Main -> worker: prepare one batch. */
export interface BatchRequest {
  id: number;
  epoch: number;
  indices: Int32Array;
}

/** Worker -> main: the prepared batch [B, C, OH, OW], or the error that stopped it. */
export type BatchReply = { id: number; ok: true; data: Float32Array } | { id: number; ok: false; error: string };
