/**
 * Oracle 4 for the dense conv kernels: native (every ISA variant the addon has: native, avx2 where
 * the CPU has it, scalar) vs the reference (src/backends/ref/conv.ts, run in float64 on the same
 * float32 inputs) over a shape sweep: 1x1, 3x3, 5x5, non-square kernels, odd sizes, stride 1/2/3,
 * padding 0/1/2, batch 1 and > 1, channel counts that are not multiples of 8/16, with and without
 * bias. Outputs are pre-filled with NaN, so a kernel that skips an element (instead of overwriting
 * it) fails. Also: 1 vs 2 threads, and the glue's argument checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refBackend, Rng } from '../src/index.js';
import type { Conv2dDims, IsaName, Kernels } from '../src/index.js';
import { assertClose } from './helpers/assert.js';
import { native, nativeIsas, skipNative } from './helpers/native.js';
import { F32_BACKWARD, F32_FORWARD } from './helpers/tolerances.js';

const ref = refBackend();
const skip = skipNative;


/** [N, C, H, W, K, R, S, strideH, strideW, padH, padW] */
type Spec = [number, number, number, number, number, number, number, number, number, number, number];
const specs: Spec[] = [
  [2, 5, 7, 6, 9, 1, 1, 1, 1, 0, 0], // 1x1
  [2, 8, 8, 8, 12, 1, 1, 2, 2, 0, 0], // 1x1 stride-2 downsample (ResNet shortcut)
  [1, 3, 4, 4, 2, 1, 1, 3, 3, 0, 0], // 1x1 stride 3: some dx phases get no tap
  [2, 16, 12, 12, 16, 3, 3, 1, 1, 1, 1], // ResNet body
  [3, 5, 9, 11, 7, 3, 3, 2, 2, 1, 1], // stride 2, odd sizes
  [2, 4, 8, 8, 10, 3, 3, 2, 2, 0, 0], // stride 2, no padding
  [1, 3, 10, 9, 4, 3, 3, 1, 1, 0, 0], // batch 1, no padding
  [1, 17, 6, 7, 19, 3, 3, 1, 1, 2, 2], // padding larger than needed
  [2, 1, 12, 12, 6, 5, 5, 1, 1, 2, 2], // LeNet conv1 (one input channel)
  [2, 6, 14, 14, 16, 5, 5, 1, 1, 0, 0], // LeNet conv2
  [2, 3, 13, 13, 4, 5, 5, 2, 2, 2, 2], // 5x5 stride 2
  [2, 6, 9, 8, 5, 3, 2, 2, 1, 1, 0], // non-square kernel, per-axis stride and padding
  [2, 7, 9, 9, 5, 4, 4, 2, 2, 1, 1], // even kernel
  [2, 33, 5, 5, 40, 3, 3, 1, 1, 1, 1], // channels past a block boundary
  [2, 3, 6, 6, 1, 3, 3, 1, 1, 1, 1], // a single output channel
  [4, 32, 8, 8, 64, 3, 3, 2, 2, 1, 1], // ResNet stage transition
  [3, 64, 4, 4, 33, 3, 3, 1, 1, 1, 1], // small planes, many channels (packed tiles)
  [40, 8, 5, 5, 48, 3, 3, 1, 1, 1, 1], // packed tiles over several image groups, a short last group
  [24, 16, 7, 7, 40, 3, 3, 2, 2, 1, 1], // stride 2 on odd planes, packed
];

function dims([N, C, H, W, K, R, S, strideH, strideW, padH, padW]: Spec): Conv2dDims {
  const P = Math.floor((H + 2 * padH - R) / strideH) + 1;
  const Q = Math.floor((W + 2 * padW - S) / strideW) + 1;
  return { N, C, H, W, K, R, S, P, Q, strideH, strideW, padH, padW };
}

function label(d: Conv2dDims): string {
  return `N${d.N} ${d.C}x${d.H}x${d.W}->${d.K} k${d.R}x${d.S} s${d.strideH},${d.strideW} p${d.padH},${d.padW}`;
}

function rand(n: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1);
  return a;
}

const nanArray = (n: number): Float32Array => new Float32Array(n).fill(Number.NaN);

interface Case {
  d: Conv2dDims;
  bias: boolean;
  x: Float32Array;
  w: Float32Array;
  b: Float32Array;
  dy: Float32Array;
  ref: { y: Float64Array; dx: Float64Array; dw: Float64Array; db: Float64Array };
}

/** Inputs and float64 reference results for every spec, computed once. */
const cases: Case[] = specs.map((spec, i) => {
  const d = dims(spec);
  const rng = new Rng(1000 + i);
  const x = rand(d.N * d.C * d.H * d.W, rng);
  const w = rand(d.K * d.C * d.R * d.S, rng);
  const b = rand(d.K, rng);
  const dy = rand(d.N * d.K * d.P * d.Q, rng);
  const bias = i % 2 === 0;
  const y = new Float64Array(dy.length);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  const db = new Float64Array(d.K);
  ref.conv2dForward(Float64Array.from(x), Float64Array.from(w), bias ? Float64Array.from(b) : null, y, d);
  ref.conv2dBackwardInput(Float64Array.from(dy), Float64Array.from(w), dx, d);
  ref.conv2dBackwardWeight(Float64Array.from(x), Float64Array.from(dy), dw, db, d);
  return { d, bias, x, w, b, dy, ref: { y, dx, dw, db } };
});

