/**
 * The pruning policy on the autograd seam: a resnet20 training step (batch 8) with pruning runs
 * and records stats for every conv layer; excludes (first, shortcut, fc); warm-up; p = 0 gives
 * exactly the dense gradients; same seed same gradients; the summary weights density by MACs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backward, conv2d, createModel, crossEntropy, flatten, kernels, Rng, Tensor } from '../src/index.js';
import { setGradientTransform } from '../src/autograd/backward.js';
import { PrunedGradient } from '../src/autograd/pruned.js';
import type { Module } from '../src/index.js';
import { createPruningPolicy, drawStream, STEP_WORDS, summarizePruning, type PruningOptions } from '../src/sparse/index.js';
import { assertClose } from './helpers/assert.js';
import { F32_BACKWARD } from './helpers/tolerances.js';

// One kernel thread: these tests check behaviour, not speed, and a 2-thread OpenMP region stalls
// for a scheduler slice whenever another process holds a core (the machine is shared).
kernels().setThreads(1);

function batch(seed: number): { x: Tensor; labels: Int32Array } {
  const rng = new Rng(seed);
  const x = Tensor.randn([8, 3, 32, 32], rng);
  const labels = Int32Array.from({ length: 8 }, () => rng.int(10));
  return { x, labels };
}

/**
 * `steps` forward/backward passes with `opts` pruning (none: dense), numbered from `first`;
 * returns the model and the policy.
 */
function step(opts: PruningOptions | null, shortcut: 'A' | 'B' = 'A', steps = 1, first = 0) {
  const model: Module = createModel('resnet20', { numClasses: 10, inChannels: 3, seed: 0, shortcut });
  const policy = opts ? createPruningPolicy(opts) : null;
  const uninstall = policy?.install();
  try {
    for (let s = 0; s < steps; s++) {
      const { x, labels } = batch(s);
      for (const p of model.parameters()) p.grad = null;
      policy?.beginStep(first + s);
      backward(crossEntropy(model.call(x), labels));
    }
  } finally {
    uninstall?.();
  }
  return { model, policy };
}

function grads(m: Module): Float32Array[] {
  return m.parameters().map((p) => Float32Array.from(p.grad!.data));
}

test('resnet20 step with normal p = 0.9: every conv but the 3-channel stem recorded, fc dense by default', () => {
  const { policy } = step({ policy: 'normal', rate: 0.9, seed: 1 });
  const layers = policy!.layers();
  const convs = layers.filter((l) => l.op === 'conv2d');
  assert.equal(convs.length, 19, 'resnet20 (shortcut A) has 19 convs');
  const recs = policy!.takeRecords();
  // conv1 (3x3x3 per output) has sparse crossover 0: pruning it would only cost time.
  assert.deepEqual(new Set(recs.map((r) => r.layer)), new Set(convs.filter((l) => l.name !== 'conv1').map((l) => l.name)));
  assert.deepEqual(convs.filter((l) => l.excluded).map((l) => [l.name, l.excludedBy]), [['conv1', 'no-sparse-gain']]);
  assert.ok(layers.some((l) => l.op === 'linear' && l.excluded && l.excludedBy === 'option'), 'fc seen and excluded');
  // With the sparse kernels off, nothing is gained anywhere, so the stem is pruned like the rest.
  const off = step({ policy: 'normal', rate: 0.9, seed: 1, sparseKernels: false }).policy!;
  assert.ok(off.takeRecords().some((r) => r.layer === 'conv1'), 'stem pruned when sparseKernels is false');
  for (const r of recs) {
    assert.ok(r.density > 0.05 && r.density < 0.9, `${r.layer} density ${r.density}`);
    assert.ok(r.tau !== null && r.tau > 0);
    assert.ok(r.relError !== null && r.relError > 0 && Number.isFinite(r.relError));
    assert.equal(r.naturalZeros !== null && r.naturalZeros < 1, true);
    assert.ok(r.backwardMs !== null && r.backwardMs >= 0, `${r.layer}: backward time reported`);
    assert.equal(typeof r.sparse, 'boolean', 'the backward reported which kernels ran');
  }
  const s = summarizePruning(layers, recs);
  assert.ok(s.prunedDensity < 1 && s.overallDensity > s.prunedDensity, JSON.stringify(s).slice(0, 200));
  const w = s.layers.reduce((a, l) => a + l.macs, 0);
  const d = s.layers.reduce((a, l) => a + l.macs * l.density, 0) / w;
  assert.ok(Math.abs(d - s.overallDensity) < 1e-12);
});

