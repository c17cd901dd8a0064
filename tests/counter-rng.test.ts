/**
 * The counter-based generator (src/core/rng.ts, mirrored bit for bit by
 * native/src/kernels/counter_rng.h): pinned values so it cannot change silently, an independent
 * BigInt restatement of its uint32/uint64 arithmetic, statistical sanity over 1e6 draws, and
 * agreement of the native kernels at indices beyond 2^32.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { counterKey, counterUniform, nativeBackend, nativeLoadError, refBackend } from '../src/index.js';
import { counterHash, mix32 } from '../src/core/rng.js';

const M32 = (1n << 32n) - 1n;

/** mix32 restated on BigInt with explicit mod-2^32 arithmetic (no Math.imul, no >>> tricks). */
function mix32Big(x: bigint): bigint {
  x ^= x >> 16n;
  x = (x * 0x7feb352dn) & M32;
  x ^= x >> 15n;
  x = (x * 0x846ca68bn) & M32;
  x ^= x >> 16n;
  return x;
}

/** counterHash as the C++ states it: lo/hi halves of a uint64 index. */
function counterHashBig(key: bigint, index: bigint): bigint {
  const lo = index & M32, hi = (index >> 32n) & M32;
  return mix32Big(((key + lo * 0x9e3779b9n) & M32) ^ hi);
}

const key = counterKey(42, 7);

test('pinned values: counterKey, counterHash and counterUniform never change silently', () => {
  assert.equal(mix32(0), 0);
  assert.equal(mix32(1), 1753845952);
  assert.equal(mix32(0xdeadbeef), 3861431939);
  assert.deepEqual(
    [counterKey(0, 0), counterKey(1, 0), counterKey(42, 7), counterKey(123456789, 4294967295)],
    [2703108842, 4081892166, 64477018, 2676488676],
  );
  // Values printed by the C++ header (counter_rng.h) compiled standalone, for key = counterKey(42, 7).
  const pinned: [number, number][] = [
    [0, 1322325385], [1, 2977180223], [2, 1765442103], [1000, 3739594993], [2 ** 32 - 1, 3983369200],
    [2 ** 32, 4166433860], [2 ** 32 + 1, 401974379], [5 * 2 ** 32 + 123, 152676137], [2 ** 52 + 3, 1624134556],
  ];
  for (const [i, h] of pinned) {
    assert.equal(counterHash(key, i), h, `counterHash(key, ${i})`);
    assert.equal(counterUniform(key, i), (h >>> 8) / 16777216, `counterUniform(key, ${i})`);
  }
  assert.equal(counterUniform(key, 0), 0.3078778386116028);
});

test('counterHash equals its uint32/uint64 statement (BigInt) for random keys and 53-bit indices', () => {
  let state = 0x12345678n;
  const next = (): bigint => (state = mix32Big(state + 0x9e3779b9n));
  for (let t = 0; t < 2000; t++) {
    const k = next();
    const idx = ((next() & ((1n << 21n) - 1n)) << 32n) | next();  // up to 2^53 - 1
    assert.equal(BigInt(mix32(Number(k))), mix32Big(k));
    assert.equal(BigInt(counterHash(Number(k), Number(idx))), counterHashBig(k, idx), `key ${k} index ${idx}`);
  }
});

/** Mean, variance, and chi-square over 16 equal bins of n draws u(i) for i in [start, start + n). */
function stats(u: (i: number) => number, start: number, n: number): { mean: number; variance: number; chi2: number } {
  const bins = new Float64Array(16);
  let s = 0, s2 = 0;
  for (let i = start; i < start + n; i++) {
    const v = u(i);
    s += v;
    s2 += v * v;
    bins[Math.floor(v * 16)]++;
  }
  const mean = s / n;
  const e = n / 16;
  let chi2 = 0;
  for (const b of bins) chi2 += ((b - e) * (b - e)) / e;
  return { mean, variance: s2 / n - mean * mean, chi2 };
}

