/**
 * safetensors read/write: the byte layout by hand (header length, JSON header, offsets, data),
 * round trip of a model's state dict, atomic writes, and clear errors naming the file and entry
 * for truncated or malformed files and for a state dict that does not fit the model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createModel, DataError, loadWeights, readSafetensors, Rng, Tensor, writeSafetensors } from '../src/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'leantrain-st-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('byte layout: 8-byte LE header length, JSON header padded to 8, tensors in name order', () => {
  const f = path.join(dir, 'two.safetensors');
  const a = new Tensor(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3], false);
  const b = new Tensor(Float64Array.from([0.5]), [1], false);
  writeSafetensors(f, new Map([['z.b', b], ['a.w', a]]), { format: 'pt' });
  const buf = readFileSync(f);
  const h = Number(buf.readBigUInt64LE(0));
  assert.equal(h % 8, 0);
  const header = JSON.parse(buf.subarray(8, 8 + h).toString('utf8'));
  assert.deepEqual(header['a.w'], { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
  assert.deepEqual(header['z.b'], { dtype: 'F64', shape: [1], data_offsets: [24, 32] });
  assert.deepEqual(header.__metadata__, { format: 'pt' });
  assert.equal(buf.length, 8 + h + 32);
  assert.deepEqual(Array.from(new Float32Array(buf.buffer.slice(buf.byteOffset + 8 + h, buf.byteOffset + 8 + h + 24))), [1, 2, 3, 4, 5, 6]);
  const r = readSafetensors(f);
  assert.deepEqual(Array.from(r.tensors.get('a.w')!.data), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(r.tensors.get('z.b')!.shape, [1]);
  assert.equal(r.tensors.get('z.b')!.dtype, 'float64');
  assert.deepEqual(r.metadata, { format: 'pt' });
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.tmp-')), [], 'no temporary file left');
});

test('a model state dict round-trips (resnet20: parameters and BN running stats)', () => {
  const f = path.join(dir, 'r20.safetensors');
  const m = createModel('resnet20', { numClasses: 10, inChannels: 3, seed: 1 });
  for (const [, t] of m.namedBuffers()) t.data.set(Float32Array.from({ length: t.size }, (_, i) => i * 0.25));
  writeSafetensors(f, m.stateDict());
  const m2 = createModel('resnet20', { numClasses: 10, inChannels: 3, seed: 2 });
  loadWeights(m2, f);
  for (const [k, t] of m.stateDict()) assert.deepEqual(m2.stateDict().get(k)!.data, t.data, k);
  // Another architecture: missing and unexpected entries listed, the file named.
  const lenet = createModel('lenet5', { numClasses: 10, inChannels: 1, seed: 0 });
  assert.throws(() => loadWeights(lenet, f), (e: Error) => e instanceof DataError && e.message.includes(f) && /\d+ missing: .*; \d+ unexpected: /.test(e.message));
});

test('truncated and malformed files give DataError naming the file and the fault', () => {
  const good = path.join(dir, 'g.safetensors');
  writeSafetensors(good, new Map([['w', Tensor.randn([4, 4], new Rng(1))]]));
  const bytes = readFileSync(good);
  const bad = path.join(dir, 'bad.safetensors');
  const expectError = (content: Buffer, re: RegExp): void => {
    writeFileSync(bad, content);
    assert.throws(() => readSafetensors(bad), (e: Error) => e instanceof DataError && e.message.startsWith(bad) && re.test(e.message), re.source);
  };
  expectError(bytes.subarray(0, 5), /shorter than the 8-byte header length/);
  expectError(bytes.subarray(0, 20), /header length \d+ exceeds the file/);
  expectError(bytes.subarray(0, bytes.length - 4), /entry 'w': data_offsets \[0,64\] outside the 60 data bytes/);
  const h = Number(bytes.readBigUInt64LE(0));
  const broken = Buffer.from(bytes);
  broken.write('!', 8);
  expectError(broken, /header is not JSON/);
  const json = (o: unknown): Buffer => {
    let s = JSON.stringify(o);
    s += ' '.repeat((8 - (s.length % 8)) % 8);
    const head = Buffer.alloc(8);
    head.writeBigUInt64LE(BigInt(s.length));
    return Buffer.concat([head, Buffer.from(s), bytes.subarray(8 + h)]);
  };
  expectError(json({ w: { dtype: 'F32', shape: [4, 5], data_offsets: [0, 64] } }), /entry 'w': 64 bytes for shape \[4, 5\] of F32 \(needs 80\)/);
  expectError(json({ w: { dtype: 'F32', shape: 'x', data_offsets: [0, 64] } }), /entry 'w' needs a dtype string and a shape/);
  expectError(json([1, 2]), /header is not a JSON object/);
  // Integer and half dtypes are converted to float32 (PyTorch's int64 num_batches_tracked);
  // dtypes with no float meaning (BOOL) are skipped and listed.
  expectError(json({ w: { dtype: 'F32', shape: [8], data_offsets: [0, 32] } }), /the tensors cover 32 of the 64 data bytes/);
  expectError(json({ w: { dtype: 'F32', shape: [16], data_offsets: [0, 64] }, n: { dtype: 'I64', shape: [], data_offsets: [0, 8] } }), /entry 'w' starts at byte 0 of the data, expected 8 \(overlap\)/);
  const original = bytes.subarray(8 + Number(bytes.readBigUInt64LE(0)));
  // Data bytes 56..63: int64 3, then (for the F16 / BF16 / BOOL cases) the halves of 1.5 and -2.
  original.writeBigInt64LE(3n, 56);
  writeFileSync(bad, json({ w: { dtype: 'F32', shape: [14], data_offsets: [0, 56] }, n: { dtype: 'I64', shape: [], data_offsets: [56, 64] } }));
  let r = readSafetensors(bad);
  assert.deepEqual([...r.tensors.keys()], ['w', 'n']);
  assert.equal(r.tensors.get('n')!.item(), 3);
  assert.deepEqual(r.skipped, []);
  original.writeUInt16LE(0x3e00, 56); // half 1.5
  original.writeUInt16LE(0xc000, 58); // bfloat16 -2
  original.writeUInt32LE(0x01000100, 60);
  writeFileSync(bad, json({
    w: { dtype: 'F32', shape: [14], data_offsets: [0, 56] }, h: { dtype: 'F16', shape: [1], data_offsets: [56, 58] },
    b: { dtype: 'BF16', shape: [1], data_offsets: [58, 60] }, m: { dtype: 'BOOL', shape: [4], data_offsets: [60, 64] },
  }));
  r = readSafetensors(bad);
  assert.equal(r.tensors.get('h')!.item(), 1.5);
  assert.equal(r.tensors.get('b')!.item(), -2);
  assert.deepEqual(r.skipped, ['m (BOOL)']);
  assert.ok(existsSync(good));
});

test('train --out writes model.safetensors that loads back into the model', async () => {
  const { runTraining, DEFAULT_TRAIN_CONFIG } = await import('../src/index.js');
  const out = path.join(dir, 'run');
  await runTraining({ ...DEFAULT_TRAIN_CONFIG, epochs: 1, limitBatches: 2, out, threads: 1 });
  const m = createModel('lenet5', { numClasses: 10, inChannels: 1, seed: 9 });
  loadWeights(m, path.join(out, 'model.safetensors'));
  assert.equal(readSafetensors(path.join(out, 'model.safetensors')).metadata.model, 'lenet5');
});
