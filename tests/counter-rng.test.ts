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
  const round2 = mix32Big((mix32Big(hi ^ 0x5bd1e995n) + key) & M32);
  return mix32Big((mix32Big(lo ^ key) + round2) & M32);
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
    [0, 4167039262], [1, 1335232765], [2, 2539985732], [1000, 205246881], [2 ** 32 - 1, 654098509],
    [2 ** 32, 3381022129], [2 ** 32 + 1, 1534610081], [5 * 2 ** 32 + 123, 698561843], [2 ** 52 + 3, 156282583],
  ];
  for (const [i, h] of pinned) {
    assert.equal(counterHash(key, i), h, `counterHash(key, ${i})`);
    assert.equal(counterUniform(key, i), (h >>> 8) / 16777216, `counterUniform(key, ${i})`);
  }
  assert.equal(counterUniform(key, 0), 0.9702144265174866);
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

test('streams of different keys are not shifted copies of one sequence', () => {
  // A one-round hash mix32(key + i * c) makes stream key + c equal stream key shifted by one
  // element, and any two keys shifted copies at some lag. Check lags -64..64 for keys differing by
  // the golden-ratio constant, by one, and by a random amount: matches must stay at chance level
  // (expected 129 * 4096 / 2^32 = 1.2e-4 per key pair).
  const base = counterKey(9, 1);
  const n = 4096;
  const a = new Map<number, number>();
  for (let i = 0; i < n + 128; i++) a.set(counterHash(base, i), i);
  for (const other of [(base + 0x9e3779b9) >>> 0, (base + 1) >>> 0, (base ^ 0x80000000) >>> 0, counterKey(9, 2)]) {
    let matches = 0;
    for (let j = 64; j < n + 64; j++) {
      const i = a.get(counterHash(other, j));
      if (i !== undefined && Math.abs(i - j) <= 64) matches++;
    }
    assert.ok(matches <= 1, `key ${other}: ${matches} of ${n} draws equal the base stream's within 64 elements`);
  }
  // Per-layer keys of the pruning policy (counterKey(counterKey(seed, layer), 0)) never collide.
  const keys = new Set<number>();
  for (let layer = 0; layer < 100_000; layer++) keys.add(counterKey(counterKey(3, layer), 0));
  assert.equal(keys.size, 100_000);
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
