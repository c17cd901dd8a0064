/**
 * Sparse conv backward kernels (conv2dBackwardInputSparse, conv2dBackwardWeightSparse): on a
 * pruned gradient dy they must give the dense kernels' dx, dw and dbias. Oracles, over a shape
 * sweep (1x1, 3x3, 5x5, non-square, stride 1/2, padding 0/1/2, batch 1, channel counts that are
 * not multiples of the vector width) and densities 0, ~10%, ~30% and 100% (random zeros):
 * - native sparse (every ISA variant) vs the native dense kernels of the same variant, and vs the
 *   float64 reference dense kernels;
 * - ref sparse vs ref dense, in float64 and float32;
 * - outputs pre-filled with NaN (a skipped element fails); density 0 gives exact zeros;
 * - 1 vs 2 threads: dx bit for bit, dw within float32 summation order; repeatable per thread count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchSparseConv, formatSparseBench, measuredCrossover, refBackend, Rng, sparseCrossover } from '../src/index.js';
import type { Conv2dDims, IsaName, Kernels, SparseBenchRow } from '../src/index.js';
import { assertClose } from './helpers/assert.js';
import { native, nativeIsas, nativeOrNull, skipNative } from './helpers/native.js';
import { EXACT, F32_BACKWARD, F64_SPARSE_VS_DENSE } from './helpers/tolerances.js';

const ref = refBackend();
const skip = skipNative;


/** [N, C, H, W, K, R, S, strideH, strideW, padH, padW] */
type Spec = [number, number, number, number, number, number, number, number, number, number, number];
const specs: Spec[] = [
  [3, 16, 10, 10, 16, 3, 3, 1, 1, 1, 1], // ResNet body
  [2, 16, 9, 9, 32, 3, 3, 2, 2, 1, 1], // stride-2 stage transition, odd plane
  [2, 32, 6, 6, 32, 3, 3, 1, 1, 1, 1], // two vectors per pixel (AVX-512), 2 register blocks
  [2, 64, 4, 4, 20, 3, 3, 1, 1, 1, 1], // 36 tap-vectors: 3 register blocks
  [1, 5, 7, 6, 9, 1, 1, 1, 1, 0, 0], // 1x1, batch 1, C not a multiple of 8/16
  [2, 8, 8, 8, 12, 1, 1, 2, 2, 0, 0], // 1x1 stride 2 (skips input rows/columns)
  [2, 3, 13, 13, 4, 5, 5, 2, 2, 2, 2], // 5x5 stride 2
  [2, 6, 9, 8, 5, 3, 2, 2, 1, 1, 0], // non-square kernel, per-axis stride and padding
  [1, 17, 6, 7, 19, 3, 3, 1, 1, 2, 2], // padding larger than needed, odd channels
  [2, 4, 8, 8, 10, 3, 3, 2, 2, 0, 0], // stride 2, no padding: last row/column never reached
  [3, 33, 5, 5, 7, 3, 3, 1, 1, 1, 1], // channels past a vector boundary
  [2, 16, 9, 8, 12, 3, 3, 2, 1, 1, 1], // stride 2 rows, stride 1 columns (dX register window)
  [2, 20, 7, 7, 24, 3, 3, 1, 1, 0, 0], // register window with two vectors per pixel, no padding
  [2, 128, 6, 6, 130, 3, 3, 1, 1, 1, 1], // wide layer: 15-vector register blocks, K > 64 (mask walked per vector)
  [2, 256, 3, 3, 70, 1, 1, 1, 1, 0, 0], // 1x1 over 256 channels: a 16-vector register block (AVX-512), K > 64
  [2, 8, 3, 3, 6, 3, 3, 1, 1, 0, 0], // a single output position (P = Q = 1)
  [6, 512, 2, 2, 350, 3, 3, 1, 1, 1, 1], // dW partial 6.45 MB (> 6 MiB): images taken in chunks, one register sum over several
];
const densities = [0, 0.1, 0.3, 1];

function dims([N, C, H, W, K, R, S, strideH, strideW, padH, padW]: Spec): Conv2dDims {
  const P = Math.floor((H + 2 * padH - R) / strideH) + 1;
  const Q = Math.floor((W + 2 * padW - S) / strideW) + 1;
  return { N, C, H, W, K, R, S, P, Q, strideH, strideW, padH, padW };
}

function label(d: Conv2dDims, density: number): string {
  return `N${d.N} ${d.C}x${d.H}x${d.W}->${d.K} k${d.R}x${d.S} s${d.strideH},${d.strideW} p${d.padH},${d.padW} density ${density}`;
}

