/**
 * The model zoo: names, parameter counts against the published/PyTorch figures, state dict names
 * (PyTorch/torchvision conventions), logits shapes, init statistics, train/eval behaviour, op
 * scopes, and errors for unknown names, bad options and bad input shapes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  backward,
  createModel,
  crossEntropy,
  modelInfo,
  modelNames,
  Node,
  OptionError,
  Rng,
  ShapeError,
  Tensor,
  withoutInit,
  type Module,
} from '../src/index.js';
import { assertClose } from './helpers/assert.js';
import { EXACT } from './helpers/tolerances.js';

/** Relative tolerance on the sample std of >= 36,864 kaiming-normal draws (own relative sd < 0.4%). */
const INIT_STD_REL = 0.03;

function sampleStd(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  const m = s / a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i] - m) ** 2;
  return Math.sqrt(v / a.length);
}

/** ResNet-18 with the CIFAR stem (default options) built once: 11M seeded draws take ~0.5 s per build. */
let resnet18: Module | null = null;
function model(name: string): Module {
  if (name !== 'resnet18_cifar') return createModel(name);
  resnet18 ??= createModel('resnet18_cifar');
  return resnet18;
}

function input(name: string, batch: number, seed = 1): Tensor {
  return Tensor.randn([batch, ...modelInfo(name).inputShape], new Rng(seed));
}

function param(m: Module, name: string): Tensor {
  const t = m.stateDict().get(name);
  assert.ok(t !== undefined, `state dict has no '${name}'`);
  return t;
}

test('model names and info', () => {
  assert.deepEqual(modelNames(), [
    'lenet5', 'resnet20', 'resnet32', 'resnet44', 'resnet56', 'resnet110',
    'resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152',
    'resnet18_cifar', 'resnet34_cifar', 'resnet50_cifar', 'resnet101_cifar', 'resnet152_cifar', 'alexnet', 'alexnet_cifar',
  ]);
  assert.deepEqual(modelInfo('resnet50').inputShape, [3, 224, 224]);
  assert.equal(modelInfo('resnet50').defaultNumClasses, 1000);
  assert.equal(modelInfo('alexnet_cifar').defaultNumClasses, 10);
  assert.deepEqual(modelInfo('lenet5').inputShape, [1, 28, 28]);
  assert.deepEqual(modelInfo('resnet56').inputShape, [3, 32, 32]);
  assert.equal(modelInfo('resnet18_cifar').defaultInChannels, 3);
});

test('parameter counts match the CIFAR ResNet code and torchvision', () => {
  // CIFAR ResNets (option A has no shortcut parameters): 0.27M / 0.46M / 0.66M / 0.85M / 1.7M.
  const want: Record<string, number> = { lenet5: 61_706, resnet20: 269_722, resnet32: 464_154, resnet44: 658_586, resnet56: 853_018, resnet110: 1_727_962 };
  for (const [name, n] of Object.entries(want)) assert.equal(createModel(name).parameterCount(), n, name);
  // Option B adds 1x1 conv + BN at the two stage transitions: 16*32 + 64 + 32*64 + 128.
  assert.equal(createModel('resnet20', { shortcut: 'B' }).parameterCount(), 272_474);
  // torchvision resnet18 (11,689,512) with a 3x3 stem (-7,680) and 10 classes (-507,870).
  assert.equal(model('resnet18_cifar').parameterCount(), 11_173_962);
  assert.equal(createModel('resnet20', { numClasses: 100 }).parameterCount(), 269_722 + 90 * 65);
});

