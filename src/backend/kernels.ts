/**
 * The one typed interface every backend implements: a kernel is a function on raw arrays plus a
 * dims struct. Layers and ops never know which backend runs.
 *
 * Contracts:
 * - **Kernels overwrite, autograd accumulates.** Every output array is fully overwritten (never
 *   accumulated into); the caller does not need to zero it. Accumulation of gradients from
 *   several consumers happens in the autograd driver.
 * - Layouts are NCHW for activations and OIHW (K x C x R x S) for conv weights, row-major.
 *   Linear weights are OUT x IN (PyTorch).
 * - Arrays are `FloatArray`; the ref backend accepts Float32Array and Float64Array (for gradient
 *   checks), the native backend only Float32Array (it throws UnsupportedError otherwise).
 * - Kernels do not validate shapes against dims beyond cheap length checks: ops validate user
 *   input with clear messages before dispatching.
 * - Random kernels (dropout) draw with the counter-based generator of core/rng.ts, so native and
 *   ref produce identical masks for the same seed.
 *
 * Shapes legend: N batch, C in-channels, K out-channels, H x W input, R x S kernel, P x Q output.
 */
import type { FloatArray } from '../core/dtype.js';
import type { SgdScalars } from './sgd_update.js';

/** Dimensions of a 2-D convolution (groups = 1, dilation = 1). */
export interface Conv2dDims {
  N: number;
  C: number;
  H: number;
  W: number;
  K: number;
  R: number;
  S: number;
  P: number;
  Q: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
}

/** Dimensions of a 2-D pooling window (max or average), per channel. */
export interface Pool2dDims {
  N: number;
  C: number;
  H: number;
  W: number;
  R: number;
  S: number;
  P: number;
  Q: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
}

/** Per-channel layout of NCHW data: N images, C channels, HW = H*W elements per plane. */
export interface ChannelDims {
  N: number;
  C: number;
  HW: number;
}

/** A fully connected layer: x is N x IN, weight OUT x IN, y N x OUT. */
export interface LinearDims {
  N: number;
  IN: number;
  OUT: number;
}

/** Softmax cross-entropy over N rows of `classes` logits. */
export interface SoftmaxDims {
  N: number;
  classes: number;
}

/** Option-A shortcut: x is N x C x H x W, y is N x K x ceil(H/stride) x ceil(W/stride), K >= C. */
export interface ShortcutDims {
  N: number;
  C: number;
  H: number;
  W: number;
  K: number;
  stride: number;
}

/**
 * What a batch-norm forward kernel fuses after the affine map: y = relu?(bn(x) + residual?).
 * Absent or empty: plain batch norm.
 */
export interface BatchNormEpilogue {
  /** Added to the normalised output (same layout as x), before the ReLU. */
  residual?: FloatArray | null;
  /** Apply max(., 0) to the result. */
  relu?: boolean;
}

/**
 * What a batch-norm backward kernel fuses before it: the ReLU backward of a fused forward. dy is
 * the gradient of the fused output; it is masked by y > 0 into `dyMasked` (the gradient of the
 * pre-activation sum, also the residual's gradient), and batch norm's backward runs on that.
 */
export interface BatchNormPrologue {
  /** The fused forward's output (relu applied). */
  y: FloatArray;
  /** Receives dy where y > 0, else 0 (fully overwritten). */
  dyMasked: FloatArray;
}

/** The kernels of one backend. See the file comment for the contracts. */
export interface Kernels {
  /** 'native' or 'ref'. */
  readonly name: string;
  /** Kernel threads in use (1 for ref). */
  threads(): number;
  /** Sets the kernel thread count (ignored by ref). */
  setThreads(n: number): void;

  // ---- convolution (conv.ts) ----
  /** y[N,K,P,Q] = conv(x[N,C,H,W], w[K,C,R,S]) + bias[K] (bias may be null). */
  conv2dForward(x: FloatArray, w: FloatArray, bias: FloatArray | null, y: FloatArray, d: Conv2dDims): void;
  /** dx[N,C,H,W] = transposed conv of dy[N,K,P,Q] with w[K,C,R,S]. */
  conv2dBackwardInput(dy: FloatArray, w: FloatArray, dx: FloatArray, d: Conv2dDims): void;
  /** dw[K,C,R,S] = correlate(x, dy) summed over the batch; dbias[K] = sum of dy (if not null). */
  conv2dBackwardWeight(x: FloatArray, dy: FloatArray, dw: FloatArray, dbias: FloatArray | null, d: Conv2dDims): void;

