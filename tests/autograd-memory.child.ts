/**
 * Child process of tests/autograd-memory.test.ts, run as
 * `node --expose-gc dist/tests/autograd-memory.child.js <codec|identity>`; prints one JSON line.
 *
 * It runs one forward pass through every op (conv2d, batchNorm2d in training and eval, relu,
 * dropout, max/avg/global pooling, shortcutPadA, add, flatten, reshape, linear, crossEntropy) on a
 * 2 MB activation, watches every tensor the forward creates through a WeakRef, drops its own
 * references, forces a full GC and reports which tensors are still alive and how many
 * ArrayBuffer bytes the graph retains BEFORE backward. Then it runs backward and compares the
 * gradients with a run without hooks.
 *
 * Modes: `codec` installs saved-tensor hooks that copy each saved tensor into a compact form
 * (Int16Array when every value is an integer that fits, which is lossless; a Float32Array copy
 * otherwise); `identity` keeps the default hooks (pack returns the tensor itself).
 */
import {
  adaptiveAvgPool2d1, add, avgPool2d, backward, batchNorm2d, conv2d, counterKey, crossEntropy, dropout, flatten, kernels,
  linear, maxPool2d, relu, reshape, Rng, setSavedTensorHooks, shortcutPadA, Tensor, type SavedTensorHooks, type Shape,
} from '../src/index.js';

const collect = globalThis.gc;
if (collect === undefined) throw new Error('autograd-memory.child: run with node --expose-gc');

/** A leaf of small integers in [lo, hi] (exact in float32 and in the codec's Int16 form). */
function ints(shape: Shape, rng: Rng, lo: number, hi: number, requiresGrad: boolean): Tensor {
  const t = Tensor.zeros(shape);
  for (let i = 0; i < t.size; i++) t.data[i] = lo + rng.int(hi - lo + 1);
  t.requiresGrad = requiresGrad;
  return t;
}

interface Params {
  w1: Tensor; w2: Tensor; b2: Tensor; g1: Tensor; be1: Tensor; rm1: Tensor; rv1: Tensor;
  w3: Tensor; g2: Tensor; be2: Tensor; rm2: Tensor; rv2: Tensor; fw: Tensor; fb: Tensor;
}

function makeParams(): Params {
  const rng = new Rng(11);
  const p = (shape: Shape, std: number) => {
    const t = Tensor.randn(shape, rng, std);
    t.requiresGrad = true;
    return t;
  };
  const stat = (lo: number, hi: number) => Tensor.uniform([16], rng, lo, hi);
  return {
    w1: ints([16, 1, 3, 3], rng, -1, 1, true),
    w2: ints([8, 16, 3, 3], rng, -1, 1, true),
    b2: ints([8], rng, -2, 2, true),
    g1: p([8], 0.5), be1: p([8], 0.5), rm1: Tensor.zeros([8]), rv1: Tensor.full([8], 1),
    w3: p([16, 8, 3, 3], 0.2),
    g2: p([16], 0.5), be2: p([16], 0.5), rm2: stat(-0.5, 0.5), rv2: stat(0.5, 2),
    fw: p([10, 16], 0.3), fb: p([10], 0.1),
  };
}

const LABELS = Int32Array.from([3, 1, 4, 1, 5, 9, 2, 6]);

/**
 * Forward through every op. Returns the loss and WeakRefs to every tensor created on the way;
 * the caller holds no other reference to them once this returns.
 */
