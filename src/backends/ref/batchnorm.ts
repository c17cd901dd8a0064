/**
 * Reference batch norm over NCHW, per channel c over N x HW elements (PyTorch semantics:
 * biased variance to normalise, unbiased variance in the running estimate).
 */
import type { FloatArray } from '../../core/dtype.js';
import type { BatchNormEpilogue, BatchNormPrologue, ChannelDims } from '../../backend/kernels.js';

/** Applies the fused epilogue in place: y = relu?(y + residual?). */
function epilogueInPlace(y: FloatArray, n: number, ep: BatchNormEpilogue | undefined): void {
  const res = ep?.residual ?? null;
  const relu = ep?.relu === true;
  if (res === null && !relu) return;
  for (let i = 0; i < n; i++) {
    const v = res !== null ? y[i] + res[i] : y[i];
    y[i] = relu && !(v > 0) ? 0 : v;
  }
}

export function batchNormForwardTrain(
  x: FloatArray, gamma: FloatArray, beta: FloatArray, y: FloatArray, saveMean: FloatArray, saveInvStd: FloatArray,
  runningMean: FloatArray, runningVar: FloatArray, momentum: number, eps: number, d: ChannelDims,
  epilogue?: BatchNormEpilogue,
): void {
  const { N, C, HW } = d;
  const m = N * HW;
  for (let c = 0; c < C; c++) {
    let sum = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) sum += x[base + i];
    }
    const mean = sum / m;
    let sq = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) {
        const t = x[base + i] - mean;
        sq += t * t;
      }
    }
    const variance = sq / m;
    const invStd = 1 / Math.sqrt(variance + eps);
    saveMean[c] = mean;
    saveInvStd[c] = invStd;
    runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mean;
    runningVar[c] = (1 - momentum) * runningVar[c] + momentum * (m > 1 ? sq / (m - 1) : variance);
    const g = gamma[c] * invStd;
    const b = beta[c] - mean * g;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) y[base + i] = x[base + i] * g + b;
    }
  }
  epilogueInPlace(y, N * C * HW, epilogue);
}

export function batchNormForwardEval(
  x: FloatArray, gamma: FloatArray, beta: FloatArray, runningMean: FloatArray, runningVar: FloatArray, eps: number,
  y: FloatArray, d: ChannelDims, epilogue?: BatchNormEpilogue,
): void {
  const { N, C, HW } = d;
  for (let c = 0; c < C; c++) {
    const g = gamma[c] / Math.sqrt(runningVar[c] + eps);
    const b = beta[c] - runningMean[c] * g;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) y[base + i] = x[base + i] * g + b;
    }
  }
  epilogueInPlace(y, N * C * HW, epilogue);
}

export function batchNormBackward(
  dy: FloatArray, x: FloatArray, gamma: FloatArray, saveMean: FloatArray, saveInvStd: FloatArray, dx: FloatArray,
  dgamma: FloatArray, dbeta: FloatArray, d: ChannelDims, prologue?: BatchNormPrologue,
): void {
  const { N, C, HW } = d;
  const m = N * HW;
  if (prologue !== undefined) {
    const { y, dyMasked } = prologue;
    for (let i = 0; i < N * C * HW; i++) dyMasked[i] = y[i] > 0 ? dy[i] : 0;
    dy = dyMasked;
  }
  for (let c = 0; c < C; c++) {
    const mean = saveMean[c];
    const invStd = saveInvStd[c];
    let sumDy = 0;
    let sumDyXhat = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) {
        const g = dy[base + i];
        sumDy += g;
        sumDyXhat += g * (x[base + i] - mean) * invStd;
      }
    }
    dbeta[c] = sumDy;
    dgamma[c] = sumDyXhat;
    // dx = gamma*invStd/m * (m*dy - sum(dy) - xhat*sum(dy*xhat))
    const k = (gamma[c] * invStd) / m;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) {
        const xhat = (x[base + i] - mean) * invStd;
        dx[base + i] = k * (m * dy[base + i] - sumDy - xhat * sumDyXhat);
      }
    }
  }
}
