/**
 * Threshold rules for activation-gradient pruning, as pure functions of gradient statistics and
 * the target rate (formulas in ../shared/design/METHOD.md):
 * - normal: tau = sqrt(pi/2) * mean|g| * PhiInverse((1 + p) / 2) (Ye et al., ECCV 2020);
 * - lognormal: fit mu, s of log|g| over the non-zeros; solve for tau such that the expected zero
 *   fraction after stochastic pruning equals the target sparsity (Chmiel et al., ICLR 2021);
 * - topk: per-sample k-th largest magnitude (meProp), see topk.ts.
 */
import type { FloatArray } from '../core/dtype.js';
import { erf, normalQuantile } from './normal.js';
import { kthLargest } from './topk.js';

/** The paper's rule: the tau below which a fraction p of N(0, sigma^2) lies in magnitude. */
export function normalThreshold(meanAbs: number, p: number): number {
  if (p <= 0 || meanAbs <= 0) return 0;
  return Math.sqrt(Math.PI / 2) * meanAbs * normalQuantile((1 + p) / 2);
}

/** Statistics of log|g| over the non-zero entries of a gradient, and its natural zero fraction. */
export interface LogMagnitudeFit {
  /** Mean of log|g| over non-zeros. */
  mu: number;
  /** Standard deviation of log|g| over non-zeros (population). */
  s: number;
  /** Fraction of exact zeros in g. */
  zeroFraction: number;
}

/**
 * Stride of the fixed subsample used by the fits: 1 when n <= maxSamples, else the smallest prime
 * >= max(ceil(n / maxSamples), 11). A prime that does not divide the plane width keeps the sample
 * from landing on the same columns of every NCHW plane (a power-of-two stride on 32x32 planes
 * sampled only the border column q = 0, whose gradients are systematically smaller).
 */
export function samplingStride(n: number, maxSamples: number): number {
  if (n <= maxSamples) return 1;
  let p = Math.max(Math.ceil(n / maxSamples), 11);
  const isPrime = (v: number): boolean => {
    for (let d = 2; d * d <= v; d++) if (v % d === 0) return false;
    return true;
  };
  while (!isPrime(p)) p++;
  return p;
}

/**
 * Mean and std of log|g| over the non-zeros (float64, Welford), and the zero fraction, from every
 * `samplingStride(n, maxSamples)`-th entry: a fixed subsample (at most 65,536 entries by default
 * fix mu and s to about 0.01 of s), so the fit costs the same for every layer size.
 */
export function fitLogMagnitude(g: FloatArray, n: number, maxSamples = 65536): LogMagnitudeFit {
  const stride = samplingStride(n, maxSamples);
  let seen = 0;
  let count = 0;
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < n; i += stride) {
    seen++;
    const a = Math.abs(g[i]);
    if (a === 0 || !Number.isFinite(a)) continue;
    const l = Math.log(a);
    count++;
    const d = l - mean;
    mean += d / count;
    m2 += d * (l - mean);
  }
  return { mu: mean, s: count > 0 ? Math.sqrt(m2 / count) : 0, zeroFraction: seen > 0 ? (seen - count) / seen : 0 };
}

/**
 * Expected fraction of zeros after stochastic pruning at tau = alpha * e^mu of a lognormal
 * magnitude with log-std s (METHOD.md's closed form, written with ln(alpha)).
 */
export function lognormalZeroFraction(lnAlpha: number, s: number): number {
  const r2s = Math.SQRT2 * s;
  // E[(1 - |g|/tau) ; |g| < tau] = Phi(ln a / s) - e^(s^2/2) / a * Phi((ln a - s^2) / s)
  const below = 0.5 * (1 + erf(lnAlpha / r2s));
  const partial = (Math.exp((s * s) / 2 - lnAlpha) * (1 + erf((lnAlpha - s * s) / r2s))) / 2;
  const z = below - partial;
  return z < 0 ? 0 : z > 1 ? 1 : z;
}

/**
 * The lognormal rule: tau such that the expected zero fraction of the whole tensor after
 * stochastic pruning equals `target` (natural zeros count toward it). Bisection on ln(alpha);
 * returns 0 when the tensor is already at least that sparse or s is 0 (degenerate fit).
 */
export function lognormalThreshold(fit: LogMagnitudeFit, target: number): number {
  if (target <= 0 || target <= fit.zeroFraction || !(fit.s > 0)) return 0;
  const want = (target - fit.zeroFraction) / (1 - fit.zeroFraction);
  let lo = -12 * fit.s - 10;
  // zeros(alpha) ~ 1 - e^(s^2/2) / alpha for large alpha: hi lies beyond the root.
  let hi = (fit.s * fit.s) / 2 + 12 * fit.s + 10 + Math.log(1 / (1 - want));
  for (let it = 0; it < 200 && hi - lo > 1e-12; it++) {
    const mid = 0.5 * (lo + hi);
    if (lognormalZeroFraction(mid, fit.s) < want) lo = mid;
    else hi = mid;
  }
  return Math.exp(fit.mu + 0.5 * (lo + hi));
}

/**
 * The q-quantile of |g| (q in [0, 1]) estimated on the same fixed strided subsample as
 * fitLogMagnitude (every samplingStride(n, maxSamples)-th entry): a cap for thresholds that a bad fit
 * would put above almost every entry (METHOD.md: the lognormal rule at s >= 0.9).
 */
export function absQuantile(g: FloatArray, n: number, q: number, maxSamples = 65536): number {
  const stride = samplingStride(n, maxSamples);
  const m = Math.ceil(n / stride);
  if (m === 0) return 0;
  const a = new Float32Array(m);
  for (let i = 0, j = 0; i < n; i += stride, j++) a[j] = Math.abs(g[i]);
  const idx = Math.min(m - 1, Math.max(0, Math.floor(q * (m - 1))));
  return kthLargest(a, m, m - idx);
}
