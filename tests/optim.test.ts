/**
 * SGD and AdamW against the PyTorch fixture (tests/fixtures/optim/make_optim_fixture.py), plus
 * option validation, skipping of parameters without a gradient, and state-dict round trips.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AdamW, OptionError, Rng, SGD, ShapeError, Tensor, type Optimizer, type OptimizerState } from '../src/index.js';
import { assertClose } from './helpers/assert.js';
import { repoRoot } from './helpers/shared-data.js';
import { EXACT, OPTIM_F32 } from './helpers/tolerances.js';

interface OptimizerFixture {
  type: 'SGD' | 'AdamW';
  options: Record<string, number | boolean | number[]>;
  lr_per_step: number[] | null;
  params_after_step: Record<string, number[]>[];
}
interface Fixture {
  torch: string;
  seed: number;
  shapes: Record<string, number[]>;
  init: Record<string, number[]>;
  grads: Record<string, number[]>[];
  no_grad_steps: Record<string, number[]>;
  optimizers: Record<string, OptimizerFixture>;
}

const fixture: Fixture = JSON.parse(
  readFileSync(path.join(repoRoot, 'tests', 'fixtures', 'optim', 'optim_fixture.json'), 'utf8'),
);
const names = Object.keys(fixture.shapes);

/** Maps PyTorch keyword arguments to leantrain options. */
function build(fx: OptimizerFixture, params: Tensor[]): Optimizer {
  const o = fx.options;
  const num = (k: string): number | undefined => (typeof o[k] === 'number' ? (o[k] as number) : undefined);
  if (fx.type === 'SGD') {
    return new SGD(params, {
      lr: num('lr') ?? NaN,
      momentum: num('momentum'),
      dampening: num('dampening'),
      nesterov: o.nesterov === true,
      weightDecay: num('weight_decay'),
    });
  }
  const betas = Array.isArray(o.betas) ? ([o.betas[0], o.betas[1]] as const) : undefined;
  return new AdamW(params, { lr: num('lr'), betas, eps: num('eps'), weightDecay: num('weight_decay') });
}

function freshParams(): Tensor[] {
  return names.map((n) => new Tensor(Float32Array.from(fixture.init[n]), fixture.shapes[n], true));
}

/** Sets the fixture's gradients of step t (null where PyTorch had grad None). */
function setGrads(params: Tensor[], t: number): void {
  params.forEach((p, j) => {
    const n = names[j];
    const skip = (fixture.no_grad_steps[n] ?? []).includes(t);
    p.grad = skip ? null : new Tensor(Float32Array.from(fixture.grads[t][n]), p.shape);
  });
}

for (const [name, fx] of Object.entries(fixture.optimizers)) {
  test(`${name} matches torch ${fixture.torch} (seed ${fixture.seed}) over ${fx.params_after_step.length} steps`, () => {
    const params = freshParams();
    const opt = build(fx, params);
    fx.params_after_step.forEach((expected, t) => {
      if (fx.lr_per_step) opt.lr = fx.lr_per_step[t];
      setGrads(params, t);
      opt.step();
      params.forEach((p, j) => assertClose(p.data, expected[names[j]], OPTIM_F32, `${name} step ${t} param ${names[j]}`));
    });
  });
}

test('the fixture pins a real change: a missing update or a wrong decay is detected', () => {
  const fx = fixture.optimizers.sgd_momentum_wd;
  const params = freshParams();
  const opt = new SGD(params, { lr: 0.1, momentum: 0.9, weightDecay: 0 }); // weight decay left out on purpose
  setGrads(params, 0);
  opt.step();
  assert.throws(() => assertClose(params[0].data, fx.params_after_step[0].a, OPTIM_F32, 'no decay'));
});

test('option validation names the option', () => {
  const p = [new Tensor(new Float32Array(3), [3], true)];
  const cases: [() => unknown, RegExp][] = [
    [() => new SGD(p, { lr: -0.1 }), /'lr'/],
    [() => new SGD(p, { lr: NaN }), /'lr'/],
    [() => new SGD(p, { lr: 0.1, momentum: 1 }), /'momentum'.*\[0, 1\)/],
    [() => new SGD(p, { lr: 0.1, momentum: -0.5 }), /'momentum'/],
    [() => new SGD(p, { lr: 0.1, weightDecay: -1 }), /'weightDecay'/],
    [() => new SGD(p, { lr: 0.1, dampening: 2 }), /'dampening'/],
    [() => new SGD(p, { lr: 0.1, nesterov: true }), /'nesterov' requires momentum > 0/],
    [() => new SGD(p, { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }), /'nesterov'.*dampening = 0/],
    [() => new SGD([], { lr: 0.1 }), /empty parameter list/],
    [() => new SGD([p[0], p[0]], { lr: 0.1 }), /parameter 1 appears more than once/],
    [() => new AdamW(p, { betas: [1, 0.999] }), /'betas'/],
    [() => new AdamW(p, { betas: [0.9, -0.1] }), /'betas'/],
    [() => new AdamW(p, { eps: 0 }), /'eps'.*> 0/],
    [() => new AdamW(p, { lr: -1 }), /'lr'/],
    [() => new AdamW(p, { weightDecay: -0.01 }), /'weightDecay'/],
  ];
  for (const [make, re] of cases) assert.throws(make, (e: unknown) => e instanceof OptionError && re.test(e.message));
  const opt = new SGD(p, { lr: 0.1 });
  assert.throws(() => (opt.lr = -1), (e: unknown) => e instanceof OptionError && /'lr'/.test(e.message));
  opt.lr = 0.05;
  assert.equal(opt.lr, 0.05);
  assert.deepEqual(new AdamW(p).options, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2 });
});

