/** models: LeNet-5, the CIFAR ResNets of He et al., ResNet-18 (CIFAR stem), and the name registry. */
export { createModel, modelNames, modelInfo } from './registry.js';
export type { ModelOptions, ModelInfo } from './registry.js';
export { LeNet5 } from './lenet.js';
export type { LeNet5Options } from './lenet.js';
export { CifarResNet, CifarBasicBlock, ShortcutA } from './resnet-cifar.js';
export type { CifarResNetOptions, CifarBasicBlockOptions, ShortcutOption } from './resnet-cifar.js';
export { ResNet, BasicBlock } from './resnet.js';
export type { ResNetOptions } from './resnet.js';
