/**
 * Oracle 3: float64 central finite differences vs autograd, for every op, on the ref backend.
 * Loss = sum(op(inputs) * fixed random weights); see helpers/gradcheck.ts.
 */
import { test } from 'node:test';
import {
  adaptiveAvgPool2d, adaptiveAvgPool2d1, add, avgPool2d, batchNorm2d, conv2d, counterKey, crossEntropy, dropout, flatten, linear,
  maxPool2d, refBackend, relu, reshape, Rng, shortcutPadA, Tensor, withBackend,
} from '../src/index.js';
import { gradcheck, leaf, leafAwayFromZero, leafDistinct } from './helpers/gradcheck.js';

const onRef = (fn: () => void) => () => withBackend(refBackend(), fn);

const convCases = [
  { stride: 1, padding: 0, bias: true },
  { stride: 1, padding: 1, bias: false },
  { stride: 2, padding: 0, bias: false },
  { stride: 2, padding: 1, bias: true },
] as const;

for (const c of convCases) {
  test(`conv2d stride ${c.stride} padding ${c.padding} ${c.bias ? 'with' : 'without'} bias`, onRef(() => {
    const rng = new Rng(10 + c.stride * 2 + c.padding);
    const x = leaf([2, 3, 5, 5], rng);
    const w = leaf([4, 3, 3, 3], rng, 0.5);
    const inputs: Record<string, Tensor> = { x, w };
    const b = c.bias ? leaf([4], rng) : null;
    if (b) inputs.b = b;
    gradcheck('conv2d', () => conv2d(x, w, b, { stride: c.stride, padding: c.padding }), inputs);
  }));
}

test('conv2d with a 3x2 kernel, stride [2, 1], padding [1, 0]', onRef(() => {
  const rng = new Rng(15);
  const x = leaf([1, 2, 6, 5], rng);
  const w = leaf([3, 2, 3, 2], rng, 0.5);
  const b = leaf([3], rng);
  gradcheck('conv2d', () => conv2d(x, w, b, { stride: [2, 1], padding: [1, 0] }), { x, w, b });
}));

test('batchNorm2d training mode (batch statistics)', onRef(() => {
  const rng = new Rng(20);
  const x = leaf([3, 2, 3, 3], rng, 2);
  const gamma = leaf([2], rng);
  const beta = leaf([2], rng);
  const rm = Tensor.zeros([2], 'float64');
  const rv = Tensor.full([2], 1, 'float64');
  gradcheck('batchNorm2d(train)', () => batchNorm2d(x, gamma, beta, rm, rv, { training: true, momentum: 0.1, eps: 1e-5 }), {
    x, gamma, beta,
  });
}));

test('batchNorm2d eval mode (running statistics: an affine map)', onRef(() => {
  const rng = new Rng(21);
  const x = leaf([2, 3, 2, 3], rng);
  const gamma = leaf([3], rng);
  const beta = leaf([3], rng);
  const rm = Tensor.randn([3], rng, 1, 'float64');
  const rv = Tensor.uniform([3], rng, 0.5, 2, 'float64');
  gradcheck('batchNorm2d(eval)', () => batchNorm2d(x, gamma, beta, rm, rv, { training: false, momentum: 0.1, eps: 1e-5 }), {
    x, gamma, beta,
  });
}));

test('relu (inputs kept away from 0)', onRef(() => {
  const x = leafAwayFromZero([2, 3, 4, 4], new Rng(30));
  gradcheck('relu', () => relu(x), { x });
}));

test('maxPool2d 2x2 and 3x3 stride 2 padding 1 (distinct inputs, no ties)', onRef(() => {
  const x = leafDistinct([2, 2, 5, 5], new Rng(40));
  gradcheck('maxPool2d(2)', () => maxPool2d(x, { kernelSize: 2 }), { x });
  gradcheck('maxPool2d(3,2,1)', () => maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }), { x });
}));

test('avgPool2d without and with padding', onRef(() => {
  const x = leaf([2, 2, 5, 5], new Rng(50));
  gradcheck('avgPool2d(2)', () => avgPool2d(x, { kernelSize: 2 }), { x });
  gradcheck('avgPool2d(3,2,1)', () => avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }), { x });
  gradcheck('avgPool2d([3,2],1,[1,1])', () => avgPool2d(x, { kernelSize: [3, 2], stride: 1, padding: [1, 1] }), { x });
}));

test('adaptiveAvgPool2d1', onRef(() => {
  const x = leaf([2, 3, 3, 4], new Rng(60));
  gradcheck('adaptiveAvgPool2d1', () => adaptiveAvgPool2d1(x), { x });
}));

