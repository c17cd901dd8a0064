/**
 * ResNet-18/34/50/101/152 with torchvision's structure and parameter names, so a PyTorch
 * `state_dict` maps one to one: conv1, bn1, (relu, maxpool), layer1..layer4 of BasicBlocks
 * (18, 34) or Bottlenecks (50, 101, 152; torchvision's "v1.5", the stride on the 3x3 conv),
 * `downsample.0` / `downsample.1` = 1x1 conv with the stride + BN where the shape changes, fc.
 *
 * Stems: 'imagenet' (torchvision: 7x7 stride-2 conv1 and a 3x3 stride-2 max pool, for 224x224
 * inputs) or 'cifar' (3x3 stride-1 conv1, no max pool, so 32x32 inputs give 32/16/8/4 maps in
 * the four stages; the usual CIFAR adaptation, same parameter names).
 * Init as torchvision: convs kaiming normal, mode fan_out, ReLU gain; BN weight 1, bias 0; fc the
 * PyTorch default. Parameters at 1000 classes (ImageNet stem) equal torchvision's: resnet18
 * 11,689,512; resnet34 21,797,672; resnet50 25,557,032; resnet101 44,549,160; resnet152 60,192,808.
 * Shapes: input [N, 3, H, W] -> logits [N, classes].
 */
import { Rng } from '../core/rng.js';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, Module, ReLU, Sequential } from '../nn/index.js';
import type { Tensor } from '../tensor/tensor.js';

const init = 'kaiming-fan-out';

function downsample(inPlanes: number, outPlanes: number, stride: number, rng: Rng): Sequential | null {
  if (stride === 1 && inPlanes === outPlanes) return null;
  return new Sequential(new Conv2d(inPlanes, outPlanes, 1, { stride, bias: false, rng, init }), new BatchNorm2d(outPlanes));
}

/**
 * torchvision BasicBlock: relu(bn2(conv2(relu(bn1(conv1(x))))) + downsample(x)), downsample the
 * identity unless the stride or width changes.
 * Shapes: [N, inPlanes, H, W] -> [N, planes, ceil(H/stride), ceil(W/stride)].
 */
export class BasicBlock extends Module {
  static readonly expansion = 1;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  /** Null for the identity shortcut. */
  readonly downsample: Sequential | null;

