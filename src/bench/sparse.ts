/**
 * Micro benchmark of the sparse conv backward kernels against the dense ones on the same pruned
 * gradient: for each shape and density, dense backward (conv2dBackwardInput + conv2dBackwardWeight
 * with dbias) vs sparse backward (conv2dBackwardInputSparse + conv2dBackwardWeightSparse with
 * dbias, including the index each builds from dy). The pruned gradient is a random gradient with
 * random zeros: each element kept with probability `density` (Bernoulli mask, values uniform in
 * [-1, 1)); the kernels' cost depends on where the non-zeros are, not on their values, and the
 * stochastic rule's survivors are also scattered independently. Before timing, the sparse result
 * is checked against the dense one (a wrong kernel is never timed).
 * Shapes legend: N batch, C in-channels, K out-channels, H x W input, R x S kernel, P x Q output.
 */
import { performance } from 'node:perf_hooks';
import { kernels } from '../backend/active.js';
import type { Conv2dDims, Kernels } from '../backend/kernels.js';
import { LeantrainError, OptionError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { formatTable } from './report.js';
import { shapeLabel } from './shapes.js';

/** One shape at one density. */
export interface SparseBenchRow {
  shape: string;
  dims: Conv2dDims;
  /** Requested density (fraction of non-zeros kept). */
  density: number;
  /** Measured density of the gradient that was timed. */
  measuredDensity: number;
  /** Median ms of dense backward-input + backward-weight. */
  denseMs: number;
  /** Median ms of sparse backward-input + backward-weight. */
  sparseMs: number;
  /** denseMs / sparseMs. */
  speedup: number;
  /** The target at this density: 0.4 / density. */
  target: number;
}

export interface SparseBenchOptions {
  /** Timed runs per kernel pair (default 7). */
  repeats?: number;
  /** Untimed runs first (default 2). */
  warmup?: number;
  /** Kernel threads for the run (restored afterwards); default: the backend's current count. */
  threads?: number;
  /** Backend to time (default: the active one). */
  backend?: Kernels;
  /**
   * 'wall' (default): elapsed time. 'cpu': this process's user + system CPU time, which a busy
   * shared machine disturbs far less; with threads = 1 it approximates the wall time on an idle
   * core (with more threads it sums the threads' time, spin-waits included).
   */
  clock?: 'wall' | 'cpu';
  /** Seed of the random tensors (default 1). */
  seed?: number;
  /** Called before each (shape, density) is timed (progress display). */
  onCase?: (shape: string, density: number) => void;
}

/** Tolerance of the pre-flight check: sparse vs dense float32 (summation order differs). */
const CHECK_TOL = { abs: 1e-3, rel: 1e-3 };

function randomArray(n: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1);
  return a;
}

/** Random gradient, each element kept with probability `density`; returns it and its non-zeros. */
function prunedGradient(n: number, density: number, rng: Rng): { dy: Float32Array; nnz: number } {
  const dy = new Float32Array(n);
  let nnz = 0;
  for (let i = 0; i < n; i++) {
    const v = rng.uniform(-1, 1);
    if (v !== 0 && rng.next() < density) {
      dy[i] = v;
      nnz++;
    }
  }
  return { dy, nnz };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function nowMs(clock: 'wall' | 'cpu'): number {
  if (clock === 'wall') return performance.now();
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function timeMs(fn: () => void, warmup: number, repeats: number, clock: 'wall' | 'cpu'): number {
  for (let i = 0; i < warmup; i++) fn();
  const ts: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = nowMs(clock);
    fn();
    ts.push(nowMs(clock) - t0);
  }
  return median(ts);
}

function check(what: string, got: Float32Array, want: Float32Array): void {
  for (let i = 0; i < got.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= CHECK_TOL.abs + CHECK_TOL.rel * Math.abs(want[i]))) {
      throw new LeantrainError(`bench sparse: ${what} element ${i} is ${got[i]}, dense gives ${want[i]}; refusing to time a wrong kernel`);
    }
  }
}

function intOpt(v: number, name: string, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new OptionError(`benchSparseConv: ${name} must be an integer >= ${min}, got ${v}`);
  return v;
}

/**
 * Times dense vs sparse conv backward for every shape at every density.
 * @param shapes conv dims (e.g. the ResNet-20 batch-128 shapes)
 * @param densities fractions of non-zeros in (0, 1]
 * @returns one row per (shape, density), shapes outer
 * @example benchSparseConv(shapes, [0.1, 0.2, 0.3, 0.5], { threads: 2 })
 */
