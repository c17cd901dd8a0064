/** Reference elementwise kernels: relu, add, dropout (counter-based mask, identical to native). */
import type { FloatArray } from '../../core/dtype.js';
import { counterUniform } from '../../core/rng.js';

export function reluForward(x: FloatArray, y: FloatArray, n: number): void {
  for (let i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0;
}

export function reluBackward(dy: FloatArray, y: FloatArray, dx: FloatArray, n: number): void {
  for (let i = 0; i < n; i++) dx[i] = y[i] > 0 ? dy[i] : 0;
}

export function add(a: FloatArray, b: FloatArray, out: FloatArray, n: number): void {
  for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
}

export function dropoutForward(
  x: FloatArray, y: FloatArray, mask: Uint8Array, p: number, key: number, offset: number, n: number,
): void {
  // The native kernel compares in float32: round p the same way so masks match bit for bit.
  const pf = Math.fround(p);
  const scale = pf < 1 ? 1 / (1 - pf) : 0;
  for (let i = 0; i < n; i++) {
    const keep = counterUniform(key, offset + i) >= pf ? 1 : 0;
    mask[i] = keep;
    y[i] = keep ? x[i] * scale : 0;
  }
}

export function dropoutBackward(dy: FloatArray, mask: Uint8Array, p: number, dx: FloatArray, n: number): void {
  const pf = Math.fround(p);
  const scale = pf < 1 ? 1 / (1 - pf) : 0;
  for (let i = 0; i < n; i++) dx[i] = mask[i] ? dy[i] * scale : 0;
}
