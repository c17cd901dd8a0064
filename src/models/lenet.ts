/**
 * LeNet-5 (LeCun et al. 1998) in its common modern form: ReLU and max pooling.
 *   conv1 C->6 5x5 (padding 2 for 1x28x28 inputs, 0 for 32x32 inputs), relu, maxpool 2
 *   conv2 6->16 5x5, relu, maxpool 2, flatten (16*5*5 = 400)
 *   fc1 400->120, relu, fc2 120->84, relu, fc3 84->classes
 * Shapes: input [N, 1, 28, 28] (or [N, C, 32, 32] when C != 1) -> logits [N, classes].
 * Weights use the PyTorch default init.
 */
import { Rng } from '../core/rng.js';
import { Conv2d, Flatten, Linear, MaxPool2d, Module, ReLU } from '../nn/index.js';
import type { Tensor } from '../tensor/tensor.js';

export interface LeNet5Options {
  numClasses: number;
  inChannels: number;
  seed: number;
}

/**
 * LeNet-5. With one input channel it expects 28x28 images (MNIST) and pads conv1 by 2; with
 * another channel count it expects 32x32 images (CIFAR) and conv1 has no padding, so fc1 always
 * sees 16 x 5 x 5 features.
 * @example const net = new LeNet5({ numClasses: 10, inChannels: 1, seed: 0 }); net.call(x); // [N,1,28,28] -> [N,10]
 */
export class LeNet5 extends Module {
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly fc3: Linear;
  private readonly relu1: ReLU;
  private readonly pool1: MaxPool2d;
  private readonly relu2: ReLU;
  private readonly pool2: MaxPool2d;
  private readonly flatten: Flatten;
  private readonly relu3: ReLU;
  private readonly relu4: ReLU;

  constructor(opts: LeNet5Options) {
    super();
    const rng = new Rng(opts.seed);
    const padding = opts.inChannels === 1 ? 2 : 0;
    this.conv1 = this.registerModule('conv1', new Conv2d(opts.inChannels, 6, 5, { padding, rng }));
    this.relu1 = this.registerModule('relu1', new ReLU());
    this.pool1 = this.registerModule('pool1', new MaxPool2d(2));
    this.conv2 = this.registerModule('conv2', new Conv2d(6, 16, 5, { rng }));
    this.relu2 = this.registerModule('relu2', new ReLU());
    this.pool2 = this.registerModule('pool2', new MaxPool2d(2));
    this.flatten = this.registerModule('flatten', new Flatten(1));
    this.fc1 = this.registerModule('fc1', new Linear(16 * 5 * 5, 120, { rng }));
    this.relu3 = this.registerModule('relu3', new ReLU());
    this.fc2 = this.registerModule('fc2', new Linear(120, 84, { rng }));
    this.relu4 = this.registerModule('relu4', new ReLU());
    this.fc3 = this.registerModule('fc3', new Linear(84, opts.numClasses, { rng }));
  }

  forward(x: Tensor): Tensor {
    let y = this.pool1.call(this.relu1.call(this.conv1.call(x)));
    y = this.pool2.call(this.relu2.call(this.conv2.call(y)));
    y = this.flatten.call(y);
    y = this.relu3.call(this.fc1.call(y));
    y = this.relu4.call(this.fc2.call(y));
    return this.fc3.call(y);
  }
}
