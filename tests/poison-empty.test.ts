/**
 * Tensor.empty storage is unspecified (large blocks are not zero-filled). A ResNet-20 training
 * run with pruning gives bit-identical parameters and eval logits when that storage is NaN
 * (LEANTRAIN_POISON_EMPTY=1): no forward or backward op reads an output element it did not write.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { allocUninit } from '../src/core/dtype.js';

const CHILD = fileURLToPath(new URL('./poison-empty.child.js', import.meta.url));

function run(poison: boolean, arena = false): number[] {
  const env = {
    ...process.env,
    LEANTRAIN_QUIET: '1',
    LEANTRAIN_POISON_EMPTY: poison ? '1' : '0',
    LEANTRAIN_TEST_ARENA: arena ? '1' : '0',
  };
  const r = spawnSync(process.execPath, [CHILD], { encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as number[];
}

test('training gives the same result whether Tensor.empty storage is NaN or not', () => {
  const plain = run(false);
  const poisoned = run(true);
  assert.ok(plain.every(Number.isFinite), 'finite without poison');
  assert.deepEqual(poisoned, plain);
});

test('training gives the same result when each step recycles the previous step\'s storage (BufferArena)', () => {
  assert.deepEqual(run(false, true), run(false));
});

test('allocUninit: right type and length; small sizes are zeroed arrays', () => {
  const big = allocUninit('float32', 1 << 20);
  assert.ok(big instanceof Float32Array && big.length === 1 << 20);
  const big64 = allocUninit('float64', 1 << 17);
  assert.ok(big64 instanceof Float64Array && big64.length === 1 << 17);
  assert.deepEqual(Array.from(allocUninit('float32', 5)), [0, 0, 0, 0, 0]);
});
