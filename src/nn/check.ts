/** Constructor-argument checks shared by the layers: each error names the layer and the argument. */
import { checkOption } from '../core/errors.js';
import { isPositiveInt } from '../core/shape.js';

/** Throws OptionError unless `v` is a positive integer. */
export function positiveInt(layer: string, arg: string, v: number): void {
  checkOption(isPositiveInt(v), () => `${layer}: ${arg} must be a positive integer, got ${String(v)}`);
}

/** Throws OptionError unless `v` is a non-negative integer. */
export function nonNegativeInt(layer: string, arg: string, v: number): void {
  checkOption(Number.isSafeInteger(v) && v >= 0, () => `${layer}: ${arg} must be a non-negative integer, got ${String(v)}`);
}

/** A number or an [h, w] pair, each checked by `check`; returns the pair. */
export function pairArg(
  layer: string,
  arg: string,
  v: number | readonly [number, number],
  check: (layer: string, arg: string, v: number) => void,
): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  checkOption(p.length === 2, () => `${layer}: ${arg} must be a number or a pair [h, w]`);
  check(layer, arg, p[0]);
  check(layer, arg, p[1]);
  return p;
}
