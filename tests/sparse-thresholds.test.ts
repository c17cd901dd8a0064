/**
 * Threshold rules: PhiInverse against METHOD.md's table, the normal rule's zero fraction on
 * Gaussian data (about 54% at p = 0.9, 69% at p = 0.99), the lognormal solver's measured zero
 * fraction on synthetic lognormal data, top-k keeping exactly k per sample, and option errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { counterKey, kernels, OptionError, Rng } from '../src/index.js';
import {
  absQuantile, createPruningPolicy, erf, fitLogMagnitude, lognormalThreshold, normalQuantile, normalThreshold, parseExclude, pruneTopk,
  resolvePruningOptions, samplingStride, topkCount,
} from '../src/sparse/index.js';
import { PHI_INVERSE_TABLE, PRUNE_ZERO_FRACTION } from './helpers/tolerances.js';

const N = 200000;

function gaussian(n: number, seed: number, std = 1): Float32Array {
  const rng = new Rng(seed);
  const g = new Float32Array(n);
  for (let i = 0; i < n; i++) g[i] = rng.normal() * std;
  return g;
}

function zeroFraction(a: Float32Array): number {
  let z = 0;
  for (const v of a) if (v === 0) z++;
  return z / a.length;
}

test('PhiInverse((1+p)/2) matches METHOD.md: 0.6745, 1.0364, 1.2816, 1.6449, 1.9600, 2.5758', () => {
  const table: [number, number][] = [[0.5, 0.6745], [0.7, 1.0364], [0.8, 1.2816], [0.9, 1.6449], [0.95, 1.96], [0.99, 2.5758]];
  for (const [p, z] of table) assert.ok(Math.abs(normalQuantile((1 + p) / 2) - z) <= PHI_INVERSE_TABLE, `p=${p}: ${normalQuantile((1 + p) / 2)}`);
  // Tails and symmetry: Phi(PhiInverse(q)) = q through erf.
  for (const q of [1e-6, 0.01, 0.3, 0.5, 0.77, 0.999]) {
    const x = normalQuantile(q);
    assert.ok(Math.abs(0.5 * (1 + erf(x / Math.SQRT2)) - q) < 2e-7 + 1e-6 * q, `q=${q}`);
  }
  assert.equal(normalQuantile(0.5), 0);
  assert.equal(normalThreshold(1, 0), 0, 'p = 0 gives tau = 0 (exactly dense)');
});

test('normal rule on Gaussian data: ~54% zeros at p = 0.9 and ~69% at p = 0.99 (METHOD.md)', () => {
  const k = kernels();
  const g = gaussian(N, 1, 0.01);
  for (const [p, expected] of [[0.9, 0.54], [0.99, 0.69], [0.5, 0.2]] as const) {
    const tau = normalThreshold(k.meanAbs(g, N), p);
    // Analytic value for sigma = 1: P(|g| < t) - (2/t)(phi(0) - phi(t)).
    const t = normalQuantile((1 + p) / 2);
    const phi = (x: number) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
    const analytic = p - (2 / t) * (phi(0) - phi(t));
    const out = new Float32Array(N);
    k.pruneGradient(g, out, N, tau, true, counterKey(3, 0), 0);
    const z = zeroFraction(out);
    assert.ok(Math.abs(z - analytic) <= PRUNE_ZERO_FRACTION, `p=${p}: measured ${z}, analytic ${analytic}`);
    if (p !== 0.5) assert.ok(Math.abs(z - expected) <= PRUNE_ZERO_FRACTION, `p=${p}: measured ${z}, METHOD.md ${expected}`);
    // The deterministic cut prunes the full fraction p.
    k.pruneGradient(g, out, N, tau, false, 0, 0);
    assert.ok(Math.abs(zeroFraction(out) - p) <= PRUNE_ZERO_FRACTION, `deterministic p=${p}: ${zeroFraction(out)}`);
  }
});

test('lognormal rule: measured zero fraction after stochastic pruning hits the target (synthetic lognormal data)', () => {
  const k = kernels();
  const rng = new Rng(11);
  for (const [mu, s, natural] of [[-6, 1.5, 0], [-2, 0.6, 0], [-4, 2.5, 0.3]] as const) {
    const g = new Float32Array(N);
    for (let i = 0; i < N; i++) {
      g[i] = rng.next() < natural ? 0 : (rng.next() < 0.5 ? -1 : 1) * Math.exp(mu + s * rng.normal());
    }
    const fit = fitLogMagnitude(g, N);
    // The fit sees every stride-th element: its mean and std of log|g| carry sampling error
    // s / sqrt(count) and s / sqrt(2 count); allow 5 standard errors.
    const count = Math.ceil(N / samplingStride(N, 65536)) * (1 - fit.zeroFraction);
    const seMu = s / Math.sqrt(count), seS = s / Math.sqrt(2 * count);
    assert.ok(Math.abs(fit.mu - mu) < 5 * seMu && Math.abs(fit.s - s) < 5 * seS, `fit ${JSON.stringify(fit)} (standard errors ${seMu}, ${seS})`);
    for (const target of [0.5, 0.8, 0.9, 0.95]) {
      const tau = lognormalThreshold(fit, target);
      const out = new Float32Array(N);
      k.pruneGradient(g, out, N, tau, true, counterKey(5, target * 100), 0);
      const z = zeroFraction(out);
      assert.ok(Math.abs(z - target) <= PRUNE_ZERO_FRACTION, `mu=${mu} s=${s} natural=${natural} target=${target}: measured ${z}`);
    }
    assert.equal(lognormalThreshold(fit, 0), 0);
  }
  assert.equal(lognormalThreshold({ mu: 0, s: 1, zeroFraction: 0.6 }, 0.5), 0, 'already sparser than the target: no pruning');
});

test('topk keeps exactly k entries per sample, the largest magnitudes', () => {
  const rng = new Rng(4);
  const samples = 6, m = 1000;
  const g = new Float32Array(samples * m);
  for (let i = 0; i < g.length; i++) g[i] = rng.normal() * (i % 97 === 0 ? 10 : 1);
  g[5] = g[6] = g[7] = 3.25; // ties
  for (const keep of [0.001, 0.1, 0.37, 1]) {
    const out = new Float32Array(g.length);
    const kk = topkCount(keep, m);
    const nnz = pruneTopk(g, out, samples, keep);
    assert.equal(nnz, kk * samples);
    for (let b = 0; b < samples; b++) {
      let kept = 0, minKept = Infinity, maxDropped = 0;
      for (let i = 0; i < m; i++) {
        const x = g[b * m + i], y = out[b * m + i];
        if (y !== 0) {
          assert.equal(y, x);
          kept++;
          minKept = Math.min(minKept, Math.abs(x));
        } else maxDropped = Math.max(maxDropped, Math.abs(x));
      }
      assert.equal(kept, kk, `keep=${keep} sample ${b}`);
      assert.ok(minKept >= maxDropped, `keep=${keep}: kept ${minKept} < dropped ${maxDropped}`);
    }
  }
});

test('topk ranks NaN first and keeps it (a divergence stays visible)', () => {
  const g = Float32Array.from([0.5, Number.NaN, -2, 0.1, 1, Number.NaN, 0.2, -0.3]);
  const out = new Float32Array(g.length);
  assert.equal(pruneTopk(g, out, 2, 0.5), 4);
  assert.deepEqual(Array.from(out), [0, Number.NaN, -2, 0, 1, Number.NaN, 0, 0]);
});

test('bad options give OptionErrors naming the option and the valid values', () => {
  const bad = (o: Parameters<typeof resolvePruningOptions>[0], re: RegExp) => assert.throws(() => resolvePruningOptions(o), (e: unknown) => e instanceof OptionError && re.test(e.message));
  bad({ policy: 'normal', rate: 1 }, /pruning rate p \(--prune-rate\) for policy 'normal' must be in \[0, 1\), got 1/);
  bad({ policy: 'normal', rate: -0.1 }, /must be in \[0, 1\), got -0.1/);
  bad({ policy: 'deterministic', rate: Number.NaN }, /--prune-rate.*got NaN/);
  bad({ policy: 'lognormal', rate: 1.2 }, /target sparsity s \(--sparsity\)/);
  bad({ policy: 'topk', rate: 0 }, /--keep.*\(0, 1\], got 0/);
  // @ts-expect-error: an unknown policy name, as a user could type it
  bad({ policy: 'magnitude', rate: 0.5 }, /unknown pruning policy 'magnitude' \(valid: normal, lognormal, topk, deterministic\)/);
  bad({ policy: 'normal', rate: 0.5, exclude: ['first', 'conv9'] }, /unknown layer group 'conv9' \(valid: first, shortcut, fc, or 'none'/);
  bad({ policy: 'normal', rate: 0.5, warmupSteps: -1 }, /--prune-warmup must be a non-negative integer/);
  bad({ policy: 'normal', rate: 0.5, seed: 2 ** 32 }, /pruning seed must be below 2\^32/);
  assert.throws(() => parseExclude('first,bogus'), /unknown layer group 'bogus'/);
  assert.deepEqual(parseExclude('none'), []);
  assert.deepEqual(parseExclude('first, shortcut,first'), ['first', 'shortcut']);
  assert.throws(() => createPruningPolicy({ policy: 'normal', rate: 0.99999999 * 2 }), OptionError);
});

test('absQuantile: quantiles of |g| from the strided subsample', () => {
  const n = 300000;
  const g = new Float32Array(n);
  const rng = new Rng(8);
  for (let i = 0; i < n; i++) g[i] = (rng.next() < 0.5 ? -1 : 1) * rng.next();
  for (const q of [0.1, 0.5, 0.9, 0.99, 1]) assert.ok(Math.abs(absQuantile(g, n, q) - q) < 0.01, `q=${q}: ${absQuantile(g, n, q)}`);
  const small = Float32Array.from([3, -1, 2, -5, 4]);
  assert.deepEqual([0, 0.25, 0.5, 0.75, 1].map((q) => absQuantile(small, 5, q)), [1, 2, 3, 4, 5]);
  assert.throws(() => resolvePruningOptions({ policy: 'lognormal', rate: 0.9, tauQuantileCap: 0 }), /--prune-tau-cap must be a quantile in \(0, 1\], got 0/);
  assert.throws(() => resolvePruningOptions({ policy: 'topk', rate: 0.1, tauQuantileCap: 0.9 }), /does not apply to --prune topk/);
});

test('fitLogMagnitude and absQuantile sample every column of an NCHW gradient', () => {
  // 128 planes of 32x32 (n = 131,072): the border column q = 0 is 10x smaller, as real conv
  // gradients' borders are smaller. A stride that divides the width would sample only that column.
  const planes = 128;
  const Q = 32;
  const n = planes * Q * Q;
  const rng = new Rng(11);
  const g = new Float32Array(n);
  let sumLog = 0;
  for (let i = 0; i < n; i++) {
    const border = i % Q === 0 ? 0.1 : 1;
    g[i] = border * Math.exp(rng.normal() * 0.5) * (rng.next() < 0.5 ? -1 : 1);
    sumLog += Math.log(Math.abs(g[i]));
  }
  const exactMu = sumLog / n;
  const fit = fitLogMagnitude(g, n, 4096);
  assert.ok(Math.abs(fit.mu - exactMu) < SAMPLED_MU_TOL, `fitted mu ${fit.mu} vs exact ${exactMu}`);
  const sorted = Array.from(g, Math.abs).sort((a, b) => a - b);
  const exactMedian = sorted[Math.floor(n / 2)];
  assert.ok(Math.abs(absQuantile(g, n, 0.5, 4096) - exactMedian) / exactMedian < 0.05);
});

/** 4,096 samples of log|g| with s ~ 0.6: standard error ~0.01; 0.05 is 5 standard errors. */
const SAMPLED_MU_TOL = 0.05;
