/**
 * Child of poison-empty.test.ts: three SGD steps of ResNet-20 (batch 4, shortcut B so 1x1 convs run
 * too) with activation-gradient pruning and dropout-free layers, then prints the parameters' sums
 * as JSON. Run with and without LEANTRAIN_POISON_EMPTY=1 (Tensor.empty storage filled with NaN):
 * equal output proves no op relies on zeros that Tensor.empty does not promise. With
 * LEANTRAIN_TEST_ARENA=1 each step runs in a BufferArena (storage recycled from the previous step,
 * and gradient buffers recycled within the step by the backward driver; checkReleases detaches each
 * one it gives back, so a gradient read after its release would throw).
 */
import { backward, BufferArena, createModel, crossEntropy, kernels, Rng, Tensor } from '../src/index.js';
import { createPruningPolicy } from '../src/sparse/index.js';
import { SGD } from '../src/optim/sgd.js';

kernels().setThreads(1);
const model = createModel('resnet20', { numClasses: 10, inChannels: 3, seed: 3, shortcut: 'B' });
model.train();
const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
const policy = createPruningPolicy({ policy: 'normal', rate: 0.9, seed: 1, exclude: [] });
const uninstall = policy.install();
const rng = new Rng(11);
const arena = process.env.LEANTRAIN_TEST_ARENA === '1' ? new BufferArena({ checkReleases: true }) : null;
for (let s = 0; s < 3; s++) {
  const x = Tensor.randn([4, 3, 32, 32], rng);
  const labels = Int32Array.from({ length: 4 }, () => rng.int(10));
  const step = (): void => {
    policy.beginStep(s);
    const loss = crossEntropy(model.call(x), labels);
    opt.zeroGrad();
    backward(loss);
    opt.step();
  };
  if (arena) arena.run(step);
  else step();
}
if (arena && arena.stats.reused === 0) throw new Error('the arena reused no buffer: the test would prove nothing');
if (arena && arena.stats.released === 0) throw new Error('the backward driver released no gradient: intra-step reuse is untested');
uninstall();
model.eval();
const logits = model.call(Tensor.randn([2, 3, 32, 32], rng));
const sum = (a: ArrayLike<number>): number => {
  let t = 0;
  for (let i = 0; i < a.length; i++) t += a[i];
  return t;
};
const sums = [...model.parameters().map((p) => sum(p.data)), ...Array.from(logits.data)];
process.stdout.write(JSON.stringify(sums));