  // ---- batch norm (batchnorm.ts), per channel over N and HW ----
  /**
   * Training mode: normalises with batch statistics, writes y, the batch mean and 1/sqrt(var+eps)
   * (biased variance) into saveMean/saveInvStd, and updates runningMean/runningVar in place with
   * momentum (running = (1-m)*running + m*batch, unbiased variance for runningVar, as PyTorch).
   * Running stats are the one in-place exception to "kernels overwrite": they are state.
   */
  batchNormForwardTrain(
    x: FloatArray,
    gamma: FloatArray,
    beta: FloatArray,
    y: FloatArray,
    saveMean: FloatArray,
    saveInvStd: FloatArray,
    runningMean: FloatArray,
    runningVar: FloatArray,
    momentum: number,
    eps: number,
    d: ChannelDims,
    epilogue?: BatchNormEpilogue,
  ): void;
  /** Eval mode: y = gamma * (x - runningMean) / sqrt(runningVar + eps) + beta (then the epilogue). */
  batchNormForwardEval(
    x: FloatArray,
    gamma: FloatArray,
    beta: FloatArray,
    runningMean: FloatArray,
    runningVar: FloatArray,
    eps: number,
    y: FloatArray,
    d: ChannelDims,
    epilogue?: BatchNormEpilogue,
  ): void;
  /**
   * Backward of training-mode batch norm: dx, dgamma, dbeta from dy and the saved statistics
   * (with a prologue: from dy masked by the fused forward's ReLU).
   */
  batchNormBackward(
    dy: FloatArray,
    x: FloatArray,
    gamma: FloatArray,
    saveMean: FloatArray,
    saveInvStd: FloatArray,
    dx: FloatArray,
    dgamma: FloatArray,
    dbeta: FloatArray,
    d: ChannelDims,
    prologue?: BatchNormPrologue,
  ): void;

  // ---- option-A shortcut (shortcut.ts) ----
  /** y = x[:, :, ::stride, ::stride] with zero channels, floor((K-C)/2) before and the rest after. */
  shortcutPadForward(x: FloatArray, y: FloatArray, d: ShortcutDims): void;
  /** dx = dy of the kept channels scattered to the kept pixels, zeros elsewhere. */
  shortcutPadBackward(dy: FloatArray, dx: FloatArray, d: ShortcutDims): void;

  // ---- elementwise (eltwise.ts), over n elements ----
  /** y = max(x, 0). */
  reluForward(x: FloatArray, y: FloatArray, n: number): void;
  /** dx = dy where y > 0, else 0 (y is the relu output). */
  reluBackward(dy: FloatArray, y: FloatArray, dx: FloatArray, n: number): void;
  /** out = a + b; out may alias a or b. */
  add(a: FloatArray, b: FloatArray, out: FloatArray, n: number): void;
  /**
   * Inverted dropout: mask[i] = 1 if counterUniform(key, offset + i) >= p else 0;
   * y = x * mask / (1 - p). `key` is core/rng.ts counterKey(seed, stream).
   */
  dropoutForward(x: FloatArray, y: FloatArray, mask: Uint8Array, p: number, key: number, offset: number, n: number): void;
  /** dx = dy * mask / (1 - p). */
  dropoutBackward(dy: FloatArray, mask: Uint8Array, p: number, dx: FloatArray, n: number): void;

  // ---- pooling (pool.ts) ----
  /** Max pool; argmax[N*C*P*Q] receives the flat index (h*W + w) of each max within its plane. Padding never wins. */
  maxPool2dForward(x: FloatArray, y: FloatArray, argmax: Int32Array, d: Pool2dDims): void;
  /** dx = scatter of dy to argmax positions (dx is overwritten, then accumulated within). */
  maxPool2dBackward(dy: FloatArray, argmax: Int32Array, dx: FloatArray, d: Pool2dDims): void;
  /** Average pool, padded zeros counted in the divisor (PyTorch count_include_pad=True). */
  avgPool2dForward(x: FloatArray, y: FloatArray, d: Pool2dDims): void;
  avgPool2dBackward(dy: FloatArray, dx: FloatArray, d: Pool2dDims): void;
  /** y[N,C] = mean over HW of x[N,C,HW]. */
  globalAvgPoolForward(x: FloatArray, y: FloatArray, d: ChannelDims): void;
  /** dx[N,C,HW] = dy[N,C] / HW. */
  globalAvgPoolBackward(dy: FloatArray, dx: FloatArray, d: ChannelDims): void;

