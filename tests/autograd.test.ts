/**
 * The backward driver and its seams: gradient accumulation, noGrad, retainGraph, the saved-tensor
 * hooks, the gradient transform and scope names. The driver is backend-independent: these run on
 * the ref backend (kernels are checked by the exact, differential and gradient tests) with small
 * integer inputs, so every expected value is exact in float32.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  add, backward, conv2d, crossEntropy, flatten, isGradEnabled, LeantrainError, linear, Node, noGrad, refBackend, relu,
  setGradientTransform, setSavedTensorHooks, ShapeError, Tensor, withBackend, withScope, type FloatArray, type Shape,
} from '../src/index.js';

function leaf(values: number[], shape: Shape): Tensor {
  const t = Tensor.from(values, shape);
  t.requiresGrad = true;
  return t;
}

const onRef = (fn: () => void) => () => withBackend(refBackend(), fn);

const grad = (t: Tensor): number[] => {
  assert.ok(t.grad, 'expected a gradient');
  return t.grad.toArray();
};

test('a tensor used by several consumers receives the sum of their gradients', onRef(() => {
  const x = leaf([1, -2, 3, -4], [4]);
  backward(add(x, x));
  assert.deepEqual(grad(x), [2, 2, 2, 2]);

  // A non-leaf with three consumers: the driver accumulates its pending gradient.
  const z = leaf([1, -2, 3, -4], [4]);
  const h = relu(z);
  backward(add(add(h, h), h));
  assert.deepEqual(grad(z), [3, 0, 3, 0]);
}));

test('leaf .grad accumulates across two backward calls until reset', onRef(() => {
  const x = Tensor.from([1, 2, 3, 4, 5, 6], [2, 3]);
  const w = leaf([1, 0, -1, 2, 1, 0], [2, 3]);
  backward(linear(x, w, null));
  const once = grad(w);
  assert.deepEqual(once, [5, 7, 9, 5, 7, 9]);
  backward(linear(x, w, null));
  assert.deepEqual(grad(w), once.map((v) => 2 * v));
  w.grad = null;
  backward(linear(x, w, null));
  assert.deepEqual(grad(w), once);
}));

test('noGrad records nothing and saves nothing', onRef(() => {
  const x = leaf([1, -1, 2, -2], [4]);
  let packs = 0;
  const prev = setSavedTensorHooks({ pack: (t) => (packs++, t), unpack: (p) => p as Tensor });
  try {
    const y = noGrad(() => {
      assert.equal(isGradEnabled(), false);
      return relu(add(x, x));
    });
    assert.equal(isGradEnabled(), true);
    assert.equal(y.gradFn, null);
    assert.equal(y.requiresGrad, false);
    assert.equal(packs, 0);
    assert.deepEqual(y.toArray(), [2, 0, 4, 0]);
    assert.throws(() => backward(y), /does not require grad/);
  } finally {
    setSavedTensorHooks(prev);
  }
}));

test('retainGraph allows a second backward through the same graph', onRef(() => {
  const x = leaf([1, -2, 3], [3]);
  const y = relu(x);
  backward(y, { retainGraph: true });
  backward(y, { retainGraph: true });
  assert.deepEqual(grad(x), [2, 0, 2]);
  backward(y);
  assert.deepEqual(grad(x), [3, 0, 3]);
  assert.throws(() => backward(y), /'relu' a second time.*retainGraph/);
}));

test('a second backward without retainGraph throws a clear error, with or without saved tensors', onRef(() => {
  const x = leaf([1, -2, 3], [3]);
  const y = relu(x);
  backward(y);
  assert.throws(() => backward(y), /backward through 'relu' a second time: the graph was freed.*retainGraph: true/);
  const s = withScope('block', () => add(x, x)); // add saves nothing
  backward(s);
  assert.throws(() => backward(s), /'add' \(block\) a second time/);
}));

/** A codec's packed form: a copy of the storage (stand-in for compressed bytes). */
class Packed {
  constructor(readonly data: FloatArray, readonly shape: Shape) {}
}