function forward(m: Params): { loss: Tensor; refs: Map<string, WeakRef<Tensor>>; activationBytes: number } {
  const refs = new Map<string, WeakRef<Tensor>>();
  const watch = (name: string, t: Tensor): Tensor => {
    refs.set(name, new WeakRef(t));
    return t;
  };
  const x = watch('input', ints([8, 1, 64, 64], new Rng(7), -1, 1, false));
  const a1 = watch('relu1', relu(watch('conv1', conv2d(x, m.w1, null, { padding: 1 })))); // [8, 16, 64, 64]
  const p1 = watch('maxPool', maxPool2d(a1, { kernelSize: 2 }));
  const h2 = watch('conv2', conv2d(p1, m.w2, m.b2, { padding: 1 }));
  const t = { training: true, momentum: 0.1, eps: 1e-5 };
  const r2 = watch('relu2', relu(watch('bnTrain', batchNorm2d(h2, m.g1, m.be1, m.rm1, m.rv1, t))));
  const d2 = watch('dropout', dropout(r2, { p: 0.25, training: true, key: counterKey(5, 1) }));
  const h3 = watch('conv3', conv2d(d2, m.w3, null, { stride: 2, padding: 1 }));
  const s = watch('add', add(h3, watch('shortcutPadA', shortcutPadA(p1, 16, 2))));
  const e = watch('bnEval', batchNorm2d(s, m.g2, m.be2, m.rm2, m.rv2, { ...t, training: false }));
  const g = watch('globalAvgPool', adaptiveAvgPool2d1(watch('avgPool', avgPool2d(e, { kernelSize: 3, stride: 1, padding: 1 }))));
  const f = watch('reshape', reshape(watch('flatten', flatten(g)), [8, -1]));
  const logits = watch('linear', linear(f, m.fw, m.fb));
  return { loss: crossEntropy(logits, LABELS), refs, activationBytes: a1.data.byteLength };
}

function gradsOf(m: Params): Float32Array[] {
  return Object.values(m)
    .filter((t: Tensor) => t.requiresGrad)
    .map((t: Tensor) => {
      if (t.grad === null) throw new Error(`autograd-memory.child: a parameter of shape [${t.shape.join(', ')}] got no gradient`);
      return Float32Array.from(t.grad.data);
    });
}

/** The codec's packed form. */
class Packed {
  constructor(readonly data: Int16Array | Float32Array, readonly shape: Shape) {}
}

const compactCodec: SavedTensorHooks = {
  pack: (t) => {
    const v = t.data;
    let integral = true;
    for (let i = 0; i < v.length && integral; i++) integral = Number.isInteger(v[i]) && v[i] >= -32768 && v[i] <= 32767;
    return new Packed(integral ? Int16Array.from(v) : Float32Array.from(v), t.shape);
  },
  unpack: (p) => {
    if (!(p instanceof Packed)) throw new TypeError('autograd-memory.child: unpack got a value this codec did not pack');
    return new Tensor(Float32Array.from(p.data), p.shape);
  },
};

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Full GC after leaving the current job (WeakRef targets touched in a job survive until it ends). */
async function fullGc(): Promise<void> {
  await tick();
  collect!();
  await tick();
  collect!();
}

const mode = process.argv[2];
if (mode !== 'codec' && mode !== 'identity') throw new Error(`autograd-memory.child: mode must be codec or identity, got ${mode}`);

// Reference run without hooks (also warms any kernel workspaces before measuring).
const refParams = makeParams();
backward(forward(refParams).loss);
const reference = gradsOf(refParams);

const params = makeParams();
await fullGc();
const baseline = process.memoryUsage().arrayBuffers;
const prev = setSavedTensorHooks(mode === 'codec' ? compactCodec : null);
let run: ReturnType<typeof forward> | null = forward(params);
const { loss, refs, activationBytes } = run;
run = null;
await fullGc();
const retainedBytes = process.memoryUsage().arrayBuffers - baseline;
const alive = [...refs].filter(([, r]) => r.deref() !== undefined).map(([name]) => name);
backward(loss);
setSavedTensorHooks(prev);
const grads = gradsOf(params);

let maxDiff = 0;
let nonZero = 0;
for (let i = 0; i < grads.length; i++) {
  for (let j = 0; j < grads[i].length; j++) {
    maxDiff = Math.max(maxDiff, Math.abs(grads[i][j] - reference[i][j]));
    if (grads[i][j] !== 0) nonZero++;
  }
}
process.stdout.write(
  `${JSON.stringify({ mode, backend: kernels().name, tracked: [...refs.keys()], alive, retainedBytes, activationBytes, maxDiff, nonZero })}\n`,
);
