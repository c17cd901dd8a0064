/**
 * ONNX export, checked by running the exported graph in onnxruntime-node (CPU, installed with
 * onnxruntime-node-install=skip, see .npmrc) on a batch of 3 (the batch dimension is symbolic)
 * and comparing with leantrain's own forward: within ONNX_OUTPUT of the largest |logit|.
 * Models with trained-looking BN statistics (two training forwards first), batch norm kept and
 * folded. Unsupported graphs fail clearly without writing a file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { createModel, exportOnnx, Rng, Tensor, UnsupportedError, withoutInit, writeSafetensors } from '../src/index.js';
import { repoRoot } from './helpers/shared-data.js';

/** Max |onnxruntime - leantrain| relative to the largest |leantrain logit|. */
const ONNX_OUTPUT = 1e-4;

const cases: [string, [number, number, number], boolean][] = [
  ['resnet20', [3, 32, 32], false],
  ['resnet20', [3, 32, 32], true],
  ['resnet18', [3, 64, 64], false],
  ['resnet50', [3, 64, 64], true],
  ['alexnet_cifar', [3, 32, 32], false],
  ['lenet5', [1, 28, 28], true],
];

test('exported graphs give leantrain\'s outputs in onnxruntime-node', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leantrain-onnx-'));
  try {
    for (const [name, shape, fold] of cases) {
      const m = createModel(name, { seed: 1 });
      m.train();
      for (let i = 0; i < 2; i++) m.call(Tensor.randn([4, ...shape], new Rng(i)));
      const file = path.join(dir, `${name}${fold ? '-folded' : ''}.onnx`);
      const info = exportOnnx(m, file, { inputShape: shape, foldBatchNorm: fold });
      assert.equal(info.nodes.BatchNormalization !== undefined, !fold && name !== 'alexnet_cifar' && name !== 'lenet5', `${name}: BN nodes kept or folded`);
      m.eval();
      const x = Tensor.randn([3, ...shape], new Rng(9));
      const want = m.call(x).data;
      const session = await ort.InferenceSession.create(file);
      const got = (await session.run({ input: new ort.Tensor('float32', x.data as Float32Array, [3, ...shape]) })).logits.data as Float32Array;
      assert.equal(got.length, want.length, `${name}: output size`);
      let worst = 0, scale = 0;
      for (let i = 0; i < want.length; i++) {
        worst = Math.max(worst, Math.abs(got[i] - want[i]));
        scale = Math.max(scale, Math.abs(want[i]));
      }
      assert.ok(scale > 0 && worst <= ONNX_OUTPUT * scale, `${name}${fold ? ' (folded)' : ''}: max |diff| ${worst} vs scale ${scale}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an op without an ONNX mapping is an UnsupportedError and no file is written', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leantrain-onnx-'));
  try {
    const file = path.join(dir, 'alexnet.onnx');
    // At 100x100 AlexNet's adaptive 6x6 pool has uneven windows: computed outside the kernels.
    const m = withoutInit(() => createModel('alexnet'));
    assert.throws(() => exportOnnx(m, file, { inputShape: [3, 100, 100] }), (e: unknown) => e instanceof UnsupportedError && /no ONNX mapping/.test(String(e)));
    assert.ok(!existsSync(file));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('leantrain export: weights that do not fit the model name the file and the entries', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'leantrain-onnx-'));
  try {
    const w = path.join(dir, 'lenet.safetensors');
    writeSafetensors(w, createModel('lenet5').stateDict());
    const out = path.join(dir, 'x.onnx');
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'leantrain.js'), 'export', '--model', 'resnet20', '--weights', w, '--onnx', out], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /lenet\.safetensors: does not fit resnet20: loadStateDict: \d+ missing: bn1\.weight/);
    assert.ok(!existsSync(out));
    const ok = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'leantrain.js'), 'export', '--model', 'lenet5', '--weights', w, '--onnx', out], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /wrote .*x\.onnx: lenet5 at N x 1x28x28/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
