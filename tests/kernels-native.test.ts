/**
 * Oracle 4: native vs reference for every non-conv kernel over a shape sweep (batch 1, odd sizes,
 * channel counts that are not multiples of 8/16, pooling with stride != kernel and padding, linear
 * with IN/OUT not multiples of 16, reductions crossing the kernels' block sizes), once per native
 * ISA variant (native, avx2 where the CPU has it, scalar). The reference runs in float64 on the
 * same float32 inputs. Also: 1 vs 2 threads, batch-norm running stats, dropout masks bit for bit,
 * and the addon glue's argument checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  counterKey, refBackend, Rng, UnsupportedError,
} from '../src/index.js';
import type { ChannelDims, FloatArray, IsaName, Kernels, LinearDims, Pool2dDims } from '../src/index.js';
import { loadAddon } from '../src/backends/native/addon.js';
import { assertClose } from './helpers/assert.js';
import { native, nativeIsas, skipNative } from './helpers/native.js';
import { EXACT, F32_BACKWARD, F32_BN_STATS, F32_FORWARD } from './helpers/tolerances.js';

const ref = refBackend();
const skip = skipNative;
const isas: IsaName[] = nativeIsas;


/** Runs fn with the given ISA variant active, restoring 'native' afterwards. */
function onIsa(isa: IsaName, fn: (k: Kernels) => void): () => void {
  return () => {
    const k = native();
    k.setIsa(isa);
    try {
      fn(k);
    } finally {
      k.setIsa('native');
    }
  };
}

function rand(n: number, rng: Rng, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(lo, hi);
  return a;
}
const f64 = (a: Float32Array): Float64Array => Float64Array.from(a);
const alloc = (k: Kernels, n: number): FloatArray => (k.name === 'ref' ? new Float64Array(n) : new Float32Array(n));
const cast = (k: Kernels, a: Float32Array): FloatArray => (k.name === 'ref' ? f64(a) : Float32Array.from(a));

// ---------------------------------------------------------------- batch norm
const bnShapes: ChannelDims[] = [
  { N: 1, C: 1, HW: 1 }, { N: 1, C: 3, HW: 5 }, { N: 2, C: 5, HW: 7 }, { N: 4, C: 17, HW: 9 },
  { N: 3, C: 6, HW: 37 }, { N: 5, C: 20, HW: 1 }, { N: 2, C: 3, HW: 2500 },
];

interface BnResult { [name: string]: FloatArray }

function runBn(k: Kernels, inp: Record<string, Float32Array>, momentum: number, eps: number, d: ChannelDims): BnResult {
  const n = d.N * d.C * d.HW;
  const o: BnResult = {
    y: alloc(k, n), saveMean: alloc(k, d.C), saveInvStd: alloc(k, d.C), runningMean: cast(k, inp.rm),
    runningVar: cast(k, inp.rv), dx: alloc(k, n), dgamma: alloc(k, d.C), dbeta: alloc(k, d.C), yEval: alloc(k, n),
  };
  const x = cast(k, inp.x), gamma = cast(k, inp.gamma), beta = cast(k, inp.beta);
  // Two training steps: running stats accumulate in place.
  for (let step = 0; step < 2; step++) {
    k.batchNormForwardTrain(x, gamma, beta, o.y, o.saveMean, o.saveInvStd, o.runningMean, o.runningVar, momentum, eps, d);
  }
  k.batchNormBackward(cast(k, inp.dy), x, gamma, o.saveMean, o.saveInvStd, o.dx, o.dgamma, o.dbeta, d);
  k.batchNormForwardEval(x, gamma, beta, o.runningMean, o.runningVar, eps, o.yEval, d);
  return o;
}

function bnInputs(d: ChannelDims, rng: Rng): Record<string, Float32Array> {
  const n = d.N * d.C * d.HW;
  return {
    x: rand(n, rng, -1.5, 2.5), gamma: rand(d.C, rng, 0.5, 1.5), beta: rand(d.C, rng), dy: rand(n, rng),
    rm: rand(d.C, rng, -0.2, 0.2), rv: rand(d.C, rng, 0.5, 2),
  };
}

