/**
 * batchNorm2d: per-channel batch normalisation of NCHW activations (PyTorch semantics).
 * Shapes: x[N,C,H,W], gamma/beta/runningMean/runningVar [C] -> y[N,C,H,W].
 *
 * Training mode normalises with the batch statistics (biased variance), keeps them for backward
 * and updates the running statistics in place (unbiased variance, momentum as PyTorch). Eval mode
 * is the affine map y = gamma * (x - runningMean) / sqrt(runningVar + eps) + beta, whose backward
 * is computed here in TS (it is rare in training, never on the hot path).
 */
import { recordOp, type BackwardFn, type Ctx } from '../autograd/graph.js';
import { kernels } from '../backend/active.js';
import type { ChannelDims } from '../backend/kernels.js';
import { allocFloat, type FloatArray } from '../core/dtype.js';
import { checkOption, checkShape } from '../core/errors.js';
import { formatShape, shapesEqual, type Shape } from '../core/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkSameDtype, metaFloat, where } from './common.js';

export interface BatchNorm2dOptions {
  /** Batch statistics and running-stat updates (true) or running statistics (false). */
  training: boolean;
  /** Weight of the new batch statistic in the running estimate, in [0, 1] (PyTorch default 0.1). */
  momentum: number;
  /** Added to the variance before the square root, > 0 (PyTorch default 1e-5). */
  eps: number;
}

/**
 * Batch normalisation over N, H and W for each channel.
 * @param x [N, C, H, W]
 * @param gamma scale [C] (PyTorch `weight`)
 * @param beta shift [C] (PyTorch `bias`)
 * @param runningMean [C], updated in place in training mode
 * @param runningVar [C], updated in place in training mode
 * @returns [N, C, H, W]
 * @example const y = batchNorm2d(x, bn.weight, bn.bias, bn.runningMean, bn.runningVar, { training: true, momentum: 0.1, eps: 1e-5 });
 */
export function batchNorm2d(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  runningMean: Tensor,
  runningVar: Tensor,
  opts: BatchNorm2dOptions,
): Tensor {
  return batchNormImpl('batchNorm2d', x, gamma, beta, runningMean, runningVar, opts, null);
}

/** What `batchNorm2dAct` fuses after the normalisation. */
export interface BatchNormActOptions {
  /** Added to the normalised output before the activation (same shape as x): a residual branch. */
  residual?: Tensor;
  /** Apply ReLU to the result (default true). */
  relu?: boolean;
}

/**
 * Batch norm with the block epilogue fused: `relu(batchNorm2d(x) + residual)` in one pass over
 * the data, and one backward kernel that also applies the ReLU's mask. Same values as the three
 * separate ops (bit for bit in float32: the same operations in the same order); fewer passes
 * over memory and one activation less kept for backward.
 * @param x [N, C, H, W]
 * @param gamma scale [C]
 * @param beta shift [C]
 * @param runningMean [C], updated in place in training mode
 * @param runningVar [C], updated in place in training mode
 * @param fuse residual [N, C, H, W] (optional) and whether to apply ReLU
 * @returns [N, C, H, W]
 * @example const out = batchNorm2dAct(h, bn.weight, bn.bias, bn.runningMean, bn.runningVar, opts, { residual: x });
 */
export function batchNorm2dAct(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  runningMean: Tensor,
  runningVar: Tensor,
  opts: BatchNorm2dOptions,
  fuse: BatchNormActOptions = {},
): Tensor {
  const op = where('batchNorm2dAct');
  const residual = fuse.residual ?? null;
  if (residual !== null) {
    checkShape(
      shapesEqual(residual.shape, x.shape),
      () => `${op}: residual has shape ${formatShape(residual.shape)}, input has ${formatShape(x.shape)}; they must match`,
    );
    checkSameDtype(op, { input: x, residual });
  }
  const relu = fuse.relu ?? true;
  const name = residual !== null ? (relu ? 'batchNorm2dAddRelu' : 'batchNorm2dAdd') : relu ? 'batchNorm2dRelu' : 'batchNorm2d';
  return batchNormImpl(name, x, gamma, beta, runningMean, runningVar, opts, { residual, relu });
}

interface Fusion {
  residual: Tensor | null;
  relu: boolean;
}

