/**
 * Reference pooling kernels over NCHW planes. Max pool ignores padding (it never wins, as in
 * PyTorch); average pool counts padded zeros in the divisor (count_include_pad=True).
 */
import type { FloatArray } from '../../core/dtype.js';
import type { ChannelDims, Pool2dDims } from '../../backend/kernels.js';

export function maxPool2dForward(x: FloatArray, y: FloatArray, argmax: Int32Array, d: Pool2dDims): void {
  const { N, C, H, W, R, S, P, Q, strideH, strideW, padH, padW } = d;
  for (let plane = 0; plane < N * C; plane++) {
    const xb = plane * H * W;
    const yb = plane * P * Q;
    for (let p = 0; p < P; p++) {
      for (let q = 0; q < Q; q++) {
        let best = -Infinity;
        let bestIdx = -1;
        for (let r = 0; r < R; r++) {
          const h = p * strideH - padH + r;
          if (h < 0 || h >= H) continue;
          for (let s = 0; s < S; s++) {
            const w = q * strideW - padW + s;
            if (w < 0 || w >= W) continue;
            const v = x[xb + h * W + w];
            if (v > best || bestIdx < 0 || Number.isNaN(v)) {
              best = v;
              bestIdx = h * W + w;
              if (Number.isNaN(v)) break;
            }
          }
        }
        y[yb + p * Q + q] = best;
        argmax[yb + p * Q + q] = bestIdx;
      }
    }
  }
}

export function maxPool2dBackward(dy: FloatArray, argmax: Int32Array, dx: FloatArray, d: Pool2dDims): void {
  const { N, C, H, W, P, Q } = d;
  dx.fill(0, 0, N * C * H * W);
  for (let plane = 0; plane < N * C; plane++) {
    const xb = plane * H * W;
    const yb = plane * P * Q;
    for (let i = 0; i < P * Q; i++) {
      const a = argmax[yb + i];
      if (a >= 0) dx[xb + a] += dy[yb + i];
    }
  }
}

export function avgPool2dForward(x: FloatArray, y: FloatArray, d: Pool2dDims): void {
  const { N, C, H, W, R, S, P, Q, strideH, strideW, padH, padW } = d;
  for (let plane = 0; plane < N * C; plane++) {
    const xb = plane * H * W;
    const yb = plane * P * Q;
    for (let p = 0; p < P; p++) {
      for (let q = 0; q < Q; q++) {
        const h0 = p * strideH - padH;
        const w0 = q * strideW - padW;
        const hEnd = Math.min(h0 + R, H + padH);
        const wEnd = Math.min(w0 + S, W + padW);
        const count = (hEnd - h0) * (wEnd - w0);
        let acc = 0;
        for (let h = Math.max(h0, 0); h < Math.min(hEnd, H); h++) {
          for (let w = Math.max(w0, 0); w < Math.min(wEnd, W); w++) acc += x[xb + h * W + w];
        }
        y[yb + p * Q + q] = acc / count;
      }
    }
  }
}

export function avgPool2dBackward(dy: FloatArray, dx: FloatArray, d: Pool2dDims): void {
  const { N, C, H, W, R, S, P, Q, strideH, strideW, padH, padW } = d;
  dx.fill(0, 0, N * C * H * W);
  for (let plane = 0; plane < N * C; plane++) {
    const xb = plane * H * W;
    const yb = plane * P * Q;
    for (let p = 0; p < P; p++) {
      for (let q = 0; q < Q; q++) {
        const h0 = p * strideH - padH;
        const w0 = q * strideW - padW;
        const hEnd = Math.min(h0 + R, H + padH);
        const wEnd = Math.min(w0 + S, W + padW);
        const g = dy[yb + p * Q + q] / ((hEnd - h0) * (wEnd - w0));
        for (let h = Math.max(h0, 0); h < Math.min(hEnd, H); h++) {
          for (let w = Math.max(w0, 0); w < Math.min(wEnd, W); w++) dx[xb + h * W + w] += g;
        }
      }
    }
  }
}

export function globalAvgPoolForward(x: FloatArray, y: FloatArray, d: ChannelDims): void {
  const { N, C, HW } = d;
  for (let plane = 0; plane < N * C; plane++) {
    let acc = 0;
    for (let i = 0; i < HW; i++) acc += x[plane * HW + i];
    y[plane] = acc / HW;
  }
}

export function globalAvgPoolBackward(dy: FloatArray, dx: FloatArray, d: ChannelDims): void {
  const { N, C, HW } = d;
  for (let plane = 0; plane < N * C; plane++) {
    const g = dy[plane] / HW;
    for (let i = 0; i < HW; i++) dx[plane * HW + i] = g;
  }
}
