/**
 * Sparse linear backward kernels (linearBackwardInputSparse, linearBackwardWeightSparse): on a
 * pruned dy they give the dense kernels' dx, dw and dbias. Oracle: the float64 reference dense
 * kernels. Over shapes that cross the native kernel's row block (16) and column block (1024)
 * and densities 0, ~10%, ~50%, 100%: native sparse (every ISA) and ref sparse (float32 and
 * float64); outputs pre-filled with NaN (a skipped element fails); density 0 gives exact zeros;
 * 1 vs 2 threads bit for bit. The crossover rule sends the linear layer to sparse below 0.25.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refBackend, Rng, sparseLinearCrossover } from '../src/index.js';
import type { IsaName, Kernels, LinearDims } from '../src/index.js';
import { assertClose } from './helpers/assert.js';
import { native, nativeIsas, nativeOrNull, skipNative } from './helpers/native.js';
import { F32_BACKWARD, F64_SPARSE_VS_DENSE } from './helpers/tolerances.js';

const ref = refBackend();

/** [N, IN, OUT] */
const specs: [number, number, number][] = [[1, 1, 1], [3, 17, 5], [16, 64, 10], [33, 130, 70], [20, 2100, 19]];
const densities = [0, 0.1, 0.5, 1];

interface Case {
  d: LinearDims;
  density: number;
  x: Float32Array;
  w: Float32Array;
  dy: Float32Array;
  ref: { dx: Float64Array; dw: Float64Array; db: Float64Array };
}

const cases: Case[] = [];
specs.forEach(([N, IN, OUT], i) => {
  densities.forEach((density, j) => {
    const rng = new Rng(900 + 10 * i + j);
    const x = Float32Array.from({ length: N * IN }, () => rng.uniform(-1, 1));
    const w = Float32Array.from({ length: OUT * IN }, () => rng.uniform(-1, 1));
    const dy = Float32Array.from({ length: N * OUT }, () => (rng.next() < density ? rng.uniform(0.1, 1) * (rng.next() < 0.5 ? -1 : 1) : 0));
    const d = { N, IN, OUT };
    const dx = new Float64Array(N * IN), dw = new Float64Array(OUT * IN), db = new Float64Array(OUT);
    ref.linearBackwardInput(Float64Array.from(dy), Float64Array.from(w), dx, d);
    ref.linearBackwardWeight(Float64Array.from(x), Float64Array.from(dy), dw, db, d);
    cases.push({ d, density, x, w, dy, ref: { dx, dw, db } });
  });
});

function runSparse(k: Kernels, c: Case, f64 = false): { dx: ArrayLike<number>; dw: ArrayLike<number>; db: ArrayLike<number> } {
  const A = f64 ? Float64Array : Float32Array;
  const dx = new A(c.x.length).fill(Number.NaN), dw = new A(c.w.length).fill(Number.NaN), db = new A(c.d.OUT).fill(Number.NaN);
  const conv = (a: Float32Array) => (f64 ? Float64Array.from(a) : a);
  k.linearBackwardInputSparse(conv(c.dy), conv(c.w), dx, c.d);
  k.linearBackwardWeightSparse(conv(c.x), conv(c.dy), dw, db, c.d);
  return { dx, dw, db };
}

const label = (c: Case): string => `N${c.d.N} ${c.d.IN}->${c.d.OUT} density ${c.density}`;

test('ref sparse linear backward equals the dense kernels (float64 and float32)', () => {
  for (const c of cases) {
    const g64 = runSparse(ref, c, true);
    assertClose(g64.dx, c.ref.dx, F64_SPARSE_VS_DENSE, `${label(c)} dx f64`);
    assertClose(g64.dw, c.ref.dw, F64_SPARSE_VS_DENSE, `${label(c)} dw f64`);
    assertClose(g64.db, c.ref.db, F64_SPARSE_VS_DENSE, `${label(c)} db f64`);
    const g32 = runSparse(ref, c);
    assertClose(g32.dx, c.ref.dx, F32_BACKWARD, `${label(c)} dx f32`);
    assertClose(g32.dw, c.ref.dw, F32_BACKWARD, `${label(c)} dw f32`);
  }
});

test('native sparse linear backward equals the dense result, every ISA; density 0 gives exact zeros', { skip: skipNative }, () => {
  const k = native();
  const isas: IsaName[] = nativeIsas;
  try {
    for (const isa of isas) {
      k.setIsa(isa);
      for (const c of cases) {
        const g = runSparse(k, c);
        assertClose(g.dx, c.ref.dx, F32_BACKWARD, `${isa} ${label(c)} dx`);
        assertClose(g.dw, c.ref.dw, F32_BACKWARD, `${isa} ${label(c)} dw`);
        assertClose(g.db, c.ref.db, F32_BACKWARD, `${isa} ${label(c)} db`);
        if (c.density === 0) assert.ok([...Array.from(g.dx), ...Array.from(g.dw)].every((v) => v === 0), `${isa} ${label(c)}: exact zeros`);
      }
    }
  } finally {
    k.setIsa('native');
  }
});

test('native sparse linear backward: 1 and 2 threads give the same bits', { skip: skipNative }, () => {
  const k = nativeOrNull!;
  const before = k.threads();
  const rng = new Rng(5);
  const d = { N: 128, IN: 2500, OUT: 300 };
  const x = Float32Array.from({ length: d.N * d.IN }, () => rng.uniform(-1, 1));
  const w = Float32Array.from({ length: d.OUT * d.IN }, () => rng.uniform(-1, 1));
  const dy = Float32Array.from({ length: d.N * d.OUT }, () => (rng.next() < 0.2 ? rng.uniform(-1, 1) : 0));
  const run = (t: number) => {
    k.setThreads(t);
    const c: Case = { d, density: 0.2, x, w, dy, ref: { dx: new Float64Array(0), dw: new Float64Array(0), db: new Float64Array(0) } };
    return runSparse(k, c);
  };
  try {
    const a = run(1), b = run(2);
    assert.deepEqual(a, b);
  } finally {
    k.setThreads(before);
  }
});

test('sparseLinearCrossover: sparse below 25% density (measured crossovers 0.3-0.5)', () => {
  assert.equal(sparseLinearCrossover({ N: 128, IN: 4096, OUT: 4096 }), 0.25);
  assert.equal(sparseLinearCrossover({ N: 128, IN: 64, OUT: 10 }), 0.25);
  assert.equal(sparseLinearCrossover({ N: 0, IN: 64, OUT: 10 }), 0);
});
