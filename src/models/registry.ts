/**
 * The model zoo by name: createModel('resnet20', { numClasses: 10 }) builds a seeded model.
 * Names (torchvision's spelling where torchvision has the model):
 * - lenet5; resnet20, resnet32, resnet44, resnet56, resnet110 (CIFAR ResNets of He et al.);
 * - resnet18, resnet34, resnet50, resnet101, resnet152 and alexnet: torchvision's ImageNet forms
 *   (224x224 inputs, 1000 classes by default, same parameter names and counts);
 * - resnet18_cifar ... resnet152_cifar (3x3 stride-1 stem, no max pool) and alexnet_cifar: the
 *   usual 32x32 forms (10 classes by default).
 */
import { checkOption } from '../core/errors.js';
import type { Module } from '../nn/module.js';
import { AlexNet } from './alexnet.js';
import { LeNet5 } from './lenet.js';
import { CifarResNet, type ShortcutOption } from './resnet-cifar.js';
import { ResNet } from './resnet.js';

export interface ModelOptions {
  /** Number of classes (logits); default modelInfo(name).defaultNumClasses (10, or 1000 for ImageNet forms). */
  numClasses?: number;
  /** Input channels; default from modelInfo(name).defaultInChannels. */
  inChannels?: number;
  /** CIFAR ResNets only: 'A' (zero-pad, default) or 'B' (1x1 conv + BN). */
  shortcut?: ShortcutOption;
  /** Seed of the initial weights; default 0. */
  seed?: number;
}

export interface ModelInfo {
  name: string;
  description: string;
  /** Default input [C, H, W]. */
  inputShape: [number, number, number];
  defaultInChannels: number;
  /** Classes when the options do not say (10; 1000 for the ImageNet forms). */
  defaultNumClasses: number;
}

interface Entry {
  info: ModelInfo;
  /** Whether the `shortcut` option applies. */
  hasShortcutOption: boolean;
  build(o: Required<ModelOptions>): Module;
}

const cifarDepths = [20, 32, 44, 56, 110];

const entries = new Map<string, Entry>();
entries.set('lenet5', {
  info: {
    name: 'lenet5',
    description: 'LeNet-5 (ReLU, max pool): 2 convs + 3 fully connected layers; 1x28x28 inputs, or Cx32x32 with inChannels != 1',
    inputShape: [1, 28, 28],
    defaultInChannels: 1,
    defaultNumClasses: 10,
  },
  hasShortcutOption: false,
  build: (o) => new LeNet5({ numClasses: o.numClasses, inChannels: o.inChannels, seed: o.seed }),
});
for (const depth of cifarDepths) {
  entries.set(`resnet${depth}`, {
    info: {
      name: `resnet${depth}`,
      description: `CIFAR ResNet-${depth} of He et al. (3 stages x ${(depth - 2) / 6} basic blocks, 16/32/64 channels; shortcut A default, B = 1x1 conv + BN)`,
      inputShape: [3, 32, 32],
      defaultInChannels: 3,
      defaultNumClasses: 10,
    },
    hasShortcutOption: true,
    build: (o) => new CifarResNet({ depth, numClasses: o.numClasses, inChannels: o.inChannels, shortcut: o.shortcut, seed: o.seed }),
  });
}
const torchvisionResNets: [string, [number, number, number, number], 'basic' | 'bottleneck'][] = [
  ['resnet18', [2, 2, 2, 2], 'basic'],
  ['resnet34', [3, 4, 6, 3], 'basic'],
  ['resnet50', [3, 4, 6, 3], 'bottleneck'],
  ['resnet101', [3, 4, 23, 3], 'bottleneck'],
  ['resnet152', [3, 8, 36, 3], 'bottleneck'],
];
/** Registers a 3-channel model in its ImageNet form (224x224, 1000 classes) or CIFAR form (32x32, 10 classes). */
function addForm(name: string, description: string, form: 'imagenet' | 'cifar', build: Entry['build']): void {
  const imagenet = form === 'imagenet';
  entries.set(name, {
    info: { name, description, inputShape: imagenet ? [3, 224, 224] : [3, 32, 32], defaultInChannels: 3, defaultNumClasses: imagenet ? 1000 : 10 },
    hasShortcutOption: false,
    build,
  });
}
for (const [name, layers, block] of torchvisionResNets) {
  const kind = block === 'basic' ? 'basic blocks' : 'bottlenecks';
  addForm(name, `ResNet-${name.slice(6)} as torchvision (${kind} ${layers.join('/')}; 7x7 stride-2 stem + max pool; 224x224 inputs)`, 'imagenet', (o) =>
    new ResNet({ layers, block, stem: 'imagenet', numClasses: o.numClasses, inChannels: o.inChannels, seed: o.seed }));
}
for (const [name, layers, block] of torchvisionResNets) {
  addForm(`${name}_cifar`, `${name} with torchvision's names and a CIFAR stem: 3x3 stride-1 conv1, no max pool (32x32 inputs)`, 'cifar', (o) =>
    new ResNet({ layers, block, stem: 'cifar', numClasses: o.numClasses, inChannels: o.inChannels, seed: o.seed }));
}
addForm('alexnet', 'AlexNet as torchvision (5 convs, 3 fully connected layers with dropout; 224x224 inputs)', 'imagenet', (o) =>
  new AlexNet({ form: 'imagenet', numClasses: o.numClasses, inChannels: o.inChannels, seed: o.seed }));
