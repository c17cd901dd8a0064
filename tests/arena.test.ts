/** BufferArena: large op outputs of a run are recycled by the next run; stale tensors fail loudly. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backward, BufferArena, LeantrainError, relu, Rng, shortcutPadA, Tensor } from '../src/index.js';

const BIG = [4, 16, 32, 32]; // 256 KiB of float32: above allocUninit's 64 KiB arena threshold

test('a second run with the same sizes reuses every buffer of the first', () => {
  const arena = new BufferArena();
  const step = (): number => {
    const a = Tensor.empty(BIG);
    a.data.fill(1);
    const b = relu(a);
    return b.data[7];
  };
  assert.equal(arena.run(step), 1);
  const first = arena.stats;
  assert.equal(first.allocated, 2);
  assert.equal(first.buffers, 2);
  assert.equal(arena.run(step), 1);
  const second = arena.stats;
  assert.equal(second.allocated, 2, 'no new buffer in the second run');
  assert.equal(second.reused, 2);
  assert.equal(second.runs, 2);
});

test('small tensors never come from the arena; a size class unused for two runs is released', () => {
  const arena = new BufferArena();
  arena.run(() => Tensor.empty([10]));
  assert.equal(arena.stats.allocated, 0);
  arena.run(() => Tensor.empty(BIG));
  arena.run(() => Tensor.empty([2, 16, 32, 32]));
  assert.equal(arena.stats.buffers, 2, 'the previous run\'s size is kept');
  arena.run(() => Tensor.empty([2, 16, 32, 32]));
  assert.equal(arena.stats.buffers, 1, 'the size last used two runs ago is dropped');
  arena.clear();
  assert.equal(arena.stats.bytes, 0);
});

test('a tensor used after its run ended throws a clear error instead of aliasing the next run', () => {
  const arena = new BufferArena();
  const stale = arena.run(() => Tensor.empty(BIG));
  assert.equal(stale.size, 4 * 16 * 32 * 32, 'shape and size stay');
  assert.throws(() => stale.data, (e: unknown) => e instanceof LeantrainError && /after the BufferArena run/.test(String(e)));
  assert.throws(() => relu(stale), /after the BufferArena run/);
  const kept = arena.run(() => Tensor.empty(BIG).clone());
  assert.equal(kept.data.length, kept.size, 'a clone made inside the run survives');
});

test('run rejects async functions and nesting the same arena; another arena may nest', async () => {
  const arena = new BufferArena();
  assert.throws(() => arena.run(() => Promise.resolve(1)), /must be synchronous/);
  assert.throws(() => arena.run(() => arena.run(() => 0)), /already running/);
  const inner = new BufferArena();
  const outerT = arena.run(() => {
    const t = Tensor.empty(BIG);
    inner.run(() => Tensor.empty(BIG));
    assert.equal(t.data.length, t.size, 'the outer run\'s tensor is untouched by the inner run ending');
    return t;
  });
  assert.throws(() => outerT.data, /after the BufferArena run/);
  assert.equal(inner.stats.buffers, 1);
  assert.equal(arena.stats.buffers, 1);
});

test('shortcutPadA writes every element of recycled storage (forward and backward)', () => {
  const [N, C, H, W, K] = [4, 16, 32, 32, 32];
  const arena = new BufferArena();
  const rng = new Rng(5);
  const x = Tensor.randn([N, C, H, W], rng);
  x.requiresGrad = true;
  const g = Tensor.randn([N, K, H / 2, W / 2], rng);
  // First run: fill storage of both sizes with NaN; the second run gets it back.
  arena.run(() => {
    Tensor.empty([N, K, H / 2, W / 2]).data.fill(Number.NaN);
    Tensor.empty([N, C, H, W]).data.fill(Number.NaN);
  });
  const y = arena.run(() => {
    const out = shortcutPadA(x, K, 2);
    backward(out, { grad: g });
    return out.clone();
  });
  assert.ok(arena.stats.reused >= 2, 'the NaN-filled buffers were handed out again');
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      for (let i = 0; i < (H / 2) * (W / 2); i++) {
        const p = Math.floor(i / (W / 2));
        const q = i % (W / 2);
        const c = k - (K - C) / 2;
        const want = c >= 0 && c < C ? x.data[((n * C + c) * H + 2 * p) * W + 2 * q] : 0;
        assert.equal(y.data[((n * K + k) * (H / 2) + p) * (W / 2) + q], want);
      }
    }
  }
  const dx = x.grad!.data;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let h = 0; h < H; h++) {
        for (let w = 0; w < W; w++) {
          const kept = h % 2 === 0 && w % 2 === 0;
          const want = kept ? g.data[((n * K + c + (K - C) / 2) * (H / 2) + h / 2) * (W / 2) + w / 2] : 0;
          assert.equal(dx[((n * C + c) * H + h) * W + w], want);
        }
      }
    }
  }
});

test('release: a buffer of the current run serves the next allocation of its size; others are ignored', () => {
  for (const checkReleases of [false, true]) {
    const arena = new BufferArena({ checkReleases });
    arena.run(() => {
      const a = Tensor.empty(BIG);
      const buf = a.data.buffer;
      assert.equal(arena.release(buf), true);
      assert.equal(arena.release(buf), false, 'a second release of the same buffer is refused');
      if (checkReleases) assert.throws(() => a.data, LeantrainError, 'checkReleases detaches the released buffer');
      const b = Tensor.empty(BIG);
      assert.equal(arena.stats.reused, 1, 'the released buffer was handed out again');
      assert.equal(arena.release(new Float32Array(b.size).buffer), false, 'a buffer from outside the arena is ignored');
    });
    assert.equal(arena.stats.allocated, 1);
    assert.equal(arena.stats.released, 1);
    assert.equal(arena.stats.buffers, 1);
  }
});

test('backward inside an arena gives dead gradients back: a chain of ops needs fewer buffers, same result', () => {
  // x -> relu -> relu -> ... (8 ops): without intra-step reuse each op's output gradient holds its
  // own buffer until the step ends; with it, two gradient buffers alternate.
  const rng = new Rng(5);
  const x0 = Tensor.randn(BIG, rng);
  const chain = (): number[] => {
    const x = new Tensor(x0.data.slice(), BIG, true);
    let y = x;
    for (let i = 0; i < 8; i++) y = relu(y);
    backward(y, { grad: Tensor.full(BIG, 0.5) });
    return Array.from(x.grad!.data.subarray(0, 64));
  };
  const plain = chain();
  const arena = new BufferArena({ checkReleases: true });
  const got = arena.run(chain);
  assert.deepEqual(got, plain);
  assert.ok(arena.stats.released >= 6, `released ${arena.stats.released} gradient buffers`);
  // 8 forward outputs + at most 3 gradient buffers live at once (plus the seed, outside the arena).
  assert.ok(arena.stats.allocated <= 8 + 3, `allocated ${arena.stats.allocated} buffers`);
});