interface NativeResult {
  y: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
  db: Float32Array | null;
}

function runNative(k: Kernels, c: Case, withDbias: boolean): NativeResult {
  const { d } = c;
  const y = nanArray(c.dy.length);
  const dx = nanArray(c.x.length);
  const dw = nanArray(c.w.length);
  const db = withDbias ? nanArray(d.K) : null;
  k.conv2dForward(c.x, c.w, c.bias ? c.b : null, y, d);
  k.conv2dBackwardInput(c.dy, c.w, dx, d);
  k.conv2dBackwardWeight(c.x, c.dy, dw, db, d);
  return { y, dx, dw, db };
}

const isas: IsaName[] = nativeIsas;
for (const isa of isas) {
  test(`conv kernels (${isa}) match the reference over the shape sweep`, { skip }, () => {
    const k = native();
    k.setIsa(isa);
    try {
      cases.forEach((c, i) => {
        const withDbias = i % 3 !== 1;
        const r = runNative(k, c, withDbias);
        const what = `${isa} ${label(c.d)}${c.bias ? ' +bias' : ''}`;
        assertClose(r.y, c.ref.y, F32_FORWARD, `${what} forward`);
        assertClose(r.dx, c.ref.dx, F32_BACKWARD, `${what} backward-input`);
        assertClose(r.dw, c.ref.dw, F32_BACKWARD, `${what} backward-weight`);
        if (r.db) assertClose(r.db, c.ref.db, F32_BACKWARD, `${what} dbias`);
      });
    } finally {
      k.setIsa('native');
    }
  });
}

test('conv kernels give the same results with 1 and 2 threads', { skip }, () => {
  const k = native();
  const before = k.threads();
  // Large enough that both threads get work (several image groups).
  const d = dims([16, 16, 16, 16, 24, 3, 3, 1, 1, 1, 1]);
  const ds = dims([16, 12, 15, 15, 20, 3, 3, 2, 2, 1, 1]);
  const dp = dims([16, 32, 4, 4, 48, 3, 3, 1, 1, 1, 1]); // packed tiles
  try {
    for (const dd of [d, ds, dp]) {
      const rng = new Rng(7);
      const c: Case = {
        d: dd, bias: true, x: rand(dd.N * dd.C * dd.H * dd.W, rng), w: rand(dd.K * dd.C * dd.R * dd.S, rng),
        b: rand(dd.K, rng), dy: rand(dd.N * dd.K * dd.P * dd.Q, rng),
        ref: { y: new Float64Array(0), dx: new Float64Array(0), dw: new Float64Array(0), db: new Float64Array(0) },
      };
      k.setThreads(1);
      const one = runNative(k, c, true);
      k.setThreads(2);
      const two = runNative(k, c, true);
      const what = label(dd);
      // Forward and backward-input compute each element in one fixed order: identical.
      assertClose(two.y, one.y, { abs: 0, rel: 0 }, `${what} forward, 2 vs 1 threads`);
      assertClose(two.dx, one.dx, { abs: 0, rel: 0 }, `${what} backward-input, 2 vs 1 threads`);
      // Backward-weight sums per-thread partials: equal up to float summation order.
      assertClose(two.dw, one.dw, F32_BACKWARD, `${what} backward-weight, 2 vs 1 threads`);
      assertClose(two.db ?? [], one.db ?? [], F32_BACKWARD, `${what} dbias, 2 vs 1 threads`);
    }
  } finally {
    k.setThreads(before);
  }
});

test('conv kernels reject typed arrays shorter than the dims need', { skip }, () => {
  const k = native();
  const d = dims([2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1]);
  const x = new Float32Array(d.N * d.C * d.H * d.W);
  const w = new Float32Array(d.K * d.C * d.R * d.S);
  const y = new Float32Array(d.N * d.K * d.P * d.Q);
  const short = (a: Float32Array): Float32Array => a.subarray(0, a.length - 1);
  const needs = (kernel: string) => (e: unknown) =>
    e instanceof Error && e.message.includes(kernel) && /elements, needs/.test(e.message);
  assert.throws(() => k.conv2dForward(short(x), w, null, y, d), needs('conv2dForward'));
  assert.throws(() => k.conv2dForward(x, short(w), null, y, d), needs('conv2dForward'));
  assert.throws(() => k.conv2dForward(x, w, new Float32Array(d.K - 1), y, d), needs('conv2dForward'));
  assert.throws(() => k.conv2dForward(x, w, null, short(y), d), needs('conv2dForward'));
  assert.throws(() => k.conv2dBackwardInput(short(y), w, x, d), needs('conv2dBackwardInput'));
  assert.throws(() => k.conv2dBackwardInput(y, w, short(x), d), needs('conv2dBackwardInput'));
  assert.throws(() => k.conv2dBackwardWeight(x, y, short(w), null, d), needs('conv2dBackwardWeight'));
  assert.throws(() => k.conv2dBackwardWeight(x, y, w, new Float32Array(d.K - 1), d), needs('conv2dBackwardWeight'));
  // Negative dims are refused before any kernel runs.
  assert.throws(() => k.conv2dForward(x, w, null, y, { ...d, N: -1 }), /negative dimension/);
});