for (const isa of isas) {
  test(`batch norm train/eval/backward and running stats, isa ${isa}`, { skip }, onIsa(isa, (k) => {
    bnShapes.forEach((d, i) => {
      const inp = bnInputs(d, new Rng(100 + i));
      const got = runBn(k, inp, 0.1 + 0.1 * (i % 3), 1e-5, d);
      const want = runBn(ref, inp, 0.1 + 0.1 * (i % 3), 1e-5, d);
      const at = `${JSON.stringify(d)} isa ${isa}`;
      for (const name of ['y', 'saveMean', 'saveInvStd', 'runningMean', 'runningVar', 'yEval']) {
        assertClose(got[name], want[name], F32_FORWARD, `batchNorm ${name} ${at}`);
      }
      for (const name of ['dx', 'dgamma', 'dbeta']) assertClose(got[name], want[name], F32_BACKWARD, `batchNorm ${name} ${at}`);
    });
  }));

  test(`batch norm statistics are sound for large offset channels, isa ${isa}`, { skip }, onIsa(isa, (k) => {
    const d = { N: 8, C: 3, HW: 4096 };
    const rng = new Rng(7);
    const x = new Float32Array(d.N * d.C * d.HW);
    for (let i = 0; i < x.length; i++) x[i] = 100 + 0.1 * rng.normal();
    const inp = { x, gamma: new Float32Array(3).fill(1), beta: new Float32Array(3), dy: rand(x.length, rng), rm: new Float32Array(3), rv: new Float32Array(3).fill(1) };
    const got = runBn(k, inp, 0.1, 1e-5, d);
    const want = runBn(ref, inp, 0.1, 1e-5, d);
    for (const name of ['saveMean', 'saveInvStd', 'runningVar']) assertClose(got[name], want[name], F32_BN_STATS, `batchNorm ${name}`);
    assertClose(got.y, want.y, F32_FORWARD, 'batchNorm y');
  }));
}

// ---------------------------------------------------------------- pooling
function poolDims(N: number, C: number, H: number, W: number, R: number, S: number, sh: number, sw: number, ph: number, pw: number): Pool2dDims {
  return { N, C, H, W, R, S, strideH: sh, strideW: sw, padH: ph, padW: pw, P: Math.floor((H + 2 * ph - R) / sh) + 1, Q: Math.floor((W + 2 * pw - S) / sw) + 1 };
}
const poolShapes: Pool2dDims[] = [
  poolDims(1, 3, 7, 7, 3, 3, 2, 2, 1, 1), poolDims(2, 5, 8, 6, 2, 2, 2, 2, 0, 0), poolDims(2, 3, 9, 11, 3, 2, 1, 2, 1, 0),
  poolDims(3, 17, 5, 5, 3, 3, 1, 1, 1, 1), poolDims(1, 1, 13, 13, 5, 5, 3, 3, 2, 2), poolDims(2, 2, 4, 4, 4, 4, 4, 4, 0, 0),
  poolDims(2, 9, 12, 10, 3, 3, 2, 3, 0, 1),
];

for (const isa of isas) {
  test(`max pool forward/backward (ties, padding), isa ${isa}`, { skip }, onIsa(isa, (k) => {
    poolShapes.forEach((d, i) => {
      const rng = new Rng(200 + i);
      const nx = d.N * d.C * d.H * d.W, ny = d.N * d.C * d.P * d.Q;
      // Small negative integers: many ties (first maximum wins) and padding must never win.
      const x = new Float32Array(nx).map(() => -1 - rng.int(4));
      const dy = rand(ny, rng);
      const y = new Float32Array(ny), am = new Int32Array(ny), yr = new Float64Array(ny), amr = new Int32Array(ny);
      k.maxPool2dForward(x, y, am, d);
      ref.maxPool2dForward(f64(x), yr, amr, d);
      const at = `${JSON.stringify(d)} isa ${isa}`;
      assertClose(y, yr, EXACT, `maxPool2d y ${at}`);
      assert.deepEqual(am, amr, `maxPool2d argmax ${at}`);
      // Same float32 additions in the same order as the ref on a Float32Array: exact.
      const dx = new Float32Array(nx), dxr = new Float32Array(nx);
      k.maxPool2dBackward(dy, am, dx, d);
      ref.maxPool2dBackward(dy, amr, dxr, d);
      assertClose(dx, dxr, EXACT, `maxPool2d dx ${at}`);
    });
  }));

  test(`average pool (count_include_pad) and global average pool, isa ${isa}`, { skip }, onIsa(isa, (k) => {
    poolShapes.forEach((d, i) => {
      const rng = new Rng(300 + i);
      const nx = d.N * d.C * d.H * d.W, ny = d.N * d.C * d.P * d.Q;
      const x = rand(nx, rng), dy = rand(ny, rng);
      const y = new Float32Array(ny), yr = new Float64Array(ny), dx = new Float32Array(nx), dxr = new Float64Array(nx);
      k.avgPool2dForward(x, y, d);
      ref.avgPool2dForward(f64(x), yr, d);
      k.avgPool2dBackward(dy, dx, d);
      ref.avgPool2dBackward(f64(dy), dxr, d);
      const at = `${JSON.stringify(d)} isa ${isa}`;
      assertClose(y, yr, F32_FORWARD, `avgPool2d y ${at}`);
      assertClose(dx, dxr, F32_BACKWARD, `avgPool2d dx ${at}`);
    });
    for (const d of [{ N: 1, C: 1, HW: 1 }, { N: 2, C: 3, HW: 7 }, { N: 3, C: 10, HW: 49 }, { N: 4, C: 64, HW: 64 }, { N: 1, C: 5, HW: 1000 }]) {
      const rng = new Rng(d.HW);
      const x = rand(d.N * d.C * d.HW, rng), dy = rand(d.N * d.C, rng);
      const y = new Float32Array(d.N * d.C), yr = new Float64Array(d.N * d.C);
      const dx = new Float32Array(x.length).fill(NaN), dxr = new Float64Array(x.length);
      k.globalAvgPoolForward(x, y, d);
      ref.globalAvgPoolForward(f64(x), yr, d);
      k.globalAvgPoolBackward(dy, dx, d);
      ref.globalAvgPoolBackward(f64(dy), dxr, d);
      assertClose(y, yr, F32_FORWARD, `globalAvgPool y ${JSON.stringify(d)}`);
      assertClose(dx, dxr, F32_FORWARD, `globalAvgPool dx ${JSON.stringify(d)}`);
    }
  }));
}

