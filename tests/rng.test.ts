/**
 * The sequential generator's integer draws (Rng.int) and shuffle: the full 32 bits are used,
 * rejection makes them exactly uniform (pinned against the raw nextU32 stream of a twin
 * generator), bad bounds are refused, and seeded statistics stay near their expectations.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OptionError, Rng } from '../src/index.js';

const TWO_POW_32 = 4294967296;

/** Pearson chi-square statistic of `counts` against equal expected counts. */
function chiSquare(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / counts.length;
  return counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
}

test('Rng.int: one raw 32-bit draw per call for powers of two (all 32 bits, no float rounding)', () => {
  for (const n of [1, 2, 256, 2 ** 26, 2 ** 31, TWO_POW_32]) {
    const a = new Rng(123);
    const b = new Rng(123);
    for (let i = 0; i < 1000; i++) assert.equal(a.int(n), b.nextU32() % n, `n = ${n}, draw ${i}`);
  }
  // A 24-bit float scaled by 2^26 only reaches multiples of 4; every residue must appear.
  const rng = new Rng(5);
  const residues = new Set<number>();
  for (let i = 0; i < 100; i++) residues.add(rng.int(2 ** 26) % 4);
  assert.deepEqual([...residues].sort(), [0, 1, 2, 3]);
});

test('Rng.int: rejection keeps exactly the raw draws below the largest multiple of n', () => {
  // n = 2^31 + 1: the largest multiple of n in 2^32 is n itself, so about half the draws are rejected.
  const n = 2 ** 31 + 1;
  const a = new Rng(77);
  const b = new Rng(77);
  let raw = 0;
  for (let i = 0; i < 2000; i++) {
    let u = b.nextU32();
    raw++;
    while (u >= n) {
      u = b.nextU32();
      raw++;
    }
    assert.equal(a.int(n), u, `draw ${i}`);
  }
  assert.ok(raw > 3600 && raw < 4400, `${raw} raw draws for 2000 values (expected ~4000)`);
  // n = 6: limit 2^32 - (2^32 mod 6) = 4294967292; the value is u mod 6.
  const c = new Rng(9);
  const d = new Rng(9);
  for (let i = 0; i < 1000; i++) {
    let u = d.nextU32();
    while (u >= 4294967292) u = d.nextU32();
    assert.equal(c.int(6), u % 6);
  }
});

test('Rng.int: uniform for small and large n (seeded statistics)', () => {
  const rng = new Rng(2024);
  const counts = new Array<number>(6).fill(0);
  for (let i = 0; i < 60000; i++) counts[rng.int(6)]++;
  // 5 degrees of freedom: P(chi2 > 20.5) = 0.001.
  assert.ok(chiSquare(counts) < 20.5, `chi2 ${chiSquare(counts).toFixed(2)} for counts ${counts.join(', ')}`);
  // n = 3 * 2^30 > 2^24: the low bit and the halves of the range must both be balanced.
  const n = 3 * 2 ** 30;
  let odd = 0;
  let low = 0;
  for (let i = 0; i < 20000; i++) {
    const v = rng.int(n);
    assert.ok(Number.isInteger(v) && v >= 0 && v < n, `value ${v} outside 0..${n - 1}`);
    odd += v % 2;
    if (v < n / 2) low++;
  }
  // Binomial(20000, 0.5): sd ~71; allow 7 sd.
  assert.ok(Math.abs(odd - 10000) < 500, `${odd} odd values of 20000`);
  assert.ok(Math.abs(low - 10000) < 500, `${low} values in the lower half of 20000`);
});

test('Rng.int refuses n outside 1..2^32 or not an integer', () => {
  const rng = new Rng(1);
  for (const n of [0, -3, 1.5, Number.NaN, Infinity, TWO_POW_32 + 1]) {
    assert.throws(() => rng.int(n), (e: unknown) => e instanceof OptionError && /Rng\.int: n must be an integer in 1\.\.2\^32/.test(e.message), `n = ${n}`);
  }
  assert.equal(rng.int(1), 0);
});

test('Rng.shuffle: a seeded, reproducible permutation; all 6 orders of 3 items equally likely', () => {
  const a = new Rng(3).shuffle(Array.from({ length: 1000 }, (_, i) => i));
  const b = new Rng(3).shuffle(Array.from({ length: 1000 }, (_, i) => i));
  assert.deepEqual(a, b);
  assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
  assert.notDeepEqual(new Rng(4).shuffle(Array.from({ length: 1000 }, (_, i) => i)), a);
  const rng = new Rng(11);
  const seen = new Map<string, number>();
  for (let i = 0; i < 30000; i++) {
    const key = rng.shuffle([0, 1, 2]).join('');
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  assert.equal(seen.size, 6);
  const counts = [...seen.values()];
  assert.ok(chiSquare(counts) < 20.5, `chi2 ${chiSquare(counts).toFixed(2)} for ${JSON.stringify([...seen])}`);
});