function batchNormImpl(
  name: string,
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  runningMean: Tensor,
  runningVar: Tensor,
  opts: BatchNorm2dOptions,
  fuse: Fusion | null,
): Tensor {
  const op = where(name);
  checkShape(x.ndim === 4, () => `${op}: input must be 4-D [N, C, H, W], got ${formatShape(x.shape)}`);
  const [N, C, H, W] = x.shape;
  const per: Record<string, Tensor> = { weight: gamma, bias: beta, running_mean: runningMean, running_var: runningVar };
  for (const [name, t] of Object.entries(per)) {
    checkShape(
      t.ndim === 1 && t.shape[0] === C,
      () => `${op}: input has ${C} channels (shape ${formatShape(x.shape)}), ${name} has shape ${formatShape(t.shape)}, expected [${C}]`,
    );
  }
  checkOption(Number.isFinite(opts.eps) && opts.eps > 0, () => `${op}: option 'eps' must be > 0, got ${opts.eps}`);
  checkOption(
    Number.isFinite(opts.momentum) && opts.momentum >= 0 && opts.momentum <= 1,
    () => `${op}: option 'momentum' must be in [0, 1], got ${opts.momentum}`,
  );
  checkSameDtype(op, { input: x, ...per });
  const d: ChannelDims = { N, C, HW: H * W };
  const y = Tensor.empty(x.shape, x.dtype);
  const residual = fuse?.residual ?? null;
  const relu = fuse?.relu ?? false;
  const epilogue = { residual: residual?.data ?? null, relu };
  const inputs = residual !== null ? [x, gamma, beta, residual] : [x, gamma, beta];
  let meanKey: string;
  let invStdKey: string;
  let stats: (ctx: Ctx) => void;
  if (opts.training) {
    checkShape(N * H * W > 1, () => `${op}: training needs more than 1 value per channel, got input shape ${formatShape(x.shape)}`);
    const saveMean = allocFloat(x.dtype, C);
    const saveInvStd = allocFloat(x.dtype, C);
    kernels().batchNormForwardTrain(
      x.data, gamma.data, beta.data, y.data, saveMean, saveInvStd, runningMean.data, runningVar.data, opts.momentum, opts.eps, d,
      epilogue,
    );
    [meanKey, invStdKey] = ['saveMean', 'saveInvStd'];
    stats = (ctx) => {
      ctx.meta.saveMean = saveMean;
      ctx.meta.saveInvStd = saveInvStd;
    };
  } else {
    kernels().batchNormForwardEval(x.data, gamma.data, beta.data, runningMean.data, runningVar.data, opts.eps, y.data, d, epilogue);
    [meanKey, invStdKey] = ['mean', 'invStd'];
    stats = (ctx) => {
      // Copies: the running stats are state that a later training step may change in place.
      const mean = allocFloat(x.dtype, C);
      const invStd = allocFloat(x.dtype, C);
      for (let c = 0; c < C; c++) {
        mean[c] = runningMean.data[c];
        invStd[c] = 1 / Math.sqrt(runningVar.data[c] + opts.eps);
      }
      ctx.meta.mean = mean;
      ctx.meta.invStd = invStd;
    };
  }
  return recordOp(
    name,
    inputs,
    y,
    (ctx) => {
      if (relu) ctx.save(x, gamma, y);
      else ctx.save(x, gamma);
      stats(ctx);
    },
    batchNormBackward(x.shape, d, meanKey, invStdKey, opts.training, relu, residual !== null),
  );
}

/**
 * Backward of batchNorm2d (and its fused forms) from the saved input, gamma, the fused output
 * when a ReLU was fused, and the per-channel mean / inverse standard deviation in ctx.meta (batch
 * statistics in training, running ones in eval). With a residual, its gradient is the gradient of
 * the pre-activation sum (dy masked by the ReLU, or dy itself).
 */
function batchNormBackward(
  shape: Shape, d: ChannelDims, meanKey: string, invStdKey: string, training: boolean, relu: boolean, residual: boolean,
): BackwardFn {
  return (ctx, dy) => {
    const saved = ctx.saved();
    const [xs, gs] = saved;
    const dx = Tensor.empty(shape, dy.dtype);
    const dgamma = Tensor.empty([d.C], dy.dtype);
    const dbeta = Tensor.empty([d.C], dy.dtype);
    const mean = metaFloat(ctx, meanKey);
    const invStd = metaFloat(ctx, invStdKey);
    const masked = relu ? Tensor.empty(shape, dy.dtype) : null;
    const prologue = masked !== null ? { y: saved[2].data, dyMasked: masked.data } : undefined;
    if (training) {
      kernels().batchNormBackward(dy.data, xs.data, gs.data, mean, invStd, dx.data, dgamma.data, dbeta.data, d, prologue);
    } else {
      let g = dy.data;
      if (prologue !== undefined) {
        for (let i = 0; i < g.length; i++) prologue.dyMasked[i] = prologue.y[i] > 0 ? g[i] : 0;
        g = prologue.dyMasked;
      }
      evalBackward(g, xs.data, gs.data, mean, invStd, dx.data, dgamma.data, dbeta.data, d);
    }
    return residual ? [dx, dgamma, dbeta, masked ?? dy] : [dx, dgamma, dbeta];
  };
}

/** Backward of the eval-mode affine map: dx = dy*gamma*invStd, dgamma = sum dy*xhat, dbeta = sum dy. */
function evalBackward(
  dy: FloatArray, x: FloatArray, gamma: FloatArray, mean: FloatArray, invStd: FloatArray,
  dx: FloatArray, dgamma: FloatArray, dbeta: FloatArray, d: ChannelDims,
): void {
  const { N, C, HW } = d;
  for (let c = 0; c < C; c++) {
    const scale = gamma[c] * invStd[c];
    let sumDy = 0;
    let sumDyXhat = 0;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) {
        const g = dy[base + i];
        sumDy += g;
        sumDyXhat += g * (x[base + i] - mean[c]) * invStd[c];
        dx[base + i] = g * scale;
      }
    }
    dgamma[c] = sumDyXhat;
    dbeta[c] = sumDy;
  }
}