// ---------------------------------------------------------------- linear and loss
const linearShapes: LinearDims[] = [
  { N: 1, IN: 1, OUT: 1 }, { N: 1, IN: 5, OUT: 3 }, { N: 3, IN: 17, OUT: 10 }, { N: 7, IN: 33, OUT: 19 },
  { N: 16, IN: 64, OUT: 10 }, { N: 5, IN: 100, OUT: 37 }, { N: 33, IN: 257, OUT: 65 }, { N: 9, IN: 31, OUT: 130 },
  { N: 2, IN: 2100, OUT: 5 }, { N: 37, IN: 600, OUT: 21 },
];

for (const isa of isas) {
  test(`linear forward / backward-input / backward-weight, isa ${isa}`, { skip }, onIsa(isa, (k) => {
    linearShapes.forEach((d, i) => {
      const rng = new Rng(400 + i);
      const x = rand(d.N * d.IN, rng), w = rand(d.OUT * d.IN, rng), b = rand(d.OUT, rng), dy = rand(d.N * d.OUT, rng);
      const withBias = i % 2 === 0;
      const run = (kk: Kernels): FloatArray[] => {
        const y = alloc(kk, d.N * d.OUT), dx = alloc(kk, d.N * d.IN), dw = alloc(kk, d.OUT * d.IN);
        const db = withBias ? alloc(kk, d.OUT) : null;
        kk.linearForward(cast(kk, x), cast(kk, w), withBias ? cast(kk, b) : null, y, d);
        kk.linearBackwardInput(cast(kk, dy), cast(kk, w), dx, d);
        kk.linearBackwardWeight(cast(kk, x), cast(kk, dy), dw, db, d);
        return db ? [y, dx, dw, db] : [y, dx, dw];
      };
      const got = run(k), want = run(ref);
      const at = `${JSON.stringify(d)} bias ${withBias} isa ${isa}`;
      assertClose(got[0], want[0], F32_FORWARD, `linearForward y ${at}`);
      ['dx', 'dw', 'dbias'].forEach((name, j) => {
        if (j + 1 < got.length) assertClose(got[j + 1], want[j + 1], F32_BACKWARD, `linear ${name} ${at}`);
      });
    });
  }));

  test(`softmax cross-entropy forward/backward, isa ${isa}`, { skip }, onIsa(isa, (k) => {
    [[1, 1], [1, 10], [4, 10], [7, 3], [32, 100], [5, 1000]].forEach(([N, classes], i) => {
      const d = { N, classes };
      const rng = new Rng(500 + i);
      const logits = rand(N * classes, rng, -8, 8);
      const labels = Int32Array.from({ length: N }, () => rng.int(classes));
      const p = new Float32Array(N * classes), pr = new Float64Array(N * classes);
      const loss = k.softmaxCrossEntropyForward(logits, labels, p, d);
      const lossRef = ref.softmaxCrossEntropyForward(f64(logits), labels, pr, d);
      const g = new Float32Array(N * classes), gr = new Float64Array(N * classes);
      k.softmaxCrossEntropyBackward(p, labels, 1 / N, g, d);
      ref.softmaxCrossEntropyBackward(pr, labels, 1 / N, gr, d);
      const at = `N ${N} classes ${classes} isa ${isa}`;
      assertClose([loss], [lossRef], F32_FORWARD, `softmaxCrossEntropy loss ${at}`);
      assertClose(p, pr, F32_FORWARD, `softmaxCrossEntropy probs ${at}`);
      assertClose(g, gr, F32_FORWARD, `softmaxCrossEntropy dlogits ${at}`);
    });
  }));

  test(`relu, add and dropout (masks bit for bit, offsets >= 2^32), isa ${isa}`, { skip }, onIsa(isa, (k) => {
    for (const n of [1, 7, 16, 100, 70001]) {
      const rng = new Rng(n);
      const a = rand(n, rng), b = rand(n, rng), dy = rand(n, rng);
      const y = new Float32Array(n), yr = new Float32Array(n), dx = new Float32Array(n), dxr = new Float32Array(n);
      k.reluForward(a, y, n); ref.reluForward(a, yr, n);
      assertClose(y, yr, EXACT, `reluForward n ${n}`);
      k.reluBackward(dy, yr, dx, n); ref.reluBackward(dy, yr, dxr, n);
      assertClose(dx, dxr, EXACT, `reluBackward n ${n}`);
      const s = Float32Array.from(a), sr = Float32Array.from(a);
      k.add(s, b, s, n); ref.add(sr, b, sr, n);  // out aliases a
      assertClose(s, sr, EXACT, `add n ${n}`);
      const key = counterKey(42, n);
      for (const [p, offset] of [[0, 0], [0.1, 3], [0.5, 2 ** 32 - 5], [0.9, 5 * 2 ** 32 + 123], [1, 17]]) {
        const m = new Uint8Array(n), mr = new Uint8Array(n), yd = new Float32Array(n), ydr = new Float64Array(n);
        k.dropoutForward(a, yd, m, p, key, offset, n);
        ref.dropoutForward(f64(a), ydr, mr, p, key, offset, n);
        assert.deepEqual(m, mr, `dropout mask n ${n} p ${p} offset ${offset}`);
        assertClose(yd, ydr, F32_FORWARD, `dropoutForward y n ${n} p ${p}`);
        k.dropoutBackward(dy, m, p, dx, n); ref.dropoutBackward(f64(dy), mr, p, dxr, n);
        assertClose(dx, dxr, F32_FORWARD, `dropoutBackward n ${n} p ${p}`);
      }
    }
  }));
}

