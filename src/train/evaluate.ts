/** Evaluation: loss and top-1 accuracy of a model over a data loader, without recording a graph. */
import { BufferArena } from '../core/arena.js';
import { noGrad } from '../autograd/graph.js';
import type { DataLoader } from '../data/index.js';
import type { Module } from '../nn/module.js';
import { crossEntropy } from '../ops/index.js';
import { addToConfusion, countCorrect, EpochMeter } from './metrics.js';

export interface EvalResult {
  loss: number;
  accuracy: number;
  samples: number;
  seconds: number;
  /** With `confusion` requested: counts[true class][predicted class]. */
  confusion?: number[][];
}

/**
 * Runs `model` in eval mode over every batch of `loader` (epoch 0 order); restores the mode after.
 * With `opts.confusion` (the number of classes) the result also has the confusion matrix.
 */
export async function evaluate(model: Module, loader: DataLoader, opts: { confusion?: number } = {}): Promise<EvalResult> {
  const confusion = opts.confusion !== undefined ? Array.from({ length: opts.confusion }, () => new Array<number>(opts.confusion!).fill(0)) : undefined;
  const wasTraining = model.training;
  model.eval();
  const meter = new EpochMeter();
  const arena = new BufferArena();
  const t0 = performance.now();
  try {
    for await (const batch of loader.batches(0)) {
      arena.run(() =>
        noGrad(() => {
          const logits = model.call(batch.x);
          const loss = crossEntropy(logits, batch.labels).item();
          meter.add(loss, countCorrect(logits, batch.labels), batch.labels.length);
          if (confusion) addToConfusion(confusion, logits, batch.labels);
        }),
      );
    }
  } finally {
    model.train(wasTraining);
  }
  return { loss: meter.loss, accuracy: meter.accuracy, samples: meter.samples, seconds: (performance.now() - t0) / 1000, ...(confusion ? { confusion } : {}) };
}