export function benchSparseConv(shapes: Conv2dDims[], densities: number[], opts: SparseBenchOptions = {}): SparseBenchRow[] {
  const repeats = intOpt(opts.repeats ?? 7, 'repeats', 1);
  const warmup = intOpt(opts.warmup ?? 2, 'warmup', 0);
  for (const p of densities) {
    if (!(p > 0 && p <= 1)) throw new OptionError(`benchSparseConv: densities must be in (0, 1], got ${p}`);
  }
  const clock = opts.clock ?? 'wall';
  if (clock !== 'wall' && clock !== 'cpu') throw new OptionError(`benchSparseConv: clock must be 'wall' or 'cpu', got '${String(clock)}'`);
  const k = opts.backend ?? kernels();
  const before = k.threads();
  if (opts.threads !== undefined) k.setThreads(intOpt(opts.threads, 'threads', 1));
  const rows: SparseBenchRow[] = [];
  try {
    shapes.forEach((d, si) => {
      const rng = new Rng((opts.seed ?? 1) * 1000 + si);
      const x = randomArray(d.N * d.C * d.H * d.W, rng);
      const w = randomArray(d.K * d.C * d.R * d.S, rng);
      const dx = new Float32Array(x.length), dw = new Float32Array(w.length), db = new Float32Array(d.K);
      const sx = new Float32Array(x.length), sw = new Float32Array(w.length), sb = new Float32Array(d.K);
      const label = shapeLabel(d);
      for (const density of densities) {
        opts.onCase?.(label, density);
        const { dy, nnz } = prunedGradient(d.N * d.K * d.P * d.Q, density, rng);
        const dense = (): void => {
          k.conv2dBackwardInput(dy, w, dx, d);
          k.conv2dBackwardWeight(x, dy, dw, db, d);
        };
        const sparse = (): void => {
          k.conv2dBackwardInputSparse(dy, w, sx, d);
          k.conv2dBackwardWeightSparse(x, dy, sw, sb, d);
        };
        dense();
        sparse();
        check(`${label} density ${density} dx`, sx, dx);
        check(`${label} density ${density} dw`, sw, dw);
        check(`${label} density ${density} dbias`, sb, db);
        // Interleave the two so both see the same machine load.
        const dt: number[] = [], st: number[] = [];
        for (let r = 0; r < 3; r++) {
          dt.push(timeMs(dense, r === 0 ? warmup : 0, repeats, clock));
          st.push(timeMs(sparse, r === 0 ? warmup : 0, repeats, clock));
        }
        const denseMs = median(dt), sparseMs = median(st);
        rows.push({
          shape: label, dims: d, density, measuredDensity: nnz / dy.length, denseMs, sparseMs,
          speedup: denseMs / sparseMs, target: 0.4 / density,
        });
      }
    });
  } finally {
    k.setThreads(before);
  }
  return rows;
}

/**
 * The density below which sparse beat dense for one shape's rows (linear interpolation of the
 * speed-up between the two measured densities around 1x); the largest density measured if sparse
 * won everywhere, 0 if it never won.
 */
export function measuredCrossover(rows: SparseBenchRow[]): number {
  const s = [...rows].sort((a, b) => a.density - b.density);
  if (s.length === 0 || s[0].speedup < 1) return 0;
  for (let i = 1; i < s.length; i++) {
    if (s[i].speedup < 1) {
      const a = s[i - 1], b = s[i];
      return a.density + ((a.speedup - 1) / (a.speedup - b.speedup)) * (b.density - a.density);
    }
  }
  return s[s.length - 1].density;
}

/** The rows as a table (density, dense ms, sparse ms, speed-up, target) plus a crossover line per shape. */
export function formatSparseBench(rows: SparseBenchRow[]): string {
  const table = formatTable(
    ['shape', 'density', 'dense ms', 'sparse ms', 'speed-up', 'target 0.4/d'],
    rows.map((r) => [r.shape, r.measuredDensity.toFixed(3), r.denseMs.toFixed(2), r.sparseMs.toFixed(2), `${r.speedup.toFixed(2)}x`, `${r.target.toFixed(2)}x`]),
    [false, true, true, true, true, true],
  );
  const shapes = [...new Set(rows.map((r) => r.shape))];
  const cross = shapes.map((s) => {
    const c = measuredCrossover(rows.filter((r) => r.shape === s));
    return `crossover ${s}: sparse faster below density ${c.toFixed(2)}`;
  });
  return `${table}\n\n${cross.join('\n')}`;
}