// Bounds for n = 1e6 uniform draws: sd(mean) = sqrt(1/12/n) = 2.9e-4, bound 6 sd = 1.75e-3;
// sd(variance) = sqrt(1/180/n) = 7.5e-5, bound 6 sd = 4.5e-4. Chi-square with 15 degrees of freedom:
// 0.1% critical values 3.483 (too uniform, e.g. a counter i/n) and 37.697 (not uniform).
const N = 1_000_000;
const MEAN_BOUND = 1.75e-3, VAR_BOUND = 4.5e-4, CHI2_LOW = 3.483, CHI2_HIGH = 37.697;

for (const [label, start] of [['indices [0, 1e6)', 0], ['indices [2^32 - 5e5, 2^32 + 5e5)', 2 ** 32 - 500_000]] as const) {
  test(`counterUniform is uniform over ${label}: mean, variance, 16-bin chi-square`, () => {
    const { mean, variance, chi2 } = stats((i) => counterUniform(key, i), start, N);
    assert.ok(Math.abs(mean - 0.5) < MEAN_BOUND, `mean ${mean} not within ${MEAN_BOUND} of 1/2`);
    assert.ok(Math.abs(variance - 1 / 12) < VAR_BOUND, `variance ${variance} not within ${VAR_BOUND} of 1/12`);
    assert.ok(chi2 > CHI2_LOW && chi2 < CHI2_HIGH, `chi-square ${chi2} outside (${CHI2_LOW}, ${CHI2_HIGH})`);
  });
}

test('successive draws are independent: 4x4 pair chi-square, and streams/high index words differ', () => {
  const bins = new Float64Array(16);
  const pairs = N / 2;
  for (let i = 0; i < N; i += 2) bins[Math.floor(counterUniform(key, i) * 4) * 4 + Math.floor(counterUniform(key, i + 1) * 4)]++;
  let chi2 = 0;
  for (const b of bins) chi2 += ((b - pairs / 16) ** 2) / (pairs / 16);
  assert.ok(chi2 > CHI2_LOW && chi2 < CHI2_HIGH, `pair chi-square ${chi2} outside (${CHI2_LOW}, ${CHI2_HIGH})`);
  // The high 32 bits of the index and the stream must change the draw (else offsets >= 2^32 would
  // repeat the masks of offsets < 2^32, and layers would share them).
  let sameHi = 0, sameStream = 0;
  const other = counterKey(42, 8);
  for (let i = 0; i < 10_000; i++) {
    if (counterHash(key, i) === counterHash(key, i + 2 ** 32)) sameHi++;
    if (counterHash(key, i) === counterHash(other, i)) sameStream++;
  }
  assert.ok(sameHi <= 1 && sameStream <= 1, `collisions: high word ${sameHi}, stream ${sameStream} of 10000`);
});

const nat = nativeBackend();
test('native dropout draws the same numbers as TypeScript, at offsets up to 2^52', { skip: nat ? false : `native addon unavailable: ${nativeLoadError()}` }, () => {
  if (nat === null) return;
  const n = 4096;
  const x = new Float32Array(n).fill(1);
  for (const offset of [0, 2 ** 32 - 2048, 2 ** 40 + 7, 2 ** 52]) {
    // Thresholds between consecutive 24-bit levels pin each draw to within a few levels.
    for (const p of [1 / 3, 0.5, 0.5 + 2 ** -24, 0.999]) {
      const m = new Uint8Array(n), mr = new Uint8Array(n);
      nat.dropoutForward(x, new Float32Array(n), m, p, key, offset, n);
      refBackend().dropoutForward(x, new Float32Array(n), mr, p, key, offset, n);
      assert.deepEqual(m, mr, `mask at offset ${offset}, p ${p}`);
      for (let i = 0; i < 64; i++) assert.equal(mr[i], counterUniform(key, offset + i) >= Math.fround(p) ? 1 : 0);
    }
  }
});