function rand(n: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1);
  return a;
}

/** A random gradient with each element kept with probability `density` (else 0). */
function pruned(n: number, density: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = rng.uniform(-1, 1);
    if (rng.next() < density) a[i] = v === 0 ? 0.5 : v;
  }
  return a;
}

const nanArray = (n: number): Float32Array => new Float32Array(n).fill(Number.NaN);

interface Case {
  d: Conv2dDims;
  density: number;
  x: Float32Array;
  w: Float32Array;
  dy: Float32Array;
  ref: { dx: Float64Array; dw: Float64Array; db: Float64Array };
}

const cases: Case[] = [];
specs.forEach((spec, i) => {
  const d = dims(spec);
  densities.forEach((density, j) => {
    const rng = new Rng(7000 + 10 * i + j);
    const x = rand(d.N * d.C * d.H * d.W, rng);
    const w = rand(d.K * d.C * d.R * d.S, rng);
    const dy = pruned(d.N * d.K * d.P * d.Q, density, rng);
    const dx = new Float64Array(x.length);
    const dw = new Float64Array(w.length);
    const db = new Float64Array(d.K);
    ref.conv2dBackwardInput(Float64Array.from(dy), Float64Array.from(w), dx, d);
    ref.conv2dBackwardWeight(Float64Array.from(x), Float64Array.from(dy), dw, db, d);
    cases.push({ d, density, x, w, dy, ref: { dx, dw, db } });
  });
});

interface Grads {
  dx: Float32Array;
  dw: Float32Array;
  db: Float32Array;
}

function runSparse(k: Kernels, c: Case): Grads {
  const dx = nanArray(c.x.length);
  const dw = nanArray(c.w.length);
  const db = nanArray(c.d.K);
  k.conv2dBackwardInputSparse(c.dy, c.w, dx, c.d);
  k.conv2dBackwardWeightSparse(c.x, c.dy, dw, db, c.d);
  return { dx, dw, db };
}

function runDense(k: Kernels, c: Case): Grads {
  const dx = nanArray(c.x.length);
  const dw = nanArray(c.w.length);
  const db = nanArray(c.d.K);
  k.conv2dBackwardInput(c.dy, c.w, dx, c.d);
  k.conv2dBackwardWeight(c.x, c.dy, dw, db, c.d);
  return { dx, dw, db };
}

function assertGrads(a: Grads, b: Grads | Case['ref'], what: string): void {
  assertClose(a.dx, b.dx, F32_BACKWARD, `${what} dx`);
  assertClose(a.dw, b.dw, F32_BACKWARD, `${what} dw`);
  assertClose(a.db, b.db, F32_BACKWARD, `${what} dbias`);
}

const isas: IsaName[] = nativeIsas;
for (const isa of isas) {
  test(`native sparse conv backward (${isa}) matches the dense kernels on pruned gradients`, { skip }, () => {
    const k = native();
    k.setIsa(isa);
    try {
      for (const c of cases) {
        const what = `${isa} ${label(c.d, c.density)}`;
        const s = runSparse(k, c);
        assertGrads(s, runDense(k, c), `${what} sparse vs native dense`);
        assertGrads(s, c.ref, `${what} sparse vs float64 reference`);
        if (c.density === 0) {
          assertClose(s.dx, new Float32Array(s.dx.length), EXACT, `${what} dx of an all-zero gradient`);
          assertClose(s.dw, new Float32Array(s.dw.length), EXACT, `${what} dw of an all-zero gradient`);
        }
      }
      // dbias is optional.
      const c = cases[5];
      const dw = nanArray(c.w.length);
      k.conv2dBackwardWeightSparse(c.x, c.dy, dw, null, c.d);
      assertClose(dw, c.ref.dw, F32_BACKWARD, `${isa} dw without dbias`);
    } finally {
      k.setIsa('native');
    }
  });
}

