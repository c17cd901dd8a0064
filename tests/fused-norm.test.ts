/**
 * Fused kernels: batchNorm2dAct (batch norm + residual add + ReLU) equals the separate ops bit for
 * bit (the same float32 operations in the same order) on every backend and ISA, forward and
 * backward, training and eval; the separate ops are gradient-checked in gradcheck.test.ts. The
 * option-A shortcut kernels of every ISA equal the reference exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  add, backward, batchNorm2d, batchNorm2dAct, refBackend, relu, Rng, ShapeError, Tensor, withBackend,
  type IsaName, type Kernels, type Shape,
} from '../src/index.js';
import { assertClose } from './helpers/assert.js';
import { native, nativeIsas, skipNative } from './helpers/native.js';
import { EXACT } from './helpers/tolerances.js';

interface Result {
  y: Float32Array;
  grads: Float32Array[];
  running: Float32Array[];
}

/** One forward + backward with a fixed random output weighting; fused or as separate ops. */
function run(k: Kernels, fused: boolean, shape: Shape, training: boolean, relu_: boolean, residual: boolean): Result {
  return withBackend(k, () => {
    const rng = new Rng(21);
    const C = shape[1];
    const leafOf = (s: Shape): Tensor => {
      const t = Tensor.randn(s, rng);
      t.requiresGrad = true;
      return t;
    };
    const x = leafOf(shape);
    const gamma = leafOf([C]);
    const beta = leafOf([C]);
    const r = residual ? leafOf(shape) : null;
    const rm = Tensor.randn([C], rng, 0.1);
    const rv = Tensor.uniform([C], rng, 0.5, 2);
    const dy = Tensor.randn(shape, rng);
    const opts = { training, momentum: 0.1, eps: 1e-5 };
    let y: Tensor;
    if (fused) {
      y = batchNorm2dAct(x, gamma, beta, rm, rv, opts, { residual: r ?? undefined, relu: relu_ });
    } else {
      y = batchNorm2d(x, gamma, beta, rm, rv, opts);
      if (r !== null) y = add(y, r);
      if (relu_) y = relu(y);
    }
    backward(y, { grad: dy });
    const leaves = r !== null ? [x, gamma, beta, r] : [x, gamma, beta];
    return {
      y: Float32Array.from(y.data),
      grads: leaves.map((t) => Float32Array.from(t.grad!.data)),
      running: [Float32Array.from(rm.data), Float32Array.from(rv.data)],
    };
  });
}

const shapes: Shape[] = [
  [2, 3, 5, 7], // planes shorter than a vector, odd tails
  [4, 16, 32, 32], // a ResNet stage-1 block at batch 4 (arena-sized)
  [3, 5, 47, 45], // planes longer than the 2048-element statistics block
];

function checkBackend(k: Kernels, label: string): void {
  for (const shape of shapes) {
    for (const training of [true, false]) {
      for (const [relu_, residual] of [[true, false], [true, true], [false, true]] as const) {
        const what = `${label} ${JSON.stringify(shape)} ${training ? 'train' : 'eval'} relu=${relu_} residual=${residual}`;
        const a = run(k, true, shape, training, relu_, residual);
        const b = run(k, false, shape, training, relu_, residual);
        assertClose(a.y, b.y, EXACT, `${what}: output`);
        a.grads.forEach((g, i) => assertClose(g, b.grads[i], EXACT, `${what}: gradient of input ${i}`));
        a.running.forEach((v, i) => assertClose(v, b.running[i], EXACT, `${what}: running stat ${i}`));
        if (relu_) assert.ok(a.y.some((v) => v === 0) && a.y.some((v) => v > 0), `${what}: the ReLU masks some outputs, not all`);
      }
    }
  }
}

test('batchNorm2dAct equals batchNorm2d + add + relu exactly (ref)', () => checkBackend(refBackend(), 'ref'));

for (const isa of nativeIsas.length > 0 ? nativeIsas : (['native'] as IsaName[])) {
  test(`batchNorm2dAct equals batchNorm2d + add + relu exactly (native ${isa})`, { skip: skipNative }, () => {
    const k = native();
    k.setIsa(isa);
    try {
      checkBackend(k, isa);
    } finally {
      k.setIsa('native');
    }
  });
}

test('batchNorm2dAct: a residual of another shape is a ShapeError naming both shapes', () => {
  const x = Tensor.zeros([2, 3, 4, 4]);
  const one = Tensor.full([3], 1);
  const zero = Tensor.zeros([3]);
  assert.throws(
    () => batchNorm2dAct(x, one, zero, zero, one, { training: true, momentum: 0.1, eps: 1e-5 }, { residual: Tensor.zeros([2, 3, 4, 5]) }),
    (e: unknown) => e instanceof ShapeError && /residual has shape \[2, 3, 4, 5\], input has \[2, 3, 4, 4\]/.test(String(e)),
  );
});

const shortcutCases = [
  { N: 2, C: 3, H: 7, W: 5, K: 8, stride: 2 }, // odd sizes, odd padding split (2 before, 3 after)
  { N: 4, C: 16, H: 32, W: 32, K: 32, stride: 2 }, // ResNet-20 stage 1 -> 2
  { N: 1, C: 4, H: 6, W: 6, K: 4, stride: 3 },
  { N: 2, C: 5, H: 3, W: 4, K: 6, stride: 1 },
];

for (const isa of nativeIsas.length > 0 ? nativeIsas : (['native'] as IsaName[])) {
  test(`shortcutPadForward/Backward (native ${isa}) equal the reference exactly`, { skip: skipNative }, () => {
    const k = native();
    k.setIsa(isa);
    try {
      const ref = refBackend();
      const rng = new Rng(4);
      for (const d of shortcutCases) {
        const P = Math.ceil(d.H / d.stride);
        const Q = Math.ceil(d.W / d.stride);
        const x = Tensor.randn([d.N, d.C, d.H, d.W], rng).data as Float32Array;
        const dy = Tensor.randn([d.N, d.K, P, Q], rng).data as Float32Array;
        const [y1, y2] = [new Float32Array(dy.length).fill(Number.NaN), new Float32Array(dy.length).fill(Number.NaN)];
        const [dx1, dx2] = [new Float32Array(x.length).fill(Number.NaN), new Float32Array(x.length).fill(Number.NaN)];
        k.shortcutPadForward(x, y1, d);
        ref.shortcutPadForward(x, y2, d);
        k.shortcutPadBackward(dy, dx1, d);
        ref.shortcutPadBackward(dy, dx2, d);
        assertClose(y1, y2, EXACT, `forward ${JSON.stringify(d)}`);
        assertClose(dx1, dx2, EXACT, `backward ${JSON.stringify(d)}`);
        assert.ok(y1.every(Number.isFinite) && dx1.every(Number.isFinite), 'every element written');
      }
    } finally {
      k.setIsa('native');
    }
  });
}