  // ---- linear (linear.ts) ----
  /** y[N,OUT] = x[N,IN] * w[OUT,IN]^T + bias[OUT] (bias may be null). */
  linearForward(x: FloatArray, w: FloatArray, bias: FloatArray | null, y: FloatArray, d: LinearDims): void;
  /** dx[N,IN] = dy[N,OUT] * w[OUT,IN]. */
  linearBackwardInput(dy: FloatArray, w: FloatArray, dx: FloatArray, d: LinearDims): void;
  /** dw[OUT,IN] = dy^T * x; dbias[OUT] = column sums of dy (if not null). */
  linearBackwardWeight(x: FloatArray, dy: FloatArray, dw: FloatArray, dbias: FloatArray | null, d: LinearDims): void;

  // ---- loss (loss.ts) ----
  /**
   * Softmax cross-entropy with integer labels: writes probs[N,classes] (softmax) and returns the
   * mean loss over the N rows. labels[i] must be in [0, classes) (the op checks).
   */
  softmaxCrossEntropyForward(logits: FloatArray, labels: Int32Array, probs: FloatArray, d: SoftmaxDims): number;
  /** dlogits = (probs - onehot(labels)) * scale (scale = upstream grad / N for the mean). */
  softmaxCrossEntropyBackward(probs: FloatArray, labels: Int32Array, scale: number, dlogits: FloatArray, d: SoftmaxDims): void;

  // ---- activation-gradient pruning (prune.ts) ----
  /**
   * mean(|g[0..n)|) accumulated in float64 over fixed blocks (identical for any thread count and
   * between native and ref); 0 for n = 0.
   */
  meanAbs(g: FloatArray, n: number): number;
  /**
   * Prunes g into out (in float32: t = fround(tau)): |g| >= t (or NaN) keeps g; otherwise, when
   * `stochastic`, out = t*sign(g) if counterUniform(key, offset + i) < |g|/t, else 0; when not
   * stochastic, 0. Returns the number of non-zeros of out. tau = 0 copies g exactly. Identical
   * for any thread count; native and ref bit for bit.
   * `stats` (length >= 3), when given, receives in the same pass [number of exact zeros of g,
   * sum g^2, sum (out - g)^2], summed in float64 over fixed blocks (identical for any thread
   * count; native and ref agree to float64 rounding).
   */
  pruneGradient(
    g: FloatArray, out: FloatArray, n: number, tau: number, stochastic: boolean, key: number, offset: number, stats?: Float64Array | null,
  ): number;

  // ---- sparse conv backward (sparse_conv.ts): dy is a pruned (mostly zero) gradient ----
  /**
   * Exactly conv2dBackwardInput's result (dx[N,C,H,W] overwritten), with work proportional to
   * the non-zeros of dy[N,K,P,Q] (the index of the non-zeros is built inside, its time included).
   */
  conv2dBackwardInputSparse(dy: FloatArray, w: FloatArray, dx: FloatArray, d: Conv2dDims): void;
  /** Exactly linearBackwardInput's result (dx[N,IN] overwritten), work ~ non-zeros of dy[N,OUT]. */
  linearBackwardInputSparse(dy: FloatArray, w: FloatArray, dx: FloatArray, d: LinearDims): void;
  /** Exactly linearBackwardWeight's result (dw[OUT,IN], dbias[OUT] if not null), work ~ non-zeros of dy. */
  linearBackwardWeightSparse(x: FloatArray, dy: FloatArray, dw: FloatArray, dbias: FloatArray | null, d: LinearDims): void;
  /** Exactly conv2dBackwardWeight's result (dw[K,C,R,S], dbias[K] if not null), work ~ non-zeros of dy. */
  conv2dBackwardWeightSparse(x: FloatArray, dy: FloatArray, dw: FloatArray, dbias: FloatArray | null, d: Conv2dDims): void;

  // ---- optimizer (optim.ts) ----
  /**
   * One SGD step over n parameters in place: p[n], g[n], buf[n] (the momentum buffer; null in
   * 'plain' mode). The rule and its rounding are src/backend/sgd_update.ts's, exactly.
   */
  sgdUpdate(p: FloatArray, g: FloatArray, buf: FloatArray | null, n: number, s: SgdScalars): void;
}

/** Kernel names, for benchmarks and error messages. */
export type KernelName = Exclude<keyof Kernels, 'name' | 'threads' | 'setThreads'>;