test('excludes: first = conv1, shortcut = shortcut.0 convs (option B), none prunes fc too', () => {
  const { policy } = step({ policy: 'deterministic', rate: 0.5, exclude: ['first', 'shortcut'] }, 'B');
  const excluded = policy!.layers().filter((l) => l.excluded).map((l) => l.name).sort();
  assert.deepEqual(excluded, ['conv1', 'layer2.0.shortcut.0', 'layer3.0.shortcut.0']);
  const recs = policy!.takeRecords();
  assert.ok(recs.some((r) => r.layer === 'fc'), 'fc pruned when not excluded');
  assert.ok(!recs.some((r) => excluded.includes(r.layer)));
});

test('p = 0 gives exactly the dense gradients; same seed gives the same gradients', () => {
  const dense = grads(step(null).model);
  const p0 = grads(step({ policy: 'normal', rate: 0, exclude: [] }).model);
  assert.deepEqual(p0, dense);
  const a = grads(step({ policy: 'normal', rate: 0.9, seed: 5 }).model);
  const b = grads(step({ policy: 'normal', rate: 0.9, seed: 5 }).model);
  const c = grads(step({ policy: 'normal', rate: 0.9, seed: 6 }).model);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.notDeepEqual(a, dense);
});

test('warm-up runs dense, then pruning starts; schedule values are validated', () => {
  const { policy } = step({ policy: 'normal', rate: 0.9, warmupSteps: 1, schedule: (s, r) => (s === 1 ? 0.5 : r) }, 'A', 2);
  const recs = policy!.takeRecords();
  assert.ok(recs.length === 18 && recs.every((r) => r.step === 1 && r.rate === 0.5), `${recs.length} records`);
  assert.throws(() => step({ policy: 'normal', rate: 0.9, schedule: () => 1.5 }), /must be in \[0, 1\), got 1.5 \(schedule value at step 0\)/);
});

test('statsEvery: natural zeros and relative error measured on the first pruned step, then every n-th', () => {
  const { policy } = step({ policy: 'normal', rate: 0.9, statsEvery: 2 }, 'A', 3);
  const recs = policy!.takeRecords();
  for (const r of recs) {
    const measured = r.step !== 1;
    assert.equal(r.relError !== null, measured, `step ${r.step}`);
    assert.equal(r.naturalZeros !== null, measured, `step ${r.step}`);
    assert.ok(r.tau !== null && r.density > 0, 'tau and density every step');
  }
  assert.equal(recs.length, 3 * 18);
});

test('native: sparse backward kernels run below the crossover and give the dense kernels\' gradients', { skip: kernels().name !== 'native' ? 'native backend not active' : false }, () => {
  // Exclude the stem in both runs (sparse kernels off would otherwise prune it).
  const opts: PruningOptions = { policy: 'normal', rate: 0.99, seed: 3, exclude: ['first', 'fc'] };
  const sp = step({ ...opts, sparseKernels: true });
  const de = step({ ...opts, sparseKernels: false });
  const rs = sp.policy!.takeRecords();
  const rd = de.policy!.takeRecords();
  assert.ok(rs.some((r) => r.sparse === true), 'some layers ran sparse');
  assert.ok(rd.every((r) => r.sparse === false));
  const frac = summarizePruning(sp.policy!.layers(), rs).layers.filter((l) => !l.excluded).map((l) => l.sparseFraction);
  assert.ok(frac.some((f) => f === 1) && frac.every((f) => f === 0 || f === 1), `one step: ${frac.join(',')}`);
  assert.deepEqual(rs.map((r) => r.density), rd.map((r) => r.density), 'same pruned gradients');
  const a = grads(sp.model), b = grads(de.model);
  for (let i = 0; i < a.length; i++) assertClose(a[i], b[i], F32_BACKWARD, `parameter ${i}`);
});

