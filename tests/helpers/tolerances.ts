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
/** Exact small integer cases: results must match exactly. */
export const EXACT = { abs: 0, rel: 0 } as const;

export interface Tolerance {
  abs: number;
  rel: number;
}
