/**
 * `leantrain bench kernels`: the conv shapes of a named model, timed on the active backend.
 */
import { kernels } from '../backend/active.js';
import type { Conv2dDims } from '../backend/kernels.js';
import { OptionError, UnsupportedError } from '../core/errors.js';
import { createModel, modelInfo } from '../models/index.js';
import { benchConvKernels, type ConvBenchRow } from './conv.js';
import { measureFmaPeak, type FmaPeak } from './peak.js';
import { formatConvBench, machineInfo, type MachineInfo } from './report.js';
import { collectConvShapes } from './shapes.js';

export interface KernelBenchOptions {
  /** Model name as for createModel, e.g. 'resnet20'. */
  model: string;
  /** Batch size N of every shape. */
  batch: number;
  /** Kernel threads (default: the backend's current count, i.e. --threads / LEANTRAIN_THREADS). */
  threads?: number;
  /** Timed runs per kernel (default 10). */
  repeats?: number;
  /** Untimed runs per kernel first (default 2). */
  warmup?: number;
  /** JSON mode: no progress lines on stderr (the caller prints the result as JSON). */
  json?: boolean;
}

/** Everything a kernel benchmark measured; JSON.stringify(result) is the --json output. */
export interface KernelBenchResult {
  machine: MachineInfo;
  threads: number;
  batch: number;
  model: string;
  repeats: number;
  warmup: number;
  /** The distinct conv shapes of the model (with N = batch), in forward order. */
  shapes: Conv2dDims[];
  rows: ConvBenchRow[];
  /** The machine's FMA peak at the same thread count (native backend only; null elsewhere). */
  peak: FmaPeak | null;
}

/**
 * Builds `opts.model`, collects its distinct conv shapes at batch `opts.batch`, checks each
 * kernel against the reference and times forward, backward-input and backward-weight.
 * Progress goes to stderr unless `opts.json`; nothing is printed to stdout.
 * @example const r = await runKernelBench({ model: 'resnet20', batch: 128, threads: 2 });
 *          console.log(formatKernelBench(r));
 */
export async function runKernelBench(opts: KernelBenchOptions): Promise<KernelBenchResult> {
  if (!Number.isInteger(opts.batch) || opts.batch < 1) {
    throw new OptionError(`bench kernels: --batch must be a positive integer, got ${opts.batch}`);
  }
  const info = modelInfo(opts.model);
  const model = createModel(opts.model);
  const shapes = collectConvShapes(model, info.inputShape, opts.batch);
  const repeats = opts.repeats ?? 10;
  const warmup = opts.warmup ?? 2;
  const log = opts.json ? undefined : (line: string): void => void process.stderr.write(`${line}\n`);
  const rows = benchConvKernels(shapes, {
    repeats, warmup, threads: opts.threads,
    onShape: log ? (label, i, n) => log(`[bench] ${opts.model}: ${label} (${i + 1}/${n})`) : undefined,
  });
  // Threads as used: the explicit option, else what the backend ran with.
  const threads = opts.threads ?? kernels().threads();
  return { machine: machineInfo(), threads, batch: opts.batch, model: opts.model, repeats, warmup, shapes, rows, peak: peakAt(threads) };
}

/** measureFmaPeak at `threads`, or null on a backend without the loop. */
function peakAt(threads: number): FmaPeak | null {
  try {
    return measureFmaPeak(5, 150, threads);
  } catch (e) {
    if (e instanceof UnsupportedError) return null;
    throw e;
  }
}

/** A header (model, batch, threads, machine) and the aligned table of a kernel benchmark. */
export function formatKernelBench(r: KernelBenchResult): string {
  const m = r.machine;
  const head =
    `conv kernels of ${r.model}, batch ${r.batch}, ${r.threads} thread(s), median of ${r.repeats} after ${r.warmup} warm-up\n` +
    `${m.backend}${m.isa ? ` (${m.isa})` : ''} on ${m.cpu}, ${m.cores} cores, node ${m.node}, ${m.date}\n` +
    (r.peak ? `FMA peak (register-only loop, ${r.threads} thread(s)): ${r.peak.gflops.toFixed(1)} GFLOP/s\n` : '');
  return `${head}\n${formatConvBench(r.rows, r.peak?.gflops)}`;
}
