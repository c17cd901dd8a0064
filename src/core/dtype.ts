/** Element types. float32 is the fast path everywhere; float64 exists for gradient checks on the ref backend. */
export type DType = 'float32' | 'float64';

/** Storage of a tensor: JS-owned memory, nothing to dispose. */
export type FloatArray = Float32Array | Float64Array;

/** Allocates zeroed storage of `size` elements of `dtype`. */
export function allocFloat(dtype: DType, size: number): FloatArray {
  return dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
}

/** The dtype of a storage array. */
export function dtypeOf(a: FloatArray): DType {
  return a instanceof Float64Array ? 'float64' : 'float32';
}
