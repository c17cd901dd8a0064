/** Training metrics: top-1 correctness from logits, running means. */
import type { Tensor } from '../tensor/tensor.js';

/** Argmax of row n of `d` (classes wide; the first maximum wins). */
function argmaxRow(d: ArrayLike<number>, n: number, classes: number): number {
  let best = 0;
  let bestVal = d[n * classes];
  for (let c = 1; c < classes; c++) {
    const v = d[n * classes + c];
    if (v > bestVal) {
      bestVal = v;
      best = c;
    }
  }
  return best;
}

/** Number of rows of `logits` [N, classes] whose argmax equals the label. */
export function countCorrect(logits: Tensor, labels: Int32Array): number {
  const [N, classes] = logits.shape;
  const d = logits.data;
  let correct = 0;
  for (let n = 0; n < N; n++) if (argmaxRow(d, n, classes) === labels[n]) correct++;
  return correct;
}

/**
 * Adds a batch to a confusion matrix: `confusion[label][predicted]` counts (rows: true class,
 * columns: the argmax of the logits).
 * @param logits [N, classes]
 */
export function addToConfusion(confusion: number[][], logits: Tensor, labels: Int32Array): void {
  const [N, classes] = logits.shape;
  const d = logits.data;
  for (let n = 0; n < N; n++) confusion[labels[n]][argmaxRow(d, n, classes)]++;
}

/** Sample-weighted running mean of loss and accuracy over an epoch. */
export class EpochMeter {
  samples = 0;
  private lossSum = 0;
  private correct = 0;

  add(loss: number, correct: number, batch: number): void {
    this.samples += batch;
    this.lossSum += loss * batch;
    this.correct += correct;
  }

  get loss(): number {
    return this.samples ? this.lossSum / this.samples : NaN;
  }

  get accuracy(): number {
    return this.samples ? this.correct / this.samples : NaN;
  }
}
