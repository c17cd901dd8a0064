/**
 * safetensors files (the format of Hugging Face's safetensors library, which PyTorch users save
 * state dicts in): an 8-byte little-endian header length H, H bytes of JSON
 * `{"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
 * "__metadata__": {"<key>": "<string>"}}` (padded with spaces to a multiple of 8 bytes), then
 * the tensors' little-endian bytes; offsets are relative to the end of the header.
 *
 * Written atomically (temporary file, then rename): a crash never leaves a half-written file.
 * Reading validates everything and names the file and the entry at fault.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { DataError } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import { shapeSize } from '../core/shape.js';
import { Tensor } from '../tensor/tensor.js';

/** Tensor dtypes leantrain reads and writes (float32 and float64 tensors). */
const DTYPES = { F32: { bytes: 4, dtype: 'float32' }, F64: { bytes: 8, dtype: 'float64' } } as const;
type StDtype = keyof typeof DTYPES;

/** float32 from IEEE half bits. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * Dtypes read by converting to float32 (exactly, except integers beyond 2^24 in magnitude):
 * integers (PyTorch's int64 num_batches_tracked), half and bfloat16.
 */
const CONVERTED: Record<string, { bytes: number; read: (b: Uint8Array, n: number) => Float32Array }> = {
  I64: { bytes: 8, read: (b, n) => Float32Array.from({ length: n }, (_, i) => Number(new DataView(b.buffer, b.byteOffset).getBigInt64(8 * i, true))) },
  I32: { bytes: 4, read: (b, n) => Float32Array.from({ length: n }, (_, i) => new DataView(b.buffer, b.byteOffset).getInt32(4 * i, true)) },
  I16: { bytes: 2, read: (b, n) => Float32Array.from({ length: n }, (_, i) => new DataView(b.buffer, b.byteOffset).getInt16(2 * i, true)) },
  I8: { bytes: 1, read: (b, n) => Float32Array.from({ length: n }, (_, i) => new DataView(b.buffer, b.byteOffset).getInt8(i)) },
  U8: { bytes: 1, read: (b, n) => Float32Array.from({ length: n }, (_, i) => b[i]) },
  F16: { bytes: 2, read: (b, n) => Float32Array.from({ length: n }, (_, i) => halfToFloat(new DataView(b.buffer, b.byteOffset).getUint16(2 * i, true))) },
  BF16: {
    bytes: 2,
    read: (b, n) => {
      const out = new Float32Array(n);
      const u = new Uint32Array(out.buffer);
      const dv = new DataView(b.buffer, b.byteOffset);
      for (let i = 0; i < n; i++) u[i] = dv.getUint16(2 * i, true) << 16;
      return out;
    },
  },
};

/** Bound on the JSON header (the reference implementation refuses headers over 100 MB). */
const MAX_HEADER = 100_000_000;

/**
 * Writes `tensors` (name -> tensor, float32 or float64) and optional string `metadata` to `file`,
 * atomically. Tensors are laid out in name order.
 * @example writeSafetensors('model.safetensors', model.stateDict(), { format: 'pt' });
 */
