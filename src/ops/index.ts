/** The functional ops: each validates shapes, records its backward and dispatches kernels(). */
export { conv2d, conv2dDims, type Conv2dOptions } from './conv.js';
export { batchNorm2d, batchNorm2dAct, type BatchNorm2dOptions, type BatchNormActOptions } from './norm.js';
export { relu, dropout, type DropoutOptions } from './activation.js';
export { maxPool2d, avgPool2d, adaptiveAvgPool2d1, pool2dDims, type Pool2dOptions } from './pool.js';
export { adaptiveAvgPool2d } from './adaptive_pool.js';
export { linear } from './linear.js';
export { add } from './eltwise.js';
export { crossEntropy } from './loss.js';
export { reshape, flatten, shortcutPadA } from './shape.js';
export type { IntPair } from './common.js';
