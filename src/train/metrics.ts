/** Training metrics: top-1 correctness from logits, running means. */
import type { Tensor } from '../tensor/tensor.js';

/** Number of rows of `logits` [N, classes] whose argmax equals the label. */
export function countCorrect(logits: Tensor, labels: Int32Array): number {
  const [N, classes] = logits.shape;
  const d = logits.data;
  let correct = 0;
  for (let n = 0; n < N; n++) {
    let best = 0;
    let bestVal = d[n * classes];
    for (let c = 1; c < classes; c++) {
      const v = d[n * classes + c];
      if (v > bestVal) {
        bestVal = v;
        best = c;
      }
    }
    if (best === labels[n]) correct++;
  }
  return correct;
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