// ---------------------------------------------------------------- threads
test('results with 1 and 2 threads are identical (each output has one owner and a fixed order)', { skip }, () => {
  const k = native();
  const before = k.threads();
  const rng = new Rng(900);
  const bn = { N: 8, C: 16, HW: 256 }, pd = poolDims(4, 16, 32, 32, 3, 3, 2, 2, 1, 1), ld = { N: 64, IN: 512, OUT: 100 };
  const bnIn = bnInputs(bn, rng);
  const px = rand(4 * 16 * 32 * 32, rng), pdy = rand(4 * 16 * pd.P * pd.Q, rng);
  const lx = rand(64 * 512, rng), lw = rand(100 * 512, rng), ldy = rand(64 * 100, rng);
  const logits = rand(64 * 1000, rng, -5, 5), labels = Int32Array.from({ length: 64 }, () => rng.int(1000));
  const run = (threads: number): FloatArray[] => {
    k.setThreads(threads);
    const out: FloatArray[] = Object.values(runBn(k, bnIn, 0.1, 1e-5, bn));
    const y = new Float32Array(4 * 16 * pd.P * pd.Q), am = new Int32Array(y.length), dx = new Float32Array(px.length);
    k.maxPool2dForward(px, y, am, pd); k.maxPool2dBackward(pdy, am, dx, pd);
    const ya = new Float32Array(y.length), dxa = new Float32Array(px.length);
    k.avgPool2dForward(px, ya, pd); k.avgPool2dBackward(pdy, dxa, pd);
    const ly = new Float32Array(64 * 100), ldx = new Float32Array(lx.length), ldw = new Float32Array(lw.length), ldb = new Float32Array(100);
    k.linearForward(lx, lw, null, ly, ld); k.linearBackwardInput(ldy, lw, ldx, ld); k.linearBackwardWeight(lx, ldy, ldw, ldb, ld);
    const probs = new Float32Array(logits.length);
    const loss = k.softmaxCrossEntropyForward(logits, labels, probs, { N: 64, classes: 1000 });
    return [...out, y, Float32Array.from(am), dx, ya, dxa, ly, ldx, ldw, ldb, probs, Float32Array.of(loss)];
  };
  try {
    const one = run(1), two = run(2);
    one.forEach((a, i) => assertClose(two[i], a, EXACT, `output ${i} with 2 threads vs 1`));
  } finally {
    k.setThreads(before);
  }
});

