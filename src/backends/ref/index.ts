/**
 * The reference backend: pure TypeScript loops, the executable specification every faster kernel
 * is tested against. Accepts float32 and float64 arrays (float64 for gradient checks).
 */
import type { Kernels } from '../../backend/kernels.js';
import * as batchnorm from './batchnorm.js';
import * as conv from './conv.js';
import * as eltwise from './eltwise.js';
import * as linear from './linear.js';
import * as loss from './loss.js';
import * as pool from './pool.js';
import * as prune from './prune.js';
import * as optim from './optim.js';
import * as shortcut from './shortcut.js';
import * as sparseConv from './sparse_conv.js';
import * as sparseLinear from './sparse_linear.js';

/** Creates the reference backend (stateless; single-threaded). */
export function createRefBackend(): Kernels {
  return {
    name: 'ref',
    threads: () => 1,
    setThreads: () => {},
    ...conv,
    ...batchnorm,
    ...eltwise,
    ...pool,
    ...linear,
    ...loss,
    ...prune,
    ...optim,
    ...shortcut,
    ...sparseConv,
    ...sparseLinear,
  };
}
