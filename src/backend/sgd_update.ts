/**
 * The SGD update rule over one parameter array (torch.optim.SGD, PyTorch 1.13), as a plain loop:
 * the executable specification of the `sgdUpdate` kernel (the reference backend runs it; the
 * native kernel reproduces it bit for bit) and SGD's path for float64 parameters. Every value is
 * computed in float64 from the stored inputs and rounded once when stored:
 *
 *   d = g + wd * p
 *   'plain':    p = p - lr * d
 *   'momentum': buf = bm * buf + bd * d;  p = p - lr * buf
 *   'nesterov': buf = bm * buf + bd * d;  p = p - lr * (d + m * buf)
 *
 * (bm = 0, bd = 1 on a buffer's first update: it becomes d exactly.)
 */
import type { FloatArray } from '../core/dtype.js';

export type SgdMode = 'plain' | 'momentum' | 'nesterov';

/** Scalars of one update, already rounded to the parameters' precision by the caller. */
export interface SgdScalars {
  mode: SgdMode;
  lr: number;
  /** Weight decay (coupled L2). */
  wd: number;
  /** Momentum factor applied to the buffer (0 on its first update). */
  bm: number;
  /** Factor of d added to the buffer (1 - dampening; 1 on the first update). */
  bd: number;
  /** Momentum (Nesterov look-ahead). */
  m: number;
}

/** Updates p[0..n) (and buf, except in 'plain' mode, where it may be null) in place. */
export function sgdUpdateLoop(p: FloatArray, g: FloatArray, buf: FloatArray | null, n: number, s: SgdScalars): void {
  const { lr, wd, bm, bd, m } = s;
  if (s.mode === 'plain' || buf === null) {
    for (let k = 0; k < n; k++) p[k] -= lr * (g[k] + wd * p[k]);
  } else if (s.mode === 'nesterov') {
    for (let k = 0; k < n; k++) {
      const d = g[k] + wd * p[k];
      buf[k] = bm * buf[k] + bd * d;
      p[k] -= lr * (d + m * buf[k]);
    }
  } else {
    for (let k = 0; k < n; k++) {
      buf[k] = bm * buf[k] + bd * (g[k] + wd * p[k]);
      p[k] -= lr * buf[k];
    }
  }
}
