/**
 * The pruning kernels meanAbs and pruneGradient: hand cases on the reference (the spec), then
 * native (every ISA variant) vs ref bit for bit, 1 vs 2 threads identical, tau = 0 exactly dense,
 * deterministic mode, offsets beyond 2^32, and the glue's argument checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { counterKey, counterUniform, refBackend, Rng } from '../src/index.js';
import { native, nativeIsas, nativeOrNull, skipNative } from './helpers/native.js';
import type { IsaName, Kernels } from '../src/index.js';

const ref = refBackend();
const skip = skipNative;
const isas: IsaName[] = nativeIsas;

/** Heavy-tailed test data with exact zeros, negative zeros and values exactly at tau. */
function gradient(n: number, seed: number, tau: number): Float32Array {
  const rng = new Rng(seed);
  const g = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    g[i] = r < 0.05 ? 0 : r < 0.06 ? -0 : r < 0.08 ? (rng.next() < 0.5 ? -tau : tau) : rng.normal() * Math.exp(rng.normal());
  }
  return g;
}

function bitsEqual(a: Float32Array, b: Float32Array, what: string): void {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) {
    if (ua[i] !== ub[i]) assert.fail(`${what}: element ${i} differs: ${a[i]} vs ${b[i]}`);
  }
}

test('ref pruneGradient: hand cases (keep, bump to +-tau, drop; deterministic drops)', () => {
  const key = counterKey(7, 3);
  const g = Float32Array.from([2, -3, 0.5, -0.5, 0, 1, -1, Number.NaN]);
  const out = new Float32Array(g.length);
  const nnz = ref.pruneGradient(g, out, g.length, 1, true, key, 10);
  const expect = [2, -3];
  for (let i = 2; i < 4; i++) expect.push(counterUniform(key, 10 + i) < 0.5 ? Math.sign(g[i]) : 0);
  expect.push(0, 1, -1);
  assert.deepEqual(Array.from(out.subarray(0, 7)), expect);
  assert.ok(Number.isNaN(out[7]), 'NaN is kept so divergence stays visible');
  assert.equal(nnz, expect.filter((v) => v !== 0).length + 1);
  const det = new Float32Array(g.length);
  assert.equal(ref.pruneGradient(g, det, g.length, 1, false, key, 0), 5);
  assert.deepEqual(Array.from(det.subarray(0, 7)), [2, -3, 0, 0, 0, 1, -1]);
});

test('ref meanAbs: exact on integers, 0 for n = 0', () => {
  const g = new Float32Array(10000);
  for (let i = 0; i < g.length; i++) g[i] = (i % 7) - 3;
  let s = 0;
  for (const v of g) s += Math.abs(v);
  assert.equal(ref.meanAbs(g, g.length), s / g.length);
  assert.equal(ref.meanAbs(g, 0), 0);
});

test('tau = 0 is exactly dense: out equals g bit for bit (ref and native)', () => {
  const g = gradient(50000, 1, 0.5);
  const backends: Kernels[] = nativeOrNull ? [ref, nativeOrNull] : [ref];
  for (const k of backends) {
    for (const stochastic of [true, false]) {
      const out = new Float32Array(g.length).fill(9);
      const nnz = k.pruneGradient(g, out, g.length, 0, stochastic, 123, 0);
      bitsEqual(out, g, `${k.name} tau=0`);
      assert.equal(nnz, g.filter((v) => v !== 0).length);
    }
  }
});

test('native meanAbs and pruneGradient equal ref bit for bit, every ISA variant', { skip }, () => {
  const k = native();
  const sizes = [1, 7, 8, 4095, 4097, 40000, 100003];
  for (const isa of isas) {
    k.setIsa(isa);
    try {
      for (const n of sizes) {
        const g = gradient(n, n, 0.75);
        assert.equal(k.meanAbs(g, n), ref.meanAbs(g, n), `${isa} meanAbs n=${n}`);
        const tau = 1.3 * ref.meanAbs(g, n);
        for (const stochastic of [true, false]) {
          for (const offset of [0, 2 ** 32 - 5]) {
            const key = counterKey(n, offset === 0 ? 1 : 2);
            const a = new Float32Array(n), b = new Float32Array(n);
            const na = k.pruneGradient(g, a, n, tau, stochastic, key, offset);
            const nb = ref.pruneGradient(g, b, n, tau, stochastic, key, offset);
            bitsEqual(a, b, `${isa} n=${n} stochastic=${stochastic} offset=${offset}`);
            assert.equal(na, nb);
          }
        }
        // Values exactly at tau are kept.
        const at = Float32Array.from([0.75, -0.75, 0.7499999]);
        const o = new Float32Array(3);
        k.pruneGradient(at, o, 3, 0.75, false, 0, 0);
        assert.deepEqual(Array.from(o), [0.75, -0.75, 0]);
      }
    } finally {
      k.setIsa('native');
    }
  }
});

/** The statistics by definition, in one float64 pass (no blocking): the oracle for `stats`. */
function statsOracle(g: Float32Array, out: Float32Array): [number, number, number] {
  let zeros = 0, gg = 0, dd = 0;
  for (let i = 0; i < g.length; i++) {
    if (g[i] === 0) zeros++;
    gg += g[i] * g[i];
    dd += (out[i] - g[i]) ** 2;
  }
  return [zeros, gg, dd];
}

/**
 * The kernels sum each 4096-block in 32 float32 lanes (at most 128 additions per lane, each term
 * rounded): relative error <= 128 * 2^-24 ~ 7.6e-6 against the float64 oracle.
 */
const STATS_REL = 1e-5;

