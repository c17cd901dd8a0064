/**
 * Benchmark reports: the machine description and aligned text tables. JSON output is the
 * KernelBenchResult itself (see kernels.ts).
 */
import os from 'node:os';
import { kernels } from '../backend/active.js';
import { nativeBackend } from '../backends/select.js';
import type { ConvBenchRow } from './conv.js';

/** Where a benchmark ran: enough to tell two result files apart. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  node: string;
  /** Active backend ('native' or 'ref') and, for native, the kernel ISA ('avx512', 'avx2', 'scalar'). */
  backend: string;
  isa: string | null;
  /** ISO timestamp of the run. */
  date: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  const k = kernels();
  const n = k.name === 'native' ? nativeBackend() : null;
  return {
    cpu: cpus.length > 0 ? cpus[0].model.trim() : 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    backend: k.name,
    isa: n ? n.isa() : null,
    date: new Date().toISOString(),
  };
}

/** Right-aligns numbers and left-aligns text columns; header underlined. */
export function formatTable(header: string[], rows: string[][], numeric: boolean[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]): string =>
    cells.map((v, c) => (numeric[c] ? v.padStart(widths[c]) : v.padEnd(widths[c]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/**
 * The rows of benchConvKernels as an aligned table: shape, kernel, median ms, min ms, GFLOP/s,
 * and with `peakGflops` (the measured FMA peak at the same thread count) each as % of it.
 * @example console.log(formatConvBench(benchConvKernels(shapes)))
 */
export function formatConvBench(rows: ConvBenchRow[], peakGflops?: number): string {
  const peak = peakGflops !== undefined && peakGflops > 0 ? peakGflops : null;
  return formatTable(
    ['shape', 'kernel', 'median ms', 'min ms', 'GFLOP/s', ...(peak ? ['% of peak'] : [])],
    rows.map((r) => [
      r.shape, r.kernel, r.medianMs.toFixed(3), r.minMs.toFixed(3), r.gflops.toFixed(1),
      ...(peak ? [(100 * r.gflops / peak).toFixed(0)] : []),
    ]),
    [false, false, true, true, true, ...(peak ? [true] : [])],
  );
}
