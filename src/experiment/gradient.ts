/**
 * One layer's activation gradient (the gradient at a conv output, where pruning applies), and
 * the two distributions the pruning rules assume for it: the paper's normal fit (sigma from
 * mean|g|: E|g| = sigma * sqrt(2/pi)) and a lognormal fit of |g| (mean and std of ln|g| over the
 * non-zeros, as Chmiel et al.). Plotted as a histogram of log10|g| with both fits' implied
 * densities over it, so heavy tails and the mass near zero are both visible.
 */
import { backward, setGradientTransform } from '../autograd/backward.js';
import type { Node } from '../autograd/graph.js';
import { OptionError } from '../core/errors.js';
import type { Module } from '../nn/module.js';
import { crossEntropy } from '../ops/index.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * The gradient arriving at the output of the conv layer `layer` (module path) for one batch,
 * from a training-mode forward and backward (model weights are not updated).
 * @param x [N, C, H, W]
 * @param labels [N]
 */
export function captureGradient(model: Module, x: Tensor, labels: Int32Array, layer: string): Float32Array {
  let got: Float32Array | null = null;
  const prev = setGradientTransform((g: Tensor, node: Node) => {
    if (node.scope === layer && node.op === 'conv2d') got = Float32Array.from(g.data);
    return g;
  });
  try {
    const wasTraining = model.training;
    model.train();
    backward(crossEntropy(model.call(x), labels));
    model.train(wasTraining);
  } finally {
    setGradientTransform(prev);
  }
  for (const p of model.parameters()) p.grad = null;
  if (got === null) throw new OptionError(`gradient histogram: no conv layer '${layer}' in the model`);
  return got;
}

export interface GradientFit {
  /** Values in the sample and how many are exactly zero. */
  count: number;
  zeros: number;
  /** Normal fit N(0, sigma^2), sigma = sqrt(pi/2) * mean|g|. */
  sigma: number;
  /** Lognormal fit of |g| over the non-zeros: ln|g| ~ N(mu, s^2). */
  mu: number;
  s: number;
  /** Histogram of log10|g| over the non-zeros: bin edges and densities (integrating to 1). */
  edges: number[];
  density: number[];
  /** Each fit's density of log10|g| at the bin centres: [x, y] points. */
  normalCurve: [number, number][];
  lognormalCurve: [number, number][];
}

const SQRT2PI = Math.sqrt(2 * Math.PI);

/** Fits both distributions to `g` and bins log10|g| into `bins` bins. */
export function fitGradient(g: Float32Array, bins = 60): GradientFit {
  let sumAbs = 0, zeros = 0, n = 0, sumLn = 0, sumLn2 = 0;
  for (const v of g) {
    const a = Math.abs(v);
    sumAbs += a;
    if (a === 0) {
      zeros++;
      continue;
    }
    const l = Math.log(a);
    sumLn += l;
    sumLn2 += l * l;
    n++;
  }
  if (n < 2) throw new OptionError('gradient histogram: the gradient has fewer than 2 non-zero values');
  const sigma = Math.sqrt(Math.PI / 2) * (sumAbs / g.length);
  const mu = sumLn / n;
  const s = Math.sqrt(Math.max(sumLn2 / n - mu * mu, 1e-12));
  // log10|g| from mu - 5s to mu + 3s (natural log units converted), clipped to the data.
  const lo = (mu - 5 * s) / Math.LN10, hi = (mu + 3.5 * s) / Math.LN10;
  const width = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of g) {
    if (v === 0) continue;
    const b = Math.floor((Math.log10(Math.abs(v)) - lo) / width);
    if (b >= 0 && b < bins) counts[b]++;
  }
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + i * width);
  const density = counts.map((c) => c / (n * width));
  const centres = edges.slice(0, bins).map((e) => e + width / 2);
  // Density of y = log10|g|: f_y(y) = f_|g|(10^y) * 10^y * ln 10.
  const normalCurve = centres.map((y): [number, number] => {
    const a = 10 ** y;
    return [y, ((2 / (sigma * SQRT2PI)) * Math.exp(-(a * a) / (2 * sigma * sigma))) * a * Math.LN10];
  });
  const lognormalCurve = centres.map((y): [number, number] => {
    const z = (y * Math.LN10 - mu) / s;
    return [y, (Math.exp(-(z * z) / 2) / (s * SQRT2PI)) * Math.LN10];
  });
  return { count: g.length, zeros, sigma, mu, s, edges, density, normalCurve, lognormalCurve };
}