test('state dict names follow PyTorch', () => {
  assert.deepEqual(
    [...createModel('lenet5').stateDict().keys()],
    ['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'fc3.weight', 'fc3.bias'],
  );

  const a = createModel('resnet20').stateDict();
  // PyTorch's state_dict order: each module's parameters, then its buffers, then its children.
  assert.deepEqual([...a.keys()].slice(0, 13), [
    'conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked',
    'layer1.0.conv1.weight', 'layer1.0.bn1.weight', 'layer1.0.bn1.bias',
    'layer1.0.bn1.running_mean', 'layer1.0.bn1.running_var', 'layer1.0.bn1.num_batches_tracked', 'layer1.0.conv2.weight',
  ]);
  for (const k of ['layer3.2.conv2.weight', 'fc.weight', 'fc.bias', 'bn1.running_mean', 'layer2.0.bn2.num_batches_tracked']) assert.ok(a.has(k), k);
  assert.ok(![...a.keys()].some((k) => k.includes('shortcut')), 'option A shortcuts have no parameters');
  assert.deepEqual([...a.get('layer2.0.conv1.weight')!.shape], [32, 16, 3, 3]);
  assert.deepEqual([...a.get('fc.weight')!.shape], [10, 64]);

  const b = createModel('resnet20', { shortcut: 'B' }).stateDict();
  assert.deepEqual([...b.keys()].filter((k) => k.includes('shortcut')), [
    'layer2.0.shortcut.0.weight', 'layer2.0.shortcut.1.weight', 'layer2.0.shortcut.1.bias',
    'layer2.0.shortcut.1.running_mean', 'layer2.0.shortcut.1.running_var', 'layer2.0.shortcut.1.num_batches_tracked',
    'layer3.0.shortcut.0.weight', 'layer3.0.shortcut.1.weight', 'layer3.0.shortcut.1.bias',
    'layer3.0.shortcut.1.running_mean', 'layer3.0.shortcut.1.running_var', 'layer3.0.shortcut.1.num_batches_tracked',
  ]);
  assert.deepEqual([...b.get('layer3.0.shortcut.0.weight')!.shape], [64, 32, 1, 1]);

  const r = model('resnet18_cifar').stateDict();
  assert.equal(r.size, 122, 'torchvision resnet18 has 122 state dict entries');
  assert.deepEqual([...r.keys()].filter((k) => k.includes('downsample') && k.endsWith('weight')), [
    'layer2.0.downsample.0.weight', 'layer2.0.downsample.1.weight',
    'layer3.0.downsample.0.weight', 'layer3.0.downsample.1.weight',
    'layer4.0.downsample.0.weight', 'layer4.0.downsample.1.weight',
  ]);
  assert.deepEqual([...r.get('conv1.weight')!.shape], [64, 3, 3, 3], 'CIFAR stem: 3x3 conv1');
  assert.deepEqual([...r.get('layer4.1.conv2.weight')!.shape], [512, 512, 3, 3]);
  assert.deepEqual([...r.get('fc.weight')!.shape], [10, 512]);
});

test('logits shapes at batch 2 for every model', () => {
  for (const name of modelNames()) {
    const info = modelInfo(name);
    if (info.inputShape[1] <= 32) {
      assert.deepEqual([...model(name).call(input(name, 2)).shape], [2, 10], name);
    } else {
      // ImageNet forms: built without init (shapes only) and run at 64x64 to keep the test fast;
      // AlexNet's adaptive 6x6 pool then sees a 1x1 map.
      const m = withoutInit(() => createModel(name));
      assert.deepEqual([...m.call(Tensor.randn([1, 3, 64, 64], new Rng(2))).shape], [1, info.defaultNumClasses], name);
    }
  }
  assert.deepEqual([...createModel('resnet32', { numClasses: 100 }).call(input('resnet32', 2)).shape], [2, 100]);
  // LeNet-5 on 3x32x32 images: conv1 has no padding so fc1 still sees 16*5*5 features.
  assert.deepEqual([...createModel('lenet5', { inChannels: 3 }).call(Tensor.randn([2, 3, 32, 32], new Rng(2))).shape], [2, 10]);
  assert.deepEqual([...createModel('resnet20', { shortcut: 'B', inChannels: 1 }).call(Tensor.randn([2, 1, 32, 32], new Rng(2))).shape], [2, 10]);
});

test('init: kaiming normal fan_in (CIFAR ResNets) and fan_out (ResNet-18); BN ones/zeros; seeded', () => {
  const c = createModel('resnet20');
  const w = param(c, 'layer3.1.conv1.weight'); // [64, 64, 3, 3], fan_in = 576
  const s = sampleStd(w.data);
  assert.ok(Math.abs(s - Math.sqrt(2 / 576)) <= INIT_STD_REL * Math.sqrt(2 / 576), `resnet20 conv std ${s} vs sqrt(2/576)`);
  assert.ok(param(c, 'layer1.0.bn1.weight').data.every((v) => v === 1));
  assert.ok(param(c, 'layer1.0.bn1.bias').data.every((v) => v === 0));
  assert.ok(param(c, 'layer1.0.bn1.running_var').data.every((v) => v === 1));

  const r = model('resnet18_cifar');
  const w18 = param(r, 'layer1.0.conv1.weight'); // [64, 64, 3, 3], fan_out = 576
  const w18b = param(r, 'layer2.0.conv1.weight'); // [128, 64, 3, 3]: fan_out 1152 differs from fan_in 576
  const s18 = sampleStd(w18b.data);
  assert.ok(Math.abs(s18 - Math.sqrt(2 / 1152)) <= INIT_STD_REL * Math.sqrt(2 / 1152), `resnet18 conv std ${s18} vs sqrt(2/1152) (fan_out)`);
  assert.ok(Math.abs(sampleStd(w18.data) - Math.sqrt(2 / 576)) <= INIT_STD_REL * Math.sqrt(2 / 576));

  assertClose(createModel('resnet20', { seed: 0 }).parameters()[0].data, c.parameters()[0].data, EXACT, 'same seed, same weights');
  assert.notDeepEqual([...createModel('resnet20', { seed: 1 }).parameters()[0].data], [...c.parameters()[0].data], 'another seed differs');
});

test('train/eval: eval forwards are deterministic and leave running stats; training forwards count batches', () => {
  const m = createModel('resnet20', { seed: 3 });
  const x = input('resnet20', 2, 4);
  m.call(x);
  assert.equal(param(m, 'layer2.1.bn1.num_batches_tracked').item(), 1);
  const runMean = param(m, 'layer3.0.bn2.running_mean').data.slice();
  m.eval();
  assert.ok(m.namedModules().every(([, s]) => !s.training));
  const y1 = m.call(x);
  const y2 = m.call(x);
  assertClose(y1.data, y2.data, EXACT, 'eval output is a function of the input');
  assertClose(param(m, 'layer3.0.bn2.running_mean').data, runMean, EXACT, 'eval keeps running_mean');
  assert.equal(param(m, 'layer2.1.bn1.num_batches_tracked').item(), 1);
  // In eval mode a sample's logits do not depend on the rest of the batch.
  const single = m.call(new Tensor(x.data.slice(0, 3 * 32 * 32), [1, 3, 32, 32]));
  assertClose(single.data, y1.data.slice(0, 10), { abs: 1e-5, rel: 1e-4 }, 'eval logits of sample 0 alone');
  m.train();
  assert.ok(m.namedModules().every(([, s]) => s.training));
});

test('resnet20 backward: every parameter gets a finite gradient; ops carry module scopes', () => {
  for (const shortcut of ['A', 'B'] as const) {
    const m = createModel('resnet20', { shortcut, seed: 5 });
    const logits = m.call(input('resnet20', 2, 6));
    const loss = crossEntropy(logits, Int32Array.from([3, 7]));
    const scopes = new Set<string>();
    const stack = [loss.gradFn];
    const seen = new Set<unknown>();
    while (stack.length) {
      const n = stack.pop();
      if (!(n instanceof Node) || seen.has(n)) continue;
      seen.add(n);
      scopes.add(`${n.op}@${n.scope}`);
      for (const i of n.inputs) stack.push(i.gradFn);
    }
    for (const want of ['conv2d@conv1', 'batchNorm2dRelu@layer1.0.bn1', 'batchNorm2dAddRelu@layer1.0.bn2', 'conv2d@layer2.0.conv1', 'linear@fc']) {
      assert.ok(scopes.has(want) || [...scopes].some((s) => s.toLowerCase() === want.toLowerCase()), `graph has ${want} (${shortcut})`);
    }
    assert.ok([...scopes].some((s) => s.endsWith('@layer3.0.shortcut') || s.endsWith('@layer3.0.shortcut.0')), `shortcut scope recorded (${shortcut})`);
    backward(loss);
    for (const [k, p] of m.namedParameters()) {
      assert.ok(p.grad !== null, `${k} has no gradient (${shortcut})`);
      assert.ok(p.grad.data.every(Number.isFinite), `${k} gradient is finite`);
    }
    assert.ok(m.namedParameters().some(([, p]) => p.grad!.data.some((v) => v !== 0)), 'gradients are not all zero');
  }
});

test('bad input shapes give a ShapeError naming the layer', () => {
  const r20 = createModel('resnet20');
  assert.throws(
    () => r20.call(Tensor.zeros([2, 1, 32, 32])),
    (e: Error) => e instanceof ShapeError && /conv2d \(conv1\)/.test(e.message) && /1 channels/.test(e.message),
  );
  assert.throws(() => r20.call(Tensor.zeros([3, 32, 32])), (e: Error) => e instanceof ShapeError && /conv1/.test(e.message) && /4-D/.test(e.message));
  // 1-channel LeNet-5 expects 28x28: a 32x32 image reaches fc1 with 16*6*6 features.
  assert.throws(
    () => createModel('lenet5').call(Tensor.zeros([2, 1, 32, 32])),
    (e: Error) => e instanceof ShapeError && /linear \(fc1\)/.test(e.message) && /576 features/.test(e.message),
  );
  assert.throws(() => model('resnet18_cifar').call(Tensor.zeros([1, 3, 32, 32, 1])), (e: Error) => e instanceof ShapeError && /conv1/.test(e.message));
});

test('unknown names and bad options give OptionError', () => {
  assert.throws(
    () => createModel('resnet21'),
    (e: Error) => e instanceof OptionError && /unknown model 'resnet21'/.test(e.message) && /lenet5, resnet20, resnet32, resnet44, resnet56, resnet110, resnet18, resnet34/.test(e.message),
  );
  assert.throws(() => modelInfo('vgg16'), (e: Error) => e instanceof OptionError && /known models/.test(e.message));
  assert.throws(() => createModel('resnet20', { numClasses: 0 }), (e: Error) => e instanceof OptionError && /numClasses/.test(e.message));
  assert.throws(() => createModel('lenet5', { inChannels: 1.5 }), /inChannels/);
  assert.throws(() => createModel('resnet20', { seed: -1 }), /seed/);
  assert.throws(() => createModel('resnet56', { shortcut: 'C' as 'A' }), (e: Error) => e instanceof OptionError && /shortcut must be 'A' or 'B'/.test(e.message));
  assert.throws(() => createModel('resnet18_cifar', { shortcut: 'B' }), /shortcut applies to the CIFAR ResNets/);
});
