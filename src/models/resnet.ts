/**
 * ResNet-18 with torchvision's structure and parameter names (conv1, bn1, layer1..layer4 of two
 * BasicBlocks each, `downsample.0` / `downsample.1` = 1x1 conv with the stride + BN where the
 * shape changes, fc), and a CIFAR stem: conv1 is 3x3 stride 1 padding 1 and there is no max
 * pool, so 32x32 inputs give 32/16/8/4 maps in the four stages.
 * Init as torchvision: convs kaiming normal, mode fan_out, ReLU gain; BN weight 1, bias 0; fc
 * the PyTorch default. Parameters with 10 classes: 11,173,962.
 * Shapes: input [N, 3, 32, 32] -> logits [N, classes].
 */
import { Rng } from '../core/rng.js';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, Module, ReLU, Sequential } from '../nn/index.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * torchvision BasicBlock: relu(bn2(conv2(relu(bn1(conv1(x))))) + downsample(x)), downsample the
 * identity unless the stride or width changes.
 * Shapes: [N, inPlanes, H, W] -> [N, planes, ceil(H/stride), ceil(W/stride)].
 */
export class BasicBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  /** Null for the identity shortcut. */
  readonly downsample: Sequential | null;

  constructor(inPlanes: number, planes: number, stride: number, rng: Rng) {
    super();
    const init = 'kaiming-fan-out';
    this.conv1 = this.registerModule('conv1', new Conv2d(inPlanes, planes, 3, { stride, padding: 1, bias: false, rng, init }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.registerModule('relu', new ReLU()); // torchvision's module tree (the ReLU is fused into bn*.callAct)
    this.conv2 = this.registerModule('conv2', new Conv2d(planes, planes, 3, { padding: 1, bias: false, rng, init }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.downsample =
      stride !== 1 || inPlanes !== planes
        ? this.registerModule(
            'downsample',
            new Sequential(new Conv2d(inPlanes, planes, 1, { stride, bias: false, rng, init }), new BatchNorm2d(planes)),
          )
        : null;
  }

  forward(x: Tensor): Tensor {
    // BN + ReLU and BN + add + ReLU run as fused ops (batchNorm2dAct: same values, fewer passes).
    const out = this.bn1.callAct(this.conv1.call(x));
    const identity = this.downsample === null ? x : this.downsample.call(x);
    return this.bn2.callAct(this.conv2.call(out), { residual: identity });
  }
}

export interface ResNetOptions {
  /** Blocks per stage, e.g. [2, 2, 2, 2] for ResNet-18. */
  layers: [number, number, number, number];
  numClasses: number;
  inChannels: number;
  seed: number;
}

/**
 * torchvision-style ResNet of BasicBlocks with the CIFAR stem.
 * @example const net = new ResNet({ layers: [2, 2, 2, 2], numClasses: 10, inChannels: 3, seed: 0 }); // ResNet-18
 */
export class ResNet extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
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
    this.conv1 = this.registerModule('conv1', new Conv2d(opts.inChannels, 64, 3, { padding: 1, bias: false, rng, init: 'kaiming-fan-out' }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(64));
    this.registerModule('relu', new ReLU()); // torchvision's module tree (the ReLU is fused into bn*.callAct)
    let inPlanes = 64;
    const stage = (planes: number, blocks: number, stride: number): Sequential => {
      const s = new Sequential();
      for (let i = 0; i < blocks; i++) {
        s.append(new BasicBlock(inPlanes, planes, i === 0 ? stride : 1, rng));
        inPlanes = planes;
      }
      return s;
    };
    this.layer1 = this.registerModule('layer1', stage(64, opts.layers[0], 1));
    this.layer2 = this.registerModule('layer2', stage(128, opts.layers[1], 2));
    this.layer3 = this.registerModule('layer3', stage(256, opts.layers[2], 2));
    this.layer4 = this.registerModule('layer4', stage(512, opts.layers[3], 2));
    this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
    this.flatten = this.registerModule('flatten', new Flatten(1));
    this.fc = this.registerModule('fc', new Linear(512, opts.numClasses, { rng }));
  }

  forward(x: Tensor): Tensor {
    let y = this.bn1.callAct(this.conv1.call(x));
    y = this.layer4.call(this.layer3.call(this.layer2.call(this.layer1.call(y))));
    return this.fc.call(this.flatten.call(this.avgpool.call(y)));
  }
}
