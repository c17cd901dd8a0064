/**
 * The saved-tensor hooks control what the graph keeps alive until backward. Each case runs
 * dist/tests/autograd-memory.child.js under `node --expose-gc` (a fresh heap, so GC and
 * ArrayBuffer figures are not disturbed by other tests): one forward through every op on a 2 MB
 * activation, WeakRefs on every tensor it creates, the caller's references dropped, a full GC,
 * then backward. See the child for the codec.
 *
 * Why these checks can fail: before nodes kept edges instead of tensors, `Node.inputs` held every
 * input tensor and each backward closure captured its op's inputs/output, so every one of the 17
 * tensors stayed alive whatever `pack` returned, and a compacting codec retained MORE bytes than
 * none (its copies on top of the originals). Measured on the old code with this same child:
 * codec alive = all 17, retained 9.3 MB; identity alive = all 17, retained 7.1 MB.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface ChildReport {
  mode: string;
  backend: string;
  tracked: string[];
  alive: string[];
  retainedBytes: number;
  activationBytes: number;
  maxDiff: number;
  nonZero: number;
}

const CHILD = fileURLToPath(new URL('./autograd-memory.child.js', import.meta.url));

function runChild(mode: 'codec' | 'identity'): ChildReport {
  const r = spawnSync(process.execPath, ['--expose-gc', CHILD, mode], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `child (${mode}) exited with ${r.status}${r.signal ? ` (${r.signal})` : ''}:\n${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as ChildReport;
}

// Tensors an op keeps through ctx.save (so the default identity hooks keep them): conv2d and
// linear save their input, relu its output, batchNorm2d its input. Everything else a forward
// creates must be collectable even without a codec.
const SAVED_BY_OPS = ['input', 'relu1', 'maxPool', 'conv2', 'relu2', 'dropout', 'add', 'reshape'];

let codec: ChildReport | null = null;
let identity: ChildReport | null = null;
const report = (mode: 'codec' | 'identity'): ChildReport => {
  if (mode === 'codec') return (codec ??= runChild('codec'));
  return (identity ??= runChild('identity'));
};

test('with a copying codec, every intermediate tensor is collected before backward', () => {
  const r = report('codec');
  assert.equal(r.tracked.length, 17, `tracked: ${r.tracked.join(', ')}`);
  assert.deepEqual(r.alive, [], `still reachable from the loss before backward: ${r.alive.join(', ')}`);
});

test('backward through the codec gives exactly the gradients of a run without hooks', () => {
  const r = report('codec');
  assert.equal(r.maxDiff, 0, `max |grad - reference| = ${r.maxDiff} (${r.backend} backend)`);
  assert.ok(r.nonZero > 1000, `gradients must be non-trivial, got ${r.nonZero} non-zero values`);
});

test('with identity hooks exactly the saved tensors stay alive: the graph holds nothing else', () => {
  const r = report('identity');
  assert.deepEqual([...r.alive].sort(), [...SAVED_BY_OPS].sort());
  assert.equal(r.maxDiff, 0);
});

test('a compacting codec reduces the memory the graph retains until backward', () => {
  const c = report('codec');
  const i = report('identity');
  // The codec stores the integer-valued 2 MB relu output (and the smaller integer tensors) as
  // Int16: at least 0.4 x 2 MB fewer bytes must remain (about 1.5 MB in practice).
  const saved = i.retainedBytes - c.retainedBytes;
  assert.ok(
    saved >= 0.4 * c.activationBytes,
    `codec retains ${c.retainedBytes} B, identity ${i.retainedBytes} B: only ${saved} B saved, expected >= ${0.4 * c.activationBytes}`,
  );
});
