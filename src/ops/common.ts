/**
 * Helpers shared by the functional ops: scope-qualified names for error messages, validation of
 * window options and dtypes, and typed access to the non-tensor values kept in `ctx.meta`.
 */
import { currentScope, type Ctx } from '../autograd/graph.js';
import type { FloatArray } from '../core/dtype.js';
import { checkOption, LeantrainError, UnsupportedError } from '../core/errors.js';
import type { Tensor } from '../tensor/tensor.js';

/** Where an op was called from, for error messages: `conv2d (layer1.0.conv1)` or `conv2d`. */
export function where(op: string): string {
  const s = currentScope();
  return s ? `${op} (${s})` : op;
}

/** An option given as one number for both spatial axes or as a [height, width] pair. */
export type IntPair = number | readonly [number, number];

/**
 * Expands `v` to [h, w] and checks both are integers >= `min` (OptionError naming the op and the
 * option otherwise). `dflt` applies when `v` is undefined.
 */
export function intPair(v: IntPair | undefined, dflt: [number, number], op: string, name: string, min: number): [number, number] {
  if (v === undefined) return dflt;
  const p: readonly number[] = typeof v === 'number' ? [v, v] : v;
  checkOption(
    p.length === 2 && p.every((e) => Number.isSafeInteger(e) && e >= min),
    () => `${op}: option '${name}' must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`,
  );
  return [p[0], p[1]];
}

/**
 * All tensors of one op must share a dtype (kernels read them as one array type). Throws
 * UnsupportedError naming the op and the first argument that differs.
 */
export function checkSameDtype(op: string, args: Record<string, Tensor | null>): void {
  let first: [string, Tensor] | null = null;
  for (const [name, t] of Object.entries(args)) {
    if (t === null) continue;
    if (first === null) first = [name, t];
    else if (t.dtype !== first[1].dtype) {
      throw new UnsupportedError(`${op}: '${name}' is ${t.dtype} but '${first[0]}' is ${first[1].dtype}; all tensors of one op must share a dtype`);
    }
  }
}

function metaMissing(ctx: Ctx, key: string, what: string): never {
  throw new LeantrainError(`autograd: ctx.meta.${key} is missing or not a ${what} (keys: ${Object.keys(ctx.meta).join(', ')})`);
}

/** A float array kept in ctx.meta by the forward pass. */
export function metaFloat(ctx: Ctx, key: string): FloatArray {
  const v = ctx.meta[key];
  if (v instanceof Float32Array || v instanceof Float64Array) return v;
  return metaMissing(ctx, key, 'Float32Array/Float64Array');
}

/** An Int32Array kept in ctx.meta (max-pool argmax, labels). */
export function metaInt32(ctx: Ctx, key: string): Int32Array {
  const v = ctx.meta[key];
  if (v instanceof Int32Array) return v;
  return metaMissing(ctx, key, 'Int32Array');
}

/** A Uint8Array kept in ctx.meta (dropout mask). */
export function metaUint8(ctx: Ctx, key: string): Uint8Array {
  const v = ctx.meta[key];
  if (v instanceof Uint8Array) return v;
  return metaMissing(ctx, key, 'Uint8Array');
}