export function writeSafetensors(file: string, tensors: ReadonlyMap<string, Tensor>, metadata: Record<string, string> = {}): void {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const st: StDtype = t.dtype === 'float64' ? 'F64' : 'F32';
    const bytes = t.size * DTYPES[st].bytes;
    header[name] = { dtype: st, shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeAll(fd, head);
    writeAll(fd, Buffer.from(json));
    for (const name of names) {
      const d = tensors.get(name)!.data;
      writeAll(fd, new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    }
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, file);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** writeSync until every byte is written (it may write less than asked). */
function writeAll(fd: number, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
}

/** What readSafetensors returns: tensors by name and the string metadata. */
export interface SafetensorsContent {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/**
 * Reads a safetensors file. F32 and F64 tensors become float32 / float64 Tensors (copies);
 * other dtypes (e.g. PyTorch's I64 `num_batches_tracked`) are listed in `skipped`.
 * DataError names the file and entry for a truncated file, a bad header, an unsupported layout
 * or offsets that do not match the shape.
 */
export function readSafetensors(file: string): SafetensorsContent & { skipped: string[] } {
  const buf = readFileSync(file);
  const fail = (what: string): never => {
    throw new DataError(`${file}: not a valid safetensors file: ${what}`);
  };
  if (buf.length < 8) fail(`${buf.length} bytes, shorter than the 8-byte header length`);
  const h = buf.readBigUInt64LE(0);
  if (h > BigInt(Math.min(MAX_HEADER, buf.length - 8))) fail(`header length ${h} exceeds the file (${buf.length} bytes) or 100 MB`);
  const hl = Number(h);
  let header: unknown;
  try {
    header = JSON.parse(buf.subarray(8, 8 + hl).toString('utf8'));
  } catch (e) {
    fail(`header is not JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('header is not a JSON object');
  const data = buf.subarray(8 + hl);
  const tensors = new Map<string, Tensor>();
  const skipped: string[] = [];
  const spans: [number, number, string][] = [];
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (v === null || typeof v !== 'object' || Object.values(v).some((x) => typeof x !== 'string')) fail('__metadata__ must map strings to strings');
      metadata = v as Record<string, string>;
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const shape = e?.shape, offs = e?.data_offsets;
    if (typeof e?.dtype !== 'string' || !Array.isArray(shape) || !shape.every((x) => Number.isSafeInteger(x) && x >= 0)) {
      fail(`entry '${name}' needs a dtype string and a shape of non-negative integers`);
    }
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((x) => Number.isSafeInteger(x) && x >= 0) || offs[0] > offs[1] || offs[1] > data.length) {
      fail(`entry '${name}': data_offsets ${JSON.stringify(offs)} outside the ${data.length} data bytes`);
    }
    const dt = e.dtype as string;
    spans.push([(offs as number[])[0], (offs as number[])[1], name]);
    if (dt in CONVERTED) {
      // PyTorch exports hold int64 counters (num_batches_tracked) and often half-precision weights.
      const [b, en] = offs as number[];
      const n = shapeSize(shape as Shape);
      const conv = CONVERTED[dt];
      if (en - b !== n * conv.bytes) fail(`entry '${name}': ${en - b} bytes for shape [${(shape as number[]).join(', ')}] of ${dt} (needs ${n * conv.bytes})`);
      tensors.set(name, new Tensor(conv.read(data.subarray(b, en), n), shape as Shape, false));
      continue;
    }
    if (!(dt in DTYPES)) {
      skipped.push(`${name} (${dt})`);
      continue;
    }
    const { bytes, dtype } = DTYPES[dt as StDtype];
    const [b, en] = offs as number[];
    const n = shapeSize(shape as Shape);
    if (en - b !== n * bytes) fail(`entry '${name}': ${en - b} bytes for shape [${(shape as number[]).join(', ')}] of ${dt} (needs ${n * bytes})`);
    const bytesCopy = new Uint8Array(en - b);
    bytesCopy.set(data.subarray(b, en));
    const arr = dtype === 'float64' ? new Float64Array(bytesCopy.buffer) : new Float32Array(bytesCopy.buffer);
    tensors.set(name, new Tensor(arr, shape as Shape, false));
  }
  // The spec: the tensors' byte ranges tile the data area exactly (no holes, overlaps or tail).
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let end = 0;
  for (const [b, en, name] of spans) {
    if (b !== end) fail(`entry '${name}' starts at byte ${b} of the data, expected ${end} (${b < end ? 'overlap' : 'hole'})`);
    end = en;
  }
  if (end !== data.length) fail(`the tensors cover ${end} of the ${data.length} data bytes`);
  return { tensors, metadata, skipped };
}

/**
 * Loads a safetensors file's tensors into `model` (every parameter and buffer must be present,
 * with matching shapes). Errors name the file and the entries at fault.
 * @example loadWeights(model, 'runs/r20/model.safetensors');
 */
export function loadWeights(model: { loadStateDict(state: Map<string, Tensor>, strict?: boolean): void }, file: string): void {
  const { tensors } = readSafetensors(file);
  try {
    model.loadStateDict(tensors, true);
  } catch (e) {
    throw new DataError(`${file}: ${(e as Error).message}`);
  }
}