test('tau cap: lognormal at s = 0.95 capped at the 0.5-quantile of |g| prunes less', () => {
  const free = step({ policy: 'lognormal', rate: 0.95, seed: 2 }).policy!.takeRecords();
  const capped = step({ policy: 'lognormal', rate: 0.95, seed: 2, tauQuantileCap: 0.5 }).policy!.takeRecords();
  assert.equal(free.length, capped.length);
  for (let i = 0; i < free.length; i++) {
    assert.ok(capped[i].tau! < free[i].tau!, `${free[i].layer}: capped tau ${capped[i].tau} vs ${free[i].tau}`);
    assert.ok(capped[i].density > free[i].density);
  }
});

test('compareDense: the dense kernels are timed on the same gradient where sparse ran', { skip: kernels().name !== 'native' ? 'native backend not active' : false }, () => {
  const { policy } = step({ policy: 'normal', rate: 0.99, seed: 3, compareDense: true });
  const recs = policy!.takeRecords();
  assert.ok(recs.some((r) => r.sparse === true));
  for (const r of recs) {
    assert.ok(r.denseMs !== null && r.denseMs > 0, `${r.layer}: denseMs ${r.denseMs}`);
    if (r.sparse === false) assert.equal(r.denseMs, r.backwardMs);
  }
  const s = summarizePruning(policy!.layers(), recs);
  assert.ok(s.layers.filter((l) => !l.excluded).every((l) => l.meanDenseMs !== null));
  const off = step({ policy: 'normal', rate: 0.99, seed: 3 }).policy!.takeRecords();
  assert.ok(off.every((r) => r.denseMs === null));
});

test('pruned-gradient buffers are pooled: reused across steps, no stale values leak into the next step', () => {
  const model: Module = createModel('resnet20', { numClasses: 10, inChannels: 3, seed: 0 });
  const { x, labels } = batch(0);
  const run = (policy: ReturnType<typeof createPruningPolicy>, s: number, seen: Set<unknown>): Float32Array[] => {
    const inner = policy.transform;
    const uninstall = policy.install();
    const spy = (g: Tensor, n: Parameters<typeof inner>[1]): Tensor => {
      const out = inner(g, n);
      if (out !== g) seen.add(out.data);
      return out;
    };
    const prev = setGradientTransform(spy);
    try {
      for (const p of model.parameters()) p.grad = null;
      policy.beginStep(s);
      backward(crossEntropy(model.call(x), labels));
    } finally {
      setGradientTransform(prev);
      uninstall();
    }
    return grads(model);
  };
  const pooled = createPruningPolicy({ policy: 'normal', rate: 0.9, seed: 4 });
  const first = new Set<unknown>(), second = new Set<unknown>();
  run(pooled, 0, first);
  const again = run(pooled, 1, second);
  // 18 pruned convs of three gradient sizes: a buffer per size, reused within and across steps.
  assert.ok(first.size <= 3, `step 0 used ${first.size} buffers`);
  assert.ok([...second].every((b) => first.has(b)), 'step 1 allocated new buffers');
  // A fresh policy at step 1 (fresh buffers) gives the same gradients as the pooled one.
  const fresh = run(createPruningPolicy({ policy: 'normal', rate: 0.9, seed: 4 }), 1, new Set());
  assert.deepEqual(again, fresh);
});

test('compare mode alternates which side is timed first, per layer and per step', () => {
  const model: Module = createModel('resnet20', { numClasses: 10, inChannels: 3, seed: 0 });
  const { x, labels } = batch(0);
  const policy = createPruningPolicy({ policy: 'normal', rate: 0.9, seed: 4, compareDense: true });
  const seen: { step: number; layer: string; denseFirst: boolean }[] = [];
  const prev = setGradientTransform((g, n) => {
    const out = policy.transform(g, n);
    if (out instanceof PrunedGradient) seen.push({ step: policy.step, layer: n.scope, denseFirst: out.denseFirst });
    return out;
  });
  try {
    for (const s of [0, 1]) {
      for (const p of model.parameters()) p.grad = null;
      policy.beginStep(s);
      backward(crossEntropy(model.call(x), labels));
    }
  } finally {
    setGradientTransform(prev);
  }
  const at = (s: number) => seen.filter((r) => r.step === s);
  assert.equal(at(0).length, 18);
  assert.ok(at(0).some((r) => r.denseFirst) && at(0).some((r) => !r.denseFirst), 'both orders within a step');
  for (const r of at(0)) assert.equal(at(1).find((q) => q.layer === r.layer)!.denseFirst, !r.denseFirst, `${r.layer} flips between steps`);
});

