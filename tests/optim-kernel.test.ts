/**
 * The sgdUpdate kernel: the native kernel reproduces the specification loop
 * (src/backend/sgd_update.ts, run by the reference backend) bit for bit, in every mode, on every
 * ISA variant and thread count, for sizes below and above its parallel threshold; and SGD gives
 * the same parameters whichever backend runs it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nativeBackend, Parameter, refBackend, Rng, SGD, Tensor, withBackend } from '../src/index.js';
import type { Kernels } from '../src/index.js';
import type { SgdScalars } from '../src/backend/sgd_update.js';


const nat = nativeBackend();
const skip = nat === null ? 'native addon unavailable' : false;

function randomArray(n: number, rng: Rng, scale: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform(-0.5, 0.5) * scale);
}

const MODES: SgdScalars[] = [
  { mode: 'plain', lr: Math.fround(0.1), wd: Math.fround(5e-4), bm: 0, bd: 0, m: 0 },
  { mode: 'momentum', lr: Math.fround(0.05), wd: Math.fround(1e-4), bm: Math.fround(0.9), bd: Math.fround(0.8), m: Math.fround(0.9) },
  { mode: 'momentum', lr: Math.fround(0.05), wd: 0, bm: 0, bd: 1, m: Math.fround(0.9) }, // a buffer's first update
  { mode: 'nesterov', lr: Math.fround(0.01), wd: Math.fround(5e-4), bm: Math.fround(0.9), bd: 1, m: Math.fround(0.9) },
];

test('native sgdUpdate equals the specification loop bit for bit (every mode, ISA, 1-2 threads, sizes around the parallel threshold)', { skip }, () => {
  if (nat === null) return;
  const ref = refBackend();
  const rng = new Rng(42);
  const original = nat.isa();
  const threads = nat.threads();
  try {
    for (const isa of nat.availableIsas()) {
      nat.setIsa(isa);
      for (const t of [1, 2]) {
        nat.setThreads(t);
        for (const n of [1, 17, 1000, 65536 + 37]) {
          for (const s of MODES) {
            const p = randomArray(n, rng, 2), g = randomArray(n, rng, 0.2), b = randomArray(n, rng, 0.1);
            const [p1, b1, p2, b2] = [p.slice(), b.slice(), p.slice(), b.slice()];
            ref.sgdUpdate(p1, g, s.mode === 'plain' ? null : b1, n, s);
            nat.sgdUpdate(p2, g, s.mode === 'plain' ? null : b2, n, s);
            const what = `${isa}, ${t} thread(s), n ${n}, ${s.mode}`;
            assert.deepEqual(p2, p1, `p: ${what}`);
            assert.deepEqual(b2, b1, `buf: ${what}`);
            assert.notDeepEqual(p1, p, `the update changed p (${what})`);
          }
        }
      }
    }
  } finally {
    nat.setIsa(original === 'scalar' ? 'scalar' : 'native');
    nat.setThreads(threads);
  }
});

test('native sgdUpdate rejects a missing momentum buffer and a bad mode with the kernel named', { skip }, () => {
  if (nat === null) return;
  const p = new Float32Array(4), g = new Float32Array(4);
  assert.throws(() => nat.sgdUpdate(p, g, null, 4, MODES[1]), /sgdUpdate.*momentum and nesterov modes/);
  assert.throws(() => nat.sgdUpdate(p, g, null, 4, { ...MODES[0], mode: 'adam' as never }), /sgdUpdate/);
});

test('SGD (momentum 0.9, Nesterov, weight decay): same parameters with the native and the reference backend', { skip }, () => {
  if (nat === null) return;
  const run = (k: Kernels): Float32Array => withBackend(k, () => {
    const rng = new Rng(7);
    const w = new Parameter(Tensor.randn([70000], rng));
    const opt = new SGD([w], { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
    for (let s = 0; s < 3; s++) {
      opt.zeroGrad();
      w.grad = Tensor.randn([70000], rng);
      opt.step();
    }
    return Float32Array.from(w.data);
  });
  assert.deepEqual(run(nat), run(refBackend()));
});
