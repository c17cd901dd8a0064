/**
 * Memory of the steady state: does a training step allocate? Runs `--steps` ResNet-20 training
 * steps (batch 128, random inputs, SGD momentum) in a BufferArena as the trainer does, after
 * `--warmup` steps, and reports the garbage collections seen (PerformanceObserver 'gc') and the
 * growth of the JS heap, of ArrayBuffer memory and of RSS over the measured steps. With
 * `--no-arena` the same steps run without the arena, for comparison.
 *
 *   node dist/bench/step-memory.js --steps 100 [--threads 2] [--no-arena] [--prune-rate 0.9]
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { BufferArena } from '../src/index.js';
import { syntheticStep } from './synthetic-step.js';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string', default: 'resnet20' },
    batch: { type: 'string', default: '128' },
    steps: { type: 'string', default: '100' },
    warmup: { type: 'string', default: '5' },
    threads: { type: 'string', default: '2' },
    'no-arena': { type: 'boolean', default: false },
    'prune-rate': { type: 'string' },
  },
});
const batch = Number(a.batch), steps = Number(a.steps), warmup = Number(a.warmup);
const synth = syntheticStep({ model: a.model!, batch, threads: Number(a.threads), pruneRate: a['prune-rate'] !== undefined ? Number(a['prune-rate']) : undefined });
const arena = a['no-arena'] ? null : new BufferArena();
const step = (i: number): void => synth.run(i, synth.policy !== null, arena);

for (let i = 0; i < warmup; i++) step(i);
let gcs = 0, gcMs = 0;
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcs++;
    gcMs += e.duration;
  }
});
obs.observe({ entryTypes: ['gc'] });
const m0 = process.memoryUsage();
const t0 = performance.now();
for (let i = 0; i < steps; i++) step(warmup + i);
const ms = (performance.now() - t0) / steps;
const m1 = process.memoryUsage();
await new Promise((r) => setTimeout(r, 50)); // let the observer deliver the last entries
obs.disconnect();
const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;
console.log(`${a.model} batch ${batch}, ${steps} steps after ${warmup} warm-up, ${a['no-arena'] ? 'no arena' : 'BufferArena'}${synth.policy ? `, pruned p = ${a['prune-rate']}` : ''}:`);
console.log(`  ${ms.toFixed(1)} ms/step; ${gcs} garbage collections (${gcMs.toFixed(0)} ms in all, ${(gcMs / steps).toFixed(2)} ms/step)`);
console.log(`  growth over the steps: heap ${mib(m1.heapUsed - m0.heapUsed)}, ArrayBuffers ${mib(m1.arrayBuffers - m0.arrayBuffers)}, RSS ${mib(m1.rss - m0.rss)} (RSS now ${mib(m1.rss)})`);