test('ref sparse conv backward matches ref dense, in float64 and float32', () => {
  for (const c of cases) {
    const what = `ref ${label(c.d, c.density)}`;
    const dx = new Float64Array(c.x.length).fill(Number.NaN);
    const dw = new Float64Array(c.w.length).fill(Number.NaN);
    const db = new Float64Array(c.d.K).fill(Number.NaN);
    ref.conv2dBackwardInputSparse(Float64Array.from(c.dy), Float64Array.from(c.w), dx, c.d);
    ref.conv2dBackwardWeightSparse(Float64Array.from(c.x), Float64Array.from(c.dy), dw, db, c.d);
    assertGrads({ dx: Float32Array.from(dx), dw: Float32Array.from(dw), db: Float32Array.from(db) }, c.ref, `${what} f32 view`);
    assertClose(dx, c.ref.dx, F64_SPARSE_VS_DENSE, `${what} float64 dx`);
    assertClose(dw, c.ref.dw, F64_SPARSE_VS_DENSE, `${what} float64 dw`);
    assertClose(db, c.ref.db, F64_SPARSE_VS_DENSE, `${what} float64 dbias`);
    assertGrads(runSparse(ref, c), c.ref, `${what} float32 arrays`);
  }
});

test('native sparse conv backward: 1 vs 2 threads', { skip }, () => {
  const k = native();
  const before = k.threads();
  const d = dims([8, 16, 12, 12, 32, 3, 3, 1, 1, 1, 1]);
  const rng = new Rng(99);
  const x = rand(d.N * d.C * d.H * d.W, rng);
  const w = rand(d.K * d.C * d.R * d.S, rng);
  const dy = pruned(d.N * d.K * d.P * d.Q, 0.2, rng);
  const c: Case = { d, density: 0.2, x, w, dy, ref: { dx: new Float64Array(0), dw: new Float64Array(0), db: new Float64Array(0) } };
  try {
    k.setThreads(1);
    const one = runSparse(k, c);
    k.setThreads(2);
    assert.equal(k.threads(), 2, 'kernels run on 2 threads (built with OpenMP), else this test compares 1 with 1');
    const two = runSparse(k, c);
    const again = runSparse(k, c);
    assert.deepEqual(two.dx, one.dx, 'dx is independent of the thread count (per-image work)');
    assertClose(two.dw, one.dw, F32_BACKWARD, 'dw, 2 vs 1 threads');
    assertClose(two.db, one.db, F32_BACKWARD, 'dbias, 2 vs 1 threads');
    assert.deepEqual(again, two, 'same thread count, same result bit for bit');
  } finally {
    k.setThreads(before);
  }
});

test('native sparse conv glue rejects wrong argument types and short arrays', { skip }, () => {
  const k = native();
  const d = dims([1, 2, 4, 4, 3, 3, 3, 1, 1, 1, 1]);
  const w = new Float32Array(3 * 2 * 9);
  assert.throws(() => k.conv2dBackwardInputSparse(new Float32Array(10), w, new Float32Array(32), d), /conv2dBackwardInputSparse: argument 0 has 10 elements, needs 48/);
  assert.throws(() => k.conv2dBackwardWeightSparse(new Float64Array(32), new Float32Array(48), w, null, d), /conv2dBackwardWeightSparse: 'x' is float64/);
});

test('native conv glue rejects inconsistent dims (kernel size 0, stride 0, wrong output size), dense and sparse', { skip }, () => {
  const k = native();
  const good = dims([1, 2, 4, 4, 3, 3, 3, 1, 1, 1, 1]);
  const x = new Float32Array(64), w = new Float32Array(3 * 2 * 9), dy = new Float32Array(64), dx = new Float32Array(64), dw = new Float32Array(64);
  const bad: [Partial<Conv2dDims>, RegExp][] = [
    [{ R: 0, S: 0, P: 6, Q: 6 }, /argument \d has kernel size R x S = 0 x 0; both must be >= 1/],
    [{ strideH: 0 }, /argument \d has stride 0 x 1; both must be >= 1/],
    [{ P: 3 }, /argument \d has output P x Q = 3 x 4 but H, W, R, S, stride and padding give 4 x 4/],
  ];
  for (const [change, message] of bad) {
    const d = { ...good, ...change };
    assert.throws(() => k.conv2dBackwardInputSparse(dy, w, dx, d), message, `sparse dX ${JSON.stringify(change)}`);
    assert.throws(() => k.conv2dBackwardWeightSparse(x, dy, dw, null, d), message, `sparse dW ${JSON.stringify(change)}`);
    assert.throws(() => k.conv2dBackwardInput(dy, w, dx, d), message, `dense dX ${JSON.stringify(change)}`);
    assert.throws(() => k.conv2dForward(x, w, null, dy, d), message, `forward ${JSON.stringify(change)}`);
  }
});

