/**
 * Tensor: a shape over JS-owned storage (Float32Array, or Float64Array for gradient checks).
 * Nothing to dispose. Autograd attaches `gradFn` to tensors produced by recorded ops.
 */
import { allocFloat, allocUninit, dtypeOf, type DType, type FloatArray } from '../core/dtype.js';
import { flags } from '../core/flags.js';
import { LeantrainError, ShapeError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { formatShape, shapeSize, type Shape } from '../core/shape.js';

/** What autograd hangs on a tensor it produced; implemented by autograd's Node. */
export interface GradFn {
  /** Op name, e.g. 'conv2d'. */
  readonly op: string;
  /** Module path that created it, e.g. 'layer1.0.conv1' ('' outside modules). */
  readonly scope: string;
}

export class Tensor {
  /** Dimensions, outermost first (NCHW for images). */
  readonly shape: Shape;
  private readonly storage: FloatArray;
  private readonly numel: number;
  /** True for leaves that want `.grad`, and for outputs of recorded ops. */
  requiresGrad: boolean;
  /** Accumulated gradient of a leaf after `backward()`. */
  grad: Tensor | null = null;
  /** The recorded op that produced this tensor (null for leaves). */
  gradFn: GradFn | null = null;

  /**
   * @param data storage of exactly shapeSize(shape) elements (not copied)
   * @param shape dimensions
   */
  constructor(data: FloatArray, shape: Shape, requiresGrad = false) {
    const size = shapeSize(shape);
    if (data.length !== size) {
      throw new ShapeError(`Tensor: data has ${data.length} elements, shape ${formatShape(shape)} needs ${size}`);
    }
    this.storage = data;
    this.numel = size;
    this.shape = Object.freeze([...shape]);
    this.requiresGrad = requiresGrad;
  }

  /**
   * Row-major storage; length equals the product of `shape`. Throws if the storage was recycled
   * (a tensor made inside a `BufferArena` run and used after the run ended).
   */
  get data(): FloatArray {
    const d = this.storage;
    if (d.length !== this.numel) {
      throw new LeantrainError(
        `tensor ${formatShape(this.shape)} was used after the BufferArena run that allocated it ended ` +
          '(its storage is recycled for the next step); read or clone() what you need inside the run',
      );
    }
    return d;
  }

  get dtype(): DType {
    return dtypeOf(this.storage);
  }
  get size(): number {
    return this.numel;
  }
  get ndim(): number {
    return this.shape.length;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new ShapeError(`item(): tensor of shape ${formatShape(this.shape)} has ${this.size} elements, not 1`);
    return this.data[0];
  }

  /** A plain copy of the values. */
  toArray(): number[] {
    return Array.from(this.data);
  }

  /** A tensor with the same storage and a new shape of the same size, outside autograd. */
  view(shape: Shape): Tensor {
    return new Tensor(this.data, shape, false);
  }

  /** A deep copy outside autograd. */
  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape, false);
  }

  /** Same storage, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape, false);
  }

  toString(): string {
    return `Tensor(${formatShape(this.shape)}, ${this.dtype}${this.gradFn ? `, gradFn=${this.gradFn.op}` : ''})`;
  }

  // ---- creation ----

  /** Zeros of `shape`. */
  static zeros(shape: Shape, dtype: DType = 'float32'): Tensor {
    return new Tensor(allocFloat(dtype, shapeSize(shape)), shape);
  }

  /**
   * Storage with unspecified contents, for a kernel that overwrites every element (large blocks
   * are not zero-filled; with LEANTRAIN_POISON_EMPTY=1 they are NaN, to catch code that relies on
   * zeros).
   */
  static empty(shape: Shape, dtype: DType = 'float32'): Tensor {
    const data = allocUninit(dtype, shapeSize(shape));
    if (flags().poisonEmpty) data.fill(Number.NaN);
    return new Tensor(data, shape);
  }

  /** All elements equal to `value`. */
  static full(shape: Shape, value: number, dtype: DType = 'float32'): Tensor {
    const t = Tensor.zeros(shape, dtype);
    t.data.fill(value);
    return t;
  }

  /** A tensor from values (copied) and a shape. */
  static from(values: ArrayLike<number>, shape: Shape, dtype: DType = 'float32'): Tensor {
    const data = allocFloat(dtype, values.length);
    for (let i = 0; i < values.length; i++) data[i] = values[i];
    return new Tensor(data, shape);
  }

  /** Standard normal values times `std`, from a seeded generator. */
  static randn(shape: Shape, rng: Rng, std = 1, dtype: DType = 'float32'): Tensor {
    const t = Tensor.zeros(shape, dtype);
    const d = t.data;
    for (let i = 0; i < d.length; i++) d[i] = rng.normal() * std;
    return t;
  }

  /** Uniform values in [lo, hi), from a seeded generator. */
  static uniform(shape: Shape, rng: Rng, lo: number, hi: number, dtype: DType = 'float32'): Tensor {
    const t = Tensor.zeros(shape, dtype);
    const d = t.data;
    for (let i = 0; i < d.length; i++) d[i] = rng.uniform(lo, hi);
    return t;
  }
}