test('saved-tensor hooks see every saved tensor, and backward uses what unpack returns', onRef(() => {
  const build = () => {
    const x = leaf([1, 2, 0, -1, 3, 1, 2, -2, 1], [1, 1, 3, 3]);
    const w = leaf([1, -1, 2, 1], [1, 1, 2, 2]);
    const fw = leaf([1, 1, -1, 1, 2, -1, 1, -1], [2, 4]);
    const loss = crossEntropy(linear(flatten(relu(conv2d(x, w, null))), fw, null), Int32Array.from([1]));
    return { x, w, fw, loss };
  };
  const ref = build();
  backward(ref.loss);
  assert.ok(grad(ref.w).some((v) => v !== 0), 'the reference weight gradient must be non-zero');

  const packed: string[] = [];
  const unpacked: string[] = [];
  const prev = setSavedTensorHooks({
    pack: (t: Tensor, node: Node) => {
      packed.push(node.op);
      return new Packed(t.data.slice(), t.shape);
    },
    unpack: (p: unknown, node: Node) => {
      unpacked.push(node.op);
      if (!(p instanceof Packed)) throw new TypeError('not packed by this codec');
      return new Tensor(p.data, p.shape);
    },
  });
  try {
    const run = build();
    // Overwrite the input after forward: only the codec's copy still holds the saved values.
    run.x.data.fill(100);
    backward(run.loss);
    const expected = ['conv2d', 'conv2d', 'relu', 'linear', 'linear', 'crossEntropy'];
    assert.deepEqual(packed, expected);
    assert.deepEqual([...unpacked].sort(), [...expected].sort());
    assert.deepEqual(grad(run.w), grad(ref.w));
    assert.deepEqual(grad(run.fw), grad(ref.fw));
    assert.deepEqual(grad(run.x), grad(ref.x));
  } finally {
    setSavedTensorHooks(prev);
  }
  // Without a copying codec the overwrite would change the weight gradient: the check can fail.
  const plain = build();
  plain.x.data.fill(100);
  backward(plain.loss);
  assert.notDeepEqual(grad(plain.w), grad(ref.w));
}));

test('the gradient transform sees each incoming gradient with op and scope, and its result is used', onRef(() => {
  const x = leaf([1, -1, 2, 0, 1, 1, -2, 1, 3], [1, 1, 3, 3]);
  const w = leaf([1, 2, -1, 1], [1, 1, 2, 2]);
  const seed = Tensor.from([1, 2, 3, 4], [1, 1, 2, 2]);
  const forward = () =>
    withScope('block', () => {
      const h = withScope('conv', () => conv2d(x, w, null));
      return withScope('act', () => relu(h));
    });
  const seen: [string, string, number[]][] = [];
  const prev = setGradientTransform((g, node) => {
    seen.push([node.op, node.scope, g.toArray()]);
    return g;
  });
  let base: { x: number[]; w: number[] };
  try {
    const y = forward();
    assert.deepEqual(y.toArray(), [0, 3, 5, 5]);
    backward(y, { grad: seed });
    base = { x: grad(x), w: grad(w) };
  } finally {
    setGradientTransform(prev);
  }
  assert.deepEqual(seen, [
    ['relu', 'block.act', [1, 2, 3, 4]],
    ['conv2d', 'block.conv', [0, 2, 3, 4]],
  ]);

  x.grad = null;
  w.grad = null;
  setGradientTransform((g, node) => {
    if (node.scope !== 'block.conv') return g;
    const twice = Tensor.empty(g.shape, g.dtype);
    for (let i = 0; i < g.size; i++) twice.data[i] = 2 * g.data[i];
    return twice;
  });
  try {
    backward(forward(), { grad: seed });
  } finally {
    setGradientTransform(prev);
  }
  assert.deepEqual(grad(x), base.x.map((v) => 2 * v));
  assert.deepEqual(grad(w), base.w.map((v) => 2 * v));

  setGradientTransform(() => Tensor.zeros([3]));
  try {
    assert.throws(() => backward(forward(), { grad: seed }), (e: unknown) =>
      e instanceof ShapeError && /gradient transform at 'relu' \(block\.act\): returned shape \[3\], expected \[1, 1, 2, 2\]/.test(e.message));
  } finally {
    setGradientTransform(prev);
  }
}));

test('shape errors from ops name the module scope', onRef(() => {
  const x = Tensor.zeros([1, 3, 8, 8]);
  const w = Tensor.zeros([16, 4, 3, 3]);
  assert.throws(
    () => withScope('layer1', () => withScope('0', () => withScope('conv1', () => conv2d(x, w, null)))),
    (e: unknown) => e instanceof ShapeError && e.message.startsWith('conv2d (layer1.0.conv1): input has 3 channels (shape [1, 3, 8, 8]), weight expects 4'),
  );
  assert.throws(
    () => withScope('fc', () => linear(Tensor.zeros([8, 512]), Tensor.zeros([10, 256]), null)),
    (e: unknown) => e instanceof ShapeError && e.message === 'linear (fc): input has 512 features (shape [8, 512]), weight expects 256 (shape [10, 256])',
  );
  const y = relu(leaf([1, 2], [2]));
  assert.throws(() => backward(y, { grad: Tensor.zeros([3]) }), (e: unknown) => e instanceof ShapeError && /\[3\].*\[2\]/.test(e.message));
}));

