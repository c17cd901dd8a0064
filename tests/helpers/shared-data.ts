/**
 * Locates ../shared/data (read-only real data sets). Users do not have it; tests that need it
 * skip with a clear message when it is absent. CI has it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repo root (this file is dist/tests/helpers/shared-data.js). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Absolute path of ../shared/data/<name>, or null if absent. */
export function sharedData(name: string): string | null {
  const dir = path.resolve(repoRoot, '..', 'shared', 'data', name);
  return existsSync(dir) ? dir : null;
}

/** The skip reason for node:test when a data set is absent. */
export function skipUnlessShared(name: string): string | false {
  return sharedData(name) === null ? `../shared/data/${name} is not present (real data sets live beside the repo in CI)` : false;
}
