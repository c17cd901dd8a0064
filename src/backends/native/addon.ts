/**
 * Loads the compiled N-API addon (native/build/Release/leantrain.node) and types its exports.
 * Marshalling only: the addon takes typed arrays, numbers and dims as Int32Arrays.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

type F32 = Float32Array;

/**
 * Kernel variants the addon can run: 'native' (compiled with -march=native: AVX-512 or AVX2/FMA
 * where the build machine has it), 'avx2' (AVX2/FMA with AVX-512 off; x64 builds on CPUs with
 * AVX2+FMA only) and 'scalar' (portable, no intrinsics).
 */
export type IsaName = 'native' | 'avx2' | 'scalar';

/** The addon's exports, mirroring native/src/addon/main.cpp. */
export interface NativeAddon {
  /** Selects a variant; returns the vector ISA it runs ('avx512', 'avx2' or 'scalar'). Throws if unavailable. */
  setIsa(isa: IsaName): string;
  /** The vector ISA of the active variant: 'avx512', 'avx2' or 'scalar'. */
  isa(): string;
  /** Variants usable on this build and CPU, in the order native, avx2, scalar. */
  availableIsas(): IsaName[];
  setThreads(n: number): void;
  threads(): number;
  hasOpenMP(): boolean;
  /** GFLOP/s of iters x 16 register-only FMA chains of the active variant on every thread (the measured peak). */
  fmaPeakGflops(iters: number): number;
  sgdUpdate(p: F32, g: F32, buf: F32 | null, n: number, lr: number, wd: number, bm: number, bd: number, m: number, mode: number): void;
  conv2dForward(x: F32, w: F32, bias: F32 | null, y: F32, dims: Int32Array): void;
  conv2dBackwardInput(dy: F32, w: F32, dx: F32, dims: Int32Array): void;
  conv2dBackwardWeight(x: F32, dy: F32, dw: F32, dbias: F32 | null, dims: Int32Array): void;
  batchNormForwardTrain(
    x: F32, gamma: F32, beta: F32, y: F32, saveMean: F32, saveInvStd: F32,
    runningMean: F32, runningVar: F32, momentum: number, eps: number, dims: Int32Array, residual: F32 | null, relu: boolean,
  ): void;
  batchNormForwardEval(
    x: F32, gamma: F32, beta: F32, runningMean: F32, runningVar: F32, eps: number, y: F32, dims: Int32Array,
    residual: F32 | null, relu: boolean,
  ): void;
  batchNormBackward(
    dy: F32, x: F32, gamma: F32, saveMean: F32, saveInvStd: F32, dx: F32, dgamma: F32, dbeta: F32, dims: Int32Array,
    yRelu: F32 | null, dyMasked: F32 | null,
  ): void;
  shortcutPadForward(x: F32, y: F32, dims: Int32Array): void;
  shortcutPadBackward(dy: F32, dx: F32, dims: Int32Array): void;
  reluForward(x: F32, y: F32, n: number): void;
  reluBackward(dy: F32, y: F32, dx: F32, n: number): void;
  add(a: F32, b: F32, out: F32, n: number): void;
  dropoutForward(x: F32, y: F32, mask: Uint8Array, p: number, key: number, offset: number, n: number): void;
  dropoutBackward(dy: F32, mask: Uint8Array, p: number, dx: F32, n: number): void;
  maxPool2dForward(x: F32, y: F32, argmax: Int32Array, dims: Int32Array): void;
  maxPool2dBackward(dy: F32, argmax: Int32Array, dx: F32, dims: Int32Array): void;
  avgPool2dForward(x: F32, y: F32, dims: Int32Array): void;
  avgPool2dBackward(dy: F32, dx: F32, dims: Int32Array): void;
  globalAvgPoolForward(x: F32, y: F32, dims: Int32Array): void;
  globalAvgPoolBackward(dy: F32, dx: F32, dims: Int32Array): void;
  linearForward(x: F32, w: F32, bias: F32 | null, y: F32, dims: Int32Array): void;
  linearBackwardInput(dy: F32, w: F32, dx: F32, dims: Int32Array): void;
  linearBackwardWeight(x: F32, dy: F32, dw: F32, dbias: F32 | null, dims: Int32Array): void;
  softmaxCrossEntropyForward(logits: F32, labels: Int32Array, probs: F32, dims: Int32Array): number;
  softmaxCrossEntropyBackward(probs: F32, labels: Int32Array, scale: number, dlogits: F32, dims: Int32Array): void;
  meanAbs(g: F32, n: number): number;
  pruneGradient(g: F32, out: F32, n: number, tau: number, stochastic: boolean, key: number, offset: number, stats: Float64Array | null): number;
  conv2dBackwardInputSparse(dy: F32, w: F32, dx: F32, dims: Int32Array): void;
  conv2dBackwardWeightSparse(x: F32, dy: F32, dw: F32, dbias: F32 | null, dims: Int32Array): void;
  linearBackwardInputSparse(dy: F32, w: F32, dx: F32, dims: Int32Array): void;
  linearBackwardWeightSparse(x: F32, dy: F32, dw: F32, dbias: F32 | null, dims: Int32Array): void;
}

/** Where the addon is built, relative to the package root. */
export function addonPath(): string {
  // This file is dist/src/backends/native/addon.js; the package root is four levels up.
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
  return path.join(root, 'native', 'build', 'Release', 'leantrain.node');
}

export type AddonLoad = { ok: true; addon: NativeAddon } | { ok: false; reason: string };

/** Loads the addon, or says why it could not. */
export function loadAddon(): AddonLoad {
  const file = addonPath();
  if (!existsSync(file)) {
    return { ok: false, reason: `${file} does not exist (the addon was not built: run 'npm run build:native')` };
  }
  try {
    const require = createRequire(import.meta.url);
    const addon: NativeAddon = require(file);
    return { ok: true, addon };
  } catch (e) {
    return { ok: false, reason: `${file} failed to load: ${(e as Error).message}` };
  }
}
