/**
 * `leantrain experiment`: dense vs each pruning setting, same seeds and budget, with a results
 * table and an HTML report (src/experiment/). Options come from the command line, or from a JSON
 * config file (`--config`) whose keys are the option names in camelCase (e.g. {"model":
 * "resnet20", "rates": [0, 0.9], "epochs": 5}); options given on the command line win.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { DataError, OptionError } from '../core/errors.js';
import { EXPERIMENT_POLICIES, runExperiment, type ExperimentConfig, type ExperimentPolicy } from '../experiment/run.js';
import { resultsMarkdown } from '../experiment/results.js';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../train/index.js';
import { addCommonTrainingOptions } from './train.js';
import { choiceOption, intOption } from './options.js';

interface ExperimentFlags extends TrainConfig {
  config?: string;
  rates: string | number[];
  seeds: number;
  histogramLayer?: string;
}

/** '0,0.9,0.99' -> [0, 0.9, 0.99]. */
function parseRates(v: string | number[]): number[] {
  if (Array.isArray(v)) return v;
  const out = v.split(',').map((s) => Number(s.trim()));
  if (out.some((r, i) => !Number.isFinite(r) || v.split(',')[i].trim() === '')) throw new OptionError(`--rates must be a comma list of numbers, e.g. 0,0.9,0.99, got '${v}'`);
  return out;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DataError(`--config ${file}: cannot read it (${(e as Error).message})`);
  }
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new DataError(`--config ${file}: not a JSON object of options (${(e as Error).message})`);
  }
}

export function addExperimentCommand(program: Command): void {
  addCommonTrainingOptions(
    program
      .command('experiment')
      .description('the paper\'s protocol: dense and each pruning rate with the same seeds and budget; results table and report.html with plots'),
  )
    .requiredOption('--out <dir>', 'experiment directory (runs/, results.*, report.html); an existing one resumes')
    .option('--config <file>', 'JSON object of options (camelCase names); command-line options override it')
    .option('--prune <policy>', `pruning policy: ${EXPERIMENT_POLICIES.join(', ')}`, choiceOption('--prune', EXPERIMENT_POLICIES), 'normal')
    .option('--rates <list>', 'settings, 0 = dense: p (normal, deterministic), sparsity (lognormal), pruned fraction (topk)', '0,0.9,0.99')
    .option('--seeds <n>', 'runs per setting (seeds --seed, --seed + 1, ...)', intOption('--seeds'), 1)
    .option('--prune-exclude <list>', "layers left dense: comma list of first, shortcut, fc, or 'none' (default: fc)")
    .option('--prune-warmup <steps>', 'dense steps before pruning (also where each layer\'s dense backward is timed for the speed-up)', intOption('--prune-warmup', 0), 20)
    .option('--prune-warmup-epochs <n>', 'the dense warm-up in epochs instead', intOption('--prune-warmup-epochs', 0))
    .option('--histogram-layer <name>', 'conv layer whose activation gradient is histogrammed (default: a middle pruned conv)')
    .action(async (f: ExperimentFlags, cmd: Command) => {
      const fromFile = f.config !== undefined ? readConfigFile(f.config) : {};
      const explicit = Object.fromEntries(Object.entries(f).filter(([k]) => cmd.getOptionValueSource(k) === 'cli'));
      const merged = { ...f, ...fromFile, ...explicit } as ExperimentFlags & Record<string, unknown>;
      const { config: _c, rates, seeds, histogramLayer, prune, out, ...rest } = merged;
      if (merged.pruneWarmupEpochs !== undefined && cmd.getOptionValueSource('pruneWarmup') !== 'cli' && !('pruneWarmup' in fromFile)) {
        delete rest.pruneWarmup;
      }
      const e: ExperimentConfig = {
        base: { ...DEFAULT_TRAIN_CONFIG, ...rest } as TrainConfig,
        policy: prune as ExperimentPolicy,
        rates: parseRates(rates),
        seeds,
        out: out!,
        histogramLayer,
      };
      const rows = await runExperiment(e, { info: (line) => process.stdout.write(`${line}\n`) });
      process.stdout.write(`\n${resultsMarkdown(rows)}`);
    });
}
