/**
 * The tape: ops record a Node per output with the inputs, a backward function and a context of
 * saved tensors. Three seams live here:
 * - `ctx.save` / `ctx.saved` route every tensor kept for backward through the saved-tensor hooks
 *   (activation compression plugs in as a codec);
 * - the gradient transform (see backward.ts) sees each node's incoming gradient first;
 * - `scope` tags each node with the module path that created it, so policies can pick layers.
 */
import { Tensor, type GradFn } from '../tensor/tensor.js';

/** Computes the input gradients of one op from its output gradient; null for inputs without grad. */
export type BackwardFn = (ctx: Ctx, gradOutput: Tensor) => readonly (Tensor | null)[];

/** How saved tensors are stored: `pack` when saved, `unpack` when backward needs them. */
export interface SavedTensorHooks {
  pack(t: Tensor, node: Node): unknown;
  unpack(packed: unknown, node: Node): Tensor;
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

/** Per-node storage for backward: tensors (through the hooks) and plain values. */
export class Ctx {
  private packed: unknown[] = [];
  private released = false;
  /** Non-tensor values an op keeps for backward (dims, indices, statistics). */
  readonly meta: Record<string, unknown> = {};

  constructor(private readonly node: Node) {}

  /** Keeps tensors for backward; they pass through the saved-tensor hooks. */
  save(...tensors: Tensor[]): void {
    for (const t of tensors) this.packed.push(savedHooks.pack(t, this.node));
  }

  /** The saved tensors, in save order. */
  saved(): Tensor[] {
    if (this.released) {
      throw new Error(`backward through '${this.node.op}' a second time: its saved tensors were released (use retainGraph)`);
    }
    return this.packed.map((p) => savedHooks.unpack(p, this.node));
  }

  /** True once backward ran through this node without retainGraph (its graph is freed). */
  get isReleased(): boolean {
    return this.released;
  }

  /** Drops saved tensors after backward so their memory can be collected. */
  release(): void {
    this.packed = [];
    this.released = true;
  }
}

/** One recorded op application. */
export class Node implements GradFn {
  readonly seq = seqCounter++;
  readonly ctx: Ctx;
  constructor(
    readonly op: string,
    readonly scope: string,
    readonly inputs: readonly Tensor[],
    readonly backwardFn: BackwardFn,
  ) {
    this.ctx = new Ctx(this);
  }
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
 * `save` runs only then, so nothing is kept for backward during evaluation.
 *
 * @example
 * return recordOp('relu', [x], y, (ctx) => ctx.save(y), (ctx, dy) => [reluBackward(dy, ctx.saved()[0])]);
 */
export function recordOp(
  op: string,
  inputs: readonly Tensor[],
  output: Tensor,
  save: ((ctx: Ctx) => void) | null,
  backward: BackwardFn,
): Tensor {
  if (!gradEnabled || !inputs.some((t) => t.requiresGrad)) return output;
  const node = new Node(op, currentScope(), inputs, backward);
  if (save) save(node.ctx);
  output.gradFn = node;
  output.requiresGrad = true;
  return output;
}
