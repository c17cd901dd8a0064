/**
 * leantrain: train CNNs fast on CPUs in Node.js. This is the composition root and public API;
 * the default backend (native when the addon loads, ref otherwise) is selected on first use.
 */
import { setDefaultBackendProvider } from './backend/active.js';
import { selectDefaultBackend } from './backends/select.js';

export * from './core/errors.js';
export * from './core/dtype.js';
export * from './core/arena.js';
export * from './core/shape.js';
export { Rng, counterKey, counterUniform } from './core/rng.js';
export type {
  Kernels, Conv2dDims, Pool2dDims, ChannelDims, LinearDims, SoftmaxDims, ShortcutDims, BatchNormEpilogue, BatchNormPrologue,
} from './backend/kernels.js';
export { kernels, useBackend, withBackend, withBackendAsync } from './backend/active.js';
export { sparseCrossover, sparseLinearCrossover } from './backend/sparse_crossover.js';
export { selectBackend, selectDefaultBackend, nativeBackend, refBackend, nativeLoadError } from './backends/select.js';
export type { IsaName } from './backends/native/addon.js';
export type { NativeIsaControl } from './backends/native/index.js';
export { Tensor } from './tensor/tensor.js';
export { noGrad, isGradEnabled, withScope, recordOp, setSavedTensorHooks, Node, Ctx } from './autograd/graph.js';
export type { SavedTensorHooks, BackwardFn, Edge } from './autograd/graph.js';
export { backward, setGradientTransform } from './autograd/backward.js';
export type { GradientTransform, BackwardOptions } from './autograd/backward.js';
export * from './ops/index.js';
export * from './optim/index.js';
export * from './nn/index.js';
export * from './models/index.js';
export * from './data/index.js';
export * from './train/index.js';
export * from './bench/index.js';
export * from './sparse/index.js';

setDefaultBackendProvider(selectDefaultBackend);
export { readSafetensors, writeSafetensors, loadWeights, type SafetensorsContent } from './io/safetensors.js';
export { exportOnnx, type OnnxExportOptions, type OnnxExportInfo } from './onnx/export.js';
