/**
 * Learning-rate schedules: PyTorch's schedulers from the fixture, exact values at boundaries
 * (warm-up end, step edges, cosine end), and parse errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { OptionError, createSchedule, formatSchedule, parseSchedule } from '../src/index.js';
import { assertClose } from './helpers/assert.js';
import { repoRoot } from './helpers/shared-data.js';
import { LR_F64 } from './helpers/tolerances.js';

interface ScheduleFixture {
  spec: string;
  base_lr: number;
  epochs: number;
  lr_per_epoch: number[];
}
const fixture: { torch: string; schedules: Record<string, ScheduleFixture> } = JSON.parse(
  readFileSync(path.join(repoRoot, 'tests', 'fixtures', 'optim', 'optim_fixture.json'), 'utf8'),
);

for (const [name, fx] of Object.entries(fixture.schedules)) {
  test(`schedule '${fx.spec}' matches torch ${fixture.torch} (${name}, one step per epoch)`, () => {
    const s = createSchedule(fx.spec, { baseLr: fx.base_lr, epochs: fx.epochs, stepsPerEpoch: 1 });
    const ours = fx.lr_per_epoch.map((_, e) => s.lrAt(e));
    assertClose(ours, fx.lr_per_epoch, LR_F64, `lr per epoch of ${fx.spec}`);
  });
}

test('per-iteration values at the boundaries', () => {
  const S = 4;
  const base = 0.2;
  // Warm-up: base/w at step 0, base at step w - 1, then the schedule starts from its beginning.
  const w = createSchedule('warmup:2+cosine', { baseLr: base, epochs: 6, stepsPerEpoch: S });
  assert.equal(w.warmupSteps, 8);
  assert.equal(w.totalSteps, 24);
  assert.equal(w.lrAt(0), base / 8);
  assert.equal(w.lrAt(3), (base * 4) / 8);
  assert.equal(w.lrAt(7), base);
  assert.equal(w.lrAt(8), base);
  assert.equal(w.lrAt(8 + 8), base / 2 + (base / 2) * Math.cos(Math.PI / 2));
  assert.equal(w.lrAt(23), (base * (1 + Math.cos((Math.PI * 15) / 16))) / 2, 'last iteration: small but positive');
  assert.ok(w.lrAt(23) > 0);
  assert.equal(w.lrAt(24), 0, 'cosine ends at exactly 0');
  assert.equal(w.lrAt(100), 0, 'and stays there');

  // Plain cosine over all 24 iterations, strictly decreasing.
  const c = createSchedule('cosine', { baseLr: base, epochs: 6, stepsPerEpoch: S });
  assert.equal(c.lrAt(0), base);
  assert.equal(c.lrAt(12), base / 2 + (base / 2) * Math.cos(Math.PI / 2));
  for (let s = 1; s <= 24; s++) assert.ok(c.lrAt(s) < c.lrAt(s - 1), `cosine decreases at ${s}`);
  assert.equal(c.lrAt(24), 0);

  // step:2:0.5 changes exactly at iteration 2 * S (epoch 2), again at 4 * S.
  const st = createSchedule('step:2:0.5', { baseLr: base, epochs: 6, stepsPerEpoch: S });
  assert.deepEqual([st.lrAt(2 * S - 1), st.lrAt(2 * S), st.lrAt(4 * S - 1), st.lrAt(4 * S)], [base, base * 0.5, base * 0.5, base * 0.25]);

  // Warm-up then multistep: milestones count from the end of warm-up.
  const m = createSchedule('warmup:1+multistep:1,3', { baseLr: base, epochs: 6, stepsPerEpoch: S });
  const at = (epoch: number, it = 0): number => m.lrAt(epoch * S + it);
  // Absolute epoch 1 is the schedule's epoch 0; milestone 1 is absolute epoch 2, milestone 3 absolute epoch 4.
  assert.deepEqual([at(0, 3), at(1), at(1, 3), at(2)], [base, base, base, base * 0.1]);
  assert.equal(at(3, 3), base * 0.1);
  assertClose([at(4)], [base * 0.01], LR_F64, 'second milestone');

  const k = createSchedule('constant', { baseLr: base, epochs: 1, stepsPerEpoch: 1 });
  assert.deepEqual([k.lrAt(0), k.lrAt(1000)], [base, base]);
});

test('parseSchedule accepts the documented forms', () => {
  assert.deepEqual(parseSchedule('constant'), { warmupEpochs: 0, base: { kind: 'constant' } });
  assert.deepEqual(parseSchedule(' cosine '), { warmupEpochs: 0, base: { kind: 'cosine' } });
  assert.deepEqual(parseSchedule('step:30'), { warmupEpochs: 0, base: { kind: 'step', everyEpochs: 30, gamma: 0.1 } });
  assert.deepEqual(parseSchedule('step:30:0.2'), { warmupEpochs: 0, base: { kind: 'step', everyEpochs: 30, gamma: 0.2 } });
  assert.deepEqual(parseSchedule('multistep:100,150'), {
    warmupEpochs: 0,
    base: { kind: 'multistep', milestones: [100, 150], gamma: 0.1 },
  });
  assert.deepEqual(parseSchedule('warmup:5+multistep:10,20:1e-1'), {
    warmupEpochs: 5,
    base: { kind: 'multistep', milestones: [10, 20], gamma: 0.1 },
  });
  for (const s of ['constant', 'cosine', 'step:3:0.5', 'multistep:2,5:0.1', 'warmup:2+cosine']) {
    assert.equal(formatSchedule(parseSchedule(s)), s);
    assert.deepEqual(parseSchedule(formatSchedule(parseSchedule(s))), parseSchedule(s));
  }
});

test('bad schedules are OptionErrors naming --schedule and the accepted forms', () => {
  const bad: [string, RegExp][] = [
    ['', /unknown schedule ''/],
    ['linear', /unknown schedule 'linear'/],
    ['cosine:5', /wrong number of ':' fields for 'cosine'/],
    ['step', /wrong number of ':' fields for 'step'/],
    ['step:0', /positive integer/],
    ['step:2.5', /positive integer/],
    ['step:3:', /gamma must be a number > 0/],
    ['step:3:-0.1', /gamma/],
    ['step:3:abc', /gamma/],
    ['multistep:', /each milestone/],
    ['multistep:5,2', /strictly increasing/],
    ['multistep:2,,5', /each milestone/],
    ['warmup:5', /warmup:W\+<schedule>/],
    ['warmup:0+cosine', /warm-up length W/],
    ['warmup:x+cosine', /warm-up length W/],
    ['warmup:2+warmup:2+cosine', /only once/],
    ['warmup:2+', /unknown schedule ''/],
  ];
  for (const [spec, re] of bad) {
    assert.throws(
      () => parseSchedule(spec),
      (e: unknown) =>
        e instanceof OptionError && e.message.startsWith('--schedule:') && re.test(e.message) && e.message.includes('multistep:E1,E2'),
      `spec '${spec}'`,
    );
  }
  assert.throws(
    () => createSchedule('warmup:5+cosine', { baseLr: 0.1, epochs: 5, stepsPerEpoch: 10 }),
    (e: unknown) => e instanceof OptionError && /--schedule.*warm-up of 5 epochs leaves nothing of a 5-epoch run/.test(e.message),
  );
  assert.throws(() => createSchedule('cosine', { baseLr: -1, epochs: 5, stepsPerEpoch: 10 }), /'baseLr'/);
  assert.throws(() => createSchedule('cosine', { baseLr: 0.1, epochs: 0, stepsPerEpoch: 10 }), /'epochs'/);
  assert.throws(() => createSchedule('cosine', { baseLr: 0.1, epochs: 2, stepsPerEpoch: 1.5 }), /'stepsPerEpoch'/);
  const s = createSchedule('cosine', { baseLr: 0.1, epochs: 2, stepsPerEpoch: 3 });
  assert.throws(() => s.lrAt(-1), OptionError);
  assert.throws(() => s.lrAt(0.5), OptionError);
});
