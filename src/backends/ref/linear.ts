/** Reference linear kernels: x[N,IN], w[OUT,IN] (PyTorch layout), y[N,OUT]. */
import type { FloatArray } from '../../core/dtype.js';
import type { LinearDims } from '../../backend/kernels.js';

export function linearForward(x: FloatArray, w: FloatArray, bias: FloatArray | null, y: FloatArray, d: LinearDims): void {
  const { N, IN, OUT } = d;
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < OUT; o++) {
      let acc = bias ? bias[o] : 0;
      for (let i = 0; i < IN; i++) acc += x[n * IN + i] * w[o * IN + i];
      y[n * OUT + o] = acc;
    }
  }
}

export function linearBackwardInput(dy: FloatArray, w: FloatArray, dx: FloatArray, d: LinearDims): void {
  const { N, IN, OUT } = d;
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < IN; i++) {
      let acc = 0;
      for (let o = 0; o < OUT; o++) acc += dy[n * OUT + o] * w[o * IN + i];
      dx[n * IN + i] = acc;
    }
  }
}

export function linearBackwardWeight(x: FloatArray, dy: FloatArray, dw: FloatArray, dbias: FloatArray | null, d: LinearDims): void {
  const { N, IN, OUT } = d;
  for (let o = 0; o < OUT; o++) {
    for (let i = 0; i < IN; i++) {
      let acc = 0;
      for (let n = 0; n < N; n++) acc += dy[n * OUT + o] * x[n * IN + i];
      dw[o * IN + i] = acc;
    }
    if (dbias) {
      let acc = 0;
      for (let n = 0; n < N; n++) acc += dy[n * OUT + o];
      dbias[o] = acc;
    }
  }
}
