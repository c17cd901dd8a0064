/**
 * The machine's measured float32 peak (issue 5 reports each kernel as a fraction of it): the
 * native backend's register-only FMA loop (`fmaPeakGflops`), sized to run about `targetMs` per
 * measurement and repeated; the median is the peak. Only the native backend has the loop.
 */
import { kernels } from '../backend/active.js';
import { UnsupportedError } from '../core/errors.js';

export interface FmaPeak {
  /** Median GFLOP/s over the runs, all threads together. */
  gflops: number;
  /** Per thread (gflops / threads). */
  perThread: number;
  threads: number;
  /** Vector ISA of the variant that ran ('avx512', 'avx2', 'scalar'). */
  isa: string;
  /** Every run's GFLOP/s, in order. */
  runs: number[];
}

interface PeakCapable {
  fmaPeakGflops(iters: number): number;
  isa(): string;
}

/**
 * Measures the FMA peak on the active (native) backend.
 * @param runs measurements (median taken), default 5
 * @param targetMs wall time of one measurement, default 150
 * @param threads thread count to measure at (the backend's count is restored after); default: its current one
 * @throws UnsupportedError on a backend without the loop (the reference backend)
 */
export function measureFmaPeak(runs = 5, targetMs = 150, threads?: number): FmaPeak {
  const k = kernels() as unknown as Partial<PeakCapable> & { threads(): number; setThreads(n: number): void; name: string };
  if (typeof k.fmaPeakGflops !== 'function' || typeof k.isa !== 'function') {
    throw new UnsupportedError(`measureFmaPeak: the '${k.name}' backend has no FMA peak loop (the native backend has)`);
  }
  const before = k.threads();
  if (threads !== undefined) k.setThreads(threads);
  try {
    return measureAt(k as PeakCapable & { threads(): number }, runs, targetMs);
  } finally {
    if (threads !== undefined) k.setThreads(before);
  }
}

function measureAt(k: PeakCapable & { threads(): number }, runs: number, targetMs: number): FmaPeak {
  const threads = k.threads();
  // Calibrate: GFLOP/s of a short run gives the iterations for targetMs.
  const probeIters = 200_000;
  k.fmaPeakGflops(probeIters); // warm-up (clocks, thread pool)
  const t0 = performance.now();
  k.fmaPeakGflops(probeIters);
  const probeMs = Math.max(0.01, performance.now() - t0);
  const iters = Math.max(probeIters, Math.round((probeIters * targetMs) / probeMs));
  const all: number[] = [];
  for (let i = 0; i < runs; i++) all.push(k.fmaPeakGflops(iters));
  const sorted = [...all].sort((a, b) => a - b);
  const gflops = sorted[sorted.length >> 1];
  return { gflops, perThread: gflops / threads, threads, isa: k.isa(), runs: all };
}
