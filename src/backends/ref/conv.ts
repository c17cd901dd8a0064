/**
 * Reference convolution kernels: direct loops, the executable specification. float32 or float64
 * (accumulates in JS doubles either way).
 * Shapes: x[N,C,H,W], w[K,C,R,S], y[N,K,P,Q]; groups = 1, dilation = 1.
 */
import type { FloatArray } from '../../core/dtype.js';
import type { Conv2dDims } from '../../backend/kernels.js';

export function conv2dForward(x: FloatArray, w: FloatArray, bias: FloatArray | null, y: FloatArray, d: Conv2dDims): void {
  const { N, C, H, W, K, R, S, P, Q, strideH, strideW, padH, padW } = d;
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      for (let p = 0; p < P; p++) {
        for (let q = 0; q < Q; q++) {
          let acc = bias ? bias[k] : 0;
          for (let c = 0; c < C; c++) {
            for (let r = 0; r < R; r++) {
              const h = p * strideH - padH + r;
              if (h < 0 || h >= H) continue;
              for (let s = 0; s < S; s++) {
                const ww = q * strideW - padW + s;
                if (ww < 0 || ww >= W) continue;
                acc += x[((n * C + c) * H + h) * W + ww] * w[((k * C + c) * R + r) * S + s];
              }
            }
          }
          y[((n * K + k) * P + p) * Q + q] = acc;
        }
      }
    }
  }
}

export function conv2dBackwardInput(dy: FloatArray, w: FloatArray, dx: FloatArray, d: Conv2dDims): void {
  const { N, C, H, W, K, R, S, P, Q, strideH, strideW, padH, padW } = d;
  dx.fill(0);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      for (let p = 0; p < P; p++) {
        for (let q = 0; q < Q; q++) {
          const g = dy[((n * K + k) * P + p) * Q + q];
          if (g === 0) continue;
          for (let c = 0; c < C; c++) {
            for (let r = 0; r < R; r++) {
              const h = p * strideH - padH + r;
              if (h < 0 || h >= H) continue;
              for (let s = 0; s < S; s++) {
                const ww = q * strideW - padW + s;
                if (ww < 0 || ww >= W) continue;
                dx[((n * C + c) * H + h) * W + ww] += g * w[((k * C + c) * R + r) * S + s];
              }
            }
          }
        }
      }
    }
  }
}

export function conv2dBackwardWeight(
  x: FloatArray,
  dy: FloatArray,
  dw: FloatArray,
  dbias: FloatArray | null,
  d: Conv2dDims,
): void {
  const { N, C, H, W, K, R, S, P, Q, strideH, strideW, padH, padW } = d;
  for (let k = 0; k < K; k++) {
    for (let c = 0; c < C; c++) {
      for (let r = 0; r < R; r++) {
        for (let s = 0; s < S; s++) {
          let acc = 0;
          for (let n = 0; n < N; n++) {
            for (let p = 0; p < P; p++) {
              const h = p * strideH - padH + r;
              if (h < 0 || h >= H) continue;
              for (let q = 0; q < Q; q++) {
                const ww = q * strideW - padW + s;
                if (ww < 0 || ww >= W) continue;
                acc += x[((n * C + c) * H + h) * W + ww] * dy[((n * K + k) * P + p) * Q + q];
              }
            }
          }
          dw[((k * C + c) * R + r) * S + s] = acc;
        }
      }
    }
  }
  if (dbias) {
    for (let k = 0; k < K; k++) {
      let acc = 0;
      for (let n = 0; n < N; n++) {
        const base = (n * K + k) * P * Q;
        for (let i = 0; i < P * Q; i++) acc += dy[base + i];
      }
      dbias[k] = acc;
    }
  }
}
