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
 * | 1x1 kernel, stride > 1, or C < 8               | never faster (16->32 s2)  | 0        |
 * | 1x1 kernel, stride 1, C >= 8                   | 0.50 (64x8x8->64)         | 0.4      |
 * | C < 4 or C*R*S < 64 (stems: 3x3x3, 1x5x5)      | 0.08 (3x32x32->16 3x3)    | 0        |
 * | C < 8 otherwise (LeNet-5 conv2, 6x5x5)         | 0.28-0.46 (6x14x14->16)   | 0.25     |
 * | C and K >= 512                                | 0.39-0.43 (512x4x4, 512x2x2) warm; real gradients lose below that | 0.3 |
 * | C and K >= 128 (ResNet-18 stages 2-4)         | 0.39-0.45 (128x16x16, 256x8x8, 128x7x7, 256x4x4, 128->256 s2, 256->512 s2; 2026-12-01) | 0.35 |
 * | other 3x3 / 5x5 (ResNet-20, ResNet-18 stage 1, stage transitions from 64) | 0.46 (64x32x32->128 s2), 0.57-0.58 (64x32x32, 16x32x32), >= 0.70 (32x16x16, 64x8x8, 64x14x14, 16->32 s2, 32->64 s2); earlier 0.46-0.54 (32x16x16, 6x14x14 5x5) | 0.4 |
 *
 * The 2026-12-01 rows: benchSparseConv, batch 64 (ResNet-18) or 128 (ResNet-20), 5 repeats,
 * caches warm. Inside a real training step the sparse side loses more to cold caches: in `bench
 * backward` on ResNet-18 CIFAR (initial weights) its 128-512-channel layers gained 1.06-1.31x at
 * density 0.33-0.35, 1.00-1.07x at 0.37-0.38, and one at 0.43 ran 0.59x under the old 0.6; at
 * 0.3 the ones at 0.33-0.35 lost their gain, hence 0.35; but 512 -> 512 at 4x4 (layer4.1.conv1,
 * density 0.346) ran 0.63-0.80x in three runs while a uniform random gradient of that density
 * broke even (18-22 vs 21-22 ms dW, batch 64): its real non-zeros cost more, hence 0.3 at 512.
 *
 * A returned 0 also tells the pruning policy to leave the layer dense (pruning it would only
 * cost time). Not measured: the AVX2 and scalar variants, small batches (fewer images than threads). Ops
 * should call this only for the native backend and fall back to dense when it returns 0.
 */
import type { Conv2dDims, LinearDims } from './kernels.js';

/**
 * The density of dy below which the sparse conv backward kernels are faster than the dense ones
 * for a conv of dims `d` (0: never use sparse). Use sparse when `density < sparseCrossover(d)`.
 */
export function sparseCrossover(d: Conv2dDims): number {
  const strided = d.strideH > 1 || d.strideW > 1;
  if (d.R * d.S === 1) return strided || d.C < 8 ? 0 : 0.4;
  // Work per non-zero of dy is C*R*S multiply-adds per product: too little to repay indexing.
  if (d.C < 4 || d.C * d.R * d.S < 64) return 0;
  if (d.C < 8) return 0.25;
  if (Math.min(d.C, d.K) >= 512) return 0.3;
  if (Math.min(d.C, d.K) >= 128) return 0.35;
  return 0.4;
}

/**
 * The density of dy below which the sparse linear backward kernels (linearBackwardInputSparse +
 * ...WeightSparse) beat the dense ones. Measured (CPU time, native AVX-512, 1 thread; dense /
 * sparse at densities 0.05 / 0.1 / 0.2 / 0.3 / 0.5) on N=128 64->10: 1.27 1.18 1.17 1.00 0.87;
 * 512->10: 2.82 2.29 1.81 1.32 0.96; 4096->1000: 3.54 2.43 1.56 1.00 0.82; 4096->4096: 4.87 5.94
 * 2.10 1.61 1.19; 9216->4096: 4.16 4.51 1.87 1.30 1.00; N=64 512->512: 4.50 3.66 2.03 1.27 0.92.
 * Every crossover lies at 0.3-0.5, so 0.25 is returned (0 for an empty batch).
 */
export function sparseLinearCrossover(d: LinearDims): number {
  return d.N > 0 && d.IN > 0 && d.OUT > 0 ? 0.25 : 0;
}
