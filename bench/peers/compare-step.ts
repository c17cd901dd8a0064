/**
 * leantrain vs PyTorch, side by side, on whole training steps:
 *
 *   node dist/bench/peers/compare-step.js --model resnet20 --batch 128 --threads 2 [--rounds 3]
 *     [--prune-rate 0.9 --init-from runs/w3/model.safetensors]
 *
 * Each round times `--steps` training steps (forward, cross-entropy, backward, SGD momentum 0.9
 * with weight decay) of leantrain in this process (in a BufferArena, as the trainer runs them),
 * then of PyTorch via bench/peers/pytorch_step.py (system /usr/bin/python3, Debian's
 * python3-torch), on random 3x32x32 inputs, same thread count. With --prune-rate, leantrain also
 * times pruned steps (normal rule, fc dense) in the same rounds. Prints per-round medians, the
 * median over rounds, images/s and the ratios (> 1: leantrain is faster). PyTorch is optional:
 * only this script needs it. Options: --model (resnet20 | resnet18_cifar), --batch, --threads,
 * --steps (10), --warmup (3), --rounds (3), --prune-rate, --init-from, --python, --json.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BufferArena } from '../../src/index.js';
import { STEP_BENCH_ARGS, syntheticStep } from '../synthetic-step.js';

const { values: a } = parseArgs({
  options: { ...STEP_BENCH_ARGS, rounds: { type: 'string', default: '3' } },
});
const batch = Number(a.batch), threads = Number(a.threads), steps = Number(a.steps), warmup = Number(a.warmup), rounds = Number(a.rounds);
const median = (xs: number[]): number => {
  const s = [...xs].sort((p, q) => p - q);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const synth = syntheticStep({ model: a.model!, batch, threads, pruneRate: a['prune-rate'] !== undefined ? Number(a['prune-rate']) : undefined, initFrom: a['init-from'] });
const arena = new BufferArena();
let stepNo = 0;

function leantrainSteps(pruned: boolean): number {
  const times: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = performance.now();
    synth.run(stepNo++, pruned, arena);
    if (i >= warmup) times.push(performance.now() - t0);
  }
  return median(times);
}

function pytorchSteps(): { medianMs: number; peakRssMiB: number; torch: string } {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bench', 'peers', 'pytorch_step.py');
  const r = spawnSync(a.python!, [script, '--model', a.model!, '--batch', String(batch), '--threads', String(threads), '--steps', String(steps), '--warmup', String(warmup)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pytorch_step.py failed: ${r.stderr || r.error}`);
  const o = JSON.parse(r.stdout) as { medianMs: number; peakRssMiB: number; machine: { torch: string } };
  return { medianMs: o.medianMs, peakRssMiB: o.peakRssMiB, torch: o.machine.torch };
}

const rows: { round: number; leantrainMs: number; prunedMs: number | null; pytorchMs: number }[] = [];
let torchVersion = '';
let torchRss = 0;
for (let r = 0; r < rounds; r++) {
  const lt = leantrainSteps(false);
  const pr = synth.policy ? leantrainSteps(true) : null;
  const pt = pytorchSteps();
  torchVersion = pt.torch;
  torchRss = Math.max(torchRss, pt.peakRssMiB);
  rows.push({ round: r + 1, leantrainMs: lt, prunedMs: pr, pytorchMs: pt.medianMs });
  if (!a.json) console.log(`round ${r + 1}: leantrain ${lt.toFixed(1)} ms${pr !== null ? `, pruned ${pr.toFixed(1)} ms` : ''}, PyTorch ${pt.medianMs.toFixed(1)} ms`);
}
const lt = median(rows.map((r) => r.leantrainMs));
const pt = median(rows.map((r) => r.pytorchMs));
const pr = synth.policy ? median(rows.map((r) => r.prunedMs!)) : null;
const result = {
  model: a.model, batch, threads, steps, rounds, torch: torchVersion, initFrom: a['init-from'] ?? null,
  leantrain: { msPerStep: lt, imagesPerSec: (1000 * batch) / lt, peakRssMiB: process.resourceUsage().maxRSS / 1024 },
  pruned: pr === null ? null : { rate: Number(a['prune-rate']), msPerStep: pr, imagesPerSec: (1000 * batch) / pr },
  pytorch: { msPerStep: pt, imagesPerSec: (1000 * batch) / pt, peakRssMiB: torchRss },
  speedupDense: pt / lt,
  speedupPruned: pr === null ? null : pt / pr,
  rows,
};
if (a.json) console.log(JSON.stringify(result, null, 2));
else {
  console.log(`median over ${rounds} rounds (${steps} steps each), ${a.model} batch ${batch}, ${threads} thread(s), PyTorch ${torchVersion}:`);
  console.log(`  leantrain dense  ${lt.toFixed(1)} ms/step  ${result.leantrain.imagesPerSec.toFixed(0)} img/s  (${(pt / lt).toFixed(2)}x PyTorch)`);
  if (pr !== null) console.log(`  leantrain pruned ${pr.toFixed(1)} ms/step  ${((1000 * batch) / pr).toFixed(0)} img/s  (${(pt / pr).toFixed(2)}x PyTorch dense)`);
  console.log(`  PyTorch dense    ${pt.toFixed(1)} ms/step  ${result.pytorch.imagesPerSec.toFixed(0)} img/s`);
  console.log(`  peak RSS: leantrain process ${result.leantrain.peakRssMiB.toFixed(0)} MiB, PyTorch ${torchRss.toFixed(0)} MiB`);
}
