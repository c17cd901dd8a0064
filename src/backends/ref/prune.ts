/**
 * Reference pruning kernels (the spec of native/src/kernels/prune.cpp): meanAbs with the same
 * fixed-block float64 summation, and pruneGradient deciding in float32 (Math.fround) with the
 * counter-based RNG, so native and ref agree bit for bit.
 */
import type { FloatArray } from '../../core/dtype.js';
import { ShapeError } from '../../core/errors.js';
import { counterUniform } from '../../core/rng.js';

/** Block size of the fixed summation order; must match kBlock in native/src/kernels/prune.cpp. */
const BLOCK = 4096;

/** Float64 lanes of meanAbs's block sums; must match kAbsLanes in native/src/kernels/prune.cpp. */
const ABS_LANES = 32;

/**
 * mean(|g|) over n elements, float64: each BLOCK summed in ABS_LANES lanes (lane j takes elements
 * j, j + ABS_LANES, ... of the block), the lanes combined in a fixed tree, blocks in order.
 */
export function meanAbs(g: FloatArray, n: number): number {
  checkCount('meanAbs', 'g', g, n);
  if (n <= 0) return 0;
  let sum = 0;
  const acc = new Float64Array(ABS_LANES);
  for (let s = 0; s < n; s += BLOCK) {
    const e = Math.min(s + BLOCK, n);
    acc.fill(0);
    for (let i = s; i < e; i++) acc[(i - s) % ABS_LANES] += Math.abs(Math.fround(g[i]));
    sum += laneTreeSum(acc);
  }
  return sum / n;
}

/** n must be a non-negative integer no larger than the array (the native glue checks the same). */
function checkCount(kernel: string, name: string, a: FloatArray, n: number): void {
  if (!(Number.isSafeInteger(n) && n >= 0)) throw new ShapeError(`${kernel}: n must be a non-negative integer, got ${n}`);
  if (a.length < n) throw new ShapeError(`${kernel}: ${name} has ${a.length} elements, needs ${n}`);
}

/** See Kernels.pruneGradient. out must not alias g when `stats` is given. */
export function pruneGradient(
  g: FloatArray, out: FloatArray, n: number, tau: number, stochastic: boolean, key: number, offset: number, stats?: Float64Array | null,
): number {
  if (stats && stats.length < 3) throw new ShapeError(`pruneGradient: stats must hold 3 float64 values, got length ${stats.length}`);
  checkCount('pruneGradient', 'g', g, n);
  checkCount('pruneGradient', 'out', out, n);
  if (!(Number.isInteger(key) && key >= 0 && key <= 0xffffffff)) throw new ShapeError(`pruneGradient: key must be a 32-bit unsigned integer, got ${key}`);
  if (!(Number.isSafeInteger(offset) && offset >= 0 && offset + n <= Number.MAX_SAFE_INTEGER)) {
    throw new ShapeError(`pruneGradient: offset + n must be a non-negative integer below 2^53, got offset ${offset}, n ${n}`);
  }
  const t = Math.fround(tau);
  let nnz = 0;
  for (let i = 0; i < n; i++) {
    const x = g[i];
    const a = Math.fround(Math.abs(x));
    let y = x;
    if (t > 0 && a < t) {
      // float32 division of float32 operands: double division then one rounding is exact here.
      y = stochastic && counterUniform(key, offset + i) < Math.fround(a / t) ? (x < 0 ? -t : t) : 0;
    }
    out[i] = y;
    if (y !== 0) nnz++;
  }
  if (stats) blockStats(g, out, n, stats);
  return nnz;
}

/** Float32 lanes of the statistics sums; must match kStatLanes in native/src/kernels/prune.cpp. */
const STAT_LANES = 32;

/**
 * A power-of-two number of lanes summed in float64 in the native kernels' fixed tree (lane j +=
 * lane j + w for w = half the lanes, then half of that, ...).
 */
function laneTreeSum(lanes: Float32Array | Float64Array): number {
  const l = Float64Array.from(lanes);
  for (let w = l.length / 2; w >= 1; w /= 2) for (let j = 0; j < w; j++) l[j] += l[j + w];
  return l[0];
}

/**
 * [zeros of g, sum g^2, sum (out - g)^2] in the native kernel's order: BLOCK blocks, each summed in
 * STAT_LANES float32 lanes (square rounded, then the add rounded), lanes combined in float64.
 */
function blockStats(g: FloatArray, out: FloatArray, n: number, stats: Float64Array): void {
  let zeros = 0, gg = 0, dd = 0;
  const ag = new Float32Array(STAT_LANES), ad = new Float32Array(STAT_LANES);
  for (let s = 0; s < n; s += BLOCK) {
    const e = Math.min(s + BLOCK, n);
    ag.fill(0);
    ad.fill(0);
    for (let i = s; i < e; i++) {
      const x = Math.fround(g[i]);
      if (x === 0) zeros++;
      const dlt = Math.fround(Math.fround(out[i]) - x);
      const j = (i - s) % STAT_LANES;
      ag[j] += Math.fround(x * x);
      ad[j] += Math.fround(dlt * dlt);
    }
    gg += laneTreeSum(ag);
    dd += laneTreeSum(ad);
  }
  stats[0] = zeros;
  stats[1] = gg;
  stats[2] = dd;
}
