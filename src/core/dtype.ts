import { activeArena } from './arena.js';

/** Element types. float32 is the fast path everywhere; float64 exists for gradient checks on the ref backend. */
export type DType = 'float32' | 'float64';

/** Storage of a tensor: JS-owned memory, nothing to dispose. */
export type FloatArray = Float32Array | Float64Array;

/** Allocates zeroed storage of `size` elements of `dtype`. */
export function allocFloat(dtype: DType, size: number): FloatArray {
  return dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
}

/** Below this many bytes, zeroed allocation is as cheap as any (V8's small typed arrays). */
const UNINIT_MIN_BYTES = 1 << 16;

/**
 * Allocates storage of `size` elements of `dtype` whose contents are unspecified: for the
 * outputs of kernels that overwrite every element. Large blocks skip the zero-fill (a memset of
 * every op output was ~7% of a ResNet-20 training step). Inside `BufferArena.run` they come from
 * the arena and are recycled when the run ends.
 */
export function allocUninit(dtype: DType, size: number): FloatArray {
  const bytes = size * (dtype === 'float64' ? 8 : 4);
  if (bytes < UNINIT_MIN_BYTES) return allocFloat(dtype, size);
  const arena = activeArena();
  const buf = arena !== null ? arena.take(bytes) : Buffer.allocUnsafeSlow(bytes).buffer;
  return dtype === 'float64' ? new Float64Array(buf, 0, size) : new Float32Array(buf, 0, size);
}

/** The dtype of a storage array. */
export function dtypeOf(a: FloatArray): DType {
  return a instanceof Float64Array ? 'float64' : 'float32';
}
