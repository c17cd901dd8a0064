/**
 * The native backend: C++17 kernels (AVX2/FMA or AVX-512, OpenMP) behind N-API. float32 only;
 * a Float64Array argument throws UnsupportedError naming the kernel.
 */
import type { FloatArray } from '../../core/dtype.js';
import { ShapeError, UnsupportedError } from '../../core/errors.js';
import type {
  ChannelDims,
  ShortcutDims,
  Conv2dDims,
  Kernels,
  LinearDims,
  Pool2dDims,
  SoftmaxDims,
} from '../../backend/kernels.js';
import type { IsaName, NativeAddon } from './addon.js';

function f32(a: FloatArray, kernel: string, arg: string): Float32Array {
  if (a instanceof Float32Array) return a;
  throw new UnsupportedError(`native ${kernel}: '${arg}' is float64; the native backend is float32 only (use the ref backend)`);
}

function f32n(a: FloatArray | null, kernel: string, arg: string): Float32Array | null {
  return a === null ? null : f32(a, kernel, arg);
}

// Scratch dims arrays, reused across calls (kernels run synchronously).
const convDims = new Int32Array(13);
const poolDims = new Int32Array(12);
const chanDims = new Int32Array(3);
const linDims = new Int32Array(3);
const smDims = new Int32Array(2);
const scDims = new Int32Array(6);

function conv(d: Conv2dDims): Int32Array {
  convDims.set([d.N, d.C, d.H, d.W, d.K, d.R, d.S, d.P, d.Q, d.strideH, d.strideW, d.padH, d.padW]);
  return convDims;
}
function pool(d: Pool2dDims): Int32Array {
  poolDims.set([d.N, d.C, d.H, d.W, d.R, d.S, d.P, d.Q, d.strideH, d.strideW, d.padH, d.padW]);
  return poolDims;
}
function chan(d: ChannelDims): Int32Array {
  chanDims.set([d.N, d.C, d.HW]);
  return chanDims;
}
function shortcut(d: ShortcutDims): Int32Array {
  scDims.set([d.N, d.C, d.H, d.W, d.K, d.stride]);
  return scDims;
}
function lin(d: LinearDims): Int32Array {
  linDims.set([d.N, d.IN, d.OUT]);
  return linDims;
}
function sm(d: SoftmaxDims): Int32Array {
  smDims.set([d.N, d.classes]);
  return smDims;
}

/** The native backend's controls beyond the Kernels interface: which ISA variant runs. */
export interface NativeIsaControl {
  /** The vector ISA of the active variant: 'avx512', 'avx2' or 'scalar'. */
  isa(): string;
  /** Variants usable here (see IsaName); 'native' and 'scalar' always are. */
  availableIsas(): IsaName[];
  /**
   * Selects the variant for all later kernel calls; returns its vector ISA. Throws
   * UnsupportedError naming the variant and the available ones if it cannot run here.
   */
  setIsa(isa: IsaName): string;
  /**
   * The machine's float32 peak as measured here: GFLOP/s of `iters` x 16 independent FMA chains in
   * the active variant's widest vectors, kept in registers, on every thread at once (2 flops per
   * lane per FMA). Used to report kernels as a fraction of the peak (`measureFmaPeak`).
   */
  fmaPeakGflops(iters: number): number;
}

