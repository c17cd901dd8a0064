/** `leantrain models`: the model zoo with parameter counts and forward GFLOPs (src/models/summary.ts). */
import type { Command } from 'commander';
import { OptionError, ShapeError } from '../core/errors.js';
import { modelInfo, modelNames, modelSummary, type ModelSummary } from '../models/index.js';
import { intOption } from './options.js';

interface ModelsFlags {
  json: boolean;
  input?: [number, number, number];
  classes?: number;
}

/** Parses '3x224x224' into [C, H, W]. */
export function shapeOption(v: string): [number, number, number] {
  const parts = v.split('x').map(Number);
  if (parts.length !== 3 || !parts.every((n) => Number.isSafeInteger(n) && n > 0)) {
    throw new OptionError(`--input must be C x H x W as positive integers, e.g. 3x224x224, got '${v}'`);
  }
  return [parts[0], parts[1], parts[2]];
}

/** A summary, or why the model cannot take the requested input. */
type Row = ModelSummary | (Omit<ModelSummary, 'parameters' | 'gflops'> & { parameters: null; gflops: null; error: string });

function summarize(name: string, f: ModelsFlags): Row {
  try {
    return modelSummary(name, { input: f.input, numClasses: f.classes });
  } catch (e) {
    if (!(e instanceof ShapeError)) throw e;
    const info = modelInfo(name);
    const input = f.input ?? info.inputShape;
    return { name, description: info.description, parameters: null, gflops: null, input, numClasses: f.classes ?? info.defaultNumClasses, error: e.message };
  }
}

/** A fixed-width table of summaries. */
function formatModels(rows: readonly Row[]): string {
  const head = ['model', 'parameters', 'GFLOPs', 'input', 'classes', 'description'];
  const cells = rows.map((r) => [
    r.name,
    r.parameters === null ? '-' : r.parameters.toLocaleString('en-US'),
    r.gflops === null ? '-' : r.gflops.toFixed(3),
    r.input.join('x'),
    String(r.numClasses),
    'error' in r ? `cannot take this input: ${r.error}` : r.description,
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]): string => c.map((v, i) => (i === 1 || i === 2 ? v.padStart(width[i]) : v.padEnd(width[i]))).join('  ').trimEnd();
  return [line(head), ...cells.map(line), '', 'GFLOPs: multiply-adds of conv and linear layers per image, as torchvision counts them.'].join('\n');
}

export function addModelsCommand(program: Command): void {
  program
    .command('models')
    .description('list the model zoo: parameters and forward GFLOPs (multiply-adds, torchvision\'s convention) per image')
    .option('--json', 'print a JSON array of {name, parameters, gflops, ...}', false)
    .option('--input <CxHxW>', 'input size for every model (default: each model\'s own, 3x224x224 for ImageNet forms)', shapeOption)
    .option('--classes <n>', 'number of classes (default: each model\'s own, 1000 for ImageNet forms)', intOption('--classes'))
    .action((f: ModelsFlags) => {
      const rows = modelNames().map((n) => summarize(n, f));
      process.stdout.write(f.json ? `${JSON.stringify(rows, null, 2)}\n` : `${formatModels(rows)}\n`);
    });
}