test('pruneGradient stats: zeros, sum g^2, sum (out - g)^2 from the pruning pass, ref and every native ISA', () => {
  const k = nativeOrNull;
  const backends: [string, Kernels, IsaName | null][] = [['ref', ref, null]];
  if (k) for (const isa of isas) backends.push([isa, k, isa]);
  for (const n of [1, 9, 4096, 4099, 100003]) {
    const g = gradient(n, 7 * n, 0.75);
    const tau = 1.3 * ref.meanAbs(g, n);
    const refStats = new Float64Array(3);
    ref.pruneGradient(g, new Float32Array(n), n, tau, true, counterKey(n, 3), 5, refStats);
    for (const [name, kb, isa] of backends) {
      if (isa && k) k.setIsa(isa);
      try {
        for (const t of [tau, 0]) {
          const out = new Float32Array(n), stats = new Float64Array(3).fill(NaN);
          const nnz = kb.pruneGradient(g, out, n, t, true, counterKey(n, 3), 5, stats);
          const plain = new Float32Array(n);
          assert.equal(kb.pruneGradient(g, plain, n, t, true, counterKey(n, 3), 5), nnz, 'stats do not change the result');
          bitsEqual(out, plain, `${name} n=${n} with and without stats`);
          const [z, gg, dd] = statsOracle(g, out);
          assert.equal(stats[0], z, `${name} n=${n} tau=${t}: zeros`);
          assert.ok(Math.abs(stats[1] - gg) <= STATS_REL * gg, `${name} n=${n}: sum g^2 ${stats[1]} vs ${gg}`);
          assert.ok(Math.abs(stats[2] - dd) <= STATS_REL * dd, `${name} n=${n}: sum (out-g)^2 ${stats[2]} vs ${dd}`);
          if (t === tau && isa !== null) assert.deepEqual(Array.from(stats), Array.from(refStats), `${name} n=${n}: the same sums as the ref twin, bit for bit`);
          if (t === 0) assert.equal(stats[2], 0, 'tau = 0 copies g exactly');
          else assert.ok(stats[2] > 0);
        }
      } finally {
        if (isa && k) k.setIsa('native');
      }
    }
  }
  assert.throws(() => ref.pruneGradient(new Float32Array(2), new Float32Array(2), 2, 1, true, 0, 0, new Float64Array(2)), /stats must hold 3/);
  if (k) assert.throws(() => k.pruneGradient(new Float32Array(2), new Float32Array(2), 2, 1, true, 0, 0, new Float64Array(2)), /stats must hold 3/);
});

test('native results do not depend on the thread count (1 vs 2 threads)', { skip }, () => {
  const k = native();
  const n = 300001;
  const g = gradient(n, 99, 0.5);
  const before = k.threads();
  const run = (threads: number) => {
    k.setThreads(threads);
    assert.equal(k.threads(), threads, 'the thread count took effect (built with OpenMP), else 1 is compared with 1');
    const out = new Float32Array(n), stats = new Float64Array(3);
    const m = k.meanAbs(g, n);
    const nnz = k.pruneGradient(g, out, n, 2 * m, true, counterKey(5, 6), 17, stats);
    return { m, out, nnz, stats };
  };
  try {
    const one = run(1);
    const two = run(2);
    assert.equal(one.m, two.m);
    assert.equal(one.nnz, two.nnz);
    assert.deepEqual(one.stats, two.stats, 'stats summed in a fixed order');
    bitsEqual(one.out, two.out, '1 vs 2 threads');
  } finally {
    k.setThreads(before);
  }
});

test('native glue rejects bad arguments with the kernel and argument named', { skip }, () => {
  const k = native();
  assert.throws(() => k.pruneGradient(new Float32Array(4), new Float32Array(3), 4, 1, true, 0, 0), /pruneGradient: argument 1 has 3 elements, needs 4/);
  assert.throws(() => k.meanAbs(new Float64Array(4), 4), /meanAbs.*float64/);
  assert.throws(() => k.meanAbs(new Float32Array(4), -1), /meanAbs: argument 1 must be a non-negative integer/);
  // Partly overlapping views would race across threads; the same array (in place) is allowed.
  const buf = new Float32Array(12).fill(0.5);
  assert.throws(() => k.pruneGradient(buf.subarray(0, 8), buf.subarray(4, 12), 8, 1, true, 0, 0), /pruneGradient: argument 1 overlaps g without being g itself/);
  assert.equal(k.pruneGradient(buf.subarray(0, 8), buf.subarray(8, 12), 4, 1, false, 0, 0), 0, 'adjacent views do not overlap');
  buf.fill(0.5);
  assert.equal(k.pruneGradient(buf, buf, 12, 0.25, false, 0, 0), 12, 'in place');
  assert.throws(() => k.pruneGradient(new Float32Array(4), new Float32Array(4), 4, 1, true, 2 ** 32, 0), /pruneGradient: argument 5 must be a 32-bit key/);
});

test('ref kernels reject a count beyond the arrays and keys or offsets out of range', () => {
  assert.throws(() => ref.meanAbs(new Float32Array(3), 4), /meanAbs: g has 3 elements, needs 4/);
  assert.throws(() => ref.pruneGradient(new Float32Array(4), new Float32Array(3), 4, 1, true, 0, 0), /pruneGradient: out has 3 elements, needs 4/);
  assert.throws(() => ref.pruneGradient(new Float32Array(4), new Float32Array(4), 4, 1, true, 2 ** 32, 0), /key must be a 32-bit unsigned integer/);
  assert.throws(() => ref.pruneGradient(new Float32Array(4), new Float32Array(4), 4, 1, true, 0, 2 ** 53), /offset \+ n must be a non-negative integer below 2\^53/);
});
