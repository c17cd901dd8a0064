/**
 * Reference pruning kernels (the spec of native/src/kernels/prune.cpp): meanAbs with the same
 * fixed-block float64 summation, and pruneGradient deciding in float32 (Math.fround) with the
 * counter-based RNG, so native and ref agree bit for bit.
 */
import type { FloatArray } from '../../core/dtype.js';
import { counterUniform } from '../../core/rng.js';

/** Block size of the fixed summation order; must match kBlock in native/src/kernels/prune.cpp. */
const BLOCK = 4096;

/** mean(|g|) over n elements, float64, blocks of BLOCK summed in 8 lanes, blocks in order. */
export function meanAbs(g: FloatArray, n: number): number {
  if (n <= 0) return 0;
  let sum = 0;
  const acc = new Float64Array(8);
  for (let s = 0; s < n; s += BLOCK) {
    const e = Math.min(s + BLOCK, n);
    acc.fill(0);
    for (let i = s; i < e; i++) acc[(i - s) & 7] += Math.abs(Math.fround(g[i]));
    sum += (acc[0] + acc[1] + (acc[2] + acc[3])) + (acc[4] + acc[5] + (acc[6] + acc[7]));
  }
  return sum / n;
}

/** See Kernels.pruneGradient. out may alias g. */
export function pruneGradient(
  g: FloatArray, out: FloatArray, n: number, tau: number, stochastic: boolean, key: number, offset: number,
): number {
  const t = Math.fround(tau);
  let nnz = 0;
  if (!(t > 0)) {
    for (let i = 0; i < n; i++) {
      const x = g[i];
      out[i] = x;
      if (x !== 0) nnz++;
    }
    return nnz;
  }
  for (let i = 0; i < n; i++) {
    const x = g[i];
    const a = Math.fround(Math.abs(x));
    let y = x;
    if (a < t) {
      // float32 division of float32 operands: double division then one rounding is exact here.
      y = stochastic && counterUniform(key, offset + i) < Math.fround(a / t) ? (x < 0 ? -t : t) : 0;
    }
    out[i] = y;
    if (y !== 0) nnz++;
  }
  return nnz;
}