test('sparseCrossover: ResNet-20 body shapes choose sparse at 20-30% density; 3-channel and 1x1 stride-2 convs never', () => {
  const conv = (C: number, H: number, K: number, R: number, stride: number, pad: number): Conv2dDims => {
    const P = Math.floor((H + 2 * pad - R) / stride) + 1;
    return { N: 128, C, H, W: H, K, R, S: R, P, Q: P, strideH: stride, strideW: stride, padH: pad, padW: pad };
  };
  for (const d of [conv(16, 32, 16, 3, 1, 1), conv(16, 32, 32, 3, 2, 1), conv(32, 16, 32, 3, 1, 1), conv(32, 16, 64, 3, 2, 1), conv(64, 8, 64, 3, 1, 1)]) {
    const c = sparseCrossover(d);
    assert.ok(c > 0.3 && c < 1, `crossover of ${label(d, 0)} is ${c}`);
  }
  assert.equal(sparseCrossover(conv(3, 32, 16, 3, 1, 1)), 0);
  assert.equal(sparseCrossover(conv(16, 32, 32, 1, 2, 0)), 0);
  // 128-512 channels (ResNet-18 stages 2-4) were measured to cross at 0.39-0.45 warm, ~0.37-0.4
  // in a real step: their layers at density 0.37-0.43 must not run sparse.
  for (const d of [conv(128, 16, 128, 3, 1, 1), conv(256, 8, 256, 3, 1, 1), conv(256, 8, 512, 3, 2, 1), conv(128, 16, 256, 3, 2, 1)]) {
    assert.equal(sparseCrossover(d), 0.35, `crossover of ${label(d, 0)}`);
  }
  assert.equal(sparseCrossover(conv(512, 4, 512, 3, 1, 1)), 0.3, '512 -> 512 (real gradients at 0.35 ran 0.63-0.80x)');
  assert.equal(sparseCrossover(conv(64, 32, 64, 3, 1, 1)), 0.4, 'ResNet-18 stage 1 (measured 0.57)');
});

test('benchSparseConv times dense vs sparse on a pruned gradient; measuredCrossover interpolates the 1x point', () => {
  const d = dims([2, 8, 6, 6, 8, 3, 3, 1, 1, 1, 1]);
  const rows = benchSparseConv([d], [0.1, 0.5], { repeats: 1, warmup: 0, backend: nativeOrNull ?? ref });
  assert.equal(rows.length, 2);
  for (const r of rows) assert.ok(r.denseMs > 0 && r.sparseMs > 0 && Math.abs(r.measuredDensity - r.density) < 0.15, JSON.stringify(r));
  assert.match(formatSparseBench(rows), /crossover .* sparse faster below density/);
  const row = (density: number, speedup: number): SparseBenchRow => ({
    shape: 's', dims: d, density, measuredDensity: density, denseMs: speedup, sparseMs: 1, speedup, target: 0.4 / density,
  });
  assert.equal(measuredCrossover([row(0.1, 3), row(0.3, 2), row(0.5, 0.5)]), 0.3 + (1 / 1.5) * 0.2);
  assert.equal(measuredCrossover([row(0.1, 0.9)]), 0);
  assert.equal(measuredCrossover([row(0.1, 2), row(0.7, 1.1)]), 0.7);
  assert.throws(() => benchSparseConv([d], [0]), /densities must be in \(0, 1\]/);
});

test('sparseCrossover for small-channel and 1x1 convs: stems never, LeNet conv2 below 0.25, 1x1 stride 1 below 0.4', () => {
  const d = (C: number, R: number, stride: number): Conv2dDims =>
    ({ N: 128, C, H: 32, W: 32, K: 16, R, S: R, P: 32 / stride, Q: 32 / stride, strideH: stride, strideW: stride, padH: 0, padW: 0 });
  assert.equal(sparseCrossover(d(3, 3, 1)), 0, 'CIFAR stem 3x3x3');
  assert.equal(sparseCrossover(d(3, 5, 1)), 0, 'a 3-channel 5x5 stem (C < 4)');
  assert.equal(sparseCrossover(d(1, 5, 1)), 0, 'LeNet conv1');
  assert.equal(sparseCrossover(d(6, 5, 1)), 0.25, 'LeNet conv2 (measured 0.28-0.46)');
  assert.equal(sparseCrossover(d(16, 1, 1)), 0.4, '1x1 stride 1');
  assert.equal(sparseCrossover(d(16, 1, 2)), 0, '1x1 stride 2');
  assert.equal(sparseCrossover(d(4, 1, 1)), 0, '1x1 with C < 8');
});
