/**
 * nn layers and init: parameter names and shapes, init statistics against the formulas of
 * torch.nn.init, train/eval behaviour (BatchNorm2d, Dropout), exact small pooling cases, scopes
 * recorded on the graph, and errors that name the layer.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AdaptiveAvgPool2d,
  AvgPool2d,
  BatchNorm2d,
  Conv2d,
  Dropout,
  Flatten,
  init,
  Linear,
  MaxPool2d,
  OptionError,
  ReLU,
  Rng,
  Sequential,
  ShapeError,
  Tensor,
} from '../src/index.js';
import { assertClose } from './helpers/assert.js';
import { EXACT, F32_FORWARD } from './helpers/tolerances.js';

/** Relative tolerance on a sample standard deviation of >= 30,000 draws (its own relative sd is < 0.5%). */
const INIT_STD_REL = 0.03;

function stats(a: ArrayLike<number>): { mean: number; std: number; min: number; max: number } {
  let s = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < a.length; i++) {
    s += a[i];
    min = Math.min(min, a[i]);
    max = Math.max(max, a[i]);
  }
  const mean = s / a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i] - mean) ** 2;
  return { mean, std: Math.sqrt(v / a.length), min, max };
}

function assertRel(actual: number, expected: number, rel: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${what}: ${actual} is not within ${rel * 100}% of ${expected}`);
}

test('gains and fans follow torch.nn.init', () => {
  assert.equal(init.calculateGain('relu'), Math.SQRT2);
  assert.equal(init.calculateGain('linear'), 1);
  assertRel(init.calculateGain('leaky_relu', Math.sqrt(5)), Math.sqrt(1 / 3), 1e-12, 'leaky_relu gain at a = sqrt(5)');
  assert.deepEqual(init.computeFans([16, 3, 5, 5]), { fanIn: 75, fanOut: 400 });
  assert.deepEqual(init.computeFans([10, 64]), { fanIn: 64, fanOut: 10 });
  assert.throws(() => init.computeFans([7]), ShapeError);
});

test('kaimingNormal std = sqrt(2 / fan) for fan_in and fan_out, mean 0', () => {
  const t = Tensor.zeros([128, 32, 3, 3]); // 36,864 draws
  for (const mode of ['fan_in', 'fan_out'] as const) {
    const big = Tensor.zeros([128, 32, 3, 3]); // 36,864 draws
    init.kaimingNormal(big, { mode, nonlinearity: 'relu' }, new Rng(7));
    const fan = mode === 'fan_in' ? 32 * 9 : 128 * 9;
    const want = Math.sqrt(2 / fan);
    const s = stats(big.data);
    assertRel(s.std, want, INIT_STD_REL, `kaiming normal ${mode} std`);
    assert.ok(Math.abs(s.mean) < (4 * want) / Math.sqrt(big.size), `kaiming normal ${mode} mean ${s.mean}`);
  }
  init.kaimingNormal(t, { mode: 'fan_in' }, new Rng(1)); // PyTorch default nonlinearity leaky_relu, a = 0: gain sqrt(2)
  assertRel(stats(t.data).std, Math.sqrt(2 / (32 * 9)), INIT_STD_REL, 'kaiming normal default std');
});

test('kaimingUniform bound = gain * sqrt(3 / fan); a = sqrt(5) gives 1/sqrt(fan_in)', () => {
  const t = Tensor.zeros([256, 16, 3, 3]);
  init.kaimingUniform(t, { a: Math.sqrt(5) }, new Rng(3));
  const bound = 1 / Math.sqrt(16 * 9);
  const s = stats(t.data);
  assert.ok(s.min >= -bound && s.max <= bound, `values must lie in [-${bound}, ${bound}], got [${s.min}, ${s.max}]`);
  assert.ok(s.max > 0.99 * bound && s.min < -0.99 * bound, 'the draws should fill the interval');
  assertRel(s.std, bound / Math.sqrt(3), INIT_STD_REL, 'uniform std');
  init.kaimingUniform(t, { mode: 'fan_out', nonlinearity: 'relu' }, new Rng(3));
  assertRel(stats(t.data).max, Math.SQRT2 * Math.sqrt(3 / (256 * 9)), 0.01, 'kaiming uniform relu fan_out bound');
});

test('Conv2d and Linear: PyTorch names, shapes, default init within 1/sqrt(fan_in), seeded', () => {
  const conv = new Conv2d(3, 8, 3, { padding: 1, rng: new Rng(5) });
  assert.deepEqual(conv.namedParameters().map(([n, p]) => [n, [...p.shape]]), [['weight', [8, 3, 3, 3]], ['bias', [8]]]);
  const bound = 1 / Math.sqrt(27);
  for (const [n, p] of conv.namedParameters()) {
    const s = stats(p.data);
    assert.ok(s.min >= -bound && s.max <= bound, `conv ${n} outside +-1/sqrt(fan_in)`);
    assert.ok(p.requiresGrad, `${n} must require grad`);
  }
  const again = new Conv2d(3, 8, 3, { padding: 1, rng: new Rng(5) });
  assertClose(again.weight.data, conv.weight.data, EXACT, 'same seed, same weights');
  const other = new Conv2d(3, 8, 3, { padding: 1, rng: new Rng(6) });
  assert.notDeepEqual([...other.weight.data], [...conv.weight.data], 'different seeds give different weights');

  const noBias = new Conv2d(3, 8, [3, 1], { bias: false, rng: new Rng(5), init: 'kaiming-fan-out' });
  assert.deepEqual(noBias.namedParameters().map(([n]) => n), ['weight']);
  assert.deepEqual([...noBias.weight.shape], [8, 3, 3, 1]);

  const fc = new Linear(64, 10, { rng: new Rng(1) });
  assert.deepEqual(fc.namedParameters().map(([n, p]) => [n, [...p.shape]]), [['weight', [10, 64]], ['bias', [10]]]);
  assert.deepEqual([...fc.call(Tensor.zeros([2, 64])).shape], [2, 10]);
  assertClose(fc.call(Tensor.zeros([2, 64])).data, [...fc.bias!.data, ...fc.bias!.data], F32_FORWARD, 'linear of zeros is the bias');
});

test('bad layer arguments give OptionError naming the layer and argument', () => {
  assert.throws(() => new Conv2d(0, 8, 3, { rng: new Rng(0) }), (e: Error) => e instanceof OptionError && /Conv2d: inChannels/.test(e.message));
  assert.throws(() => new Conv2d(3, 8, 3, { stride: 0, rng: new Rng(0) }), /Conv2d: stride/);
  assert.throws(() => new Linear(4, -1, { rng: new Rng(0) }), /Linear: outFeatures/);
  assert.throws(() => new BatchNorm2d(4, { momentum: 2 }), /BatchNorm2d: momentum/);
  assert.throws(() => new Dropout(1, { rng: new Rng(0) }), (e: Error) => e instanceof OptionError && /Dropout: p/.test(e.message));
  assert.throws(() => new AdaptiveAvgPool2d(0), /AdaptiveAvgPool2d.*outputSize/);
  assert.throws(() => new MaxPool2d(2, { padding: 2 }), /MaxPool2d: padding/);
});

test('BatchNorm2d: names, train forward counts batches and updates running stats, eval uses them', () => {
  const bn = new BatchNorm2d(2);
  assert.deepEqual([...bn.stateDict().keys()], ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
  assert.deepEqual([...bn.numBatchesTracked.shape], []);
  // Channel 0 holds 1..4, channel 1 holds 10, 12, 10, 12 (N = 2, H = 1, W = 2).
  const x = Tensor.from([1, 2, 10, 12, 3, 4, 10, 12], [2, 2, 1, 2]);
  const y = bn.call(x);
  assert.equal(bn.numBatchesTracked.item(), 1);
  // Channel 0: mean 2.5, biased var 1.25, unbiased 5/3; channel 1: mean 11, biased var 1, unbiased 4/3.
  assertClose(bn.runningMean.data, [0.25, 1.1], F32_FORWARD, 'running_mean after one batch');
  assertClose(bn.runningVar.data, [0.9 + 0.1 * (5 / 3), 0.9 + 0.1 * (4 / 3)], F32_FORWARD, 'running_var after one batch');
  const i0 = 1 / Math.sqrt(1.25 + 1e-5);
  const i1 = 1 / Math.sqrt(1 + 1e-5);
  assertClose(y.data, [-1.5 * i0, -0.5 * i0, -i1, i1, 0.5 * i0, 1.5 * i0, -i1, i1], F32_FORWARD, 'batch-normalised output');
  bn.call(x);
  assert.equal(bn.numBatchesTracked.item(), 2);

  bn.eval();
  assert.equal(bn.training, false);
  const mean = [...bn.runningMean.data];
  const vr = [...bn.runningVar.data];
  const ye = bn.call(x);
  assert.equal(bn.numBatchesTracked.item(), 2, 'eval forwards are not counted');
  assertClose(bn.runningMean.data, mean, EXACT, 'eval leaves running_mean alone');
  const want = [...x.data].map((v, i) => {
    const c = Math.floor(i / 2) % 2;
    return (v - mean[c]) / Math.sqrt(vr[c] + 1e-5);
  });
  assertClose(ye.data, want, F32_FORWARD, 'eval output from running statistics');
  assert.throws(() => bn.call(Tensor.zeros([2, 3, 2, 2])), ShapeError);
});

test('Dropout: identity in eval; in training zeroes about p and scales by 1/(1-p); fresh mask per forward, seeded', () => {
  const x = Tensor.full([4, 8, 16, 16], 1);
  const drop = new Dropout(0.25, { rng: new Rng(9) });
  const y1 = drop.call(x);
  const y2 = drop.call(x);
  let zeros = 0;
  for (const v of y1.data) {
    if (v === 0) zeros++;
    else assert.ok(Math.abs(v - 1 / 0.75) < 1e-6, `kept value ${v} should be 1/(1-p)`);
  }
  const frac = zeros / x.size;
  assert.ok(Math.abs(frac - 0.25) < 0.02, `dropped fraction ${frac} should be near 0.25`);
  assert.notDeepEqual([...y1.data], [...y2.data], 'each forward draws a new mask');
  const same = new Dropout(0.25, { rng: new Rng(9) });
  assertClose(same.call(x).data, y1.data, EXACT, 'same seed, same first mask');
  drop.eval();
  assert.equal(drop.call(x), x, 'eval dropout returns its input');
});

test('pools, Flatten and Sequential: exact small cases and child names', () => {
  const x = Tensor.from(Array.from({ length: 16 }, (_, i) => i + 1), [1, 1, 4, 4]);
  assertClose(new MaxPool2d(2).call(x).data, [6, 8, 14, 16], EXACT, 'max pool 2x2');
  assertClose(new AvgPool2d(2).call(x).data, [3.5, 5.5, 11.5, 13.5], EXACT, 'avg pool 2x2');
  assertClose(new MaxPool2d(3, { stride: 1, padding: 1 }).call(x).data.slice(0, 4), [6, 7, 8, 8], EXACT, 'max pool 3x3 s1 p1, first row');
  const gap = new AdaptiveAvgPool2d(1).call(x);
  assert.deepEqual([...gap.shape], [1, 1, 1, 1]);
  assertClose(gap.data, [8.5], EXACT, 'global average');
  assert.deepEqual([...new Flatten().call(Tensor.zeros([2, 3, 4, 5])).shape], [2, 60]);
  assert.deepEqual([...new Flatten(2).call(Tensor.zeros([2, 3, 4, 5])).shape], [2, 3, 20]);

  const rng = new Rng(2);
  const seq = new Sequential(new Conv2d(1, 2, 1, { bias: false, rng }), new BatchNorm2d(2), new ReLU());
  assert.equal(seq.length, 3);
  assert.deepEqual([...seq.stateDict().keys()], ['0.weight', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked']);
  const y = seq.call(x);
  assert.ok([...y.data].every((v) => v >= 0), 'ReLU output is non-negative');
});

test('train()/eval() switch every submodule', () => {
  const rng = new Rng(2);
  const inner = new Sequential(new BatchNorm2d(2), new Dropout(0.5, { rng }));
  const outer = new Sequential(new Conv2d(2, 2, 1, { rng }), inner);
  outer.eval();
  assert.ok(outer.namedModules().every(([, m]) => !m.training), 'eval() reaches every module');
  outer.train();
  assert.ok(outer.namedModules().every(([, m]) => m.training), 'train() reaches every module');
  inner.eval();
  assert.equal(outer.training, true);
  assert.equal(inner.at(0).training, false);
});

test('ops record the module path as their scope; shape errors name the layer', () => {
  const rng = new Rng(4);
  const head = new Sequential(new Flatten(), new Linear(3, 4, { rng }));
  const net = new Sequential(new Conv2d(1, 3, 3, { padding: 1, rng }), new AdaptiveAvgPool2d(1), head);
  const y = net.call(Tensor.zeros([2, 1, 5, 5]));
  assert.equal(y.gradFn?.scope, '2.1', 'the linear op runs in scope 2.1');
  assert.equal(y.gradFn?.op, 'linear');
  assert.throws(
    () => net.call(Tensor.zeros([2, 2, 5, 5])),
    (e: Error) => e instanceof ShapeError && /conv2d \(0\)/.test(e.message) && /2 channels/.test(e.message),
  );
  assert.throws(() => head.call(Tensor.zeros([2, 3, 5])), (e: Error) => e instanceof ShapeError && /linear/.test(e.message) && /15 features/.test(e.message));
});

test('loadStateDict copies by name and rejects missing or mis-shaped entries', () => {
  const a = new Sequential(new Conv2d(2, 4, 3, { rng: new Rng(1) }), new BatchNorm2d(4));
  const b = new Sequential(new Conv2d(2, 4, 3, { rng: new Rng(2) }), new BatchNorm2d(4));
  a.call(Tensor.randn([2, 2, 5, 5], new Rng(3)));
  b.loadStateDict(a.stateDict());
  for (const [k, t] of a.stateDict()) assertClose(b.stateDict().get(k)!.data, t.data, EXACT, k);
  const partial = new Map(a.stateDict());
  partial.delete('1.running_var');
  assert.throws(() => b.loadStateDict(partial), /1 missing: 1.running_var/);
  const wrong = new Map(a.stateDict());
  wrong.set('0.weight', Tensor.zeros([4, 2, 1, 1]));
  assert.throws(() => b.loadStateDict(wrong), /'0.weight' has shape \[4, 2, 1, 1\]/);
});
