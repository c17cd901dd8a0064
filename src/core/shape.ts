/** Shape math shared by ops, layers and kernels. Shapes are NCHW for activations, OIHW for conv weights. */

export type Shape = readonly number[];

/** Number of elements of a shape (1 for a scalar shape []). */
export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** `[2, 3, 4]` for messages. */
export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Output size of a convolution or pooling window along one axis, as PyTorch computes it:
 * floor((in + 2*pad - dilation*(k-1) - 1) / stride) + 1 (or ceil with ceilMode).
 */
export function convOutSize(inSize: number, k: number, stride: number, pad: number, ceilMode = false): number {
  const span = inSize + 2 * pad - k;
  let out = (ceilMode ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  // PyTorch: with ceil mode the last window must start inside the input or left padding.
  if (ceilMode && (out - 1) * stride >= inSize + pad) out -= 1;
  return out;
}

/** True if `n` is a positive safe integer. */
export function isPositiveInt(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0;
}
