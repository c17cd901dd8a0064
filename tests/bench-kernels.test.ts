/**
 * The kernel benchmark library (src/bench): shape collection from a real forward pass, the
 * correctness pre-check, the row format, and the JSON result of runKernelBench. Tiny shapes and one
 * repeat: this checks the harness, not the speed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Conv2d, createModel, LeantrainError, ReLU, Rng, Sequential, withBackend } from '../src/index.js';
import type { Conv2dDims, Kernels } from '../src/index.js';
import { kernels } from '../src/index.js';
import {
  benchConvKernels, collectConvShapes, formatConvBench, formatKernelBench, runKernelBench, shapeLabel,
} from '../src/bench/index.js';

test('collectConvShapes finds the distinct conv shapes of a forward pass, with N = batch', () => {
  const rng = new Rng(3);
  const model = new Sequential(
    new Conv2d(3, 8, 3, { padding: 1, rng }),
    new ReLU(),
    new Conv2d(8, 8, 3, { padding: 1, rng }),
    new Conv2d(8, 8, 3, { padding: 1, rng }), // same shape as the previous conv: listed once
    new Conv2d(8, 16, 1, { stride: 2, rng }),
  );
  const shapes = collectConvShapes(model, [3, 10, 10], 32);
  assert.deepEqual(shapes.map(shapeLabel), ['3x10x10->8 k3 s1 p1', '8x10x10->8 k3 s1 p1', '8x10x10->16 k1 s2 p0']);
  assert.ok(shapes.every((d) => d.N === 32));
  assert.deepEqual(shapes[2], { N: 32, C: 8, H: 10, W: 10, K: 16, R: 1, S: 1, P: 5, Q: 5, strideH: 2, strideW: 2, padH: 0, padW: 0 });
  assert.equal(model.training, true, 'the model is back in training mode');
  assert.throws(() => collectConvShapes(model, [3, 10, 10], 0), /batch must be a positive integer/);
});

test('collectConvShapes on resnet20 sees its six conv shapes', () => {
  const shapes = collectConvShapes(createModel('resnet20'), [3, 32, 32], 128).map(shapeLabel);
  assert.deepEqual(shapes, [
    '3x32x32->16 k3 s1 p1', '16x32x32->16 k3 s1 p1', '16x32x32->32 k3 s2 p1',
    '32x16x16->32 k3 s1 p1', '32x16x16->64 k3 s2 p1', '64x8x8->64 k3 s1 p1',
  ]);
});

test('benchConvKernels times three kernels per shape and formats a table', () => {
  const d: Conv2dDims = { N: 2, C: 3, H: 6, W: 6, K: 4, R: 3, S: 3, P: 6, Q: 6, strideH: 1, strideW: 1, padH: 1, padW: 1 };
  const rows = benchConvKernels([d], { repeats: 2, warmup: 0 });
  assert.deepEqual(rows.map((r) => r.kernel), ['forward', 'backward-input', 'backward-weight']);
  for (const r of rows) {
    assert.equal(r.shape, '3x6x6->4 k3 s1 p1');
    assert.ok(r.minMs >= 0 && r.medianMs >= r.minMs && r.gflops > 0, JSON.stringify(r));
  }
  const table = formatConvBench(rows).split('\n');
  assert.match(table[0], /^shape\s+kernel\s+median ms\s+min ms\s+GFLOP\/s$/);
  assert.equal(table.length, 2 + rows.length);
  assert.throws(() => benchConvKernels([d], { repeats: 0 }), /repeats must be an integer >= 1/);
});

test('benchConvKernels refuses to time a kernel that disagrees with the reference', () => {
  const base = kernels();
  const broken: Kernels = new Proxy(base, {
    get(target, prop, receiver) {
      if (prop === 'conv2dBackwardInput') {
        const bad: Kernels['conv2dBackwardInput'] = (dy, w, dx, d) => {
          target.conv2dBackwardInput(dy, w, dx, d);
          dx[dx.length - 1] += 1; // one wrong element
        };
        return bad;
      }
      return Reflect.get(target, prop, receiver);
    },
  });
  const d: Conv2dDims = { N: 1, C: 2, H: 5, W: 5, K: 3, R: 3, S: 3, P: 3, Q: 3, strideH: 1, strideW: 1, padH: 0, padW: 0 };
  assert.throws(
    () => withBackend(broken, () => benchConvKernels([d], { repeats: 1, warmup: 0 })),
    (e: unknown) => e instanceof LeantrainError && /backward-input on 2x5x5->3 k3 s1 p0.*disagrees with the reference/.test(e.message),
  );
});

test('runKernelBench returns the JSON result for a named model', async () => {
  const r = await runKernelBench({ model: 'lenet5', batch: 2, repeats: 1, warmup: 0, threads: 1, json: true });
  assert.equal(r.model, 'lenet5');
  assert.equal(r.batch, 2);
  assert.equal(r.threads, 1);
  assert.equal(r.rows.length, 3 * r.shapes.length);
  assert.deepEqual(r.shapes.map(shapeLabel), ['1x28x28->6 k5 s1 p2', '6x14x14->16 k5 s1 p0']);
  const json = JSON.parse(JSON.stringify(r));
  assert.ok(typeof json.machine.cpu === 'string' && typeof json.machine.date === 'string');
  assert.deepEqual(Object.keys(json.rows[0]).slice(0, 5), ['shape', 'kernel', 'medianMs', 'minMs', 'gflops']);
  // The FMA peak comes with the native backend (null on the reference one); the table then has a % column.
  if (r.machine.backend === 'native') {
    assert.ok(r.peak !== null && r.peak.gflops > 0 && r.peak.threads === 1, 'native: the peak at the bench\'s thread count');
    assert.match(formatKernelBench(r), /FMA peak .*GFLOP\/s[\s\S]*% of peak/);
  } else {
    assert.equal(r.peak, null);
  }
  await assert.rejects(runKernelBench({ model: 'nosuchnet', batch: 2 }), /nosuchnet/);
  await assert.rejects(runKernelBench({ model: 'lenet5', batch: -1 }), /--batch must be a positive integer/);
});