// ---------------------------------------------------------------- glue argument checks
test('addon glue: wrong array types, short arrays and bad dims throw JS errors naming the kernel', { skip }, () => {
  const res = loadAddon();
  if (!res.ok) throw new Error(res.reason);
  const a = res.addon;
  const call = (name: keyof typeof a, args: unknown[]): unknown => Reflect.apply(a[name], a, args);
  const f = (n: number) => new Float32Array(n);
  const cases: [keyof typeof a, unknown[], RegExp][] = [
    ['reluForward', [new Float64Array(4), f(4), 4], /reluForward: argument 0 must be a Float32Array/],
    ['add', [f(4), f(3), f(4), 4], /add: argument 1 has 3 elements, needs 4/],
    ['batchNormForwardTrain', [f(6), f(2), f(3), f(6), f(3), f(3), f(3), f(3), 0.1, 1e-5, Int32Array.of(1, 3, 2)], /batchNormForwardTrain: argument 1 has 2 elements, needs 3/],
    ['batchNormBackward', [f(6), f(6), f(3), f(3), f(3), f(6), f(3), f(3), Int32Array.of(1, 3)], /batchNormBackward: argument 8 has 2 elements, needs 3/],
    ['maxPool2dForward', [f(16), f(4), f(4), Int32Array.of(1, 1, 4, 4, 2, 2, 2, 2, 2, 2, 0, 0)], /maxPool2dForward: argument 2 must be an Int32Array/],
    ['avgPool2dForward', [f(16), f(4), Int32Array.of(1, 1, 4, 4, 2, 2, 2, 2, 2, -2, 0, 0)], /avgPool2dForward: argument 2 has a negative dimension at index 9/],
    ['linearForward', [f(6), f(5), null, f(4), Int32Array.of(2, 3, 2)], /linearForward: argument 1 has 5 elements, needs 6/],
    ['linearBackwardWeight', [f(6), f(4), f(6), f(1), Int32Array.of(2, 3, 2)], /linearBackwardWeight: argument 3 has 1 elements, needs 2/],
    ['softmaxCrossEntropyForward', [f(6), new Uint8Array(2), f(6), Int32Array.of(2, 3)], /softmaxCrossEntropyForward: argument 1 must be an Int32Array/],
    ['dropoutForward', [f(4), f(4), f(4), 0.5, 1, 0, 4], /dropoutForward: argument 2 must be a Uint8Array/],
    ['globalAvgPoolForward', [f(4)], /globalAvgPoolForward: argument 2 must be an Int32Array/],
    ['setIsa', ['sse9'], /setIsa: unknown ISA 'sse9'/],
  ];
  for (const [name, args, re] of cases) assert.throws(() => call(name, args), re, `${name} should reject its arguments`);
  // The same call with consistent lengths succeeds.
  assert.doesNotThrow(() => call('linearForward', [f(6), f(6), null, f(4), Int32Array.of(2, 3, 2)]));
  // Through the backend wrapper, float64 input is an UnsupportedError naming kernel and argument.
  assert.throws(() => native().reluForward(new Float64Array(2), f(2), 2), (e: unknown) => e instanceof UnsupportedError && /reluForward: 'x'/.test(e.message));
});

test('kernels never write outside their arrays for labels/argmax out of range', { skip }, () => {
  const k = native();
  const probs = new Float32Array(8).fill(7), d = { N: 2, classes: 3 };
  const loss = k.softmaxCrossEntropyForward(new Float32Array(6), Int32Array.of(0, 5), probs, d);
  assert.ok(Number.isNaN(loss), 'an out-of-range label gives a NaN loss');
  assert.deepEqual(Array.from(probs.subarray(6)), [7, 7], 'nothing written past the probs');
  const dl = new Float32Array(8).fill(7);
  k.softmaxCrossEntropyBackward(probs, Int32Array.of(-1, 3), 1, dl, d);
  assert.deepEqual(Array.from(dl.subarray(6)), [7, 7]);
  const pd = poolDims(1, 1, 2, 2, 2, 2, 2, 2, 0, 0);
  const dx = new Float32Array(6).fill(7);
  k.maxPool2dBackward(Float32Array.of(1), Int32Array.of(1000), dx, pd);
  assert.deepEqual(Array.from(dx), [0, 0, 0, 0, 7, 7]);
});
