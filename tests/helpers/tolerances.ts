/**
 * Every tolerance the tests use, named, in one place. Relative-or-absolute checks:
 * |a - b| <= ABS + REL * |b|.
 */

/** float32 forward kernels vs a float64-accumulating reference (summation order differs). */
export const F32_FORWARD = { abs: 1e-4, rel: 1e-4 } as const;
/** float32 backward kernels: longer reductions (over batch and positions) than forward. */
export const F32_BACKWARD = { abs: 5e-4, rel: 5e-4 } as const;
/** float64 finite-difference gradient checks (central differences, eps = 1e-6). */
export const F64_GRADCHECK = { abs: 1e-6, rel: 1e-5, eps: 1e-6 } as const;
/** Golden fixtures produced by PyTorch in float32. */
export const GOLDEN_F32 = { abs: 1e-4, rel: 1e-3 } as const;
/** Optimizer steps vs the PyTorch fixture: float32 parameters after 5 updates (1-2 ulp per update). */
export const OPTIM_F32 = { abs: 1e-6, rel: 1e-6 } as const;
/** Learning-rate schedules vs PyTorch's schedulers, in float64 (torch steps them recursively). */
export const LR_F64 = { abs: 1e-15, rel: 1e-12 } as const;
/**
 * Native batch-norm statistics (mean, 1/std) vs float64 on data with a large offset and many
 * elements per channel (mean 100, std 0.1, m = 32768): a one-pass float32 E[x^2] - E[x]^2 is off by
 * 10-400% there; a sound method stays within float32 rounding of the result.
 */
export const F32_BN_STATS = { abs: 1e-6, rel: 1e-5 } as const;
/** float64 sparse vs dense reference conv backward: same products, different summation order. */
export const F64_SPARSE_VS_DENSE = { abs: 1e-12, rel: 1e-12 } as const;
/** Exact small integer cases: results must match exactly. */
export const EXACT = { abs: 0, rel: 0 } as const;

export interface Tolerance {
  abs: number;
  rel: number;
}

/**
 * End-to-end loss trajectories: float32 kernels with different summation orders (threads, ISA,
 * native vs ref) drift by ~1e-5 over a few steps; a change to init, data order or augmentation
 * moves the losses by ~1e-2.
 */
export const E2E_TRAJECTORY = { abs: 1e-3, rel: 1e-3 } as const;
/**
 * Sparse back-propagation (tests/sparse-*.test.ts). Zero fraction after stochastic pruning on
 * 200,000 synthetic entries: the sampling standard deviation is about 0.0011, the threshold
 * estimate adds a little; 0.01 is ~9 standard deviations, while a wrong rule (deterministic cut,
 * or p taken as the sparsity) misses by >= 0.2.
 */
export const PRUNE_ZERO_FRACTION = 0.01;
/** Normal quantile vs METHOD.md's 4-decimal table (rounding of the table itself). */
export const PHI_INVERSE_TABLE = 5e-5;
/** Family-wise error rate of the unbiasedness test (Bernstein bound per element, Bonferroni over elements). */
export const UNBIASED_FWER = 1e-3;
