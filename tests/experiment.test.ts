/**
 * `leantrain experiment`: a small real experiment (LeNet-5 on the embedded digits, 2 short
 * epochs, dense vs normal p = 0.9) writes the results table in three formats and a report whose
 * plots exist; a second invocation reuses finished runs and an interrupted run resumes from its
 * checkpoint; bad options are clear errors. Plus the gradient fits on synthetic data and the
 * chart helpers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fitGradient } from '../src/experiment/gradient.js';
import { lineChart, niceTicks } from '../src/report/svg.js';
import { Rng } from '../src/index.js';
import { repoRoot } from './helpers/shared-data.js';

const bin = path.join(repoRoot, 'bin', 'leantrain.js');
const env = { ...process.env, LEANTRAIN_THREADS: '2' };

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const ARGS = ['experiment', '--epochs', '2', '--limit-batches', '15', '--rates', '0,0.9', '--prune-warmup', '6'];

test('experiment: results in CSV / JSON / Markdown, a report with its plots, and resuming', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'leantrain-exp-'));
  const out = path.join(tmp, 'exp');
  try {
    const r = run([...ARGS, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const csv = readFileSync(path.join(out, 'results.csv'), 'utf8').trim().split('\n');
    assert.equal(csv.length, 3, 'header + 2 runs');
    assert.match(csv[0], /^run,policy,rate,seed,epochs,final_acc_%,best_acc_%,density,/);
    assert.match(csv[1], /^dense-seed0,dense,0,0,2,/);
    assert.match(csv[2], /^normal-0\.9-seed0,normal,0\.9,0,2,/);
    const json = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
    const [dense, pruned] = json.rows;
    assert.equal(dense.density, 1);
    assert.ok(pruned.density > 0 && pruned.density < 1, `pruned density ${pruned.density}`);
    assert.ok(Math.abs(pruned.analyticMacRatio - 1 / pruned.density) < 1e-12);
    assert.ok(pruned.finalAccuracy > 0.3, 'the pruned run learned something');
    assert.ok(Object.keys(pruned.perLayerDensity).includes('conv2'));
    assert.match(readFileSync(path.join(out, 'results.md'), 'utf8'), /^\| run \| policy \|/);
    const html = readFileSync(path.join(out, 'report.html'), 'utf8');
    const imgs = [...html.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(imgs.sort(), ['accuracy.svg', 'density-normal-0.9-seed0.svg', 'gradient-histogram.svg', 'speedup.svg']);
    for (const f of imgs) {
      const svg = readFileSync(path.join(out, f), 'utf8');
      assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/, f);
      assert.ok(svg.trim().endsWith('</svg>'), `${f} is complete`);
      assert.ok(!svg.includes('NaN'), `${f} has no NaN coordinates`);
    }
    assert.match(readFileSync(path.join(out, 'accuracy.svg'), 'utf8'), /<path d="M[^"]+L/, 'accuracy lines are drawn');

    // Rerun: both runs are reused.
    const again = run([...ARGS, '--out', out]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((again.stdout.match(/already done/g) ?? []).length, 2);
    // Interrupted second run: no summary, and the checkpoint of the same config after epoch 1
    // (made by `train`, the only difference being --epochs): the experiment continues it.
    const runDir = path.join(out, 'runs', 'normal-0.9-seed0');
    const one = path.join(tmp, 'one');
    const ck1 = run(['train', '--epochs', '1', '--limit-batches', '15', '--prune', 'normal', '--prune-rate', '0.9', '--prune-warmup', '6', '--out', one]);
    assert.equal(ck1.code, 0, ck1.stderr);
    copyFileSync(path.join(one, 'checkpoint.safetensors'), path.join(runDir, 'checkpoint.safetensors'));
    rmSync(path.join(runDir, 'summary.json'));
    const third = run([...ARGS, '--out', out]);
    assert.equal(third.code, 0, third.stderr);
    assert.match(third.stdout, /\[2\/2 normal-0\.9-seed0\] resuming from/);
    const resumed = JSON.parse(readFileSync(path.join(runDir, 'summary.json'), 'utf8'));
    assert.deepEqual(resumed.history.map((h: { epoch: number }) => h.epoch), [1, 2]);
    assert.match(readFileSync(path.join(runDir, 'log.jsonl'), 'utf8'), /"type":"resume"[^\n]*"fromEpoch":1/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('experiment: bad options are clear errors', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'leantrain-exp-'));
  try {
    const out = path.join(tmp, 'e');
    assert.match(run(['experiment', '--rates', '0,1.5', '--out', out]).stderr, /--rates: each rate must be in \[0, 1\), got 1\.5/);
    assert.match(run(['experiment', '--rates', '0,0.9,0.9', '--out', out]).stderr, /--rates: repeated setting/);
    assert.match(run(['experiment', '--rates', '0,,1', '--out', out]).stderr, /--rates must be a comma list/);
    assert.match(run(['experiment', '--prune', 'magic', '--out', out]).stderr, /--prune must be one of normal, lognormal, deterministic, topk/);
    assert.match(run(['experiment']).stderr, /--out/);
    const cfg = path.join(tmp, 'bad.json');
    writeFileSync(cfg, '[1, 2]');
    assert.match(run(['experiment', '--config', cfg, '--out', out]).stderr, /bad\.json: not a JSON object of options/);
    assert.ok(!existsSync(path.join(out, 'results.csv')));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('gradient fits recover the parameters of synthetic normal and lognormal samples', () => {
  const rng = new Rng(8);
  const n = 200_000;
  const normal = new Float32Array(n).map(() => 0.01 * rng.normal());
  const fn = fitGradient(normal);
  assert.ok(Math.abs(fn.sigma / 0.01 - 1) < 0.01, `sigma ${fn.sigma}`);
  const logn = new Float32Array(n).map(() => (rng.next() < 0.5 ? -1 : 1) * Math.exp(-6 + 1.5 * rng.normal()));
  const fl = fitGradient(logn);
  assert.ok(Math.abs(fl.mu + 6) < 0.02 && Math.abs(fl.s - 1.5) < 0.02, `mu ${fl.mu}, s ${fl.s}`);
  const width = fl.edges[1] - fl.edges[0];
  const mass = fl.density.reduce((a, d) => a + d * width, 0);
  assert.ok(mass > 0.99 && mass <= 1 + 1e-9, `histogram mass ${mass} (bins cover mu - 5s .. mu + 3.5s)`);
  const curveMass = fl.lognormalCurve.reduce((a, [, y]) => a + y * width, 0);
  assert.ok(Math.abs(curveMass - mass) < 0.01, `lognormal curve mass ${curveMass}`);
});

test('chart helpers: nice ticks and integer epoch ticks', () => {
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1].map((v) => v));
  assert.deepEqual(niceTicks(-3, 7, 5), [-2, 0, 2, 4, 6]);
  const svg = lineChart({ title: 't', xLabel: 'epoch', yLabel: 'y', series: [{ name: 'a', points: [[1, 1], [2, 3], [3, 2]] }] });
  const labels = [...svg.matchAll(/text-anchor="middle" font-size="11">([^<]+)</g)].map((m) => m[1]);
  assert.deepEqual(labels, ['1', '2', '3']);
});
