/**
 * The backward driver: walks recorded nodes from the loss in reverse creation order (a valid
 * topological order, since inputs exist before outputs), applies the gradient transform to each
 * node's incoming gradient, runs its backward function and accumulates input gradients along the
 * node's edges (into the producing node's pending gradient, or into a leaf's `.grad`).
 * Kernels overwrite; accumulation happens only here.
 *
 * Inside a BufferArena run the driver also hands each gradient buffer back to the arena as soon
 * as no pending gradient uses it any more (`GradientLifetimes`), so the gradients of a step share
 * memory instead of each holding its own until the step ends.
 */
import { PrunedGradient } from './pruned.js';
import { activeArena, type BufferArena } from '../core/arena.js';
import { LeantrainError, ShapeError } from '../core/errors.js';
import { formatShape, shapesEqual } from '../core/shape.js';
import { kernels } from '../backend/active.js';
import type { FloatArray } from '../core/dtype.js';
import { Tensor } from '../tensor/tensor.js';
import { Node } from './graph.js';

/**
 * Transforms the gradient arriving at a node's output before its backward kernels run. This is
 * where activation-gradient pruning plugs in; it must return a tensor of the same shape.
 *
 * The transform must not mutate `grad` in place: the same tensor may also be the gradient of
 * another consumer (an op such as `add` or `reshape` passes its output gradient on unchanged, to
 * both inputs). When it changes values it must return a new tensor; returning `grad` itself means
 * "unchanged". The driver in turn never writes into a buffer it did not allocate.
 */
export type GradientTransform = (grad: Tensor, node: Node) => Tensor;

let gradientTransform: GradientTransform | null = null;

/** Installs the gradient transform (null removes it); returns the previous one. */
export function setGradientTransform(fn: GradientTransform | null): GradientTransform | null {
  const prev = gradientTransform;
  gradientTransform = fn;
  return prev;
}

export interface BackwardOptions {
  /** Gradient of the root (default: ones; required shape = root shape). */
  grad?: Tensor;
  /** Keep saved tensors so backward can run again through the same graph. */
  retainGraph?: boolean;
}

interface Pending {
  grad: Tensor;
  /** True once `grad` is a buffer this driver allocated (safe to add into in place). */
  owned: boolean;
}

/**
 * Intra-step reuse of gradient memory: counts, per buffer, the pending gradients that use it
 * (a buffer can be pending at several nodes: `add` passes its output gradient to both inputs).
 * Buffers that lose their last use become candidates; `settle` (called once a node's outputs are
 * all filed) gives back to the arena every candidate still unused. Buffers the arena did not hand
 * out in this run (the seed from outside, pruning pools, small tensors) are ignored by it, and
 * the seed is pinned. With the arena's `checkReleases` (the tests) a buffer given back is
 * detached, so a use this bookkeeping missed would fail loudly instead of reading reused memory.
 */
class GradientLifetimes {
  private readonly refs = new Map<ArrayBufferLike, number>();
  private candidates: ArrayBufferLike[] = [];

  constructor(
    private readonly arena: BufferArena,
    private readonly pinned: ArrayBufferLike,
  ) {}

  hold(t: Tensor): void {
    const b = t.data.buffer;
    this.refs.set(b, (this.refs.get(b) ?? 0) + 1);
  }

  /** Drops one use of t's buffer (it becomes a candidate when none is left). */
  drop(t: Tensor): void {
    const b = t.data.buffer;
    const n = (this.refs.get(b) ?? 1) - 1;
    if (n > 0) {
      this.refs.set(b, n);
    } else {
      this.refs.delete(b);
      this.candidates.push(b);
    }
  }

  /** A tensor nothing may hold (a gradient returned for a leaf, or for no input): a candidate. */
  maybeDead(t: Tensor): void {
    this.candidates.push(t.data.buffer);
  }

  settle(): void {
    for (const b of this.candidates) if (b !== this.pinned && !this.refs.has(b)) this.arena.release(b);
    this.candidates = [];
  }
}

function accumulate(map: Map<Node, Pending>, node: Node, g: Tensor, life: GradientLifetimes | null): void {
  const prev = map.get(node);
  if (prev === undefined) {
    map.set(node, { grad: g, owned: false });
    life?.hold(g);
    return;
  }
  const k = kernels();
  if (prev.owned) {
    k.add(prev.grad.data, g.data, prev.grad.data, g.size);
    life?.maybeDead(g);
  } else {
    const sum = Tensor.empty(g.shape, g.dtype);
    k.add(prev.grad.data, g.data, sum.data, g.size);
    map.set(node, { grad: sum, owned: true });
    life?.hold(sum);
    life?.drop(prev.grad);
    life?.maybeDead(g);
  }
}

