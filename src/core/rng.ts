/**
 * Seeded random numbers. Two kinds:
 * - `Rng`: a sequential generator (xoshiro128**) for init, shuffling and augmentation;
 * - `counterHash`: a counter-based generator, a pure function of (seed, stream, index), used by
 *   kernels whose random draws must not depend on thread count or call order (dropout, and
 *   stochastic gradient pruning). The native kernels implement the same function bit for bit
 *   (native/src/kernels/counter_rng.h).
 */

import { OptionError } from './errors.js';

const TWO_POW_32 = 4294967296;

/** lowbias32 integer finaliser (Wellons): a good 32-bit mixer built from multiply and xor-shift. */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Key for stream `stream` of seed `seed`: fold both into one 32-bit key. */
export function counterKey(seed: number, stream: number): number {
  return mix32((seed >>> 0) ^ mix32(Math.imul(stream >>> 0, 0x9e3779b9) ^ 0x85ebca6b));
}

/**
 * Uniform 32-bit integer for element `index` (an integer in [0, 2^53)) under `key` (from
 * counterKey): mix32(mix32(lo ^ key) + mix32(mix32(hi ^ 0x5bd1e995) + key)) with lo/hi the index's
 * 32-bit halves. The key enters both rounds, so streams of different keys are not shifted copies
 * of one sequence; for a fixed (key, hi), lo -> hash is a bijection (exact uniform marginals).
 */
export function counterHash(key: number, index: number): number {
  const hi = Math.floor(index / TWO_POW_32) >>> 0;
  const r2 = mix32((mix32((hi ^ 0x5bd1e995) >>> 0) + key) >>> 0);
  return mix32((mix32(((index >>> 0) ^ key) >>> 0) + r2) >>> 0);
}

/** Uniform float in [0, 1) with 24 bits, from counterHash: exactly representable in float32. */
export function counterUniform(key: number, index: number): number {
  return (counterHash(key, index) >>> 8) / 16777216;
}

/** The state of an Rng: its four 32-bit words and the cached second normal. */
export interface RngState {
  s: number[];
  spareNormal: number | null;
}

/** Sequential seeded generator (xoshiro128**), seeded through splitmix32. */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      return mix32(x);
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The generator's full state (plain JSON), for checkpoints. */
  state(): RngState {
    return { s: [this.s0, this.s1, this.s2, this.s3], spareNormal: this.spareNormal };
  }

  /** Continues from a state returned by `state()`. */
  setState(st: RngState): void {
    const ok =
      st !== null && typeof st === 'object' && Array.isArray(st.s) && st.s.length === 4 &&
      st.s.every((v) => Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 32) &&
      (st.spareNormal === null || typeof st.spareNormal === 'number');
    if (!ok) throw new OptionError(`Rng.setState: not a generator state: ${JSON.stringify(st)}`);
    [this.s0, this.s1, this.s2, this.s3] = st.s.map((v) => v | 0);
    this.spareNormal = st.spareNormal;
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return (this.nextU32() >>> 8) / 16777216;
  }

  /**
   * Exactly uniform integer in [0, n), for an integer n in 1..2^32. Uses all 32 bits of a draw:
   * u % n for u below the largest multiple of n that fits in 2^32, else a fresh draw (rejection,
   * so no value is favoured; fewer than 2 draws on average, one for every power of two).
   */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new OptionError(`Rng.int: n must be an integer in 1..2^32, got ${n}`);
    }
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    let u = this.nextU32();
    while (u >= limit) u = this.nextU32();
    return u % n;
  }

  /** Uniform float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Standard normal draw (Box-Muller, caching the second value). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** In-place Fisher-Yates shuffle. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** A new independent generator derived from this one's next draw and a label. */
  fork(label: number): Rng {
    return new Rng(mix32(this.nextU32() ^ mix32(label >>> 0)));
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
