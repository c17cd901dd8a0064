/** `leantrain bench kernels`: times the dense conv kernels of a model's conv shapes. */
import type { Command } from 'commander';
import { formatKernelBench, runKernelBench } from '../bench/index.js';
import { intOption } from './options.js';

interface BenchKernelFlags {
  model: string;
  batch: number;
  threads?: number;
  repeats: number;
  json: boolean;
}

export function addBenchCommand(program: Command): void {
  const bench = program.command('bench').description('benchmarks (medians of repeated runs, side by side in one process)');
  bench
    .command('kernels')
    .description('time dense conv forward, backward-input and backward-weight for each distinct conv shape of a model')
    .option('--model <name>', 'model whose conv shapes are timed', 'resnet20')
    .option('--batch <n>', 'batch size', intOption('--batch'), 128)
    .option('--threads <n>', 'kernel threads', intOption('--threads'))
    .option('--repeats <n>', 'timed repetitions per kernel', intOption('--repeats'), 10)
    .option('--json', 'print JSON instead of a table', false)
    .action(async (f: BenchKernelFlags) => {
      const result = await runKernelBench({ model: f.model, batch: f.batch, threads: f.threads, repeats: f.repeats, json: f.json });
      process.stdout.write(f.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatKernelBench(result)}\n`);
    });
}
