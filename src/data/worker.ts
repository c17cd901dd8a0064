/**
 * The DataLoader's prefetch worker: gathers and transforms batches from the shared image bytes
 * while the main thread trains. It runs exactly the same transformBatch as the main thread, so
 * batches are identical with and without it. Loaded as new URL('./worker.js', import.meta.url).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { BatchReply, BatchRequest, WorkerInit } from './protocol.js';
import { augmentKey, transformBatch, transformedShape } from './transforms.js';

const init = workerData as WorkerInit;
const port = parentPort;
if (port === null) throw new Error('data/worker.js must be started as a worker thread by DataLoader');

port.on('message', (req: BatchRequest) => {
  let reply: BatchReply;
  try {
    const [c, oh, ow] = transformedShape(init.imageShape, init.transform);
    const data = new Float32Array(req.indices.length * c * oh * ow);
    transformBatch(init.images, init.imageShape, req.indices, init.transform, augmentKey(init.seed, req.epoch), data);
    reply = { id: req.id, ok: true, data };
    port.postMessage(reply, [data.buffer]);
  } catch (e) {
    reply = { id: req.id, ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
    port.postMessage(reply);
  }
});
