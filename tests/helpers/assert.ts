/** Array comparison with named tolerances; failures report the worst element and its index. */
import assert from 'node:assert/strict';
import type { Tolerance } from './tolerances.js';

export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tolerance,
  what = 'values',
): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} != ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const lim = tol.abs + tol.rel * Math.abs(e);
    const err = Math.abs(a - e);
    if (!(err <= lim)) {
      const excess = Number.isNaN(err) ? Infinity : err - lim;
      if (worst < 0 || excess > worstExcess) {
        worst = i;
        worstExcess = excess;
      }
    }
  }
  if (worst >= 0) {
    assert.fail(
      `${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} ` +
        `(tolerance abs ${tol.abs} + rel ${tol.rel}; ${countBad(actual, expected, tol)} of ${actual.length} out of tolerance)`,
    );
  }
}

function countBad(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance): number {
  let n = 0;
  for (let i = 0; i < actual.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol.abs + tol.rel * Math.abs(expected[i]))) n++;
  }
  return n;
}
