/**
 * A synthetic training step for the peer and memory benchmarks: a zoo model (optionally from
 * saved weights), SGD momentum 0.9 with weight decay, one fixed batch of random 3x32x32 inputs,
 * and optionally a normal-rule pruning policy (fc dense) that a step may apply.
 */
import {
  backward, BufferArena, createModel, createPruningPolicy, crossEntropy, kernels, loadWeights, Rng, setGradientTransform, SGD, Tensor,
  type PruningPolicy,
} from '../src/index.js';

/** The command-line options the step benchmarks share (node:util parseArgs form). */
export const STEP_BENCH_ARGS = {
  model: { type: 'string', default: 'resnet20' },
  batch: { type: 'string', default: '128' },
  threads: { type: 'string', default: '2' },
  steps: { type: 'string', default: '10' },
  warmup: { type: 'string', default: '3' },
  'prune-rate': { type: 'string' },
  'init-from': { type: 'string' },
  python: { type: 'string', default: '/usr/bin/python3' },
  json: { type: 'boolean', default: false },
} as const;

export interface SyntheticStepOptions {
  model: string;
  batch: number;
  threads: number;
  /** Prune rate p of the policy pruned steps use (none: dense steps only). */
  pruneRate?: number;
  initFrom?: string;
}

export interface SyntheticStep {
  policy: PruningPolicy | null;
  /** Training step number `i` (the pruning key), pruned or dense, inside `arena` when given. */
  run(i: number, pruned: boolean, arena: BufferArena | null): void;
  /** Wall ms of the optimizer step (`opt.step()`) of the last run. */
  readonly lastOptimizerMs: number;
}

export function syntheticStep(o: SyntheticStepOptions): SyntheticStep {
  kernels().setThreads(o.threads);
  const model = createModel(o.model, { numClasses: 10, seed: 0 });
  if (o.initFrom) loadWeights(model, o.initFrom);
  model.train();
  const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
  const rng = new Rng(1);
  const x = Tensor.randn([o.batch, 3, 32, 32], rng);
  const labels = Int32Array.from({ length: o.batch }, () => rng.int(10));
  const policy = o.pruneRate !== undefined ? createPruningPolicy({ policy: 'normal', rate: o.pruneRate, seed: 0, exclude: ['fc'] }) : null;
  let optMs = 0;
  const body = (): void => {
    const loss = crossEntropy(model.call(x), labels);
    opt.zeroGrad();
    backward(loss);
    const t0 = performance.now();
    opt.step();
    optMs = performance.now() - t0;
  };
  return {
    policy,
    get lastOptimizerMs() {
      return optMs;
    },
    run(i, pruned, arena) {
      if (pruned && policy === null) throw new Error('syntheticStep: a pruned step needs pruneRate');
      const prev = pruned ? setGradientTransform(policy!.transform) : null;
      try {
        if (pruned) policy!.beginStep(i);
        if (arena) arena.run(body);
        else body();
      } finally {
        if (pruned) setGradientTransform(prev);
      }
    },
  };
}
