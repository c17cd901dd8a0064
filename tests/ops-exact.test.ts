/**
 * Oracle 1: hand-derivable cases with small integer inputs, forward and backward, exact on every
 * available backend (ref always; native when the addon loads). Values are chosen so float32 sums
 * and the divisors (powers of two) are exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  adaptiveAvgPool2d1, add, avgPool2d, backward, conv2d, crossEntropy, linear, maxPool2d, nativeBackend, refBackend, relu,
  shortcutPadA, Tensor, withBackend, type Kernels, type Shape,
} from '../src/index.js';
import { assertClose } from './helpers/assert.js';
import { EXACT } from './helpers/tolerances.js';

const backends: Kernels[] = [refBackend()];
const native = nativeBackend();
if (native) backends.push(native);

function leaf(values: number[], shape: Shape): Tensor {
  const t = Tensor.from(values, shape);
  t.requiresGrad = true;
  return t;
}
const range = (n: number, from = 1): number[] => Array.from({ length: n }, (_, i) => i + from);
function exact(t: Tensor | null, expected: number[], what: string): void {
  assert.ok(t, `${what}: missing`);
  assertClose(t.data, expected, EXACT, what);
}

for (const k of backends) {
  const run = (fn: () => void) => () => withBackend(k, fn);

  test(`conv2d 1x1x3x3 input, 1x1x2x2 kernel, bias (${k.name})`, run(() => {
    const x = leaf(range(9), [1, 1, 3, 3]);
    const w = leaf([1, 2, 3, 4], [1, 1, 2, 2]);
    const b = leaf([1], [1]);
    const y = conv2d(x, w, b);
    assert.deepEqual(y.shape, [1, 1, 2, 2]);
    exact(y, [38, 48, 68, 78], 'y');
    backward(y);
    exact(x.grad, [1, 3, 2, 4, 10, 6, 3, 7, 4], 'dx');
    exact(w.grad, [12, 16, 24, 28], 'dw');
    exact(b.grad, [4], 'dbias');
  }));

  test(`conv2d stride 2 padding 1 (${k.name})`, run(() => {
    const x = leaf(range(9), [1, 1, 3, 3]);
    const w = leaf([1, 2, 3, 4], [1, 1, 2, 2]);
    const y = conv2d(x, w, null, { stride: 2, padding: 1 });
    exact(y, [4, 18, 36, 77], 'y');
    backward(y, { grad: Tensor.from([1, 2, 3, 4], [1, 1, 2, 2]) });
    exact(x.grad, [4, 6, 8, 6, 4, 8, 12, 12, 16], 'dx');
    exact(w.grad, [20, 36, 36, 64], 'dw');
  }));

  test(`conv2d 1x1 mixing two channels (${k.name})`, run(() => {
    const x = leaf(range(8), [1, 2, 2, 2]);
    const w = leaf([0, 1, 1, -1], [2, 2, 1, 1]); // k0 = ch1, k1 = ch0 - ch1
    const y = conv2d(x, w, null);
    exact(y, [5, 6, 7, 8, -4, -4, -4, -4], 'y');
    backward(y);
    exact(x.grad, [1, 1, 1, 1, 0, 0, 0, 0], 'dx');
    exact(w.grad, [10, 26, 10, 26], 'dw');
  }));

  test(`maxPool2d 2x2, and padding never wins (${k.name})`, run(() => {
    const x = leaf([1, 5, 2, 0, 3, 4, 8, 7, 9, 6, 1, 2, 0, 1, 3, 11], [1, 1, 4, 4]);
    const y = maxPool2d(x, { kernelSize: 2 });
    exact(y, [5, 8, 9, 11], 'y');
    backward(y, { grad: Tensor.from([1, 2, 3, 4], y.shape) });
    exact(x.grad, [0, 1, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 0, 0, 0, 4], 'dx');

    const neg = leaf(range(9).map((v) => -v), [1, 1, 3, 3]);
    const yn = maxPool2d(neg, { kernelSize: 2, stride: 1, padding: 1 });
    exact(yn, [-1, -1, -2, -3, -1, -1, -2, -3, -4, -4, -5, -6, -7, -7, -8, -9], 'y (negative, padded)');
    backward(yn);
    exact(neg.grad, [4, 2, 2, 2, 1, 1, 2, 1, 1], 'dx (negative, padded)');
  }));

  test(`avgPool2d 2x2, and with padding counted in the divisor (${k.name})`, run(() => {
    const x = leaf(range(16), [1, 1, 4, 4]);
    const y = avgPool2d(x, { kernelSize: 2 });
    exact(y, [3.5, 5.5, 11.5, 13.5], 'y');
    backward(y, { grad: Tensor.from([4, 8, 12, 16], y.shape) });
    exact(x.grad, [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], 'dx');

    const z = leaf(range(9), [1, 1, 3, 3]);
    const yz = avgPool2d(z, { kernelSize: 2, stride: 1, padding: 1 });
    exact(yz, [0.25, 0.75, 1.25, 0.75, 1.25, 3, 4, 2.25, 2.75, 6, 7, 3.75, 1.75, 3.75, 4.25, 2.25], 'y (padded)');
    backward(yz);
    exact(z.grad, new Array<number>(9).fill(1), 'dx (padded)');
  }));

  test(`adaptiveAvgPool2d1 (${k.name})`, run(() => {
    const x = leaf(range(8), [1, 2, 2, 2]);
    const y = adaptiveAvgPool2d1(x);
    assert.deepEqual(y.shape, [1, 2, 1, 1]);
    exact(y, [2.5, 6.5], 'y');
    backward(y, { grad: Tensor.from([4, 8], y.shape) });
    exact(x.grad, [1, 1, 1, 1, 2, 2, 2, 2], 'dx');
  }));

  test(`linear (${k.name})`, run(() => {
    const x = leaf(range(6), [2, 3]);
    const w = leaf([1, 0, -1, 2, 1, 0], [2, 3]);
    const b = leaf([10, 20], [2]);
    const y = linear(x, w, b);
    exact(y, [8, 24, 8, 33], 'y');
    backward(y, { grad: Tensor.from([1, 2, 3, 4], [2, 2]) });
    exact(x.grad, [5, 2, -1, 11, 4, -3], 'dx');
    exact(w.grad, [13, 17, 21, 18, 24, 30], 'dw');
    exact(b.grad, [4, 6], 'dbias');
  }));

  test(`crossEntropy of uniform logits is log(classes) (${k.name})`, run(() => {
    const logits = leaf(new Array<number>(8).fill(0), [2, 4]);
    const loss = crossEntropy(logits, Int32Array.from([1, 3]));
    assert.deepEqual(loss.shape, []);
    assert.equal(loss.item(), Math.fround(Math.log(4)));
    backward(loss);
    exact(logits.grad, [0.125, -0.375, 0.125, 0.125, 0.125, 0.125, 0.125, -0.375], 'dlogits');
  }));

  test(`shortcutPadA subsamples and pads channels (${k.name})`, run(() => {
    const x = leaf(range(32), [1, 2, 4, 4]);
    const y = shortcutPadA(x, 4, 2);
    assert.deepEqual(y.shape, [1, 4, 2, 2]);
    exact(y, [0, 0, 0, 0, 1, 3, 9, 11, 17, 19, 25, 27, 0, 0, 0, 0], 'y');
    backward(y, { grad: Tensor.from(range(16), y.shape) });
    const dx = new Array<number>(32).fill(0);
    [[0, 5], [2, 6], [8, 7], [10, 8], [16, 9], [18, 10], [24, 11], [26, 12]].forEach(([i, v]) => (dx[i] = v));
    exact(x.grad, dx, 'dx');

    // Odd sizes: ceil(3 / 2) = 2 rows and columns; 3 - 1 = 2 new channels, 1 before and 1 after.
    const o = shortcutPadA(Tensor.from(range(9), [1, 1, 3, 3]), 3, 2);
    assert.deepEqual(o.shape, [1, 3, 2, 2]);
    exact(o, [0, 0, 0, 0, 1, 3, 7, 9, 0, 0, 0, 0], 'y (odd)');
  }));

  test(`relu and add (${k.name})`, run(() => {
    const a = leaf([-2, 0, 3, -1], [4]);
    const b = leaf([1, 1, 1, 2], [4]);
    const y = add(relu(a), b);
    exact(y, [1, 1, 4, 2], 'y');
    backward(y, { grad: Tensor.from([1, 2, 3, 4], [4]) });
    exact(a.grad, [0, 0, 3, 0], 'da (relu gradient is 0 at 0)');
    exact(b.grad, [1, 2, 3, 4], 'db');
  }));
}
