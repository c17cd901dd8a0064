/** models: LeNet-5, the CIFAR ResNets of He et al., torchvision's ResNets and AlexNet (ImageNet and CIFAR forms), the name registry and summaries. */
export { createModel, modelNames, modelInfo } from './registry.js';
export type { ModelOptions, ModelInfo } from './registry.js';
export { LeNet5 } from './lenet.js';
export type { LeNet5Options } from './lenet.js';
export { CifarResNet, CifarBasicBlock, ShortcutA } from './resnet-cifar.js';
export type { CifarResNetOptions, CifarBasicBlockOptions, ShortcutOption } from './resnet-cifar.js';
export { ResNet, BasicBlock, Bottleneck } from './resnet.js';
export { AlexNet } from './alexnet.js';
export type { AlexNetOptions } from './alexnet.js';
export { modelSummary } from './summary.js';
export { modelFromState, stateDims } from './weights.js';
export type { ModelSummary, SummaryOptions } from './summary.js';
export type { ResNetOptions } from './resnet.js';
