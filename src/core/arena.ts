/**
 * BufferArena: recycles the large op outputs of one training step into the next.
 *
 * Every op output of a step (activations, saved tensors, gradients) is dead once the optimizer
 * has stepped, and the next step asks for the same sizes again. Allocating them afresh each step
 * costs page faults and, above all, garbage collections that V8 triggers for "external memory
 * pressure" (about 40 of 240 ms of a ResNet-20 step at 2 threads). Inside `arena.run(fn)`,
 * `allocUninit` (hence `Tensor.empty` of 64 KiB or more) takes its storage from the arena; when
 * `fn` returns, every buffer handed out returns to the arena for the next run.
 *
 * Safety: a tensor from inside a run that is still used afterwards would alias the next step's
 * data. To make such a bug loud instead of silent, `run` detaches every buffer it hands back
 * (an ArrayBuffer transfer: the memory moves to a fresh ArrayBuffer, the old views become
 * length 0), so any stale tensor fails its next shape or length check. Values that must outlive
 * the step (the loss as a number, accuracy counts) are read inside `fn`.
 *
 * Persistent state (parameters, `.grad`, optimizer buffers, pruning pools) is allocated with
 * `allocFloat`, which never uses the arena.
 */
import { LeantrainError } from './errors.js';

/** Counters of an arena, for tests and benchmarks. */
export interface ArenaStats {
  /** Runs completed. */
  runs: number;
  /** Buffers created because none of the size was free. */
  allocated: number;
  /** Buffers handed out from the free lists. */
  reused: number;
  /** Buffers given back during a run (`release`), e.g. gradients that died mid-backward. */
  released: number;
  /** Buffers held now (all free between runs). */
  buffers: number;
  /** Bytes held now. */
  bytes: number;
}

let active: BufferArena | null = null;

/** The arena of the innermost `run` in progress, or null. */
export function activeArena(): BufferArena | null {
  return active;
}

export interface BufferArenaOptions {
  /**
   * Detach every buffer given back with `release` (as at the end of a run), so a tensor still
   * viewing it throws instead of reading the next user's data. Off by default: each detach makes
   * a new ArrayBuffer, and the extra external-memory churn triggers garbage collections (~4 ms
   * per ResNet-20 step); the test suite turns it on to prove the backward driver never gives back
   * a buffer that is still read.
   */
  checkReleases?: boolean;
}

export class BufferArena {
  private readonly free = new Map<number, ArrayBuffer[]>();
  /** Run index at which each size class was last asked for. */
  private readonly lastUse = new Map<number, number>();
  private handed = new Set<ArrayBufferLike>();
  private readonly counts = { runs: 0, allocated: 0, reused: 0, released: 0 };
  private readonly checkReleases: boolean;

  constructor(opts: BufferArenaOptions = {}) {
    this.checkReleases = opts.checkReleases === true;
  }

  /**
   * Runs `fn` (synchronous) with this arena active, then takes back every buffer handed out
   * during it. Size classes not asked for in this run or the previous one are released, so a
   * one-off shape (the short last batch of an epoch) does not stay resident.
   */
  run<T>(fn: () => T): T {
    if (active === this) throw new LeantrainError('BufferArena.run: this arena is already running (nested run of the same arena)');
    const prev = active;
    active = this;
    try {
      const out = fn();
      if (out instanceof Promise) {
        throw new LeantrainError('BufferArena.run: fn must be synchronous (its buffers are reclaimed when it returns)');
      }
      return out;
    } finally {
      active = prev;
      this.reclaim();
    }
  }

  /** Storage of `bytes` bytes with unspecified contents, valid until the current run ends. */
  take(bytes: number): ArrayBuffer {
    this.lastUse.set(bytes, this.counts.runs);
    const list = this.free.get(bytes);
    let buf = list?.pop();
    if (buf === undefined) {
      buf = Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer;
      this.counts.allocated++;
    } else {
      this.counts.reused++;
    }
    this.handed.add(buf);
    return buf;
  }

  /**
   * Gives a buffer handed out in the current run back before the run ends, so later allocations
   * of the run can reuse it (the backward driver does this for gradients no node can read any
   * more). With `checkReleases` the buffer is detached like at the end of a run (a tensor still
   * viewing it throws on its next use); without, the caller guarantees nothing reads it. Buffers this run did not hand out (persistent state, small tensors, another
   * arena's) are left alone. Returns whether the buffer was taken back.
   */
  release(buf: ArrayBufferLike): boolean {
    if (!this.handed.delete(buf)) return false;
    if (this.checkReleases) {
      this.recycle(buf as ArrayBuffer);
    } else {
      const list = this.free.get(buf.byteLength);
      if (list === undefined) this.free.set(buf.byteLength, [buf as ArrayBuffer]);
      else list.push(buf as ArrayBuffer);
    }
    this.counts.released++;
    return true;
  }

  /** Drops every free buffer (memory goes back to the garbage collector). */
  clear(): void {
    this.free.clear();
    this.lastUse.clear();
  }

  get stats(): ArenaStats {
    let buffers = 0;
    let bytes = 0;
    for (const [size, list] of this.free) {
      buffers += list.length;
      bytes += size * list.length;
    }
    return { ...this.counts, buffers, bytes };
  }

  /** Detaches `buf` (transfer: same memory under a new ArrayBuffer) and files the new one as free. */
  private recycle(buf: ArrayBuffer): void {
    const fresh = structuredClone(buf, { transfer: [buf] });
    const list = this.free.get(fresh.byteLength);
    if (list === undefined) this.free.set(fresh.byteLength, [fresh]);
    else list.push(fresh);
  }

  private reclaim(): void {
    const run = this.counts.runs++;
    for (const buf of this.handed) this.recycle(buf as ArrayBuffer);
    this.handed.clear();
    for (const [size, last] of this.lastUse) {
      if (run - last >= 2) {
        this.lastUse.delete(size);
        this.free.delete(size);
      }
    }
  }
}
