/**
 * `leantrain bench kernels`: times the dense conv kernels of a model's conv shapes.
 * `leantrain bench backward` / `bench step`: sparse back-propagation, dense vs pruned, per conv
 * layer and per whole training step (src/bench/backward.ts, step.ts).
 */
import type { Command } from 'commander';
import {
  formatBackwardBench, formatKernelBench, formatStepBench, runBackwardBench, runKernelBench, runStepBench, type SparseBenchSetup,
} from '../bench/index.js';
import { pruningFromConfig } from '../train/pruning.js';
import { intOption, numberOption } from './options.js';

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
  addSparseBench(bench, 'backward', 'per conv layer: dense backward vs prune + sparse backward on the same pruned gradient (medians over --steps)');
  addSparseBench(bench, 'step', 'whole training steps (forward + backward + SGD step), dense vs pruned alternating, and the bound that density allows');
}

interface SparseBenchFlags {
  model: string;
  batch: number;
  prune: string;
  pruneRate?: number;
  sparsity?: number;
  keep?: number;
  pruneExclude?: string;
  dataset?: string;
  dataDir?: string;
  threads?: number;
  steps: number;
  warmup: number;
  seed: number;
  initFrom?: string;
  json: boolean;
}

const DATA_HELP =
  'data set for real images (e.g. cifar10 with --data-dir); default: the embedded MNIST digits, for a 3x32x32 model ' +
  'zero-padded from 28x28 to 32x32 with the gray channel replicated to 3 channels';

function addSparseBench(bench: Command, name: 'backward' | 'step', description: string): void {
  bench
    .command(name)
    .description(description)
    .option('--model <name>', 'model', 'resnet20')
    .option('--batch <n>', 'batch size', intOption('--batch'), 128)
    .option('--prune <policy>', 'pruning policy: normal | lognormal | topk | deterministic', 'normal')
    .option('--prune-rate <p>', 'normal/deterministic: pruning rate p in [0, 1) (default 0.9)', numberOption('--prune-rate', -Infinity))
    .option('--sparsity <s>', 'lognormal: target sparsity s in [0, 1)', numberOption('--sparsity', -Infinity))
    .option('--keep <f>', 'topk: kept fraction per sample in (0, 1]', numberOption('--keep', -Infinity))
    .option('--prune-exclude <list>', "layers left dense: comma list of first, shortcut, fc, or 'none' (default: fc)")
    .option('--dataset <name>', DATA_HELP)
    .option('--data-dir <dir>', 'directory of the data set files')
    .option('--threads <n>', 'kernel threads', intOption('--threads'))
    .option('--steps <k>', 'timed steps (medians over them)', intOption('--steps'), 10)
    .option('--warmup <n>', 'dense training steps before timing', intOption('--warmup', 0), 3)
    .option('--seed <n>', 'model and pruning seed', intOption('--seed', 0), 0)
    .option('--init-from <file>', 'start from these weights (a model.safetensors that leantrain train wrote), e.g. a trained model whose gradients prune like mid-training ones')
    .option('--json', 'print JSON instead of a table', false)
    .action((f: SparseBenchFlags) => {
      const defaultRate = (f.prune === 'normal' || f.prune === 'deterministic') && f.pruneRate === undefined && f.sparsity === undefined && f.keep === undefined;
      const pruning = pruningFromConfig(
        { prune: f.prune, pruneRate: defaultRate ? 0.9 : f.pruneRate, sparsity: f.sparsity, keep: f.keep, pruneExclude: f.pruneExclude }, f.seed,
      );
      if (pruning === null) return;
      const setup: SparseBenchSetup = {
        model: f.model, batch: f.batch, pruning, dataset: f.dataset, dataDir: f.dataDir, threads: f.threads, steps: f.steps, warmup: f.warmup, seed: f.seed,
        ...(f.initFrom !== undefined ? { initFrom: f.initFrom } : {}),
        log: f.json ? undefined : (line) => void process.stderr.write(`${line}\n`),
      };
      if (name === 'backward') {
        const r = runBackwardBench(setup);
        process.stdout.write(f.json ? `${JSON.stringify(r, null, 2)}\n` : `${formatBackwardBench(r)}\n`);
      } else {
        const r = runStepBench(setup);
        process.stdout.write(f.json ? `${JSON.stringify(r, null, 2)}\n` : `${formatStepBench(r)}\n`);
      }
    });
}
