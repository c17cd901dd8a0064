/**
 * File helpers shared by the readers: locate a data directory and its files (raw or .gz), read a
 * file and gunzip it when it starts with the gzip magic bytes. Every failure is a DataError
 * naming the path and what was expected.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DataError } from '../core/errors.js';

/** One file a reader needs: its accepted base names (each also tried with a `.gz` suffix). */
export interface FileSpec {
  /** Accepted names without `.gz`, preferred first, e.g. ['train-images-idx3-ubyte', 'train-images.idx3-ubyte']. */
  names: string[];
}

/** The display form of a spec: `name[.gz]`. */
export function describeSpec(spec: FileSpec): string {
  return `${spec.names[0]}[.gz]`;
}

/** The path of the first existing candidate of `spec` in `dir` (raw before .gz), or null. */
export function findFile(dir: string, spec: FileSpec): string | null {
  for (const name of spec.names) {
    for (const candidate of [name, `${name}.gz`]) {
      const p = path.join(dir, candidate);
      if (existsSync(p) && statSync(p).isFile()) return p;
    }
  }
  return null;
}

/**
 * The directory holding the data set: `dataDir` itself when it has the first required file,
 * else the first of `subdirs` under it that has it (so both `data/mnist` and `data` work).
 * Throws DataError when `dataDir` is missing or none of them has the files, listing what is
 * expected.
 */
export function resolveDataDir(dataset: string, dataDir: string, subdirs: string[], required: FileSpec[]): string {
  const root = path.resolve(dataDir);
  const expected = required.map(describeSpec).join(', ');
  if (!existsSync(root)) {
    throw new DataError(`${dataset}: data directory ${root} does not exist (expected a directory with ${expected})`);
  }
  if (!statSync(root).isDirectory()) {
    throw new DataError(`${dataset}: ${root} is not a directory (expected a directory with ${expected})`);
  }
  const candidates = [root, ...subdirs.map((s) => path.join(root, s))];
  for (const dir of candidates) {
    if (existsSync(dir) && required.some((spec) => findFile(dir, spec) !== null)) return dir;
  }
  return root;
}

/**
 * Path of the file for `spec` in `dir`; throws DataError naming the missing path and listing all
 * the files the data set expects and what the directory holds.
 */
export function requireFile(dataset: string, dir: string, spec: FileSpec, allExpected: FileSpec[]): string {
  const found = findFile(dir, spec);
  if (found !== null) return found;
  const present = safeList(dir);
  throw new DataError(
    `${dataset}: missing file ${path.join(dir, describeSpec(spec))}; ${dataset} expects ${allExpected.map(describeSpec).join(', ')} in ${dir}` +
      ` (found: ${present.length === 0 ? 'nothing' : present.join(', ')})`,
  );
}

function safeList(dir: string): string[] {
  try {
    const names = readdirSync(dir).sort();
    return names.length > 12 ? [...names.slice(0, 12), `... ${names.length - 12} more`] : names;
  } catch {
    return [];
  }
}

/** The bytes of `file`, gunzipped when they start with the gzip magic 1f 8b. */
export function readDataFile(file: string): Uint8Array {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (e) {
    throw new DataError(`${file}: cannot read (${(e as Error).message})`);
  }
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = gunzipSync(raw);
    } catch (e) {
      throw new DataError(`${file}: gzip data is corrupt or truncated (${(e as Error).message})`);
    }
  }
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
}

/** Formats a byte count with thousands separators, e.g. 47,040,016. */
export function fmtBytes(n: number): string {
  return n.toLocaleString('en-US');
}
