/**
 * Benchmarks as library code (the CLI's `leantrain bench kernels` calls runKernelBench):
 * real model shapes, correctness first, warm-up, repeats, median and min, GFLOP/s.
 */
export { collectConvShapes, shapeLabel, convMacs } from './shapes.js';
export { benchConvKernels, CONV_KERNELS } from './conv.js';
export type { ConvBenchRow, ConvBenchOptions, ConvKernelName } from './conv.js';
export { formatConvBench, formatTable, machineInfo } from './report.js';
export type { MachineInfo } from './report.js';
export { runKernelBench, formatKernelBench } from './kernels.js';
export type { KernelBenchOptions, KernelBenchResult } from './kernels.js';
export { benchSparseConv, formatSparseBench, measuredCrossover } from './sparse.js';
export type { SparseBenchRow, SparseBenchOptions } from './sparse.js';
export { runBackwardBench, formatBackwardBench, loadBenchImages, prepareBench, timedPrunedSteps, summarizeLayerTimes, median } from './backward.js';
export type { SparseBenchSetup, BenchImages, WarmModel, LayerStepTimes, BackwardBenchLayer, BackwardBenchResult } from './backward.js';
export { runStepBench, formatStepBench } from './step.js';
export type { StepBenchResult } from './step.js';
export { measureFmaPeak } from './peak.js';
export type { FmaPeak } from './peak.js';
