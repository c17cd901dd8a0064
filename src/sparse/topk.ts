/**
 * Top-k pruning (meProp-style biased baseline): per sample (outermost dimension), keep the k
 * largest magnitudes and zero the rest; no stochastic bump. Ties at the k-th magnitude are kept
 * in index order, so exactly k entries per sample survive. A NaN counts as the largest magnitude
 * (kept, like the threshold rules keep it, so a divergence stays visible).
 */
import type { FloatArray } from '../core/dtype.js';

/** |x| as float32, with NaN as +Infinity (ranked first). */
function magnitude(x: number): number {
  return Number.isNaN(x) ? Infinity : Math.fround(Math.abs(x));
}

/** k for a sample of m entries at keep fraction `keep` in (0, 1]: round(keep * m), at least 1. */
export function topkCount(keep: number, m: number): number {
  return Math.min(m, Math.max(1, Math.round(keep * m)));
}

/** The k-th largest value of a[0..m) (1-based k), reordering a (quickselect, Hoare partition). */
export function kthLargest(a: Float32Array, m: number, k: number): number {
  let lo = 0;
  let hi = m - 1;
  const target = k - 1; // index in descending order
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target];
  }
  return a[target];
}

/**
 * Writes the top-k pruned g into out: `samples` rows of m = n / samples entries each.
 * Returns the number of non-zeros of out.
 */
export function pruneTopk(g: FloatArray, out: FloatArray, samples: number, keep: number): number {
  const n = g.length;
  const m = n / samples;
  const k = topkCount(keep, m);
  const scratch = new Float32Array(m);
  let nnz = 0;
  for (let b = 0; b < samples; b++) {
    const base = b * m;
    for (let i = 0; i < m; i++) scratch[i] = magnitude(g[base + i]);
    const t = kthLargest(scratch, m, k);
    let above = 0;
    for (let i = 0; i < m; i++) if (magnitude(g[base + i]) > t) above++;
    let ties = k - above;
    for (let i = 0; i < m; i++) {
      const x = g[base + i];
      const a = magnitude(x);
      let y = 0;
      if (a > t) y = x;
      else if (a === t && ties > 0) {
        y = x;
        ties--;
      }
      out[base + i] = y;
      if (y !== 0) nnz++;
    }
  }
  return nnz;
}
