/**
 * Oracle 2: golden fixtures from PyTorch (tests/fixtures/make_golden.py, committed with its
 * output in tests/fixtures/golden/). Each case rebuilds the module in leantrain, loads PyTorch's
 * state dict by name, runs forward on the fixture input and backward of
 * L = sum(output * loss_weight), and compares output, running statistics and every gradient
 * with GOLDEN_F32, on the active backend (native when the addon loads) and on ref.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  backward,
  BatchNorm2d,
  CifarBasicBlock,
  Conv2d,
  kernels,
  Module,
  refBackend,
  Rng,
  Tensor,
  withBackend,
} from '../src/index.js';
import { assertClose } from './helpers/assert.js';
import { repoRoot } from './helpers/shared-data.js';
import { GOLDEN_F32 } from './helpers/tolerances.js';

const fixtureDir = path.join(repoRoot, 'tests', 'fixtures', 'golden');

interface EncodedTensor {
  shape: number[];
  data: string;
}

interface ModuleDesc {
  kind: 'conv2d' | 'batchnorm2d' | 'cifar_block';
  in?: number;
  out?: number;
  kernel?: number;
  stride?: number;
  padding?: number;
  bias?: boolean;
  features?: number;
  eps?: number;
  momentum?: number;
  planes?: number;
  shortcut?: 'A' | 'B';
}

interface Fixture {
  header: { format: string; torch_version: string; seed: number; script: string };
  case: string;
  description: string;
  module: ModuleDesc;
  training: boolean;
  tensors: Record<string, EncodedTensor>;
}

/** Decodes base64 float32 little-endian into a Tensor (explicit little-endian reads). */
function decode(e: EncodedTensor): Tensor {
  const bytes = Buffer.from(e.data, 'base64');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
  return new Tensor(out, e.shape);
}

function num(v: number | undefined, what: string): number {
  assert.ok(v !== undefined, `fixture module description lacks '${what}'`);
  return v;
}

function build(d: ModuleDesc): Module {
  const rng = new Rng(0); // weights are overwritten by loadStateDict
  switch (d.kind) {
    case 'conv2d':
      return new Conv2d(num(d.in, 'in'), num(d.out, 'out'), num(d.kernel, 'kernel'), {
        stride: num(d.stride, 'stride'),
        padding: num(d.padding, 'padding'),
        bias: d.bias ?? true,
        rng,
      });
    case 'batchnorm2d':
      return new BatchNorm2d(num(d.features, 'features'), { eps: num(d.eps, 'eps'), momentum: num(d.momentum, 'momentum') });
    case 'cifar_block':
      return new CifarBasicBlock(num(d.in, 'in'), num(d.planes, 'planes'), num(d.stride, 'stride'), { shortcut: d.shortcut ?? 'A', rng });
  }
}

function loadFixtures(): Fixture[] {
  const files = readdirSync(fixtureDir).filter((f) => f.endsWith('.json')).sort();
  return files.map((f) => JSON.parse(readFileSync(path.join(fixtureDir, f), 'utf8')) as Fixture);
}

function tensorsWithPrefix(fx: Fixture, prefix: string): Map<string, Tensor> {
  const m = new Map<string, Tensor>();
  for (const [k, v] of Object.entries(fx.tensors)) if (k.startsWith(prefix)) m.set(k.slice(prefix.length), decode(v));
  return m;
}

function runCase(fx: Fixture): void {
  const m = build(fx.module);
  m.loadStateDict(tensorsWithPrefix(fx, 'state.'));
  m.train(fx.training);
  const x = decode(fx.tensors['input']);
  x.requiresGrad = true;
  const y = m.call(x);
  assert.deepEqual([...y.shape], fx.tensors['output'].shape, `${fx.case}: output shape`);
  assertClose(y.data, decode(fx.tensors['output']).data, GOLDEN_F32, `${fx.case}: output`);

  const after = tensorsWithPrefix(fx, 'state_after.');
  const buffers = new Map(m.namedBuffers());
  assert.deepEqual([...buffers.keys()].sort(), [...after.keys()].sort(), `${fx.case}: buffer names`);
  for (const [k, t] of after) assertClose(buffers.get(k)!.data, t.data, GOLDEN_F32, `${fx.case}: ${k} after forward`);

  backward(y, { grad: decode(fx.tensors['loss_weight']) });
  assert.ok(x.grad !== null, `${fx.case}: input gradient missing`);
  assertClose(x.grad.data, decode(fx.tensors['grad.input']).data, GOLDEN_F32, `${fx.case}: grad of input`);
  const grads = tensorsWithPrefix(fx, 'grad.');
  grads.delete('input');
  const params = m.namedParameters();
  assert.deepEqual(params.map(([k]) => k).sort(), [...grads.keys()].sort(), `${fx.case}: parameter names`);
  for (const [k, p] of params) {
    assert.ok(p.grad !== null, `${fx.case}: gradient of ${k} missing`);
    assertClose(p.grad.data, grads.get(k)!.data, GOLDEN_F32, `${fx.case}: grad of ${k}`);
  }
}

const fixtures = loadFixtures();

test('golden fixtures are present, small, and carry their provenance header', () => {
  const names = fixtures.map((f) => f.case).sort();
  for (const want of ['conv2d_s1_p1_bias', 'conv2d_s2_p1_nobias', 'batchnorm2d_train', 'block_A_stride2', 'block_B_stride2']) {
    assert.ok(names.includes(want), `fixture ${want} missing from ${fixtureDir} (found ${names.join(', ')})`);
  }
  for (const f of fixtures) {
    assert.equal(f.header.format, 'leantrain-golden-1');
    assert.match(f.header.torch_version, /^\d+\.\d+/);
    assert.equal(typeof f.header.seed, 'number');
  }
});

for (const fx of fixtures) {
  test(`golden ${fx.case} (${fx.description}) on the active backend (${kernels().name})`, () => runCase(fx));
  test(`golden ${fx.case} on the ref backend`, () => withBackend(refBackend(), () => runCase(fx)));
}