test('parameters without grad are skipped; zeroGrad sets grads to null', () => {
  for (const make of [
    (ps: Tensor[]) => new SGD(ps, { lr: 0.1, momentum: 0.9, weightDecay: 0.1 }),
    (ps: Tensor[]) => new AdamW(ps, { lr: 0.1, weightDecay: 0.1 }),
  ]) {
    const a = new Tensor(Float32Array.from([1, 2]), [2], true);
    const b = new Tensor(Float32Array.from([3, 4, 5]), [3], true);
    const opt = make([a, b]);
    a.grad = new Tensor(Float32Array.from([0.5, -0.5]), [2]);
    opt.step();
    assertClose(b.data, [3, 4, 5], EXACT, 'b untouched (weight decay too)');
    assert.notDeepEqual(Array.from(a.data), [1, 2]);
    assert.deepEqual(Object.keys(opt.stateDict().state), ['0'], 'no state for a parameter never updated');
    opt.zeroGrad();
    assert.equal(a.grad, null);
    assert.equal(b.grad, null);
    const before = Array.from(a.data);
    opt.step();
    assertClose(a.data, before, EXACT, 'no grads: nothing moves');
  }
});

test('a grad of the wrong size is a ShapeError naming the parameter', () => {
  const a = new Tensor(new Float32Array(4), [4], true);
  const opt = new SGD([a], { lr: 0.1 });
  a.grad = new Tensor(new Float32Array(3), [3]);
  assert.throws(() => opt.step(), (e: unknown) => e instanceof ShapeError && /parameter 0 has 4 elements/.test(e.message));
});

/** Runs `steps` updates with gradients drawn from `new Rng(seed)`; parameter 1 gets none at step `skipSecondAt`. */
function runSteps(opt: Optimizer, params: Tensor[], seed: number, steps: number, skipSecondAt = -1): void {
  const rng = new Rng(seed);
  for (let t = 0; t < steps; t++) {
    params.forEach((p, j) => {
      const g = Tensor.randn(p.shape, rng);
      p.grad = j === 1 && t === skipSecondAt ? null : g;
    });
    opt.step();
  }
}

test('stateDict round trip (through JSON) continues identically', () => {
  const makers: [string, (ps: Tensor[]) => Optimizer][] = [
    ['SGD nesterov', (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 })],
    ['SGD plain', (ps) => new SGD(ps, { lr: 0.05 })],
    ['AdamW', (ps) => new AdamW(ps, { lr: 0.01, betas: [0.8, 0.99] })],
  ];
  for (const [what, make] of makers) {
    const rng0 = new Rng(7);
    const init = [Tensor.randn([3, 4], rng0), Tensor.randn([5], rng0)];
    const paramsA = init.map((t) => new Tensor(t.data.slice(), t.shape, true));
    const optA = make(paramsA);
    runSteps(optA, paramsA, 11, 3, 1);
    optA.lr = 0.02;
    const saved: OptimizerState = JSON.parse(JSON.stringify(optA.stateDict()));
    assert.equal(saved.options.lr, 0.02);
    if (what === 'AdamW') assert.deepEqual([saved.state['0'].step, saved.state['1'].step], [3, 2], 'per-parameter steps');

    // A fresh optimizer (different lr) on copied parameters, loaded from the saved state.
    const paramsB = paramsA.map((p) => new Tensor(p.data.slice(), p.shape, true));
    const optB = make(paramsB);
    optB.loadStateDict(saved);
    assert.equal(optB.lr, 0.02);
    runSteps(optA, paramsA, 12, 3);
    runSteps(optB, paramsB, 12, 3);
    paramsA.forEach((p, j) => assertClose(paramsB[j].data, p.data, EXACT, `${what}: param ${j} after resume`));
  }
});

test('loadStateDict rejects mismatched states with clear errors', () => {
  const a = new Tensor(new Float32Array(4), [4], true);
  const sgd = new SGD([a], { lr: 0.1, momentum: 0.9 });
  a.grad = Tensor.full([4], 1);
  sgd.step();
  const s = sgd.stateDict();
  assert.throws(() => new AdamW([a]).loadStateDict(s), /saved by SGD, not AdamW/);
  if (s.type !== 'SGD') throw new Error('unreachable');
  const short: OptimizerState = { ...s, state: { '0': { step: 1, momentumBuffer: [1, 2] } } };
  assert.throws(() => sgd.loadStateDict(short), (e: unknown) => e instanceof ShapeError && /'momentumBuffer' with 4 values, got 2/.test(e.message));
  assert.throws(() => sgd.loadStateDict({ ...s, state: { '3': { step: 1 } } }), /state key '3' is not a parameter index/);
  assert.throws(() => sgd.loadStateDict({ ...s, options: { ...s.options, momentum: 2 } }), /'momentum'/);
});