  constructor(inPlanes: number, planes: number, stride: number, rng: Rng) {
    super();
    this.conv1 = this.registerModule('conv1', new Conv2d(inPlanes, planes, 3, { stride, padding: 1, bias: false, rng, init }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.registerModule('relu', new ReLU()); // torchvision's module tree (the ReLU is fused into bn*.callAct)
    this.conv2 = this.registerModule('conv2', new Conv2d(planes, planes, 3, { padding: 1, bias: false, rng, init }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    const ds = downsample(inPlanes, planes, stride, rng);
    this.downsample = ds === null ? null : this.registerModule('downsample', ds);
  }

  forward(x: Tensor): Tensor {
    // BN + ReLU and BN + add + ReLU run as fused ops (batchNorm2dAct: same values, fewer passes).
    const out = this.bn1.callAct(this.conv1.call(x));
    const identity = this.downsample === null ? x : this.downsample.call(x);
    return this.bn2.callAct(this.conv2.call(out), { residual: identity });
  }
}

/**
 * torchvision Bottleneck (v1.5): 1x1 conv to `planes`, 3x3 conv with the stride, 1x1 conv to
 * 4 * planes, each followed by BN; ReLU after the first two and after the residual add.
 * Shapes: [N, inPlanes, H, W] -> [N, 4 * planes, ceil(H/stride), ceil(W/stride)].
 */
export class Bottleneck extends Module {
  static readonly expansion = 4;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly downsample: Sequential | null;

  constructor(inPlanes: number, planes: number, stride: number, rng: Rng) {
    super();
    const out = planes * Bottleneck.expansion;
    this.conv1 = this.registerModule('conv1', new Conv2d(inPlanes, planes, 1, { bias: false, rng, init }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.conv2 = this.registerModule('conv2', new Conv2d(planes, planes, 3, { stride, padding: 1, bias: false, rng, init }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.conv3 = this.registerModule('conv3', new Conv2d(planes, out, 1, { bias: false, rng, init }));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(out));
    this.registerModule('relu', new ReLU());
    const ds = downsample(inPlanes, out, stride, rng);
    this.downsample = ds === null ? null : this.registerModule('downsample', ds);
  }

  forward(x: Tensor): Tensor {
    let out = this.bn1.callAct(this.conv1.call(x));
    out = this.bn2.callAct(this.conv2.call(out));
    const identity = this.downsample === null ? x : this.downsample.call(x);
    return this.bn3.callAct(this.conv3.call(out), { residual: identity });
  }
}

export interface ResNetOptions {
  /** Blocks per stage, e.g. [2, 2, 2, 2] for ResNet-18, [3, 4, 6, 3] for ResNet-34/50. */
  layers: [number, number, number, number];
  /** 'basic' (ResNet-18/34) or 'bottleneck' (ResNet-50 and deeper). Default 'basic'. */
  block?: 'basic' | 'bottleneck';
  /** 'imagenet' (7x7 stride-2 conv + max pool) or 'cifar' (3x3 stride-1 conv, no pool). Default 'cifar'. */
  stem?: 'imagenet' | 'cifar';
  numClasses: number;
  inChannels: number;
  seed: number;
}

/**
 * torchvision-style ResNet.
 * @example const net = new ResNet({ layers: [3, 4, 6, 3], block: 'bottleneck', stem: 'imagenet', numClasses: 1000, inChannels: 3, seed: 0 }); // ResNet-50
 */
export class ResNet extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly maxpool: MaxPool2d | null;
  readonly layer1: Sequential;
  readonly layer2: Sequential;
  readonly layer3: Sequential;
  readonly layer4: Sequential;
  readonly fc: Linear;
  private readonly avgpool: AdaptiveAvgPool2d;
  private readonly flatten: Flatten;

  constructor(opts: ResNetOptions) {
    super();
    const rng = new Rng(opts.seed);
    const imagenet = (opts.stem ?? 'cifar') === 'imagenet';
    const Block = (opts.block ?? 'basic') === 'bottleneck' ? Bottleneck : BasicBlock;
    this.conv1 = this.registerModule(
      'conv1',
      imagenet
        ? new Conv2d(opts.inChannels, 64, 7, { stride: 2, padding: 3, bias: false, rng, init })
        : new Conv2d(opts.inChannels, 64, 3, { padding: 1, bias: false, rng, init }),
    );
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(64));
    this.registerModule('relu', new ReLU()); // torchvision's module tree (the ReLU is fused into bn1.callAct)
    this.maxpool = imagenet ? this.registerModule('maxpool', new MaxPool2d(3, { stride: 2, padding: 1 })) : null;
    let inPlanes = 64;
    const stage = (planes: number, blocks: number, stride: number): Sequential => {
      const s = new Sequential();
      for (let i = 0; i < blocks; i++) {
        s.append(new Block(inPlanes, planes, i === 0 ? stride : 1, rng));
        inPlanes = planes * Block.expansion;
      }
      return s;
    };
    this.layer1 = this.registerModule('layer1', stage(64, opts.layers[0], 1));
    this.layer2 = this.registerModule('layer2', stage(128, opts.layers[1], 2));
    this.layer3 = this.registerModule('layer3', stage(256, opts.layers[2], 2));
    this.layer4 = this.registerModule('layer4', stage(512, opts.layers[3], 2));
    this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
    this.flatten = this.registerModule('flatten', new Flatten(1));
    this.fc = this.registerModule('fc', new Linear(512 * Block.expansion, opts.numClasses, { rng }));
  }

  forward(x: Tensor): Tensor {
    let y = this.bn1.callAct(this.conv1.call(x));
    if (this.maxpool !== null) y = this.maxpool.call(y);
    y = this.layer4.call(this.layer3.call(this.layer2.call(this.layer1.call(y))));
    return this.fc.call(this.flatten.call(this.avgpool.call(y)));
  }
}
