/**
 * Run outputs under --out: a JSONL log (one JSON object per line: steps and epochs) and
 * summary.json, written atomically (temporary file, then rename) so a crash never leaves a
 * half-written summary.
 */
import { appendFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DataError } from '../core/errors.js';

/** Writes `text` to `file` via a temporary file and a rename. */
export function writeFileAtomic(file: string, text: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new DataError(`${file}: cannot write it (${(e as Error).message})`);
  }
}

export class RunLog {
  readonly logFile: string;
  readonly summaryFile: string;

  /**
   * Creates `dir` (and parents) and starts an empty log, or with `append` continues it (resume),
   * first cutting it back to `truncateTo` bytes when it is longer.
   */
  constructor(
    readonly dir: string,
    append = false,
    truncateTo?: number,
  ) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new DataError(`--out ${dir}: cannot create the run directory (${(e as Error).message})`);
    }
    this.logFile = path.join(dir, 'log.jsonl');
    this.summaryFile = path.join(dir, 'summary.json');
    if (!append) writeFileSync(this.logFile, '');
    else if (truncateTo !== undefined && existsSync(this.logFile) && statSync(this.logFile).size > truncateTo) truncateSync(this.logFile, truncateTo);
  }

  /** Bytes written to log.jsonl so far. */
  size(): number {
    return existsSync(this.logFile) ? statSync(this.logFile).size : 0;
  }

  /** Appends one record (a step, an epoch, or an event) as a JSON line. */
  write(record: Record<string, unknown>): void {
    appendFileSync(this.logFile, `${JSON.stringify(record)}\n`);
  }

  /** Writes summary.json atomically. */
  writeSummary(summary: object): void {
    writeFileAtomic(this.summaryFile, `${JSON.stringify(summary, null, 2)}\n`);
  }
}