test('layers are their weights: two convs outside any module are two layers, each pruned with its own stream', () => {
  const rng = new Rng(31);
  const w1 = new Tensor(Tensor.randn([8, 8, 3, 3], rng, 0.2).data, [8, 8, 3, 3], true);
  const w2 = new Tensor(Tensor.randn([8, 8, 3, 3], rng, 0.2).data, [8, 8, 3, 3], true);
  const x = Tensor.randn([2, 8, 6, 6], rng);
  const labels = Int32Array.from([1, 3]);
  const policy = createPruningPolicy({ policy: 'normal', rate: 0.9, seed: 2 });
  const uninstall = policy.install();
  try {
    for (let s = 0; s < 2; s++) {
      w1.grad = null;
      w2.grad = null;
      policy.beginStep(s);
      const y = conv2d(conv2d(x, w1, null, { padding: 1 }), w2, null, { padding: 1 });
      backward(crossEntropy(flatten(y), labels));
    }
  } finally {
    uninstall();
  }
  const layers = policy.layers();
  assert.deepEqual(layers.map((l) => l.name).sort(), ['(conv2d)', '(conv2d)#2']);
  assert.deepEqual(new Set(layers.map((l) => l.index)), new Set([0, 1]), 'distinct layer indices, so distinct RNG keys');
  const recs = policy.takeRecords();
  assert.equal(recs.length, 4, 'both convs pruned in both steps');
  assert.equal(new Set(recs.map((r) => r.layer)).size, 2);
});

test('the step selects the RNG stream: exact below 2^21 steps, folded into the key above (no overflow of 2^53)', () => {
  assert.deepEqual(drawStream(12345, 0), { key: 12345, offset: 0 });
  assert.deepEqual(drawStream(12345, 7), { key: 12345, offset: 7 * 4294967296 }, 'steps below 2^21: the streams they always had');
  const far = drawStream(12345, STEP_WORDS + 7);
  assert.equal(far.offset, 7 * 4294967296);
  assert.notEqual(far.key, 12345, 'a later step block draws under another key');
  assert.notDeepEqual(drawStream(12345, 2 * STEP_WORDS + 7), far);
  assert.ok(drawStream(1, 2 ** 40).offset + 2 ** 32 <= Number.MAX_SAFE_INTEGER);
  // A pruned step far into training runs (the native glue rejects offsets above 2^53).
  const { policy } = step({ policy: 'normal', rate: 0.9, seed: 1 }, 'A', 1, 3 * STEP_WORDS + 1);
  assert.ok(policy!.takeRecords().length > 0);
});

test('same seed, same pruning at 1 and 2 threads: tau, density and non-zeros of every layer identical', { skip: kernels().name !== 'native' ? 'native backend not active' : false }, () => {
  const k = kernels();
  const run = (threads: number) => {
    k.setThreads(threads);
    assert.equal(k.threads(), threads, 'the thread count took effect');
    const { model, policy } = step({ policy: 'normal', rate: 0.9, seed: 5 }, 'A', 2);
    return { recs: policy!.takeRecords().map((r) => [r.step, r.layer, r.tau, r.density, r.naturalZeros, r.relError]), grads: grads(model) };
  };
  try {
    const one = run(1);
    const two = run(2);
    assert.ok(one.recs.length > 30);
    assert.deepEqual(two.recs, one.recs, 'per layer and step: the same tau, density, natural zeros and relative error');
    // Weight gradients add per-thread partials in thread order: equal to float32 summation order.
    two.grads.forEach((g, i) => assertClose(g, one.grads[i], F32_BACKWARD, `parameter ${i}, 2 vs 1 threads`));
  } finally {
    k.setThreads(1);
  }
});
