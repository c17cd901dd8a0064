/**
 * Reference sparse linear backward kernels: the same results as linearBackwardInput and
 * linearBackwardWeight (ref/linear.ts), computed from the non-zeros of a pruned dy only, as the
 * native kernels (native/src/kernels/sparse_linear.cpp) do. float32 or float64.
 * Shapes: x[N,IN], w[OUT,IN], dy[N,OUT].
 */
import type { FloatArray } from '../../core/dtype.js';
import type { LinearDims } from '../../backend/kernels.js';

/** dx[N,IN] = sum over non-zeros dy[n][o] of dy[n][o] * w[o][:] (overwrites dx). */
export function linearBackwardInputSparse(dy: FloatArray, w: FloatArray, dx: FloatArray, d: LinearDims): void {
  const { N, IN, OUT } = d;
  dx.fill(0, 0, N * IN);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < OUT; o++) {
      const g = dy[n * OUT + o];
      if (g === 0) continue;
      for (let i = 0; i < IN; i++) dx[n * IN + i] += g * w[o * IN + i];
    }
  }
}

/** dw[OUT,IN] = sum over non-zeros dy[n][o] of dy[n][o] * x[n][:]; dbias[OUT] = column sums of dy (overwrites). */
export function linearBackwardWeightSparse(x: FloatArray, dy: FloatArray, dw: FloatArray, dbias: FloatArray | null, d: LinearDims): void {
  const { N, IN, OUT } = d;
  dw.fill(0, 0, OUT * IN);
  if (dbias) dbias.fill(0, 0, OUT);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < OUT; o++) {
      const g = dy[n * OUT + o];
      if (dbias) dbias[o] += g;
      if (g === 0) continue;
      for (let i = 0; i < IN; i++) dw[o * IN + i] += g * x[n * IN + i];
    }
  }
}
