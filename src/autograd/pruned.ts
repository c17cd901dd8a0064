/**
 * PrunedGradient: the tensor a pruning gradient transform (src/sparse/) returns. It lives here,
 * next to the gradient-transform seam, so ops (which may import autograd, never sparse) can see
 * the density and pick sparse backward kernels below the backend's crossover.
 */
import type { FloatArray } from '../core/dtype.js';
import type { Shape } from '../core/shape.js';
import { Tensor } from '../tensor/tensor.js';

/** What the backward of a weighted op reports about a pruned gradient it consumed. */
export interface PrunedBackwardReport {
  /** Wall-clock ms of the op's two backward products (dx and dW), as run. */
  ms: number;
  /** True when the sparse kernels ran, false for the dense ones. */
  sparse: boolean;
  /** With `compareDense`: the dense kernels' ms on the same gradient (= ms when dense ran); else null. */
  denseMs: number | null;
}

/** A dense tensor holding a pruned gradient (mostly zeros), with its measured density. */
export class PrunedGradient extends Tensor {
  /** Non-zeros / size, measured by the pruning kernel. */
  readonly density: number;
  /** False forces the dense backward kernels whatever the density (for comparisons). */
  sparseAllowed = true;
  /** Experiment mode: when the sparse kernels run, also time the dense ones (doubles backward cost). */
  compareDense = false;
  /** Experiment mode: time the dense kernels before (not after) the ones that run; the producer alternates it per layer and step. */
  denseFirst = false;
  /** Called once by the consuming op's backward with its timing (stats collection). */
  onBackward: ((r: PrunedBackwardReport) => void) | null = null;
  /**
   * Called by the backward engine once the consuming node's backward has returned (and did not
   * pass this tensor on as a gradient): the producer may then reuse `data` (the pruning policy
   * pools its output buffers), so nothing may read it afterwards.
   */
  onConsumed: (() => void) | null = null;

  /**
   * @param data pruned values (not copied)
   * @param shape the gradient's shape
   * @param nnz number of non-zeros in data
   */
  constructor(data: FloatArray, shape: Shape, readonly nnz: number) {
    super(data, shape, false);
    this.density = data.length === 0 ? 0 : nnz / data.length;
  }
}
