/**
 * Float64 finite-difference gradient checks. For a function f of some leaf tensors, the scalar
 * loss is L = sum(f(inputs) * U) with U fixed random weights (so every output element matters
 * with a different weight); the analytic gradient comes from `backward(f(...), { grad: U })` and
 * is compared with central differences (L(x + eps) - L(x - eps)) / (2 eps) for every element of
 * every input. Run it under `withBackend(refBackend(), ...)` with float64 tensors.
 */
import assert from 'node:assert/strict';
import { backward, noGrad, Rng, Tensor } from '../../src/index.js';
import { assertClose } from './assert.js';
import { F64_GRADCHECK, type Tolerance } from './tolerances.js';

export interface GradcheckOptions {
  /** Finite-difference step (default F64_GRADCHECK.eps). */
  eps?: number;
  /** Comparison tolerance (default F64_GRADCHECK). */
  tol?: Tolerance;
  /** Seed of the output weights U (default 1). */
  seed?: number;
}

function weightedSum(y: Tensor, u: Tensor): number {
  let s = 0;
  for (let i = 0; i < y.size; i++) s += y.data[i] * u.data[i];
  return s;
}

/**
 * Checks the gradient of `f` with respect to every tensor in `inputs` (float64 leaves with
 * requiresGrad). `f` must rebuild its output from the inputs' current values on every call:
 * the inputs' storage is perturbed in place (and restored).
 * @example gradcheck('relu', () => relu(x), { x });
 */
export function gradcheck(name: string, f: () => Tensor, inputs: Record<string, Tensor>, opts: GradcheckOptions = {}): void {
  const eps = opts.eps ?? F64_GRADCHECK.eps;
  const tol = opts.tol ?? F64_GRADCHECK;
  for (const [n, t] of Object.entries(inputs)) {
    assert.equal(t.dtype, 'float64', `${name}: input '${n}' must be float64 for a gradient check`);
    assert.ok(t.requiresGrad, `${name}: input '${n}' must require grad`);
    t.grad = null;
  }
  const y = f();
  assert.equal(y.dtype, 'float64', `${name}: output must be float64`);
  const u = Tensor.randn(y.shape, new Rng(opts.seed ?? 1), 1, 'float64');
  backward(y, { grad: u });

  for (const [n, t] of Object.entries(inputs)) {
    const analytic = t.grad ? Float64Array.from(t.grad.data) : new Float64Array(t.size);
    const numeric = new Float64Array(t.size);
    noGrad(() => {
      for (let j = 0; j < t.size; j++) {
        const orig = t.data[j];
        t.data[j] = orig + eps;
        const lp = weightedSum(f(), u);
        t.data[j] = orig - eps;
        const lm = weightedSum(f(), u);
        t.data[j] = orig;
        numeric[j] = (lp - lm) / (2 * eps);
      }
    });
    // A check against an all-zero gradient would pass vacuously: the input must matter.
    assert.ok(numeric.some((v) => Math.abs(v) > 1e-3), `${name}: d/d${n} is numerically zero; the check would be vacuous`);
    assertClose(analytic, numeric, tol, `${name}: d/d${n} (analytic vs central differences)`);
  }
}

/** A float64 leaf with N(0, std^2) values that requires grad. */
export function leaf(shape: readonly number[], rng: Rng, std = 1): Tensor {
  const t = Tensor.randn(shape, rng, std, 'float64');
  t.requiresGrad = true;
  return t;
}

/** A float64 leaf whose values have magnitude >= `margin` (away from relu's kink at 0). */
export function leafAwayFromZero(shape: readonly number[], rng: Rng, margin = 0.1): Tensor {
  const t = leaf(shape, rng);
  for (let i = 0; i < t.size; i++) t.data[i] = Math.sign(t.data[i] || 1) * (margin + Math.abs(t.data[i]));
  return t;
}

/** A float64 leaf of distinct values spaced `gap` apart in random order (no max-pool ties). */
export function leafDistinct(shape: readonly number[], rng: Rng, gap = 0.05): Tensor {
  const t = leaf(shape, rng);
  const order = rng.shuffle(Array.from({ length: t.size }, (_, i) => i));
  for (let i = 0; i < t.size; i++) t.data[i] = (order[i] - t.size / 2) * gap;
  return t;
}
