/** nn: Module, layers with PyTorch names, and weight initialisation. */
export { Module, Parameter } from './module.js';
export { Conv2d } from './conv.js';
export type { Conv2dLayerOptions } from './conv.js';
export { BatchNorm2d } from './norm.js';
export type { BatchNorm2dLayerOptions } from './norm.js';
export { Linear } from './linear.js';
export type { LinearOptions } from './linear.js';
export { ReLU, Dropout } from './activation.js';
export type { DropoutLayerOptions } from './activation.js';
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d } from './pool.js';
export type { Pool2dLayerOptions } from './pool.js';
export { Sequential } from './container.js';
export { Flatten, Identity } from './shape.js';
export * as init from './init.js';
export { kaimingNormal, kaimingUniform, calculateGain, computeFans, withoutInit } from './init.js';
export type { LayerInit, KaimingOptions, FanMode, Nonlinearity } from './init.js';
