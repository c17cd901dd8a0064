/** Which backend the suite runs on: CI sets LEANTRAIN_REQUIRE_NATIVE=1 and this proves native ran. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernels, nativeBackend, nativeLoadError } from '../src/index.js';
import { flags } from '../src/core/flags.js';

test('reports the active backend', () => {
  const k = kernels();
  const n = nativeBackend();
  const isa = n ? n.isa() : 'none';
  console.log(`# active backend: ${k.name}, threads ${k.threads()}, native isa: ${isa}${n ? '' : ` (${nativeLoadError()})`}`);
  if (flags().requireNative) {
    assert.equal(k.name, 'native', 'LEANTRAIN_REQUIRE_NATIVE=1 but the active backend is not native');
  }
});