addForm('alexnet_cifar', 'AlexNet for 32x32 inputs (the common CIFAR variant: 5 convs, 2x2 pools, one linear layer)', 'cifar', (o) =>
  new AlexNet({ form: 'cifar', numClasses: o.numClasses, inChannels: o.inChannels, seed: o.seed }));

/** Known model names, in a stable order. */
export function modelNames(): string[] {
  return [...entries.keys()];
}

function entry(name: string): Entry {
  const e = entries.get(name);
  checkOption(e !== undefined, () => `unknown model '${name}' (known models: ${modelNames().join(', ')})`);
  return e;
}

/** What a model is and which input it expects by default. Unknown names throw OptionError listing the known ones. */
export function modelInfo(name: string): ModelInfo {
  const i = entry(name).info;
  return { ...i, inputShape: [...i.inputShape] };
}

function checkCount(name: string, v: number): void {
  checkOption(Number.isSafeInteger(v) && v > 0, () => `model option ${name} must be a positive integer, got ${String(v)}`);
}

/**
 * Builds a model by name with seeded weights (same name, options and seed give the same weights).
 * @returns a Module whose `call(x [N, C, H, W])` gives logits [N, numClasses]
 * @example const net = createModel('resnet20', { numClasses: 10, seed: 1 });
 */
export function createModel(name: string, opts: ModelOptions = {}): Module {
  const e = entry(name);
  const o: Required<ModelOptions> = {
    numClasses: opts.numClasses ?? e.info.defaultNumClasses,
    inChannels: opts.inChannels ?? e.info.defaultInChannels,
    shortcut: opts.shortcut ?? 'A',
    seed: opts.seed ?? 0,
  };
  checkCount('numClasses', o.numClasses);
  checkCount('inChannels', o.inChannels);
  checkOption(Number.isSafeInteger(o.seed) && o.seed >= 0, () => `model option seed must be a non-negative integer, got ${String(o.seed)}`);
  checkOption(o.shortcut === 'A' || o.shortcut === 'B', () => `model option shortcut must be 'A' or 'B', got '${String(o.shortcut)}'`);
  checkOption(
    opts.shortcut === undefined || e.hasShortcutOption,
    () => `model option shortcut applies to the CIFAR ResNets (${cifarDepths.map((d) => `resnet${d}`).join(', ')}), not to '${name}'`,
  );
  return e.build(o);
}
