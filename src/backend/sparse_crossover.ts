/**
 * When to use the sparse conv backward kernels (conv2dBackwardInputSparse + ...WeightSparse)
 * instead of the dense ones: the density (non-zeros / elements of the pruned gradient dy) below
 * which sparse was measured faster, per shape class. Measured with src/bench/sparse.ts
 * (benchSparseConv) on the native backend, AVX-512 variant, 2 threads, batch 128 (tables in
 * docs/status/sparse-kernels.md); each returned value sits below the measured crossover so the
 * choice never makes a layer slower:
 *
 * | shape class                                   | measured crossover        | returned |
 * |-----------------------------------------------|---------------------------|----------|
 * | C*R*S < 64 (e.g. the first conv, 3x3x3)       | 0.08 (3x32x32->16 3x3)    | 0        |
 * | C < 8 otherwise (LeNet-5 conv2, 6x5x5)         | 0.28-0.46 (6x14x14->16)   | 0.25     |
 * | 1x1 kernel, stride > 1                        | never faster (16->32 s2)  | 0        |
 * | 1x1 kernel, stride 1                          | 0.50 (64x8x8->64)         | 0.4      |
 * | stride > 1, or C and K >= 64                  | >= 0.70 (16->32 s2, 32->64 s2, 64x8x8->64) | 0.6 |
 * | other (3x3 / 5x5 stride 1, C or K <= 32)      | 0.46-0.54 (16x32x32, 32x16x16, 6x14x14 5x5) | 0.4 |
 *
 * A returned 0 also tells the pruning policy to leave the layer dense (pruning it would only
 * cost time). Not measured: the AVX2 and scalar variants, small batches (fewer images than threads). Ops
 * should call this only for the native backend and fall back to dense when it returns 0.
 */
import type { Conv2dDims } from './kernels.js';

/**
 * The density of dy below which the sparse conv backward kernels are faster than the dense ones
 * for a conv of dims `d` (0: never use sparse). Use sparse when `density < sparseCrossover(d)`.
 */
export function sparseCrossover(d: Conv2dDims): number {
  const strided = d.strideH > 1 || d.strideW > 1;
  // Work per non-zero of dy is C*R*S multiply-adds per product: too little to repay indexing.
  if (d.C * d.R * d.S < 64) return 0;
  if (d.C < 8) return 0.25;
  if (d.R * d.S === 1) return strided ? 0 : 0.4;
  if (strided || Math.min(d.C, d.K) >= 64) return 0.6;
  return 0.4;
}
