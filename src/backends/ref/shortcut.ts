/** Reference option-A shortcut kernels (subsample by the stride, zero channels padded around). */
import type { FloatArray } from '../../core/dtype.js';
import type { ShortcutDims } from '../../backend/kernels.js';

function geometry(d: ShortcutDims): { P: number; Q: number; before: number } {
  return { P: Math.ceil(d.H / d.stride), Q: Math.ceil(d.W / d.stride), before: Math.floor((d.K - d.C) / 2) };
}

export function shortcutPadForward(x: FloatArray, y: FloatArray, d: ShortcutDims): void {
  const { N, C, H, W, K, stride } = d;
  const { P, Q, before } = geometry(d);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const c = k - before;
      for (let p = 0; p < P; p++) {
        for (let q = 0; q < Q; q++) {
          y[((n * K + k) * P + p) * Q + q] = c >= 0 && c < C ? x[((n * C + c) * H + p * stride) * W + q * stride] : 0;
        }
      }
    }
  }
}

export function shortcutPadBackward(dy: FloatArray, dx: FloatArray, d: ShortcutDims): void {
  const { N, C, H, W, K, stride } = d;
  const { P, Q, before } = geometry(d);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let h = 0; h < H; h++) {
        for (let w = 0; w < W; w++) {
          const kept = h % stride === 0 && w % stride === 0;
          dx[((n * C + c) * H + h) * W + w] = kept ? dy[((n * K + c + before) * P + h / stride) * Q + w / stride] : 0;
        }
      }
    }
  }
}