/**
 * Per leaf, the storage of the last `.grad` this driver created for it. Once `.grad` has been
 * reset to null (optimizer.zeroGrad()), the next backward copies the new gradient into that
 * storage instead of allocating (ResNet-18: 45 MB per step, with its page faults and GC): the
 * leaf's previous `.grad` tensor is overwritten then, as with PyTorch's zero_grad(set_to_none=False).
 */
const gradStorage = new WeakMap<Tensor, FloatArray>();

function accumulateLeaf(t: Tensor, g: Tensor): void {
  if (t.grad === null) {
    // Copy: g may be shared with other consumers' gradients, and it may live in a BufferArena.
    const src = g.data;
    let store = gradStorage.get(t);
    if (store === undefined || store.length !== src.length || store.constructor !== src.constructor) {
      store = src.slice();
      gradStorage.set(t, store);
    } else {
      store.set(src);
    }
    t.grad = new Tensor(store, g.shape);
  } else {
    kernels().add(t.grad.data, g.data, t.grad.data, g.size);
  }
}

/** Runs backward from `root`, filling `.grad` of every leaf that requires grad. */
export function backward(root: Tensor, opts: BackwardOptions = {}): void {
  if (!root.requiresGrad) throw new LeantrainError('backward(): the tensor does not require grad (was it computed under noGrad?)');
  let seed = opts.grad;
  if (seed === undefined) {
    seed = Tensor.full(root.shape, 1, root.dtype);
  } else if (!shapesEqual(seed.shape, root.shape)) {
    throw new ShapeError(`backward(): grad shape ${formatShape(seed.shape)} does not match ${formatShape(root.shape)}`);
  }
  if (!(root.gradFn instanceof Node)) {
    accumulateLeaf(root, seed);
    return;
  }
  // Collect reachable nodes.
  const nodes: Node[] = [];
  const seen = new Set<Node>();
  const stack: Node[] = [root.gradFn];
  seen.add(root.gradFn);
  while (stack.length > 0) {
    const n = stack.pop()!;
    nodes.push(n);
    for (const edge of n.inputs) {
      const f = edge.gradFn;
      if (f !== null && !seen.has(f)) {
        seen.add(f);
        stack.push(f);
      }
    }
  }
  nodes.sort((a, b) => b.seq - a.seq);

  const pending = new Map<Node, Pending>();
  pending.set(root.gradFn, { grad: seed, owned: false });
  const arena = activeArena();
  const life = arena !== null && !opts.retainGraph ? new GradientLifetimes(arena, seed.data.buffer) : null;
  life?.hold(seed);
  for (const node of nodes) {
    const p = pending.get(node);
    if (p === undefined) continue;
    pending.delete(node);
    const where = `'${node.op}'${node.scope ? ` (${node.scope})` : ''}`;
    if (node.ctx.isReleased) {
      // Checked here, not only in ctx.saved(): ops that save nothing must fail the same way.
      throw new LeantrainError(
        `backward through ${where} a second time: the graph was freed by the first backward (pass { retainGraph: true } to it)`,
      );
    }
    const g = gradientTransform ? gradientTransform(p.grad, node) : p.grad;
    if (!shapesEqual(g.shape, p.grad.shape)) {
      throw new ShapeError(
        `gradient transform at ${where}: returned shape ${formatShape(g.shape)}, expected ${formatShape(p.grad.shape)}`,
      );
    }
    const grads = node.backwardFn(node.ctx, g);
    if (g !== p.grad && g instanceof PrunedGradient && g.onConsumed !== null && !grads.includes(g)) g.onConsumed();
    if (!opts.retainGraph) node.ctx.release();
    for (let i = 0; i < node.inputs.length; i++) {
      const edge = node.inputs[i];
      const gi = grads[i];
      if (gi === null || gi === undefined) continue;
      if (!edge.requiresGrad) {
        life?.maybeDead(gi);
        continue;
      }
      if (!shapesEqual(gi.shape, edge.shape)) {
        throw new ShapeError(
          `backward of ${where}: gradient for input ${i} has shape ` +
            `${formatShape(gi.shape)}, input has ${formatShape(edge.shape)}`,
        );
      }
      if (edge.gradFn !== null) {
        accumulate(pending, edge.gradFn, gi, life);
      } else if (edge.leaf !== null) {
        accumulateLeaf(edge.leaf, gi);
        life?.maybeDead(gi);
      }
    }
    if (life !== null) {
      life.drop(p.grad);
      if (g !== p.grad) life.maybeDead(g);
      life.settle();
    }
  }
}
