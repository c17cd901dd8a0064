/**
 * leantrain vs PyTorch, side by side, on the conv shapes of a model:
 *
 *   node dist/bench/peers/compare-conv.js --model resnet20 --batch 128 --threads 2 [--rounds 3]
 *
 * Runs leantrain's kernel bench (src/bench) and bench/peers/pytorch_conv.py (with the system
 * /usr/bin/python3 and Debian's python3-torch) in turn, `--rounds` times, and prints per shape and
 * kernel the median time of each (the median over rounds of each round's median) and the ratio
 * leantrain / PyTorch (< 1: leantrain is faster). Alternating the two in rounds spreads the noise
 * of a shared machine over both sides. PyTorch is optional: only this script needs it.
 * Options: --model, --batch, --threads (default: leantrain's current count), --repeats (10),
 * --warmup (2), --rounds (1), --python (/usr/bin/python3), --json (print everything as JSON),
 * --markdown (the table as Markdown, as in bench/README.md). Each kernel is also reported as a
 * fraction of the machine's FMA peak, measured first with a register-only loop (measureFmaPeak)
 * at the same thread count.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { kernels, LeantrainError } from '../../src/index.js';
import { formatTable, measureFmaPeak, runKernelBench, type FmaPeak, type KernelBenchResult } from '../../src/bench/index.js';

interface PeerRow {
  shape: string;
  kernel: string;
  medianMs: number;
  minMs: number;
  gflops: number;
}
interface PeerResult {
  machine: Record<string, string | boolean>;
  threads: number;
  rows: PeerRow[];
}

/** One line of the comparison. */
export interface CompareRow {
  shape: string;
  kernel: string;
  leantrainMs: number;
  pytorchMs: number;
  /** leantrain / PyTorch time. */
  ratio: number;
  leantrainGflops: number;
  pytorchGflops: number;
  /** leantrainGflops / the measured FMA peak at the same thread count (0..1). */
  leantrainOfPeak: number;
  pytorchOfPeak: number;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const peerScript = path.join(root, 'bench', 'peers', 'pytorch_conv.py');

function intOption(v: string | undefined, name: string, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new LeantrainError(`compare-conv: --${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

function runPeer(python: string, shapesFile: string, threads: number, repeats: number, warmup: number): PeerResult {
  const args = [peerScript, '--shapes', shapesFile, '--threads', `${threads}`, '--repeats', `${repeats}`, '--warmup', `${warmup}`];
  const res = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (res.error || res.status !== 0) {
    const why = res.error ? res.error.message : res.stderr.trim().split('\n').slice(-3).join(' / ');
    throw new LeantrainError(`compare-conv: the PyTorch peer failed (${python} ${peerScript}): ${why}`);
  }
  const out: PeerResult = JSON.parse(res.stdout);
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'resnet20' },
      batch: { type: 'string' },
      threads: { type: 'string' },
      repeats: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      python: { type: 'string', default: '/usr/bin/python3' },
      json: { type: 'boolean', default: false },
      markdown: { type: 'boolean', default: false },
    },
  });
  const model = values.model ?? 'resnet20';
  const batch = intOption(values.batch, 'batch', 128, 1);
  const threads = intOption(values.threads, 'threads', kernels().threads(), 1);
  const repeats = intOption(values.repeats, 'repeats', 10, 1);
  const warmup = intOption(values.warmup, 'warmup', 2, 0);
  const rounds = intOption(values.rounds, 'rounds', 1, 1);
  const python = values.python ?? '/usr/bin/python3';

  const dir = mkdtempSync(path.join(os.tmpdir(), 'leantrain-compare-'));
  const ours = new Map<string, number[]>();
  const theirs = new Map<string, number[]>();
  const push = (m: Map<string, number[]>, key: string, v: number): void => void m.set(key, [...(m.get(key) ?? []), v]);
  const peak: FmaPeak = measureFmaPeak(5, 150, threads);
  if (!values.json) process.stderr.write(`[compare] FMA peak ${peak.gflops.toFixed(1)} GFLOP/s (${peak.isa}, ${threads} thread(s))\n`);
  let lt: KernelBenchResult | null = null;
  let peer: PeerResult | null = null;
  try {
    for (let r = 0; r < rounds; r++) {
      if (!values.json) process.stderr.write(`[compare] round ${r + 1}/${rounds}: leantrain\n`);
      lt = await runKernelBench({ model, batch, threads, repeats, warmup, json: true });
      for (const row of lt.rows) push(ours, `${row.shape}|${row.kernel}`, row.medianMs);
      const shapesFile = path.join(dir, 'shapes.json');
      writeFileSync(shapesFile, JSON.stringify(lt.shapes));
      if (!values.json) process.stderr.write(`[compare] round ${r + 1}/${rounds}: PyTorch\n`);
      peer = runPeer(python, shapesFile, threads, repeats, warmup);
      for (const row of peer.rows) push(theirs, `${row.shape}|${row.kernel}`, row.medianMs);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (lt === null || peer === null) return;

  const rows: CompareRow[] = lt.rows.map((row) => {
    const key = `${row.shape}|${row.kernel}`;
    const a = median(ours.get(key) ?? []);
    const b = median(theirs.get(key) ?? [Number.NaN]);
    const flop = row.gflops * row.medianMs * 1e6;
    return {
      shape: row.shape, kernel: row.kernel, leantrainMs: a, pytorchMs: b, ratio: a / b,
      leantrainGflops: flop / (a * 1e6), pytorchGflops: flop / (b * 1e6),
      leantrainOfPeak: flop / (a * 1e6) / peak.gflops, pytorchOfPeak: flop / (b * 1e6) / peak.gflops,
    };
  });
  const worst = Math.max(...rows.map((r) => r.ratio));
  const geo = Math.exp(rows.reduce((s, r) => s + Math.log(r.ratio), 0) / rows.length);
  if (values.json) {
    const out = { model, batch, threads, repeats, warmup, rounds, machine: lt.machine, pytorch: peer.machine, fmaPeak: peak, rows, worstRatio: worst, geomeanRatio: geo };
    process.stdout.write(`${JSON.stringify(out, null, 1)}\n`);
    return;
  }
  const m = lt.machine;
  if (values.markdown) {
    process.stdout.write(
      `${model}, batch ${batch}, ${threads} thread(s): median ms of ${repeats} runs after ${warmup} warm-up, median over ${rounds} round(s); ` +
        `${m.date.slice(0, 10)}; FMA peak ${peak.gflops.toFixed(0)} GFLOP/s\n\n| shape | kernel | leantrain ms | PyTorch ms | ratio | leantrain % of peak | PyTorch % of peak |\n| --- | --- | ---: | ---: | ---: | ---: | ---: |\n` +
        rows.map((r) => `| ${r.shape} | ${r.kernel} | ${r.leantrainMs.toFixed(2)} | ${r.pytorchMs.toFixed(2)} | ${r.ratio.toFixed(2)} | ${(100 * r.leantrainOfPeak).toFixed(0)} | ${(100 * r.pytorchOfPeak).toFixed(0)} |`).join('\n') +
        `\n\nworst ratio ${worst.toFixed(2)}, geometric mean ${geo.toFixed(2)}\n`,
    );
    return;
  }
  process.stdout.write(
    `conv kernels of ${model}, batch ${batch}, ${threads} thread(s); median of ${repeats} runs after ${warmup} warm-up, ` +
      `median over ${rounds} round(s)\n` +
      `leantrain ${m.backend}${m.isa ? ` (${m.isa})` : ''} vs PyTorch ${String(peer.machine.torch)} on ${m.cpu}, ${m.cores} cores, ${m.date}\n` +
      `FMA peak (register-only loop, ${threads} thread(s)): ${peak.gflops.toFixed(1)} GFLOP/s\n\n`,
  );
  process.stdout.write(
    formatTable(
      ['shape', 'kernel', 'leantrain ms', 'PyTorch ms', 'ratio', 'leantrain GF/s', 'PyTorch GF/s', 'leantrain %peak', 'PyTorch %peak'],
      rows.map((r) => [
        r.shape, r.kernel, r.leantrainMs.toFixed(3), r.pytorchMs.toFixed(3), r.ratio.toFixed(2),
        r.leantrainGflops.toFixed(1), r.pytorchGflops.toFixed(1), (100 * r.leantrainOfPeak).toFixed(0), (100 * r.pytorchOfPeak).toFixed(0),
      ]),
      [false, false, true, true, true, true, true, true, true],
    ),
  );
  process.stdout.write(`\n\nratio leantrain/PyTorch: worst ${worst.toFixed(2)}, geometric mean ${geo.toFixed(2)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof LeantrainError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
