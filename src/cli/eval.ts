/**
 * `leantrain eval`: accuracy, loss, per-class accuracy and the confusion matrix of trained
 * weights (a training checkpoint, or a safetensors state dict + --model) on a data set split.
 */
import type { Command } from 'commander';
import { OptionError } from '../core/errors.js';
import { DataLoader, loadDataset, transformPreset } from '../data/index.js';
import { readSafetensors } from '../io/safetensors.js';
import { modelFromState } from '../models/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { readCheckpoint } from '../train/checkpoint.js';
import { evaluate } from '../train/evaluate.js';
import { choiceOption, intOption } from './options.js';

interface EvalFlags {
  checkpoint?: string;
  weights?: string;
  model?: string;
  dataset?: string;
  dataDir?: string;
  split: 'test' | 'train';
  batchSize: number;
  threads?: number;
  json: boolean;
  imageSize?: number;
}

/** The confusion matrix as text: rows true class, columns predicted. */
function formatConfusion(m: number[][], names: string[]): string {
  const w = Math.max(5, ...m.flat().map((v) => String(v).length));
  const short = names.map((n) => n.slice(0, w));
  const head = `${'true \\ pred'.padEnd(12)}${short.map((n) => n.padStart(w + 1)).join('')}`;
  return [head, ...m.map((row, i) => `${names[i].slice(0, 11).padEnd(12)}${row.map((v) => String(v).padStart(w + 1)).join('')}`)].join('\n');
}

export function addEvalCommand(program: Command): void {
  program
    .command('eval')
    .description('accuracy, per-class accuracy and confusion matrix of trained weights on a data set')
    .option('--checkpoint <file>', 'a training checkpoint (model, data set and weights come from it)')
    .option('--weights <file>', 'a safetensors state dict (model.safetensors or a PyTorch export); needs --model and --dataset')
    .option('--model <name>', 'model name (implied by --checkpoint)')
    .option('--dataset <name>', 'data set (default: the checkpoint\'s)')
    .option('--data-dir <dir>', 'data set directory (default: the checkpoint\'s)')
    .option('--image-size <n>', 'imagefolder: stored image side (default: the checkpoint\'s, else 64)', intOption('--image-size', 8))
    .option('--split <name>', 'test or train', choiceOption('--split', ['test', 'train'] as const), 'test')
    .option('--batch-size <n>', 'evaluation batch size', intOption('--batch-size'), 500)
    .option('--threads <n>', 'kernel threads', intOption('--threads'))
    .option('--json', 'print JSON (accuracy, loss, perClass, confusion, classNames)', false)
    .action(async (f: EvalFlags) => {
      if ((f.checkpoint === undefined) === (f.weights === undefined)) throw new OptionError('give exactly one of --checkpoint or --weights');
      let model = f.model, dataset = f.dataset, dataDir = f.dataDir, shortcut: 'A' | 'B' | undefined, imageSize = f.imageSize;
      let state: Map<string, Tensor>;
      if (f.checkpoint !== undefined) {
        const ck = readCheckpoint(f.checkpoint);
        model ??= ck.config.model;
        dataset ??= ck.config.dataset;
        if (dataDir === undefined && f.dataset === undefined) dataDir = ck.config.dataDir;
        shortcut = ck.config.shortcut;
        imageSize ??= ck.config.imageSize;
        state = ck.model;
      } else {
        state = readSafetensors(f.weights!).tensors;
      }
      if (model === undefined) throw new OptionError('--model is required with --weights');
      if (dataset === undefined) throw new OptionError('--dataset is required with --weights');
      const data = loadDataset(dataset, { split: f.split, dataDir, imageFolder: { storeSize: imageSize } });
      const file = (f.checkpoint ?? f.weights)!;
      const m = modelFromState(model, state, file, { inChannels: data.imageShape[0], ...(shortcut ? { shortcut } : {}) });
      const loader = new DataLoader(data, { batchSize: f.batchSize, shuffle: false, seed: 0, transform: transformPreset(dataset, 'test', { imageSize }) });
      let r;
      try {
        r = await evaluate(m, loader, { confusion: data.numClasses });
      } finally {
        await loader.close();
      }
      const confusion = r.confusion!;
      const perClass = confusion.map((row, i) => {
        const n = row.reduce((a, b) => a + b, 0);
        return { class: data.classNames[i] ?? String(i), samples: n, accuracy: n > 0 ? row[i] / n : null };
      });
      if (f.json) {
        process.stdout.write(`${JSON.stringify({ model, dataset, split: f.split, weights: file, samples: r.samples, accuracy: r.accuracy, loss: r.loss, perClass, classNames: data.classNames, confusion }, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `${model} on ${dataset} (${f.split}, ${r.samples} images) from ${file}: accuracy ${(100 * r.accuracy).toFixed(2)}%, loss ${r.loss.toFixed(4)}\n` +
          `per class: ${perClass.map((p) => `${p.class} ${p.accuracy === null ? '-' : (100 * p.accuracy).toFixed(1)}%`).join(', ')}\n` +
          `confusion matrix (rows: true class, columns: predicted):\n${formatConfusion(confusion, data.classNames)}\n`,
      );
    });
}
