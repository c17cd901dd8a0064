/**
 * Unbiasedness of stochastic pruning (METHOD.md): E[g'] = g. Over M independent keys, the number
 * of draws bumped to +-tau for an element with q = |g|/tau is Binomial(M, q); Bernstein's
 * inequality bounds |count - M q| by t = c/3 + sqrt(c^2/9 + 2 c M q (1-q)) with probability
 * >= 1 - 2 exp(-c), and c = ln(2 n / FWER) makes the whole test (all n elements, Bonferroni)
 * fail with probability <= FWER = 1e-3 when the rule is unbiased. Kept elements must be exact.
 * The deterministic cut (biased) must fail the same test, so the test can fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { counterKey, kernels, Rng } from '../src/index.js';
import { normalThreshold } from '../src/sparse/index.js';
import { UNBIASED_FWER } from './helpers/tolerances.js';

const n = 2000;
const M = 2000;

/** Count of elements whose mean over M draws violates the Bernstein bound. */
function violations(g: Float32Array, tau: number, stochastic: boolean): { bad: number; keptExact: boolean } {
  const k = kernels();
  const t = Math.fround(tau);
  const sum = new Float64Array(n);
  const out = new Float32Array(n);
  for (let m = 0; m < M; m++) {
    k.pruneGradient(g, out, n, tau, stochastic, counterKey(1000 + m, 7), 0);
    for (let i = 0; i < n; i++) sum[i] += out[i];
  }
  const c = Math.log((2 * n) / UNBIASED_FWER);
  let bad = 0;
  let keptExact = true;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(g[i]);
    if (!(a < t)) {
      if (sum[i] !== g[i] * M) keptExact = false;
      continue;
    }
    const q = Math.fround(a / t);
    const count = Math.abs(sum[i]) / t; // number of +-tau draws
    const bound = c / 3 + Math.sqrt((c * c) / 9 + 2 * c * M * q * (1 - q));
    // The 24-bit uniform makes P(bump) = ceil(q 2^24) / 2^24: at most M * 2^-24 extra counts.
    if (Math.abs(count - M * q) > bound + M / 16777216) bad++;
  }
  return { bad, keptExact };
}

test(`stochastic pruning is unbiased: per element, mean of ${M} draws within a Bernstein bound (FWER ${UNBIASED_FWER})`, () => {
  const rng = new Rng(21);
  const g = new Float32Array(n);
  for (let i = 0; i < n; i++) g[i] = rng.normal() * Math.exp(0.5 * rng.normal());
  const tau = normalThreshold(kernels().meanAbs(g, n), 0.9);
  const r = violations(g, tau, true);
  assert.equal(r.bad, 0, `${r.bad} of ${n} elements outside the bound`);
  assert.ok(r.keptExact, 'elements at or above tau are kept exactly');
});

test('the same test rejects the deterministic (biased) cut', () => {
  const rng = new Rng(22);
  const g = new Float32Array(n);
  for (let i = 0; i < n; i++) g[i] = rng.normal();
  const tau = normalThreshold(kernels().meanAbs(g, n), 0.9);
  const r = violations(g, tau, false);
  assert.ok(r.bad > n / 2, `only ${r.bad} violations: the test has no power`);
});
