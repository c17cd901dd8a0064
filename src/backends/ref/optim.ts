/** Reference optimizer kernels: the specification loops of src/backend/sgd_update.ts. */
import type { FloatArray } from '../../core/dtype.js';
import { sgdUpdateLoop, type SgdScalars } from '../../backend/sgd_update.js';

export function sgdUpdate(p: FloatArray, g: FloatArray, buf: FloatArray | null, n: number, s: SgdScalars): void {
  sgdUpdateLoop(p, g, buf, n, s);
}
