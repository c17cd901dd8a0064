/**
 * Native ISA variants: the addon lists what this build and CPU can run, switches between them,
 * rejects what it cannot run with a clear error, and restores the original variant.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { nativeBackend, nativeLoadError, Rng, UnsupportedError } from '../src/index.js';
import type { IsaName } from '../src/index.js';

const nat = nativeBackend();
const skip = nat === null ? `native addon unavailable: ${nativeLoadError()}` : false;

/** Whether /proc/cpuinfo lists AVX2 and FMA (independent of the addon's own CPU check). */
function cpuinfoHasAvx2(): boolean | null {
  try {
    const flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return flags ? / avx2( |$)/.test(flags[1]) && / fma( |$)/.test(flags[1]) : null;
  } catch {
    return null;
  }
}

test('availableIsas lists native first, scalar last, and avx2 exactly when x64 with AVX2+FMA', { skip }, () => {
  if (nat === null) return;
  const isas = nat.availableIsas();
  assert.equal(isas[0], 'native');
  assert.equal(isas[isas.length - 1], 'scalar');
  const hasAvx2 = cpuinfoHasAvx2();
  if (process.arch === 'x64' && hasAvx2 !== null) {
    assert.equal(isas.includes('avx2'), hasAvx2, `avx2 listed: ${isas.includes('avx2')}, cpuinfo says ${hasAvx2}`);
  }
  if (process.arch !== 'x64') assert.ok(!isas.includes('avx2'), 'avx2 is only built for x64');
  console.log(`# available ISA variants: ${isas.join(', ')}; native runs ${nat.isa()}`);
});

test('setIsa switches the kernels that run and restores the original variant', { skip }, () => {
  if (nat === null) return;
  const original = nat.isa();
  const threads = nat.threads();
  // A long dot product: different vector widths sum in different orders, so the bits differ.
  const rng = new Rng(3);
  const d = { N: 4, IN: 1000, OUT: 8 };
  const x = Float32Array.from({ length: d.N * d.IN }, () => rng.uniform(-1, 1));
  const w = Float32Array.from({ length: d.OUT * d.IN }, () => rng.uniform(-1, 1));
  const run = (): Float32Array => {
    const y = new Float32Array(d.N * d.OUT);
    nat.linearForward(x, w, null, y, d);
    return y;
  };
  const before = run();
  const expectedName: Record<IsaName, string> = { native: original, avx2: 'avx2', scalar: 'scalar' };
  const results = new Map<string, Float32Array>();
  try {
    for (const isa of nat.availableIsas()) {
      assert.equal(nat.setIsa(isa), expectedName[isa], `setIsa('${isa}') return value`);
      assert.equal(nat.isa(), expectedName[isa], `isa() after setIsa('${isa}')`);
      assert.equal(nat.threads(), threads, 'switching ISA keeps the thread count');
      results.set(nat.isa(), run());
    }
  } finally {
    nat.setIsa('native');
  }
  assert.equal(nat.isa(), original, 'native variant restored');
  assert.deepEqual(run(), before, 'native results are bit-identical after switching back');
  if (results.has('scalar') && original !== 'scalar') {
    assert.notDeepEqual(results.get('scalar'), results.get(original), 'scalar and vector variants really ran different code');
  }
});

test('setIsa rejects unknown or unavailable variants and keeps the current one', { skip }, () => {
  if (nat === null) return;
  const original = nat.isa();
  const bogus: IsaName = JSON.parse('"sse9"');
  assert.throws(() => nat.setIsa(bogus), (e: unknown) =>
    e instanceof UnsupportedError && /'sse9'/.test(e.message) && /available: native/.test(e.message));
  if (!nat.availableIsas().includes('avx2')) {
    assert.throws(() => nat.setIsa('avx2'), (e: unknown) => e instanceof UnsupportedError && /'avx2'/.test(e.message));
  }
  assert.equal(nat.isa(), original);
});

test('fmaPeakGflops: every variant reports a positive, finite peak; measureFmaPeak needs the native backend', { skip }, async () => {
  if (nat === null) return;
  const { measureFmaPeak, withBackend, refBackend } = await import('../src/index.js');
  const original = nat.isa();
  try {
    for (const isa of nat.availableIsas()) {
      nat.setIsa(isa);
      const g = nat.fmaPeakGflops(10_000);
      assert.ok(Number.isFinite(g) && g > 0, `${isa}: fmaPeakGflops gave ${g}`);
    }
  } finally {
    nat.setIsa(original === 'scalar' ? 'scalar' : 'native');
  }
  assert.throws(() => nat.fmaPeakGflops(0), /fmaPeakGflops.*must be an integer/);
  const p = withBackend(nat, () => measureFmaPeak(3, 5));
  assert.equal(p.runs.length, 3);
  assert.ok(p.runs.includes(p.gflops), 'the peak is the median of the runs');
  assert.equal(p.perThread, p.gflops / p.threads);
  assert.throws(() => withBackend(refBackend(), () => measureFmaPeak(1, 1)), (e: unknown) => e instanceof UnsupportedError && /'ref' backend has no FMA peak loop/.test((e as Error).message));
});
