/**
 * AlexNet in two forms, with PyTorch parameter names (`features.<i>`, `classifier.<i>`):
 *
 * - `alexnet`: torchvision's ImageNet form (Krizhevsky 2014 "one weird trick" variant): five
 *   convs (11x11/4, 5x5, 3x3 x3) with ReLU and 3x3 stride-2 max pools, AdaptiveAvgPool2d(6x6),
 *   then dropout 0.5, 9216 -> 4096, ReLU, dropout, 4096 -> 4096, ReLU, 4096 -> classes.
 *   Parameters at 1000 classes: 61,100,840 (as torchvision). Input [N, 3, 224, 224].
 * - `alexnet_cifar`: the common CIFAR-10 variant for 32x32 inputs (as in the widely used
 *   pytorch-classification code): the same five convs with 11x11/4 padding 5 and 2x2 max pools,
 *   so 32x32 -> 8 -> 4 -> 2 -> 1, and one linear layer 256 -> classes. Parameters at 10 classes:
 *   2,472,266.
 *
 * Init: the PyTorch defaults (torchvision does not override them for AlexNet).
 * Shapes: input [N, 3, H, W] -> logits [N, classes].
 */
import { Rng } from '../core/rng.js';
import { AdaptiveAvgPool2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, Module, ReLU, Sequential } from '../nn/index.js';
import type { Tensor } from '../tensor/tensor.js';

export interface AlexNetOptions {
  /** 'imagenet' (torchvision) or 'cifar' (32x32 variant). */
  form: 'imagenet' | 'cifar';
  numClasses: number;
  inChannels: number;
  seed: number;
}

/**
 * AlexNet (see the file comment for the two forms).
 * @example const net = new AlexNet({ form: 'imagenet', numClasses: 1000, inChannels: 3, seed: 0 });
 */
export class AlexNet extends Module {
  readonly features: Sequential;
  /** Sequential (ImageNet form) or one Linear (CIFAR form: `classifier.weight`, as that code names it). */
  readonly classifier: Module;
  private readonly avgpool: AdaptiveAvgPool2d | null;
  private readonly flatten: Flatten;

  constructor(opts: AlexNetOptions) {
    super();
    const rng = new Rng(opts.seed);
    const imagenet = opts.form === 'imagenet';
    const pool = (): MaxPool2d => (imagenet ? new MaxPool2d(3, { stride: 2 }) : new MaxPool2d(2));
    this.features = this.registerModule(
      'features',
      new Sequential(
        new Conv2d(opts.inChannels, 64, 11, { stride: 4, padding: imagenet ? 2 : 5, rng }),
        new ReLU(),
        pool(),
        new Conv2d(64, 192, 5, { padding: 2, rng }),
        new ReLU(),
        pool(),
        new Conv2d(192, 384, 3, { padding: 1, rng }),
        new ReLU(),
        new Conv2d(384, 256, 3, { padding: 1, rng }),
        new ReLU(),
        new Conv2d(256, 256, 3, { padding: 1, rng }),
        new ReLU(),
        pool(),
      ),
    );
    this.avgpool = imagenet ? this.registerModule('avgpool', new AdaptiveAvgPool2d([6, 6])) : null;
    this.flatten = this.registerModule('flatten', new Flatten(1));
    this.classifier = this.registerModule(
      'classifier',
      imagenet
        ? new Sequential(
            new Dropout(0.5, { rng }),
            new Linear(256 * 6 * 6, 4096, { rng }),
            new ReLU(),
            new Dropout(0.5, { rng }),
            new Linear(4096, 4096, { rng }),
            new ReLU(),
            new Linear(4096, opts.numClasses, { rng }),
          )
        : new Linear(256, opts.numClasses, { rng }),
    );
  }

  forward(x: Tensor): Tensor {
    let y = this.features.call(x);
    if (this.avgpool !== null) y = this.avgpool.call(y);
    return this.classifier.call(this.flatten.call(y));
  }
}
