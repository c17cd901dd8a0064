/**
 * Times the dense conv kernels (forward, backward-input, backward-weight) of a backend on given
 * shapes. Each shape is first checked against the reference kernels on a reduced batch (a wrong
 * kernel is never timed), then warmed up and repeated; rows report the median and minimum time
 * and GFLOP/s = 2*N*K*C*R*S*P*Q / median time. Shapes legend: N batch, C in-channels,
 * K out-channels, H x W input, R x S kernel, P x Q output.
 */
import { performance } from 'node:perf_hooks';
import { kernels } from '../backend/active.js';
import type { Conv2dDims, Kernels } from '../backend/kernels.js';
import { refBackend } from '../backends/select.js';
import { LeantrainError, OptionError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { convMacs, shapeLabel } from './shapes.js';

export type ConvKernelName = 'forward' | 'backward-input' | 'backward-weight';
export const CONV_KERNELS: readonly ConvKernelName[] = ['forward', 'backward-input', 'backward-weight'];

/** One timed kernel on one shape. */
export interface ConvBenchRow {
  /** shapeLabel(dims), e.g. '16x32x32->16 k3 s1 p1'. */
  shape: string;
  kernel: ConvKernelName;
  medianMs: number;
  minMs: number;
  /** 2*N*K*C*R*S*P*Q / median time, in 1e9 floating-point operations per second. */
  gflops: number;
  dims: Conv2dDims;
}

export interface ConvBenchOptions {
  /** Timed runs per kernel (default 10). */
  repeats?: number;
  /** Untimed runs first (default 2). */
  warmup?: number;
  /** Kernel threads for the run (restored afterwards); default: the backend's current count. */
  threads?: number;
  /** Backend to time (default: the active one). */
  backend?: Kernels;
  /** Called before each shape is timed (progress display). */
  onShape?: (label: string, index: number, count: number) => void;
}

/** Relative-or-absolute tolerance of the pre-flight check (float32 kernel vs float64 reference). */
const CHECK_TOL = { abs: 1e-3, rel: 1e-3 };
/** Batch of the pre-flight correctness check. */
const CHECK_BATCH = 2;

interface Buffers {
  x: Float32Array;
  w: Float32Array;
  dy: Float32Array;
  y: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
}

function randomArray(n: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1);
  return a;
}

function buffers(d: Conv2dDims, seed: number): Buffers {
  const rng = new Rng(seed);
  return {
    x: randomArray(d.N * d.C * d.H * d.W, rng),
    w: randomArray(d.K * d.C * d.R * d.S, rng),
    dy: randomArray(d.N * d.K * d.P * d.Q, rng),
    y: new Float32Array(d.N * d.K * d.P * d.Q),
    dx: new Float32Array(d.N * d.C * d.H * d.W),
    dw: new Float32Array(d.K * d.C * d.R * d.S),
  };
}

function runKernel(k: Kernels, name: ConvKernelName, b: Buffers, d: Conv2dDims): void {
  if (name === 'forward') k.conv2dForward(b.x, b.w, null, b.y, d);
  else if (name === 'backward-input') k.conv2dBackwardInput(b.dy, b.w, b.dx, d);
  else k.conv2dBackwardWeight(b.x, b.dy, b.dw, null, d);
}

function output(name: ConvKernelName, b: Buffers): Float32Array {
  return name === 'forward' ? b.y : name === 'backward-input' ? b.dx : b.dw;
}

/** Throws if `k` disagrees with the reference (float64) on `d` with a small batch. */
function checkShape(k: Kernels, d: Conv2dDims): void {
  const small: Conv2dDims = { ...d, N: Math.min(d.N, CHECK_BATCH) };
  const b = buffers(small, 1);
  const ref = refBackend();
  const x = Float64Array.from(b.x), w = Float64Array.from(b.w), dy = Float64Array.from(b.dy);
  for (const name of CONV_KERNELS) {
    const want = new Float64Array(output(name, b).length);
    if (name === 'forward') ref.conv2dForward(x, w, null, want, small);
    else if (name === 'backward-input') ref.conv2dBackwardInput(dy, w, want, small);
    else ref.conv2dBackwardWeight(x, dy, want, null, small);
    runKernel(k, name, b, small);
    const got = output(name, b);
    for (let i = 0; i < got.length; i++) {
      const err = Math.abs(got[i] - want[i]);
      if (!(err <= CHECK_TOL.abs + CHECK_TOL.rel * Math.abs(want[i]))) {
        throw new LeantrainError(
          `bench: ${k.name} conv ${name} on ${shapeLabel(small)} (batch ${small.N}) disagrees with the reference ` +
            `at element ${i}: ${got[i]} vs ${want[i]}; refusing to time a wrong kernel`,
        );
      }
    }
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function positiveInt(v: number, name: string, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new OptionError(`bench: ${name} must be an integer >= ${min}, got ${v}`);
  return v;
}

/**
 * Checks, then times forward, backward-input and backward-weight (no bias) for each shape.
 * @returns three rows per shape, in shape order
 * @example benchConvKernels(collectConvShapes(model, [3, 32, 32], 128), { repeats: 10, warmup: 2, threads: 2 })
 */
export function benchConvKernels(shapes: Conv2dDims[], opts: ConvBenchOptions = {}): ConvBenchRow[] {
  const repeats = positiveInt(opts.repeats ?? 10, 'repeats', 1);
  const warmup = positiveInt(opts.warmup ?? 2, 'warmup', 0);
  const k = opts.backend ?? kernels();
  const before = k.threads();
  if (opts.threads !== undefined) k.setThreads(positiveInt(opts.threads, 'threads', 1));
  const rows: ConvBenchRow[] = [];
  try {
    shapes.forEach((d, si) => {
      opts.onShape?.(shapeLabel(d), si, shapes.length);
      checkShape(k, d);
      const b = buffers(d, 2);
      for (const name of CONV_KERNELS) {
        for (let i = 0; i < warmup; i++) runKernel(k, name, b, d);
        const times: number[] = [];
        for (let i = 0; i < repeats; i++) {
          const t0 = performance.now();
          runKernel(k, name, b, d);
          times.push(performance.now() - t0);
        }
        const med = median(times);
        rows.push({
          shape: shapeLabel(d), kernel: name, medianMs: med, minMs: Math.min(...times),
          gflops: (2 * convMacs(d)) / (med * 1e6), dims: { ...d },
        });
      }
    });
  } finally {
    k.setThreads(before);
  }
  return rows;
}
