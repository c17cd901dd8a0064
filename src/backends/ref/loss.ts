/** Reference softmax cross-entropy with integer labels, numerically stable (max-shifted). */
import type { FloatArray } from '../../core/dtype.js';
import type { SoftmaxDims } from '../../backend/kernels.js';

export function softmaxCrossEntropyForward(logits: FloatArray, labels: Int32Array, probs: FloatArray, d: SoftmaxDims): number {
  const { N, classes } = d;
  let total = 0;
  for (let n = 0; n < N; n++) {
    const b = n * classes;
    let mx = -Infinity;
    for (let c = 0; c < classes; c++) mx = Math.max(mx, logits[b + c]);
    let sum = 0;
    for (let c = 0; c < classes; c++) {
      const e = Math.exp(logits[b + c] - mx);
      probs[b + c] = e;
      sum += e;
    }
    for (let c = 0; c < classes; c++) probs[b + c] /= sum;
    // -log softmax[label] = log(sum) - (z_label - max)
    total += Math.log(sum) - (logits[b + labels[n]] - mx);
  }
  return total / N;
}

export function softmaxCrossEntropyBackward(
  probs: FloatArray, labels: Int32Array, scale: number, dlogits: FloatArray, d: SoftmaxDims,
): void {
  const { N, classes } = d;
  for (let n = 0; n < N; n++) {
    const b = n * classes;
    for (let c = 0; c < classes; c++) dlogits[b + c] = probs[b + c] * scale;
    dlogits[b + labels[n]] -= scale;
  }
}
