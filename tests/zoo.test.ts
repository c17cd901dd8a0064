/**
 * The model zoo against torchvision (fixture tests/fixtures/zoo/zoo.json, made by
 * tests/fixtures/make_zoo.py with PyTorch 1.13 / torchvision 0.14):
 * - every model's state dict has torchvision's names, shapes and order, and its parameter count;
 * - PyTorch-layout weights written to safetensors and loaded (the import path) give PyTorch's
 *   logits within ZOO_LOGITS (relative to the largest logit); so does a state dict PyTorch wrote
 *   (resnet20_pytorch.safetensors: float16 weights, float32 statistics, int64 counters);
 * - forward GFLOPs (multiply-adds) equal torchvision's documented figures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { createModel, loadWeights, modelSummary, readSafetensors, Tensor, withoutInit, writeSafetensors, type Module } from '../src/index.js';
import { repoRoot } from './helpers/shared-data.js';

interface Fixture {
  models: { name: string; parameters: number; state: [string, number[]][] }[];
  logits: { name: string; input: number[]; logits: number[] }[];
  pytorch_export: { file: string; input: number[]; logits: number[] };
}

const FIXTURE: Fixture = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../tests/fixtures/zoo/zoo.json', import.meta.url)), 'utf8'),
);

/** Max |leantrain - PyTorch| over the logits, relative to the largest |PyTorch logit|. */
const ZOO_LOGITS = 1e-4;

/** The fixture's formula: u(j) = ((j * 2654435761 + t * 40503 + 12345) mod 2^32) / 2^32 - 0.5. */
function formula(n: number, t: number): Float64Array {
  const u = new Float64Array(n);
  const add = t * 40503 + 12345;
  for (let j = 0; j < n; j++) u[j] = ((Math.imul(j, 2654435761 | 0) >>> 0) + add) % 2 ** 32 / 2 ** 32 - 0.5;
  return u;
}

/** Fills a state dict as make_zoo.py does (state-dict order gives t). */
function formulaState(model: Module): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  let t = 0;
  for (const [name, v] of model.stateDict()) {
    const u = formula(v.size, t++);
    const data = new Float32Array(v.size);
    let f: (x: number) => number;
    if (name.endsWith('num_batches_tracked')) f = () => 0;
    else if (v.ndim >= 2) {
      const fanIn = v.shape.slice(1).reduce((a, b) => a * b, 1);
      f = (x) => x * 2 * Math.sqrt(3 / fanIn);
    } else if (name.endsWith('running_var')) f = (x) => 1 + x;
    else if (name.endsWith('running_mean') || name.endsWith('bias')) f = (x) => 0.2 * x;
    else f = (x) => 0.8 + 0.4 * x;
    for (let i = 0; i < data.length; i++) data[i] = f(u[i]);
    out.set(name, new Tensor(data, v.shape));
  }
  return out;
}

const build = (name: string): Module => withoutInit(() => createModel(name));

for (const m of FIXTURE.models) {
  test(`${m.name}: state dict names, shapes and order and parameter count equal torchvision's`, () => {
    const model = build(m.name);
    const ours = [...model.stateDict()].map(([k, v]) => [k, [...v.shape]]);
    assert.deepEqual(ours, m.state);
    assert.equal(model.parameterCount(), m.parameters);
  });
}

test('PyTorch-layout weights loaded from safetensors give PyTorch\'s logits', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'leantrain-zoo-'));
  try {
    let model: Module | null = null;
    let loaded = '';
    for (const c of FIXTURE.logits) {
      if (loaded !== c.name) {
        model = build(c.name);
        const file = path.join(dir, `${c.name}.safetensors`);
        writeSafetensors(file, formulaState(model));
        loadWeights(model, file);
        rmSync(file);
        model.eval();
        loaded = c.name;
      }
      const n = c.input.reduce((a, b) => a * b, 1);
      const x = new Tensor(Float32Array.from(formula(n, 1000)), c.input);
      const y: Float32Array | Float64Array = (model as Module).call(x).data;
      assert.equal(y.length, c.logits.length, `${c.name}: logits count`);
      const scale = Math.max(...c.logits.map(Math.abs));
      let worst = 0;
      for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i] - c.logits[i]));
      assert.ok(worst <= ZOO_LOGITS * scale, `${c.name} at ${c.input.join('x')}: max |diff| ${worst} > ${ZOO_LOGITS} x ${scale}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a state dict exported by PyTorch (float16 weights, float32 BN stats, int64 counters) loads and gives PyTorch\'s logits', () => {
  const e = FIXTURE.pytorch_export;
  const file = fileURLToPath(new URL(`../../tests/fixtures/zoo/${e.file}`, import.meta.url));
  const model = createModel('resnet20');
  loadWeights(model, file);
  assert.equal(model.stateDict().get('bn1.num_batches_tracked')!.item(), 3, 'int64 counter read');
  model.eval();
  const n = e.input.reduce((a, b) => a * b, 1);
  const y = model.call(new Tensor(Float32Array.from(formula(n, 1000)), e.input)).data;
  const scale = Math.max(...e.logits.map(Math.abs));
  let worst = 0;
  for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i] - e.logits[i]));
  assert.ok(worst <= ZOO_LOGITS * scale, `max |diff| ${worst} vs scale ${scale}`);
});

test('leantrain import: the PyTorch file becomes float32 leantrain weights; a wrong model lists the mismatches', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'leantrain-import-'));
  try {
    const src = fileURLToPath(new URL(`../../tests/fixtures/zoo/${FIXTURE.pytorch_export.file}`, import.meta.url));
    const out = path.join(dir, 'w.safetensors');
    const cli = (args: string[]) => spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'leantrain.js'), ...args], { encoding: 'utf8' });
    const ok = cli(['import', '--model', 'resnet20', '--from', src, '--out', out]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /imported 116 tensors into resnet20 \(269,722 parameters, 10 classes\)/);
    const back = readSafetensors(out);
    assert.ok([...back.tensors.values()].every((t) => t.dtype === 'float32'));
    const bad = cli(['import', '--model', 'resnet32', '--from', src, '--out', path.join(dir, 'x.safetensors')]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /does not fit resnet32: loadStateDict: \d+ missing: layer1\.3\.conv1\.weight/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('forward GFLOPs (multiply-adds) equal torchvision\'s documented figures at 3x224x224', () => {
  const documented: Record<string, number> = { resnet18: 1.81, resnet34: 3.66, resnet50: 4.09, resnet101: 7.8, resnet152: 11.51, alexnet: 0.71 };
  for (const [name, g] of Object.entries(documented)) {
    const s = modelSummary(name);
    assert.equal(Math.round(s.gflops * 100) / 100, g, `${name}: ${s.gflops}`);
    assert.deepEqual(s.input, [3, 224, 224]);
  }
  assert.equal(modelSummary('resnet20').parameters, 269_722);
  assert.ok(Math.abs(modelSummary('resnet20').gflops - 0.0408) < 0.0005, 'resnet20 ~41 MMACs (He et al.)');
});
