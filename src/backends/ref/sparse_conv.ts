/**
 * Reference sparse conv backward kernels: the same results as conv2dBackwardInput and
 * conv2dBackwardWeight (ref/conv.ts), computed by walking the non-zeros of a pruned dy, as the
 * native kernels do. float32 or float64 (accumulates in JS doubles).
 * Shapes: x[N,C,H,W], w[K,C,R,S], dy[N,K,P,Q]; groups = 1, dilation = 1.
 */
import type { FloatArray } from '../../core/dtype.js';
import type { Conv2dDims } from '../../backend/kernels.js';

/**
 * Calls visit(n, k, p, q, g) for every non-zero g = dy[n,k,p,q], in NCHW memory order (the
 * plane-major order of native/src/kernels/sparse_index.h).
 */
function forEachNonZero(dy: FloatArray, d: Conv2dDims, visit: (n: number, k: number, p: number, q: number, g: number) => void): void {
  const { N, K, P, Q } = d;
  let i = 0;
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      for (let p = 0; p < P; p++) {
        for (let q = 0; q < Q; q++, i++) {
          const g = dy[i];
          if (g !== 0) visit(n, k, p, q, g);
        }
      }
    }
  }
}

/**
 * Calls visit(n, k, g, r, s, h, w) for every non-zero g = dy[n,k,p,q] and every tap (r, s) of it
 * that lands inside the input, at input row h and column w.
 */
function forEachNonZeroTap(
  dy: FloatArray, d: Conv2dDims, visit: (n: number, k: number, g: number, r: number, s: number, h: number, w: number) => void,
): void {
  const { H, W, R, S, strideH, strideW, padH, padW } = d;
  forEachNonZero(dy, d, (n, k, p, q, g) => {
    for (let r = 0; r < R; r++) {
      const h = p * strideH - padH + r;
      if (h < 0 || h >= H) continue;
      for (let s = 0; s < S; s++) {
        const w = q * strideW - padW + s;
        if (w >= 0 && w < W) visit(n, k, g, r, s, h, w);
      }
    }
  });
}

/** dx[N,C,H,W] = transposed conv of the non-zeros of dy with w (overwrites dx). */
export function conv2dBackwardInputSparse(dy: FloatArray, w: FloatArray, dx: FloatArray, d: Conv2dDims): void {
  const { C, H, W, R, S } = d;
  const acc = new Float64Array(d.N * C * H * W);
  forEachNonZeroTap(dy, d, (n, k, g, r, s, h, ww) => {
    for (let c = 0; c < C; c++) acc[((n * C + c) * H + h) * W + ww] += g * w[((k * C + c) * R + r) * S + s];
  });
  dx.set(acc);
}

/** dw[K,C,R,S] = sum over the non-zeros g of dy of g * x patch; dbias[K] = sum of dy (overwrites). */
export function conv2dBackwardWeightSparse(
  x: FloatArray,
  dy: FloatArray,
  dw: FloatArray,
  dbias: FloatArray | null,
  d: Conv2dDims,
): void {
  const { C, H, W, K, R, S } = d;
  const acc = new Float64Array(K * C * R * S);
  const bias = new Float64Array(K);
  forEachNonZero(dy, d, (_n, k, _p, _q, g) => {
    bias[k] += g;
  });
  forEachNonZeroTap(dy, d, (n, k, g, r, s, h, ww) => {
    for (let c = 0; c < C; c++) acc[((k * C + c) * R + r) * S + s] += g * x[((n * C + c) * H + h) * W + ww];
  });
  dw.set(acc);
  if (dbias) dbias.set(bias);
}
