/**
 * Where a training step's time goes, leantrain vs PyTorch (issue 5: "the non-conv share of a
 * step is no larger than PyTorch's"):
 *
 *   node dist/bench/peers/compare-breakdown.js --model resnet20 --batch 128 --threads 2 [--steps 10]
 *     [--prune-rate 0.9 --init-from runs/w3/model.safetensors]
 *
 * leantrain: the synthetic step of compare-step (in a BufferArena, as the trainer runs) with every
 * kernel call timed through a wrapper backend, grouped by category; "optimizer" is the wall time
 * of `opt.step()`, "other" the rest of the step (autograd driver, allocation, JS glue). PyTorch:
 * bench/peers/pytorch_step.py --profile (torch.profiler self CPU time of each aten op of forward and
 * backward, same categories; its optimizer by wall time; "other" = autograd engine, allocator,
 * views and copies). Categories: conv (forward and both backward products, dense or sparse),
 * batchnorm (with the fused add + ReLU epilogue on leantrain's side), eltwise (ReLU, add,
 * shortcut padding), pool, linear, loss, prune (leantrain's pruning pass), optimizer, other.
 * Prints ms per step and share of the step for both sides.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BufferArena, kernels, LeantrainError, useBackend, type Kernels } from '../../src/index.js';
import { wrapKernels } from '../../src/backend/wrap.js';
import { STEP_BENCH_ARGS, syntheticStep } from '../synthetic-step.js';

const CATEGORIES = ['conv', 'batchnorm', 'eltwise', 'pool', 'linear', 'loss', 'prune', 'optimizer', 'other'] as const;
type Category = (typeof CATEGORIES)[number];

/** Category of a leantrain kernel, by name. */
export function kernelCategory(name: string): Category {
  if (name.startsWith('conv2d')) return 'conv';
  if (name.startsWith('batchNorm')) return 'batchnorm';
  if (/Pool/.test(name)) return 'pool';
  if (name.startsWith('linear')) return 'linear';
  if (name.startsWith('softmaxCrossEntropy')) return 'loss';
  if (name === 'meanAbs' || name === 'pruneGradient') return 'prune';
  if (/^(relu|add|shortcutPad|dropout)/.test(name)) return 'eltwise';
  return 'other';
}

const { values: a } = parseArgs({
  options: STEP_BENCH_ARGS,
});
const batch = Number(a.batch), threads = Number(a.threads), steps = Number(a.steps), warmup = Number(a.warmup);
for (const [k, v] of [['batch', batch], ['threads', threads], ['steps', steps]] as const) {
  if (!Number.isInteger(v) || v < 1) throw new LeantrainError(`compare-breakdown: --${k} must be a positive integer`);
}
const pruneRate = a['prune-rate'] !== undefined ? Number(a['prune-rate']) : undefined;
const model = a.model ?? 'resnet20';

/** leantrain: mean ms per step by category, and the mean step wall time. */
function leantrainBreakdown(pruned: boolean): { perStep: Record<Category, number>; stepMs: number } {
  const base = kernels();
  const acc = new Map<Category, number>();
  let timing = false;
  const overrides: Partial<Record<string, unknown>> = {};
  for (const key of Object.keys(base) as (keyof Kernels)[]) {
    const f = base[key];
    if (typeof f !== 'function' || key === 'threads' || key === 'setThreads') continue;
    const cat = kernelCategory(key);
    overrides[key] = (...args: unknown[]) => {
      const t0 = performance.now();
      const r = (f as (...x: unknown[]) => unknown).apply(base, args);
      if (timing) acc.set(cat, (acc.get(cat) ?? 0) + performance.now() - t0);
      return r;
    };
  }
  const wrapped = wrapKernels(base, overrides as Partial<Kernels>);
  useBackend(wrapped);
  try {
    const s = syntheticStep({ model, batch, threads, pruneRate, initFrom: a['init-from'] });
    const arena = new BufferArena();
    for (let i = 0; i < warmup; i++) s.run(i, pruned, arena);
    const walls: number[] = [];
    let opt = 0;
    timing = true;
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      s.run(warmup + i, pruned, arena);
      walls.push(performance.now() - t0);
      opt += s.lastOptimizerMs;
    }
    timing = false;
    const total = walls.reduce((p, q) => p + q, 0);
    const perStep = Object.fromEntries(CATEGORIES.map((c) => [c, (acc.get(c) ?? 0) / steps])) as Record<Category, number>;
    perStep.optimizer = opt / steps;
    perStep.other = total / steps - CATEGORIES.filter((c) => c !== 'other').reduce((p, c) => p + perStep[c], 0);
    return { perStep, stepMs: total / steps };
  } finally {
    useBackend(base);
  }
}

function pytorchBreakdown(): { perStep: Record<Category, number>; stepMs: number } {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bench', 'peers', 'pytorch_step.py');
  const r = spawnSync(a.python ?? '/usr/bin/python3', [script, '--model', model, '--batch', `${batch}`, '--threads', `${threads}`, '--steps', `${steps}`, '--warmup', `${warmup}`, '--profile'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error || r.status !== 0) throw new LeantrainError(`compare-breakdown: the PyTorch peer failed: ${r.error?.message ?? r.stderr.trim().split('\n').slice(-3).join(' / ')}`);
  const out = JSON.parse(r.stdout) as { profile: Record<string, number>; medianMs: number };
  const perStep = Object.fromEntries(CATEGORIES.map((c) => [c, out.profile[c] ?? 0])) as Record<Category, number>;
  const profiled = CATEGORIES.reduce((p, c) => p + perStep[c], 0);
  return { perStep, stepMs: profiled };
}

const dense = leantrainBreakdown(false);
const prunedRes = pruneRate !== undefined ? leantrainBreakdown(true) : null;
const peer = pytorchBreakdown();
if (a.json) {
  process.stdout.write(`${JSON.stringify({ model, batch, threads, steps, leantrain: dense, leantrainPruned: prunedRes, pytorch: peer }, null, 1)}\n`);
} else {
  const cols = [['leantrain dense', dense], ...(prunedRes ? [[`leantrain pruned p=${pruneRate}`, prunedRes] as const] : []), ['PyTorch dense', peer]] as const;
  const cell = (r: { perStep: Record<Category, number>; stepMs: number }, c: Category): string =>
    `${r.perStep[c].toFixed(1)} ms (${((100 * r.perStep[c]) / r.stepMs).toFixed(0)}%)`;
  const lines = [
    `${model}, batch ${batch}, ${threads} thread(s), mean of ${steps} steps after ${warmup} warm-up (PyTorch: profiled steps, so its total includes profiler overhead)`,
    '',
    `| category | ${cols.map((c) => c[0]).join(' | ')} |`,
    `| --- | ${cols.map(() => '---:').join(' | ')} |`,
    ...CATEGORIES.map((c) => `| ${c} | ${cols.map(([, r]) => cell(r, c)).join(' | ')} |`),
    `| step | ${cols.map(([, r]) => `${r.stepMs.toFixed(1)} ms`).join(' | ')} |`,
    `| non-conv share | ${cols.map(([, r]) => `${((100 * (r.stepMs - r.perStep.conv)) / r.stepMs).toFixed(0)}%`).join(' | ')} |`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
