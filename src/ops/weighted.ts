/**
 * The shared shape of ops whose forward is y = f(x, weight) + bias and whose backward is two
 * products: dx from (dy, weight) and dweight/dbias from (x, dy). conv2d and linear record through
 * here; each supplies its two backward kernels. Sparse backward twins (activation-gradient
 * pruning) slot in as other kernels behind the same two entries.
 */
import { recordOp, type BackwardFn } from '../autograd/graph.js';
import { PrunedGradient } from '../autograd/pruned.js';
import type { FloatArray } from '../core/dtype.js';
import type { Shape } from '../core/shape.js';
import { Tensor } from '../tensor/tensor.js';

/** The two backward products of a weighted op, bound to its dims. Kernels overwrite outputs. */
export interface WeightedBackwardKernels {
  /** dx = backward-input(dy, weight). */
  input(dy: FloatArray, weight: FloatArray, dx: FloatArray): void;
  /** dweight (and dbias when not null) = backward-weight(x, dy). */
  weight(x: FloatArray, dy: FloatArray, dw: FloatArray, dbias: FloatArray | null): void;
  /**
   * Sparse twins (same results, work ~ non-zeros of dy), used when dy is a PrunedGradient whose
   * density is below `crossover()`. Absent: dense kernels always.
   */
  sparse?: SparseBackwardKernels;
}

/** A weighted op's sparse backward products and the density below which they are faster. */
export interface SparseBackwardKernels {
  /** Density (nnz / size of dy) below which the sparse kernels beat the dense ones on the active backend (measured). */
  crossover(): number;
  /**
   * The same for this shape on the backend the crossover was measured on, independent of the
   * active backend: the pruning policy leaves a layer dense when it is 0 (so ref and native
   * prune the same layers).
   */
  readonly shapeCrossover: number;
  input(dy: FloatArray, weight: FloatArray, dx: FloatArray): void;
  weight(x: FloatArray, dy: FloatArray, dw: FloatArray, dbias: FloatArray | null): void;
}

/**
 * Records `y = op(x, weight, bias)`, saving only what the inputs that want a gradient need:
 * x for dW/db, the weight for dx.
 * `backwardKernels` must be built outside the caller's scope that holds `x` (a module-level
 * factory taking only dims), so the backward closure keeps no activation alive; the saved-tensor
 * hooks decide that.
 */
export function recordWeightedOp(
  op: string,
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  y: Tensor,
  backwardKernels: WeightedBackwardKernels,
): Tensor {
  const inputs = bias ? [x, weight, bias] : [x, weight];
  const needX = weight.requiresGrad || (bias !== null && bias.requiresGrad);
  const needW = x.requiresGrad;
  return recordOp(
    op,
    inputs,
    y,
    (ctx) => {
      if (needX) ctx.save(x);
      if (needW) ctx.save(weight);
    },
    weightedBackward(backwardKernels, x.shape, weight.shape, bias === null ? null : bias.shape, needX, needW),
    backwardKernels.sparse ? { sparseCrossover: backwardKernels.sparse.shapeCrossover } : undefined,
  );
}

/** The backward function; captures only shapes, flags and the kernels (tensors come from ctx.saved()). */
function weightedBackward(
  kern: WeightedBackwardKernels,
  xShape: Shape,
  wShape: Shape,
  bShape: Shape | null,
  savedX: boolean,
  savedW: boolean,
): BackwardFn {
  return (ctx, dy) => {
    const saved = ctx.saved();
    const xs = savedX ? saved[0] : null;
    const ws = savedW ? saved[savedX ? 1 : 0] : null;
    // The dense/sparse choice: per layer and step, from the measured density of the pruned dy.
    const pruned = dy instanceof PrunedGradient ? dy : null;
    const useSparse =
      pruned !== null && pruned.sparseAllowed && kern.sparse !== undefined && pruned.density < kern.sparse.crossover();
    const run = useSparse && kern.sparse !== undefined ? kern.sparse : kern;
    // Experiment mode: the producer alternates which side is timed first (per layer and step), so
    // neither always finds the caches warmed by the other.
    const denseBefore = pruned !== null && pruned.compareDense && useSparse && pruned.denseFirst ? timeDense(kern, dy, xs, ws, xShape, wShape, bShape) : null;
    const t0 = pruned?.onBackward ? performance.now() : 0;
    let dx: Tensor | null = null;
    if (ws !== null) {
      dx = Tensor.empty(xShape, dy.dtype);
      run.input(dy.data, ws.data, dx.data);
    }
    let dw: Tensor | null = null;
    let db: Tensor | null = null;
    if (xs !== null) {
      dw = Tensor.empty(wShape, dy.dtype);
      db = bShape ? Tensor.empty(bShape, dy.dtype) : null;
      run.weight(xs.data, dy.data, dw.data, db ? db.data : null);
    }
    if (pruned?.onBackward) {
      const ms = performance.now() - t0;
      // Experiment mode: the dense kernels' time on the same gradient, side by side (outputs discarded).
      let denseMs: number | null = null;
      if (pruned.compareDense) denseMs = useSparse ? (denseBefore ?? timeDense(kern, dy, xs, ws, xShape, wShape, bShape)) : ms;
      pruned.onBackward({ ms, sparse: useSparse, denseMs });
    }
    return bShape ? [dx, dw, db] : [dx, dw];
  };
}

/** Wall-clock ms of the dense backward products on `dy` into scratch outputs. */
function timeDense(
  kern: WeightedBackwardKernels, dy: Tensor, xs: Tensor | null, ws: Tensor | null, xShape: Shape, wShape: Shape, bShape: Shape | null,
): number {
  const t0 = performance.now();
  if (ws !== null) kern.input(dy.data, ws.data, Tensor.empty(xShape, dy.dtype).data);
  if (xs !== null) kern.weight(xs.data, dy.data, Tensor.empty(wShape, dy.dtype).data, bShape ? Tensor.empty(bShape, dy.dtype).data : null);
  return performance.now() - t0;
}
