/**
 * Oracle 1: hand-derived cases with small integer inputs whose results are exact in binary
 * floating point, for pooling and batch norm. They run on the reference backend (the spec) and,
 * when the addon is built, on the native backend too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nativeBackend, refBackend } from '../src/index.js';
import type { Kernels, Pool2dDims } from '../src/index.js';
import { assertClose } from './helpers/assert.js';
import { EXACT } from './helpers/tolerances.js';

const backends: Kernels[] = [refBackend()];
const nat = nativeBackend();
if (nat !== null) backends.push(nat);

function pool(H: number, W: number, R: number, S: number, stride: number, pad: number): Pool2dDims {
  const P = Math.floor((H + 2 * pad - R) / stride) + 1, Q = Math.floor((W + 2 * pad - S) / stride) + 1;
  return { N: 1, C: 1, H, W, R, S, P, Q, strideH: stride, strideW: stride, padH: pad, padW: pad };
}
const f32 = (...v: number[]) => Float32Array.from(v);

for (const k of backends) {
  test(`max pool 2x2 stride 2 on 0..15 picks the bottom-right of each block (${k.name})`, () => {
    const d = pool(4, 4, 2, 2, 2, 0);
    const x = Float32Array.from({ length: 16 }, (_, i) => i);
    const y = new Float32Array(4), am = new Int32Array(4), dx = new Float32Array(16).fill(NaN);
    k.maxPool2dForward(x, y, am, d);
    assertClose(y, [5, 7, 13, 15], EXACT, 'y');
    assert.deepEqual(Array.from(am), [5, 7, 13, 15]);
    k.maxPool2dBackward(f32(1, 2, 3, 4), am, dx, d);
    assertClose(dx, [0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4], EXACT, 'dx');
  });

  test(`max pool padding never wins on an all-negative plane (${k.name})`, () => {
    // 3x3 plane -9..-1, window 3, stride 2, padding 1: each window sees a 2x2 corner block.
    const d = pool(3, 3, 3, 3, 2, 1);
    const y = new Float32Array(4), am = new Int32Array(4);
    k.maxPool2dForward(f32(-9, -8, -7, -6, -5, -4, -3, -2, -1), y, am, d);
    assertClose(y, [-5, -4, -2, -1], EXACT, 'y');
    assert.deepEqual(Array.from(am), [4, 5, 7, 8]);
  });

  test(`max pool ties: the first maximum in row-major order wins; overlapping windows accumulate (${k.name})`, () => {
    // [[2, 5, 5], [5, 1, 0]], window 2, stride 1: both windows pick the 5 at index 1.
    const d = pool(2, 3, 2, 2, 1, 0);
    const y = new Float32Array(2), am = new Int32Array(2), dx = new Float32Array(6);
    k.maxPool2dForward(f32(2, 5, 5, 5, 1, 0), y, am, d);
    assertClose(y, [5, 5], EXACT, 'y');
    assert.deepEqual(Array.from(am), [1, 1]);
    k.maxPool2dBackward(f32(10, 20), am, dx, d);
    assertClose(dx, [0, 30, 0, 0, 0, 0], EXACT, 'dx');
  });

  test(`average pool counts padded zeros in the divisor (count_include_pad) (${k.name})`, () => {
    // [[1, 2], [3, 4]], window 2, stride 1, padding 1: 3x3 outputs, every divisor is 4.
    const d = pool(2, 2, 2, 2, 1, 1);
    const y = new Float32Array(9), dx = new Float32Array(4).fill(NaN);
    k.avgPool2dForward(f32(1, 2, 3, 4), y, d);
    assertClose(y, [0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1], EXACT, 'y');
    // dx[h,w] = sum of dy over the 4 windows covering (h, w), divided by 4.
    k.avgPool2dBackward(f32(1, 2, 3, 4, 5, 6, 7, 8, 9), dx, d);
    assertClose(dx, [3, 4, 6, 7], EXACT, 'dx');
  });

  test(`average pool 2x2 stride 2 without padding, and global average pool (${k.name})`, () => {
    const d = pool(2, 4, 2, 2, 2, 0);
    const y = new Float32Array(2), dx = new Float32Array(8);
    k.avgPool2dForward(f32(1, 3, 0, 8, 5, 7, 4, 4), y, d);
    assertClose(y, [4, 4], EXACT, 'y');
    k.avgPool2dBackward(f32(4, -8), dx, d);
    assertClose(dx, [1, 1, -2, -2, 1, 1, -2, -2], EXACT, 'dx');
    const g = new Float32Array(2), gdx = new Float32Array(8);
    k.globalAvgPoolForward(f32(1, 2, 3, 6, -1, -1, -1, -5), g, { N: 2, C: 1, HW: 4 });
    assertClose(g, [3, -2], EXACT, 'global y');
    k.globalAvgPoolBackward(f32(8, -4), gdx, { N: 2, C: 1, HW: 4 });
    assertClose(gdx, [2, 2, 2, 2, -1, -1, -1, -1], EXACT, 'global dx');
  });

  // Batch norm, two channels of m = 5 values: channel 0 = [6, 1, 1, 1, 1] (mean 2, biased var 4,
  // unbiased var 5), channel 1 = [11, 1, 1, 1, 1] (mean 3, var 16, unbiased 20). eps = 0, so
  // 1/std = 0.5 and 0.25; gamma = [10, 20] makes gamma/std = 5 and gamma/std/m = 1 in both.
  // Laid out as N=5, HW=1 (statistics across images) and as N=1, HW=5 (within a plane).
  const layouts = [
    { d: { N: 5, C: 2, HW: 1 }, order: (c: number, i: number) => i * 2 + c },
    { d: { N: 1, C: 2, HW: 5 }, order: (c: number, i: number) => c * 5 + i },
  ];
  const place = (order: (c: number, i: number) => number, ch0: number[], ch1: number[]): Float32Array => {
    const a = new Float32Array(10);
    for (let i = 0; i < 5; i++) {
      a[order(0, i)] = ch0[i];
      a[order(1, i)] = ch1[i];
    }
    return a;
  };
  for (const { d, order } of layouts) {
    test(`batch norm train, running stats, eval and backward, N=${d.N} HW=${d.HW} (${k.name})`, () => {
      const x = place(order, [6, 1, 1, 1, 1], [11, 1, 1, 1, 1]);
      const gamma = f32(10, 20), beta = f32(1, -1);
      const y = new Float32Array(10), mean = new Float32Array(2), invStd = new Float32Array(2);
      const rm = f32(0, 0), rv = f32(1, 1);
      k.batchNormForwardTrain(x, gamma, beta, y, mean, invStd, rm, rv, 0.5, 0, d);
      // y = 5 * (x - mean) + beta
      assertClose(y, place(order, [21, -4, -4, -4, -4], [39, -11, -11, -11, -11]), EXACT, 'y');
      assertClose(mean, [2, 3], EXACT, 'saveMean');
      assertClose(invStd, [0.5, 0.25], EXACT, 'saveInvStd');
      // running = 0.5 * running + 0.5 * batch (unbiased variance for runningVar)
      assertClose(rm, [1, 1.5], EXACT, 'runningMean');
      assertClose(rv, [3, 10.5], EXACT, 'runningVar');
      const ye = new Float32Array(10);
      k.batchNormForwardEval(x, gamma, beta, f32(2, 3), f32(4, 16), 0, ye, d);
      assertClose(ye, y, EXACT, 'eval with the batch statistics as running stats');
      // xhat = [2, -0.5, -0.5, -0.5, -0.5] in both channels; dx = 5*dy - sum(dy) - xhat * sum(dy*xhat).
      const dy = place(order, [1, 2, 0, 0, 0], [0, 0, 0, 0, 4]);
      const dx = new Float32Array(10), dgamma = new Float32Array(2), dbeta = new Float32Array(2);
      k.batchNormBackward(dy, x, gamma, mean, invStd, dx, dgamma, dbeta, d);
      assertClose(dbeta, [3, 4], EXACT, 'dbeta');
      assertClose(dgamma, [1, -2], EXACT, 'dgamma');
      assertClose(dx, place(order, [0, 7.5, -2.5, -2.5, -2.5], [0, -5, -5, -5, 15]), EXACT, 'dx');
    });
  }
}
