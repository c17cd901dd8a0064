/**
 * Main-thread handle of the prefetch worker (worker.ts): posts batch requests, matches replies by
 * id. The worker is ref'd only while a request is outstanding, so an idle worker never keeps the
 * process alive even if its owner forgets to close it.
 */
import { Worker } from 'node:worker_threads';
import { DataError } from '../core/errors.js';
import type { BatchReply, WorkerInit } from './protocol.js';

interface Pending {
  resolve(data: Float32Array): void;
  reject(err: Error): void;
}

export class PrefetchWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | null = null;
  private terminated = false;
  private readonly script: URL;

  constructor(init: WorkerInit) {
    this.script = new URL('./worker.js', import.meta.url);
    // No inherited execArgv: flags such as --input-type or -e of the parent are invalid in a worker.
    this.worker = new Worker(this.script, { workerData: init, execArgv: [] });
    this.worker.unref();
    this.worker.on('message', (reply: BatchReply) => {
      const p = this.pending.get(reply.id);
      if (p === undefined) return; // a request already rejected by terminate()
      this.settled(reply.id);
      if (reply.ok) p.resolve(reply.data);
      else p.reject(new DataError(`data loader worker: ${reply.error}`));
    });
    this.worker.on('error', (e: Error) => this.fail(new DataError(`data loader worker (${this.script.pathname}) failed: ${e.message}`)));
    this.worker.on('exit', (code) => {
      if (!this.terminated) this.fail(new DataError(`data loader worker (${this.script.pathname}) exited unexpectedly with code ${code}`));
    });
  }

  /** True once the worker crashed, exited or was terminated: every further request is rejected. */
  get failed(): boolean {
    return this.failure !== null;
  }

  /** Asks the worker for the transformed batch of `indices` under epoch `epoch`'s augmentation. */
  request(epoch: number, indices: Int32Array): Promise<Float32Array> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const id = this.nextId++;
    const promise = new Promise<Float32Array>((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
    });
    // Prefetched batches may never be awaited (early break): never let them surface as unhandled.
    promise.catch(() => undefined);
    this.worker.postMessage({ id, epoch, indices });
    return promise;
  }

  /** Stops the worker; outstanding requests are rejected (a consumer still waiting learns why). */
  async terminate(): Promise<void> {
    if (this.terminated) return;
    this.terminated = true;
    this.fail(new DataError('data loader worker was stopped (loader closed or iteration ended) before this batch was delivered'));
    await this.worker.terminate();
  }

  private settled(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
  }

  private fail(err: Error): void {
    if (this.failure !== null) return;
    this.failure = err;
    const all = [...this.pending.values()];
    this.pending.clear();
    this.worker.unref();
    for (const p of all) p.reject(err);
  }
}