test('linear with and without bias', onRef(() => {
  const rng = new Rng(70);
  const x = leaf([3, 5], rng);
  const w = leaf([4, 5], rng);
  const b = leaf([4], rng);
  gradcheck('linear', () => linear(x, w, b), { x, w, b });
  gradcheck('linear(no bias)', () => linear(x, w, null), { x, w });
}));

test('add, including tensors that feed several consumers (gradient accumulation)', onRef(() => {
  const rng = new Rng(80);
  const a = leaf([2, 3, 4], rng);
  const b = leaf([2, 3, 4], rng);
  gradcheck('add', () => add(a, b), { a, b });
  // A leaf used as both inputs of one node.
  gradcheck('add(a, a)', () => add(a, a), { a });
  // A non-leaf with three consumers: its pending gradient is accumulated by the driver.
  const x = leafAwayFromZero([1, 2, 4, 4], rng);
  const w = leaf([2, 2, 3, 3], rng, 0.5);
  gradcheck('h + relu(h) + avgPool(h)', () => {
    const h = conv2d(x, w, null, { padding: 1 });
    return add(add(h, relu(h)), avgPool2d(h, { kernelSize: 3, stride: 1, padding: 1 }));
  }, { x, w });
}));

test('crossEntropy (mean over the batch)', onRef(() => {
  const rng = new Rng(90);
  const logits = leaf([4, 5], rng, 2);
  const labels = Int32Array.from([0, 4, 2, 2]);
  gradcheck('crossEntropy', () => crossEntropy(logits, labels), { logits });
}));

test('reshape and flatten', onRef(() => {
  const rng = new Rng(100);
  const x = leaf([2, 3, 2, 2], rng);
  const w = leaf([3, 12], rng);
  gradcheck('reshape', () => reshape(x, [3, -1, 2]), { x });
  gradcheck('flatten -> linear', () => linear(flatten(x), w, null), { x, w });
  gradcheck('flatten(startDim 2)', () => flatten(x, 2), { x });
}));

test('shortcutPadA (stride 2 with channel padding, stride 1 odd padding)', onRef(() => {
  const rng = new Rng(110);
  const x = leaf([2, 3, 5, 5], rng);
  gradcheck('shortcutPadA(7, 2)', () => shortcutPadA(x, 7, 2), { x });
  gradcheck('shortcutPadA(4, 1)', () => shortcutPadA(x, 4, 1), { x });
}));

test('adaptiveAvgPool2d: uneven and overlapping windows, enlarging, and the divisible (avgPool) path', onRef(() => {
  const rng = new Rng(115);
  const x = leaf([2, 3, 5, 7], rng);
  gradcheck('adaptiveAvgPool2d([3, 4])', () => adaptiveAvgPool2d(x, [3, 4]), { x });
  gradcheck('adaptiveAvgPool2d([6, 9])', () => adaptiveAvgPool2d(x, [6, 9]), { x });
  const y = leaf([1, 2, 6, 4], rng);
  gradcheck('adaptiveAvgPool2d([3, 2])', () => adaptiveAvgPool2d(y, [3, 2]), { y });
}));

test('dropout with a fixed key (deterministic mask)', onRef(() => {
  const x = leaf([2, 3, 4, 4], new Rng(120));
  const key = counterKey(7, 1);
  gradcheck('dropout(p=0.3)', () => dropout(x, { p: 0.3, training: true, key, offset: 5 }), { x });
  gradcheck('dropout(eval)', () => dropout(x, { p: 0.3, training: false, key }), { x });
}));

test('composed network: conv -> bn -> relu -> maxPool -> flatten -> linear -> crossEntropy', onRef(() => {
  const rng = new Rng(130);
  const x = leaf([2, 2, 6, 6], rng);
  // No conv bias: batch norm in training mode cancels it (its gradient is exactly 0).
  const w = leaf([3, 2, 3, 3], rng, 0.5);
  const gamma = leaf([3], rng);
  const beta = leaf([3], rng);
  const rm = Tensor.zeros([3], 'float64');
  const rv = Tensor.full([3], 1, 'float64');
  const fw = leaf([4, 27], rng, 0.5);
  const fb = leaf([4], rng);
  const labels = Int32Array.from([1, 3]);
  gradcheck('composed', () => {
    const h = conv2d(x, w, null, { padding: 1 });
    const n = batchNorm2d(h, gamma, beta, rm, rv, { training: true, momentum: 0.1, eps: 1e-5 });
    const p = maxPool2d(relu(n), { kernelSize: 2 });
    return crossEntropy(linear(flatten(p), fw, fb), labels);
  }, { x, w, gamma, beta, fw, fb });
}));
