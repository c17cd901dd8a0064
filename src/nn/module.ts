/**
 * Module: the base of layers and models. Holds named parameters (trainable tensors), buffers
 * (state such as BN running stats) and child modules; `state dict` names follow PyTorch
 * ('layer1.0.conv1.weight'). Calling a module runs `forward` inside its name scope, so every op
 * it records carries the module path (policies such as gradient pruning select layers by it).
 */
import { withScope } from '../autograd/graph.js';
import { ShapeError } from '../core/errors.js';
import { formatShape, shapesEqual } from '../core/shape.js';
import { Tensor } from '../tensor/tensor.js';

/** A trainable tensor (requiresGrad = true). */
export class Parameter extends Tensor {
  constructor(t: Tensor) {
    super(t.data, t.shape, true);
  }
}

export abstract class Module {
  /** Training mode (dropout active, BN uses batch statistics). */
  training = true;
  private readonly params = new Map<string, Parameter>();
  private readonly bufs = new Map<string, Tensor>();
  private readonly kids = new Map<string, Module>();
  /** Dotted path of this module inside its root ('' for the root); set by `registerModule`. */
  private scopeName = '';

  /** The computation. Call the module (`m.call(x)`) rather than `forward` to get its scope. */
  abstract forward(x: Tensor): Tensor;

  /** Runs forward inside this module's name scope. */
  call(x: Tensor): Tensor {
    return withScope(this.scopeName, () => this.forward(x));
  }

  /** Runs `fn` inside this module's name scope (for call-like methods other than `call`). */
  protected inScope<T>(fn: () => T): T {
    return withScope(this.scopeName, fn);
  }

  protected registerParameter(name: string, t: Tensor): Parameter {
    const p = t instanceof Parameter ? t : new Parameter(t);
    this.params.set(name, p);
    return p;
  }

  protected registerBuffer(name: string, t: Tensor): Tensor {
    this.bufs.set(name, t);
    return t;
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    this.kids.set(name, m);
    m.scopeName = name;
    return m;
  }

  /** Direct children, in registration order. */
  children(): [string, Module][] {
    return [...this.kids.entries()];
  }

  /** Every module below and including this one, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [n, m] of this.kids) out.push(...m.namedModules(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  /** All parameters with dotted names, in a stable order. */
  namedParameters(prefix = ''): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [n, p] of this.params) out.push([prefix ? `${prefix}.${n}` : n, p]);
    for (const [n, m] of this.kids) out.push(...m.namedParameters(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** All buffers with dotted names. */
  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, b] of this.bufs) out.push([prefix ? `${prefix}.${n}` : n, b]);
    for (const [n, m] of this.kids) out.push(...m.namedBuffers(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  /**
   * Parameters and buffers by PyTorch-style name, in PyTorch's `state_dict()` order (each module's
   * own parameters, then its own buffers, then its children, depth first). Shares storage: copy
   * before mutating.
   */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [n, t] of [...m.params, ...m.bufs]) out.set(prefix ? `${prefix}.${n}` : n, t);
    }
    return out;
  }

  /**
   * Copies values from `state` into this module's parameters and buffers. With `strict`, every
   * name must be present on both sides; shapes must always match. Errors name the entry.
   */
  loadStateDict(state: Map<string, Tensor>, strict = true): void {
    const own = this.stateDict();
    if (strict) {
      const missing = [...own.keys()].filter((k) => !state.has(k));
      const unexpected = [...state.keys()].filter((k) => !own.has(k));
      const list = (what: string, names: string[]): string =>
        `${names.length} ${what}: ${names.slice(0, 12).join(', ')}${names.length > 12 ? `, ... (${names.length - 12} more)` : ''}`;
      const parts = [...(missing.length ? [list('missing', missing)] : []), ...(unexpected.length ? [list('unexpected', unexpected)] : [])];
      if (parts.length) throw new ShapeError(`loadStateDict: ${parts.join('; ')}`);
    }
    // Every shape is checked before anything is copied: a mismatch leaves the model unchanged.
    const wrong = [...own].filter(([k, t]) => state.has(k) && !shapesEqual(state.get(k)!.shape, t.shape));
    if (wrong.length) {
      throw new ShapeError(
        `loadStateDict: ${wrong.length} mis-shaped: ` +
          wrong.slice(0, 12).map(([k, t]) => `'${k}' has shape ${formatShape(state.get(k)!.shape)}, the model expects ${formatShape(t.shape)}`).join('; '),
      );
    }
    for (const [k, t] of own) {
      const src = state.get(k);
      if (src !== undefined) t.data.set(src.data);
    }
  }

  /**
   * State outside parameters and buffers that a training checkpoint must keep (as PyTorch's
   * `get_extra_state`): plain JSON, or null when the module has none (the default).
   */
  extraState(): unknown {
    return null;
  }

  /** Restores what `extraState()` returned. */
  loadExtraState(state: unknown): void {
    if (state !== null && state !== undefined) throw new ShapeError(`${this.constructor.name} has no extra state to load`);
  }

  /** Sets training mode on this module and all children; returns this. */
  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }

  /** Evaluation mode (dropout off, BN uses running statistics); returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Total number of parameter elements. */
  parameterCount(): number {
    return this.parameters().reduce((s, p) => s + p.size, 0);
  }
}
