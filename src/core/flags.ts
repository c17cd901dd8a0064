/**
 * Runtime flags. This is the ONLY module that reads environment variables; everything else asks
 * here. CLI options override these (they call the setters in the backend).
 *
 * - LEANTRAIN_BACKEND = native | ref     which kernels run (default: native when it loads)
 * - LEANTRAIN_THREADS = N                 kernel threads (default: all cores)
 * - LEANTRAIN_REQUIRE_NATIVE = 1          fail instead of falling back to ref (CI sets it)
 * - LEANTRAIN_QUIET = 1                   no backend banner on stderr
 * - LEANTRAIN_POISON_EMPTY = 1            fill Tensor.empty storage with NaN (a test mode that
 *                                         catches code relying on zeros it was not promised)
 */
import os from 'node:os';
import { OptionError } from './errors.js';

export type BackendName = 'native' | 'ref';

export interface Flags {
  backend: BackendName | undefined;
  threads: number;
  requireNative: boolean;
  quiet: boolean;
  poisonEmpty: boolean;
}

function parseThreads(v: string | undefined): number {
  if (v === undefined || v === '') return Math.max(1, os.availableParallelism());
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    throw new OptionError(`LEANTRAIN_THREADS must be a positive integer, got '${v}'`);
  }
  return n;
}

function parseBackend(v: string | undefined): BackendName | undefined {
  if (v === undefined || v === '') return undefined;
  if (v !== 'native' && v !== 'ref') {
    throw new OptionError(`LEANTRAIN_BACKEND must be 'native' or 'ref', got '${v}'`);
  }
  return v;
}

let cached: Flags | null = null;

/** The flags, read once from the environment. */
export function flags(): Flags {
  if (cached === null) {
    const env = process.env;
    cached = {
      backend: parseBackend(env.LEANTRAIN_BACKEND),
      threads: parseThreads(env.LEANTRAIN_THREADS),
      requireNative: env.LEANTRAIN_REQUIRE_NATIVE === '1',
      quiet: env.LEANTRAIN_QUIET === '1',
      poisonEmpty: env.LEANTRAIN_POISON_EMPTY === '1',
    };
  }
  return cached;
}
