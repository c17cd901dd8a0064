/**
 * The CIFAR ResNets of He et al. 2016 ("Deep Residual Learning", section 4.2): depth 6n + 2
 * (20, 32, 44, 56, 110), a 3x3 conv 16 + BN + ReLU stem, three stages of n basic blocks at
 * 16/32/64 channels on 32x32/16x16/8x8 maps (stride 2 in the first block of stages 2 and 3),
 * global average pool and a fully connected layer.
 *
 * Shortcuts where the shape changes: option A (the paper's CIFAR choice, parameter-free:
 * subsample by the stride and zero-pad the new channels, op `shortcutPadA`) or option B (1x1
 * conv with the stride + BN, children `shortcut.0` / `shortcut.1`).
 *
 * Init as in the widely used CIFAR ResNet code (Yerlan Idelbayev's `resnet.py`): conv and
 * linear weights `kaiming_normal_` with its defaults, i.e. mode **fan_in**, gain sqrt(2); linear
 * bias the PyTorch default; BN weight 1, bias 0.
 * Shapes: input [N, 3, 32, 32] -> logits [N, classes]. Parameters: resnet20 269,722 (option A),
 * 272,474 (option B).
 */
import { checkOption } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { BatchNorm2d, Conv2d, Flatten, Linear, AdaptiveAvgPool2d, Module, Sequential } from '../nn/index.js';
import { shortcutPadA } from '../ops/index.js';
import type { Tensor } from '../tensor/tensor.js';

/** How a basic block matches shapes when its stride or width changes. */
export type ShortcutOption = 'A' | 'B';

/** Option A shortcut: x[:, :, ::stride, ::stride] with zero channels padded to `outChannels` (no parameters). */
export class ShortcutA extends Module {
  constructor(
    readonly outChannels: number,
    readonly stride: number,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return shortcutPadA(x, this.outChannels, this.stride);
  }
}

export interface CifarBasicBlockOptions {
  shortcut: ShortcutOption;
  rng: Rng;
}

/**
 * Basic block: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), 3x3 convs without bias,
 * the stride on conv1. The shortcut is the identity unless the stride or width changes.
 * Shapes: [N, inPlanes, H, W] -> [N, planes, ceil(H/stride), ceil(W/stride)].
 */
export class CifarBasicBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  /** Null for the identity shortcut. */
  readonly shortcut: Module | null;

  constructor(inPlanes: number, planes: number, stride: number, opts: CifarBasicBlockOptions) {
    super();
    checkOption(opts.shortcut === 'A' || opts.shortcut === 'B', () => `CIFAR ResNet: shortcut must be 'A' or 'B', got '${String(opts.shortcut)}'`);
    const rng = opts.rng;
    const init = 'kaiming-fan-in';
    this.conv1 = this.registerModule('conv1', new Conv2d(inPlanes, planes, 3, { stride, padding: 1, bias: false, rng, init }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.conv2 = this.registerModule('conv2', new Conv2d(planes, planes, 3, { stride: 1, padding: 1, bias: false, rng, init }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    let shortcut: Module | null = null;
    if (stride !== 1 || inPlanes !== planes) {
      shortcut =
        opts.shortcut === 'A'
          ? new ShortcutA(planes, stride)
          : new Sequential(new Conv2d(inPlanes, planes, 1, { stride, bias: false, rng, init }), new BatchNorm2d(planes));
      this.registerModule('shortcut', shortcut);
    }
    this.shortcut = shortcut;
  }

  forward(x: Tensor): Tensor {
    // BN + ReLU and BN + add + ReLU run as fused ops (batchNorm2dAct: same values, fewer passes).
    const out = this.bn1.callAct(this.conv1.call(x));
    const sc = this.shortcut === null ? x : this.shortcut.call(x);
    return this.bn2.callAct(this.conv2.call(out), { residual: sc });
  }
}

export interface CifarResNetOptions {
  /** Total depth 6n + 2: 20, 32, 44, 56, 110, ... */
  depth: number;
  numClasses: number;
  inChannels: number;
  shortcut: ShortcutOption;
  seed: number;
}

/**
 * CIFAR ResNet of depth 6n + 2.
 * @example const net = new CifarResNet({ depth: 20, numClasses: 10, inChannels: 3, shortcut: 'A', seed: 0 });
 */
export class CifarResNet extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly layer1: Sequential;
  readonly layer2: Sequential;
  readonly layer3: Sequential;
  readonly fc: Linear;
  private readonly avgpool: AdaptiveAvgPool2d;
  private readonly flatten: Flatten;

  constructor(opts: CifarResNetOptions) {
    super();
    const { depth } = opts;
    checkOption(Number.isSafeInteger(depth) && depth >= 8 && (depth - 2) % 6 === 0, () => `CIFAR ResNet: depth must be 6n + 2 (20, 32, 44, 56, 110), got ${depth}`);
    const n = (depth - 2) / 6;
    const rng = new Rng(opts.seed);
    this.conv1 = this.registerModule('conv1', new Conv2d(opts.inChannels, 16, 3, { padding: 1, bias: false, rng, init: 'kaiming-fan-in' }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(16));
    let inPlanes = 16;
    const stage = (planes: number, stride: number): Sequential => {
      const s = new Sequential();
      for (let i = 0; i < n; i++) {
        s.append(new CifarBasicBlock(inPlanes, planes, i === 0 ? stride : 1, { shortcut: opts.shortcut, rng }));
        inPlanes = planes;
      }
      return s;
    };
    this.layer1 = this.registerModule('layer1', stage(16, 1));
    this.layer2 = this.registerModule('layer2', stage(32, 2));
    this.layer3 = this.registerModule('layer3', stage(64, 2));
    this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
    this.flatten = this.registerModule('flatten', new Flatten(1));
    this.fc = this.registerModule('fc', new Linear(64, opts.numClasses, { rng, init: 'kaiming-fan-in' }));
  }

  forward(x: Tensor): Tensor {
    let y = this.bn1.callAct(this.conv1.call(x));
    y = this.layer3.call(this.layer2.call(this.layer1.call(y)));
    return this.fc.call(this.flatten.call(this.avgpool.call(y)));
  }
}