test('nodes keep edges: the producing node or the leaf itself, never an intermediate tensor', onRef(() => {
  const x = leaf([1, -1, 2, 0, 1, 1, -2, 1, 3], [1, 1, 3, 3]);
  const w = leaf([1, 2, -1, 1], [1, 1, 2, 2]);
  const data = Tensor.from([1, 2, 3, 4], [1, 1, 2, 2]);
  const h = conv2d(x, w, null);
  const y = add(relu(h), data);
  assert.ok(y.gradFn instanceof Node && h.gradFn instanceof Node);
  const [toRelu, toData] = y.gradFn.inputs;
  assert.ok(toRelu.gradFn instanceof Node);
  assert.equal(toRelu.gradFn.op, 'relu');
  assert.equal(toRelu.leaf, null);
  assert.deepEqual(toData, { gradFn: null, leaf: null, requiresGrad: false, shape: [1, 1, 2, 2] });
  assert.equal(toRelu.gradFn.inputs[0].gradFn, h.gradFn);
  const [toX, toW] = h.gradFn.inputs;
  assert.ok(toX.leaf === x && toW.leaf === w && toX.gradFn === null, 'leaves that require grad are kept as themselves');
  assert.deepEqual([toX.shape, toW.shape], [[1, 1, 3, 3], [1, 1, 2, 2]]);
  assert.equal(y.gradFn.ctx.needsInputGrad(0), true);
  assert.equal(y.gradFn.ctx.needsInputGrad(1), false);
}));

test('ctx.saved() after a backward without retainGraph throws a LeantrainError naming the op', onRef(() => {
  const x = leaf([1, -2, 3], [3]);
  const y = withScope('act', () => relu(x));
  assert.ok(y.gradFn instanceof Node);
  const ctx = y.gradFn.ctx;
  assert.equal(ctx.saved().length, 1);
  backward(y);
  assert.equal(ctx.isReleased, true);
  assert.throws(() => ctx.saved(), (e: unknown) =>
    e instanceof LeantrainError && /backward through 'relu' \(act\) a second time: .*released.*retainGraph: true/.test(e.message));
}));

test('a tensor is unpacked by the hooks that packed it, even after they were replaced', onRef(() => {
  const x = leaf([1, -2, 3, 0.5], [4]);
  const unpacks: string[] = [];
  const prev = setSavedTensorHooks({
    pack: (t) => new Packed(t.data.slice(), t.shape),
    unpack: (p) => {
      unpacks.push('codec');
      if (!(p instanceof Packed)) throw new TypeError('not packed by this codec');
      return new Tensor(p.data, p.shape);
    },
  });
  let y: Tensor;
  try {
    y = relu(x);
  } finally {
    setSavedTensorHooks(prev);
  }
  backward(y);
  assert.deepEqual(unpacks, ['codec']);
  assert.deepEqual(grad(x), [1, 0, 1, 1]);
}));

test('ops save only what the inputs that want a gradient need', onRef(() => {
  const packs = (fn: () => Tensor): number => {
    let n = 0;
    const prev = setSavedTensorHooks({ pack: (t) => (n++, t), unpack: (p) => p as Tensor });
    try {
      fn();
    } finally {
      setSavedTensorHooks(prev);
    }
    return n;
  };
  const x = Tensor.from([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
  const w = Tensor.from([1, -1, 0, 2], [1, 1, 2, 2]);
  const xg = leaf([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
  const wg = leaf([1, -1, 0, 2], [1, 1, 2, 2]);
  assert.equal(packs(() => conv2d(x, wg, null)), 1, 'frozen input: only x (for dW)');
  assert.equal(packs(() => conv2d(xg, w, null)), 1, 'frozen weight: only the weight (for dX)');
  assert.equal(packs(() => conv2d(xg, wg, null)), 2);
  assert.equal(packs(() => conv2d(x, w, null)), 0, 'nothing requires grad: nothing recorded');
  assert.equal(packs(() => linear(flatten(xg), Tensor.zeros([2, 9]), null)), 1);

  // The gradients are those of the full save.
  const y = conv2d(xg, w, null);
  backward(y, { grad: Tensor.from([1, 2, 3, 4], [1, 1, 2, 2]) });
  assert.deepEqual(grad(xg), [1, 1, -2, 3, 3, 0, 0, 6, 8]);
}));

test('a transform that replaces one branch\'s shared gradient leaves the other branch unchanged', onRef(() => {
  const a = leaf([1, -1, 2], [3]);
  const b = leaf([3, 1, -2], [3]);
  const forward = () => add(withScope('left', () => relu(a)), withScope('right', () => relu(b)));
  const prev = setGradientTransform((g, node) => {
    if (node.scope !== 'left') return g;
    const t = Tensor.empty(g.shape, g.dtype);
    for (let i = 0; i < g.size; i++) t.data[i] = 10 * g.data[i];
    return t;
  });
  try {
    backward(forward(), { grad: Tensor.from([1, 2, 3], [3]) });
  } finally {
    setGradientTransform(prev);
  }
  assert.deepEqual(grad(a), [10, 0, 30]);
  assert.deepEqual(grad(b), [1, 2, 0]);
}));
