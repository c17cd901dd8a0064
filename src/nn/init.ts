/**
 * Weight initialisation, with the formulas of PyTorch's `torch.nn.init` (all draws from a seeded
 * `Rng`, in element order, so a seed fixes every weight):
 * - gain: 1 for 'linear', sqrt(2) for 'relu', sqrt(2 / (1 + a^2)) for 'leaky_relu' with slope a;
 * - fans of a weight [OUT, IN, ...receptive]: fan_in = IN * prod(receptive), fan_out = OUT * prod(receptive);
 * - kaiming normal: N(0, std^2) with std = gain / sqrt(fan);
 * - kaiming uniform: U(-bound, bound) with bound = gain * sqrt(3 / fan).
 * The PyTorch default for Conv2d and Linear weights is kaiming uniform with a = sqrt(5), which
 * works out to U(-1/sqrt(fan_in), 1/sqrt(fan_in)); their bias is U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
 */
import { checkOption, checkShape } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { formatShape } from '../core/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/** Nonlinearity that follows the initialised layer (sets the gain). */
export type Nonlinearity = 'linear' | 'conv2d' | 'relu' | 'leaky_relu';
/** Which fan keeps the variance: 'fan_in' preserves forward activations, 'fan_out' the gradients. */
export type FanMode = 'fan_in' | 'fan_out';

/** `torch.nn.init.calculate_gain`: the recommended gain for a nonlinearity (a = leaky slope). */
export function calculateGain(nonlinearity: Nonlinearity, a = 0.01): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv2d':
      return 1;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu':
      return Math.sqrt(2 / (1 + a * a));
  }
}

/**
 * fan_in and fan_out of a weight of shape [OUT, IN, ...receptive] (Linear [OUT, IN], Conv2d
 * [K, C, R, S]); at least 2 dimensions.
 */
export function computeFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  checkShape(shape.length >= 2, () => `init: fan in/out needs a tensor with at least 2 dimensions, got ${formatShape(shape)}`);
  let receptive = 1;
  for (let i = 2; i < shape.length; i++) receptive *= shape[i];
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

export interface KaimingOptions {
  /** Negative slope of a following leaky ReLU (used when nonlinearity is 'leaky_relu'); default 0. */
  a?: number;
  /** Default 'fan_in' (as PyTorch). */
  mode?: FanMode;
  /** Default 'leaky_relu' (as PyTorch; with a = 0 its gain equals that of 'relu'). */
  nonlinearity?: Nonlinearity;
}

function kaimingFan(t: Tensor, opts: KaimingOptions): { gain: number; fan: number } {
  const mode = opts.mode ?? 'fan_in';
  checkOption(mode === 'fan_in' || mode === 'fan_out', () => `init: mode must be 'fan_in' or 'fan_out', got '${String(mode)}'`);
  const { fanIn, fanOut } = computeFans(t.shape);
  const gain = calculateGain(opts.nonlinearity ?? 'leaky_relu', opts.a ?? 0);
  return { gain, fan: mode === 'fan_in' ? fanIn : fanOut };
}

/**
 * He et al. normal init in place: N(0, (gain / sqrt(fan))^2). Returns `t`.
 * @example kaimingNormal(conv.weight, { mode: 'fan_out', nonlinearity: 'relu' }, rng);
 */
export function kaimingNormal(t: Tensor, opts: KaimingOptions, rng: Rng): Tensor {
  const { gain, fan } = kaimingFan(t, opts);
  return normal(t, 0, gain / Math.sqrt(fan), rng);
}

/**
 * He et al. uniform init in place: U(-bound, bound) with bound = gain * sqrt(3 / fan). Returns `t`.
 * @example kaimingUniform(linear.weight, { a: Math.sqrt(5) }, rng); // PyTorch's default layer init
 */
export function kaimingUniform(t: Tensor, opts: KaimingOptions, rng: Rng): Tensor {
  const { gain, fan } = kaimingFan(t, opts);
  const bound = gain * Math.sqrt(3 / fan);
  return uniform(t, -bound, bound, rng);
}

/** Fills `t` in place with U(lo, hi) draws. Returns `t`. */
export function uniform(t: Tensor, lo: number, hi: number, rng: Rng): Tensor {
  checkOption(hi >= lo, () => `init: uniform needs lo <= hi, got [${lo}, ${hi}]`);
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = rng.uniform(lo, hi);
  return t;
}

/** Fills `t` in place with N(mean, std^2) draws. Returns `t`. */
export function normal(t: Tensor, mean: number, std: number, rng: Rng): Tensor {
  checkOption(std >= 0, () => `init: normal needs std >= 0, got ${std}`);
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = mean + std * rng.normal();
  return t;
}

/** Fills `t` with `value`. Returns `t`. */
export function constant(t: Tensor, value: number): Tensor {
  t.data.fill(value);
  return t;
}

/** Fills `t` with 0. Returns `t`. */
export function zeros(t: Tensor): Tensor {
  return constant(t, 0);
}

/** Fills `t` with 1. Returns `t`. */
export function ones(t: Tensor): Tensor {
  return constant(t, 1);
}

/**
 * How a Conv2d or Linear layer initialises its weight:
 * - 'pytorch': the PyTorch default, kaiming uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in));
 * - 'kaiming-fan-in': kaiming normal, fan_in, ReLU gain (`init.kaiming_normal_(w)` in the common CIFAR ResNet code);
 * - 'kaiming-fan-out': kaiming normal, fan_out, ReLU gain (torchvision ResNet convolutions).
 * The bias, when present, always gets the PyTorch default U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
 */
export type LayerInit = 'pytorch' | 'kaiming-fan-in' | 'kaiming-fan-out';

let skipInit = false;

/**
 * Runs `fn` (synchronous) with layer initialisation skipped: Conv2d and Linear weights stay zero
 * and draw nothing. For uses that need shapes only (model summaries), where drawing 60M normals
 * for resnet152 would take seconds.
 */
export function withoutInit<T>(fn: () => T): T {
  const prev = skipInit;
  skipInit = true;
  try {
    return fn();
  } finally {
    skipInit = prev;
  }
}

/** Initialises a layer's weight (and bias) in place by `scheme`; weight draws first, then bias. */
export function initLayer(weight: Tensor, bias: Tensor | null, scheme: LayerInit, rng: Rng): void {
  if (skipInit) return;
  switch (scheme) {
    case 'pytorch':
      kaimingUniform(weight, { a: Math.sqrt(5) }, rng);
      break;
    case 'kaiming-fan-in':
      kaimingNormal(weight, { mode: 'fan_in', nonlinearity: 'relu' }, rng);
      break;
    case 'kaiming-fan-out':
      kaimingNormal(weight, { mode: 'fan_out', nonlinearity: 'relu' }, rng);
      break;
    default:
      checkOption(false, () => `init: unknown scheme '${String(scheme)}' (expected 'pytorch', 'kaiming-fan-in' or 'kaiming-fan-out')`);
  }
  if (bias !== null) {
    const { fanIn } = computeFans(weight.shape);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    uniform(bias, -bound, bound, rng);
  }
}
