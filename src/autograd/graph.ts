/**
 * The tape: ops record a Node per output with edges to their inputs, a backward function and a
 * context of saved tensors. Three seams live here:
 * - `ctx.save` / `ctx.saved` route every tensor kept for backward through the saved-tensor hooks
 *   (activation compression plugs in as a codec);
 * - the gradient transform (see backward.ts) sees each node's incoming gradient first;
 * - `scope` tags each node with the module path that created it, so policies can pick layers.
 *
 * Memory contract: the graph never references an intermediate (non-leaf) tensor except through
 * `ctx.save`. A node keeps, per input, only an {@link Edge} (the producing node, or the leaf
 * itself when it is a leaf that requires grad, plus its shape), and backward functions capture
 * only shapes, dims and options. So what the saved-tensor hooks' `pack` returns is all that stays
 * reachable from a loss until backward runs.
 */
import { LeantrainError } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import { Tensor, type GradFn } from '../tensor/tensor.js';

/**
 * Computes the input gradients of one op from its output gradient; null for inputs without grad
 * (see `ctx.needsInputGrad`). Must take the tensors it needs from `ctx.saved()`, never from a
 * closure over the forward's tensors (that would keep them alive whatever the hooks do).
 */
export type BackwardFn = (ctx: Ctx, gradOutput: Tensor) => readonly (Tensor | null)[];

/**
 * How saved tensors are stored: `pack` when saved, `unpack` when backward needs them. The hooks
 * that packed a tensor are the ones that unpack it, even if others are installed by then.
 * Whatever `pack` returns is all the graph keeps of the tensor: returning `t` itself keeps it.
 */
export interface SavedTensorHooks {
  pack(t: Tensor, node: Node): unknown;
  unpack(packed: unknown, node: Node): Tensor;
}

/**
 * What a node keeps of one input: enough to route its gradient, not the tensor's values.
 * Exactly one of `gradFn` / `leaf` is set when `requiresGrad`; both are null otherwise.
 */
export interface Edge {
  /** The node that produced the input (null for a leaf or a tensor that does not require grad). */
  readonly gradFn: Node | null;
  /** The input itself when it is a leaf that requires grad (its `.grad` receives the gradient). */
  readonly leaf: Tensor | null;
  /** Whether the input wanted a gradient when the op was recorded. */
  readonly requiresGrad: boolean;
  /** The input's shape (the gradient for it must have this shape). */
  readonly shape: Shape;
}

const identityHooks: SavedTensorHooks = {
  pack: (t) => t,
  unpack: (p) => {
    if (!(p instanceof Tensor)) throw new TypeError('saved-tensor hooks: unpack got something that is not a Tensor');
    return p;
  },
};

let savedHooks: SavedTensorHooks = identityHooks;
let gradEnabled = true;
let seqCounter = 0;
const scopeStack: string[] = [];

interface PackedEntry {
  readonly hooks: SavedTensorHooks;
  readonly value: unknown;
}

/** Per-node storage for backward: tensors (through the hooks) and plain values. */
export class Ctx {
  private packed: PackedEntry[] = [];
  private released = false;
  /** Non-tensor values an op keeps for backward (dims, indices, statistics). */
  readonly meta: Record<string, unknown> = {};

  constructor(private readonly node: Node) {}

  /** Keeps tensors for backward; they pass through the saved-tensor hooks installed now. */
  save(...tensors: Tensor[]): void {
    for (const t of tensors) this.packed.push({ hooks: savedHooks, value: savedHooks.pack(t, this.node) });
  }

  /** The saved tensors, in save order. Throws LeantrainError once the node was released. */
  saved(): Tensor[] {
    if (this.released) {
      const n = this.node;
      throw new LeantrainError(
        `backward through '${n.op}'${n.scope ? ` (${n.scope})` : ''} a second time: its saved tensors were released ` +
          'by the first backward (pass { retainGraph: true } to it)',
      );
    }
    return this.packed.map((p) => p.hooks.unpack(p.value, this.node));
  }

  /** True when input `i` of the op wanted a gradient when it was recorded (else return null for it). */
  needsInputGrad(i: number): boolean {
    const e = this.node.inputs[i];
    return e !== undefined && e.requiresGrad;
  }

  /** True once backward ran through this node without retainGraph (its graph is freed). */
  get isReleased(): boolean {
    return this.released;
  }

  /** Drops saved tensors and meta values after backward so their memory can be collected. */
  release(): void {
    this.packed = [];
    for (const k of Object.keys(this.meta)) delete this.meta[k];
    this.released = true;
  }
}

/** One recorded op application. */
/** What an op tells gradient transforms about its backward (read by the pruning policy). */
export interface NodeHints {
  /**
   * Density of a pruned incoming gradient below which the op's sparse backward kernels beat its
   * dense ones, for this op's shape (0: sparse never pays off, so pruning would only cost time).
   * Absent: the op has no sparse backward kernels.
   */
  readonly sparseCrossover?: number;
}

export class Node implements GradFn {
  readonly seq = seqCounter++;
  readonly ctx: Ctx;
  constructor(
    readonly op: string,
    readonly scope: string,
    /** One edge per op input, in argument order. */
    readonly inputs: readonly Edge[],
    readonly backwardFn: BackwardFn,
    readonly hints: NodeHints = {},
  ) {
    this.ctx = new Ctx(this);
  }
}

/** The edge to `t`: its producing node, or `t` itself for a leaf that requires grad. */
function edgeTo(t: Tensor): Edge {
  const gradFn = t.requiresGrad && t.gradFn instanceof Node ? t.gradFn : null;
  return { gradFn, leaf: t.requiresGrad && gradFn === null ? t : null, requiresGrad: t.requiresGrad, shape: t.shape };
}

/** True when ops record the graph (not inside noGrad). */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording: for evaluation and in-place parameter updates. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Runs `fn` with `name` appended to the current scope (modules call this around forward). */
export function withScope<T>(name: string, fn: () => T): T {
  scopeStack.push(name);
  try {
    return fn();
  } finally {
    scopeStack.pop();
  }
}

/** The current scope path, e.g. 'layer1.0.conv1'. */
export function currentScope(): string {
  return scopeStack.filter((s) => s !== '').join('.');
}

/** Installs saved-tensor hooks (null restores identity); returns the previous hooks. */
export function setSavedTensorHooks(hooks: SavedTensorHooks | null): SavedTensorHooks {
  const prev = savedHooks;
  savedHooks = hooks ?? identityHooks;
  return prev;
}

/**
 * Records `output = op(inputs)` on the tape when grad mode is on and an input requires grad.
 * `save` runs only then, so nothing is kept for backward during evaluation. The node keeps edges
 * to `inputs`, not the tensors; `backward` must get tensors from `ctx.saved()` and should be made
 * by a function that receives no tensors (a closure made next to `save` would share its scope,
 * and so keep the forward's tensors alive).
 *
 * @example
 * const reluBackward = (shape: Shape): BackwardFn => (ctx, dy) => [reluGrad(dy, ctx.saved()[0], shape)];
 * return recordOp('relu', [x], y, (ctx) => ctx.save(y), reluBackward(x.shape));
 */
export function recordOp(
  op: string,
  inputs: readonly Tensor[],
  output: Tensor,
  save: ((ctx: Ctx) => void) | null,
  backward: BackwardFn,
  hints?: NodeHints,
): Tensor {
  if (!gradEnabled || !inputs.some((t) => t.requiresGrad)) return output;
  const node = new Node(op, currentScope(), inputs.map(edgeTo), backward, hints);
  if (save) save(node.ctx);
  output.gradFn = node;
  output.requiresGrad = true;
  return output;
}