/** Wraps a loaded addon as a Kernels backend. */
export function createNativeBackend(a: NativeAddon): Kernels & NativeIsaControl {
  return {
    name: 'native',
    isa: () => a.isa(),
    availableIsas: () => a.availableIsas(),
    setIsa: (isa) => {
      const avail = a.availableIsas();
      if (!avail.includes(isa)) {
        throw new UnsupportedError(
          `native setIsa: ISA variant '${isa}' is not available on this build/CPU (available: ${avail.join(', ')})`,
        );
      }
      return a.setIsa(isa);
    },
    fmaPeakGflops: (iters) => a.fmaPeakGflops(iters),
    sgdUpdate: (p, g, buf, n, s) =>
      a.sgdUpdate(
        f32(p, 'sgdUpdate', 'p'), f32(g, 'sgdUpdate', 'g'), f32n(buf, 'sgdUpdate', 'buf'), n, s.lr, s.wd, s.bm, s.bd, s.m,
        s.mode === 'plain' ? 0 : s.mode === 'momentum' ? 1 : 2,
      ),
    threads: () => a.threads(),
    setThreads: (n) => a.setThreads(n),

    conv2dForward: (x, w, b, y, d) =>
      a.conv2dForward(f32(x, 'conv2dForward', 'x'), f32(w, 'conv2dForward', 'w'), f32n(b, 'conv2dForward', 'bias'), f32(y, 'conv2dForward', 'y'), conv(d)),
    conv2dBackwardInput: (dy, w, dx, d) =>
      a.conv2dBackwardInput(f32(dy, 'conv2dBackwardInput', 'dy'), f32(w, 'conv2dBackwardInput', 'w'), f32(dx, 'conv2dBackwardInput', 'dx'), conv(d)),
    conv2dBackwardWeight: (x, dy, dw, db, d) =>
      a.conv2dBackwardWeight(
        f32(x, 'conv2dBackwardWeight', 'x'), f32(dy, 'conv2dBackwardWeight', 'dy'), f32(dw, 'conv2dBackwardWeight', 'dw'),
        f32n(db, 'conv2dBackwardWeight', 'dbias'), conv(d),
      ),

    batchNormForwardTrain: (x, g, b, y, sm_, si, rm, rv, mom, eps, d, ep) => {
      const k = 'batchNormForwardTrain';
      a.batchNormForwardTrain(
        f32(x, k, 'x'), f32(g, k, 'gamma'), f32(b, k, 'beta'), f32(y, k, 'y'), f32(sm_, k, 'saveMean'),
        f32(si, k, 'saveInvStd'), f32(rm, k, 'runningMean'), f32(rv, k, 'runningVar'), mom, eps, chan(d),
        f32n(ep?.residual ?? null, k, 'residual'), ep?.relu === true,
      );
    },
    batchNormForwardEval: (x, g, b, rm, rv, eps, y, d, ep) => {
      const k = 'batchNormForwardEval';
      a.batchNormForwardEval(
        f32(x, k, 'x'), f32(g, k, 'gamma'), f32(b, k, 'beta'), f32(rm, k, 'runningMean'), f32(rv, k, 'runningVar'), eps,
        f32(y, k, 'y'), chan(d), f32n(ep?.residual ?? null, k, 'residual'), ep?.relu === true,
      );
    },
    batchNormBackward: (dy, x, g, sm_, si, dx, dg, db, d, pro) => {
      const k = 'batchNormBackward';
      a.batchNormBackward(
        f32(dy, k, 'dy'), f32(x, k, 'x'), f32(g, k, 'gamma'), f32(sm_, k, 'saveMean'), f32(si, k, 'saveInvStd'),
        f32(dx, k, 'dx'), f32(dg, k, 'dgamma'), f32(db, k, 'dbeta'), chan(d),
        pro ? f32(pro.y, k, 'y') : null, pro ? f32(pro.dyMasked, k, 'dyMasked') : null,
      );
    },
    shortcutPadForward: (x, y, d) =>
      a.shortcutPadForward(f32(x, 'shortcutPadForward', 'x'), f32(y, 'shortcutPadForward', 'y'), shortcut(d)),
    shortcutPadBackward: (dy, dx, d) =>
      a.shortcutPadBackward(f32(dy, 'shortcutPadBackward', 'dy'), f32(dx, 'shortcutPadBackward', 'dx'), shortcut(d)),

    reluForward: (x, y, n) => a.reluForward(f32(x, 'reluForward', 'x'), f32(y, 'reluForward', 'y'), n),
    reluBackward: (dy, y, dx, n) => a.reluBackward(f32(dy, 'reluBackward', 'dy'), f32(y, 'reluBackward', 'y'), f32(dx, 'reluBackward', 'dx'), n),
    add: (x, y, out, n) => a.add(f32(x, 'add', 'a'), f32(y, 'add', 'b'), f32(out, 'add', 'out'), n),
    dropoutForward: (x, y, mask, p, key, offset, n) =>
      a.dropoutForward(f32(x, 'dropoutForward', 'x'), f32(y, 'dropoutForward', 'y'), mask, p, key, offset, n),
    dropoutBackward: (dy, mask, p, dx, n) => a.dropoutBackward(f32(dy, 'dropoutBackward', 'dy'), mask, p, f32(dx, 'dropoutBackward', 'dx'), n),

    maxPool2dForward: (x, y, am, d) => a.maxPool2dForward(f32(x, 'maxPool2dForward', 'x'), f32(y, 'maxPool2dForward', 'y'), am, pool(d)),
    maxPool2dBackward: (dy, am, dx, d) => a.maxPool2dBackward(f32(dy, 'maxPool2dBackward', 'dy'), am, f32(dx, 'maxPool2dBackward', 'dx'), pool(d)),
    avgPool2dForward: (x, y, d) => a.avgPool2dForward(f32(x, 'avgPool2dForward', 'x'), f32(y, 'avgPool2dForward', 'y'), pool(d)),
    avgPool2dBackward: (dy, dx, d) => a.avgPool2dBackward(f32(dy, 'avgPool2dBackward', 'dy'), f32(dx, 'avgPool2dBackward', 'dx'), pool(d)),
    globalAvgPoolForward: (x, y, d) => a.globalAvgPoolForward(f32(x, 'globalAvgPoolForward', 'x'), f32(y, 'globalAvgPoolForward', 'y'), chan(d)),
    globalAvgPoolBackward: (dy, dx, d) => a.globalAvgPoolBackward(f32(dy, 'globalAvgPoolBackward', 'dy'), f32(dx, 'globalAvgPoolBackward', 'dx'), chan(d)),

    linearForward: (x, w, b, y, d) =>
      a.linearForward(f32(x, 'linearForward', 'x'), f32(w, 'linearForward', 'w'), f32n(b, 'linearForward', 'bias'), f32(y, 'linearForward', 'y'), lin(d)),
    linearBackwardInput: (dy, w, dx, d) =>
      a.linearBackwardInput(f32(dy, 'linearBackwardInput', 'dy'), f32(w, 'linearBackwardInput', 'w'), f32(dx, 'linearBackwardInput', 'dx'), lin(d)),
    linearBackwardWeight: (x, dy, dw, db, d) =>
      a.linearBackwardWeight(
        f32(x, 'linearBackwardWeight', 'x'), f32(dy, 'linearBackwardWeight', 'dy'), f32(dw, 'linearBackwardWeight', 'dw'),
        f32n(db, 'linearBackwardWeight', 'dbias'), lin(d),
      ),

    softmaxCrossEntropyForward: (logits, labels, probs, d) =>
      a.softmaxCrossEntropyForward(f32(logits, 'softmaxCrossEntropyForward', 'logits'), labels, f32(probs, 'softmaxCrossEntropyForward', 'probs'), sm(d)),
    softmaxCrossEntropyBackward: (probs, labels, scale, dl, d) =>
      a.softmaxCrossEntropyBackward(f32(probs, 'softmaxCrossEntropyBackward', 'probs'), labels, scale, f32(dl, 'softmaxCrossEntropyBackward', 'dlogits'), sm(d)),

    meanAbs: (g, n) => a.meanAbs(f32(g, 'meanAbs', 'g'), n),
    pruneGradient: (g, out, n, tau, st, key, off, stats) => {
      if (stats && stats.length < 3) throw new ShapeError(`pruneGradient: stats must hold 3 float64 values, got length ${stats.length}`);
      return a.pruneGradient(f32(g, 'pruneGradient', 'g'), f32(out, 'pruneGradient', 'out'), n, tau, st, key, off, stats ?? null);
    },

    linearBackwardInputSparse: (dy, w, dx, d) => {
      const k = 'linearBackwardInputSparse';
      a.linearBackwardInputSparse(f32(dy, k, 'dy'), f32(w, k, 'w'), f32(dx, k, 'dx'), lin(d));
    },
    linearBackwardWeightSparse: (x, dy, dw, db, d) => {
      const k = 'linearBackwardWeightSparse';
      a.linearBackwardWeightSparse(f32(x, k, 'x'), f32(dy, k, 'dy'), f32(dw, k, 'dw'), f32n(db, k, 'dbias'), lin(d));
    },
    conv2dBackwardInputSparse: (dy, w, dx, d) => {
      const k = 'conv2dBackwardInputSparse';
      a.conv2dBackwardInputSparse(f32(dy, k, 'dy'), f32(w, k, 'w'), f32(dx, k, 'dx'), conv(d));
    },
    conv2dBackwardWeightSparse: (x, dy, dw, db, d) => {
      const k = 'conv2dBackwardWeightSparse';
      a.conv2dBackwardWeightSparse(f32(x, k, 'x'), f32(dy, k, 'dy'), f32(dw, k, 'dw'), f32n(db, k, 'dbias'), conv(d));
    },
  };
}
