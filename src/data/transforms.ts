/**
 * Batch transforms: gather uint8 images by index and turn them into a float32 batch
 * [B, C, OH, OW], in torchvision's order RandomCrop(size, padding) -> RandomHorizontalFlip(0.5)
 * -> ToTensor (/255) -> Normalize(mean, std).
 *
 * Random choices come from the counter RNG: with key = counterKey(seed, epoch), dataset image i
 * uses counterUniform(key, 4i) for the crop row, 4i+1 for the crop column and 4i+2 for the flip.
 * So a given (seed, epoch, index) always gets the same augmentation, on any thread, in any batch.
 *
 * Shapes: B batch, C channels, H x W input image, OH x OW output (= crop size, or H x W).
 */
import { OptionError } from '../core/errors.js';
import { counterKey, counterUniform } from '../core/rng.js';
import type { Split } from './dataset.js';

/** A serialisable description of the transform (it is posted to the loader's worker as is). */
export interface TransformSpec {
  /** Per-channel (or one shared) mean and std applied after scaling to [0, 1]. */
  normalize?: { mean: number[]; std: number[] };
  /** Zero-pad by `padding` on every side, then crop a random size x size window. */
  randomCrop?: { size: number; padding: number };
  /** Flip horizontally with probability 0.5. */
  hflip?: boolean;
  /**
   * torchvision RandomResizedCrop(size, scale, ratio): a random window of scale x the image area
   * and aspect ratio in `ratio` (log-uniform; 10 tries, then the centre fallback), resampled
   * bilinearly to size x size. Exclusive with randomCrop and centerCrop.
   */
  randomResizedCrop?: { size: number; scale: [number, number]; ratio: [number, number] };
  /** torchvision CenterCrop(size) (pixels copied, no resampling). */
  centerCrop?: { size: number };
}

/** Augmentation drawn for one image: crop offsets into the padded image, and the flip. */
export interface AugmentParams {
  dy: number;
  dx: number;
  flip: boolean;
}

/** The key of epoch `epoch`'s augmentation stream. */
export function augmentKey(seed: number, epoch: number): number {
  return counterKey(seed, epoch);
}

/** [C, OH, OW] produced by `spec` from images of `imageShape`. */
export function transformedShape(imageShape: readonly [number, number, number], spec: TransformSpec): [number, number, number] {
  const [c, h, w] = imageShape;
  const size = spec.randomCrop?.size ?? spec.randomResizedCrop?.size ?? spec.centerCrop?.size;
  return size !== undefined ? [c, size, size] : [c, h, w];
}

/** Throws OptionError (naming `where` and the field) unless `spec` fits images of `imageShape`. */
export function validateTransform(spec: TransformSpec, imageShape: readonly [number, number, number], where = 'transform'): void {
  const [c, h, w] = imageShape;
  if (spec.normalize) {
    const { mean, std } = spec.normalize;
    for (const [field, arr] of [['mean', mean], ['std', std]] as const) {
      if (!Array.isArray(arr) || (arr.length !== c && arr.length !== 1)) {
        throw new OptionError(`${where}.normalize.${field}: needs ${c === 1 ? '1 value' : `1 or ${c} values (one per channel)`} for ${c}-channel images, got ${JSON.stringify(arr)}`);
      }
      if (!arr.every((v) => Number.isFinite(v))) throw new OptionError(`${where}.normalize.${field}: values must be finite numbers, got ${JSON.stringify(arr)}`);
    }
    if (!std.every((v) => v > 0)) throw new OptionError(`${where}.normalize.std: values must be > 0, got ${JSON.stringify(std)}`);
  }
  if ([spec.randomCrop, spec.randomResizedCrop, spec.centerCrop].filter((x) => x !== undefined).length > 1) {
    throw new OptionError(`${where}: randomCrop, randomResizedCrop and centerCrop are exclusive`);
  }
  if (spec.randomResizedCrop) {
    const { size, scale, ratio } = spec.randomResizedCrop;
    if (!Number.isInteger(size) || size < 1) throw new OptionError(`${where}.randomResizedCrop.size: must be a positive integer, got ${size}`);
    if (!(scale[0] > 0 && scale[0] <= scale[1] && scale[1] <= 1)) throw new OptionError(`${where}.randomResizedCrop.scale: needs 0 < lo <= hi <= 1, got ${JSON.stringify(scale)}`);
    if (!(ratio[0] > 0 && ratio[0] <= ratio[1])) throw new OptionError(`${where}.randomResizedCrop.ratio: needs 0 < lo <= hi, got ${JSON.stringify(ratio)}`);
  }
  if (spec.centerCrop) {
    const { size } = spec.centerCrop;
    if (!Number.isInteger(size) || size < 1 || size > h || size > w) throw new OptionError(`${where}.centerCrop.size: must be an integer in 1..${Math.min(h, w)}, got ${size}`);
  }
  if (spec.randomCrop) {
    const { size, padding } = spec.randomCrop;
    if (!Number.isInteger(size) || size < 1) throw new OptionError(`${where}.randomCrop.size: must be a positive integer, got ${size}`);
    if (!Number.isInteger(padding) || padding < 0) throw new OptionError(`${where}.randomCrop.padding: must be a non-negative integer, got ${padding}`);
    if (size > h + 2 * padding || size > w + 2 * padding) {
      throw new OptionError(`${where}.randomCrop: size ${size} is larger than the padded ${h + 2 * padding}x${w + 2 * padding} image`);
    }
  }
}

/** The crop offsets and flip for dataset image `index` under augmentation key `key`. */
export function augmentParams(key: number, index: number, spec: TransformSpec, imageShape: readonly [number, number, number]): AugmentParams {
  const [, h, w] = imageShape;
  let dy = 0;
  let dx = 0;
  if (spec.randomCrop) {
    const { size, padding } = spec.randomCrop;
    dy = Math.floor(counterUniform(key, index * 4) * (h + 2 * padding - size + 1));
    dx = Math.floor(counterUniform(key, index * 4 + 1) * (w + 2 * padding - size + 1));
  }
  const flip = spec.hflip === true && counterUniform(key, index * 4 + 2) < 0.5;
  return { dy, dx, flip };
}

/** Per-channel 256-entry tables: value(byte) = fround((byte / 255 - mean) / std), computed in double. */
function channelTables(c: number, spec: TransformSpec): Float32Array[] {
  const tables: Float32Array[] = [];
  for (let ch = 0; ch < c; ch++) {
    const t = new Float32Array(256);
    const norm = spec.normalize;
    const mean = norm ? norm.mean[norm.mean.length === 1 ? 0 : ch] : 0;
    const std = norm ? norm.std[norm.std.length === 1 ? 0 : ch] : 1;
    for (let v = 0; v < 256; v++) t[v] = (v / 255 - mean) / std;
    tables.push(t);
  }
  return tables;
}

/**
 * Gathers `images[indices[b]]` and applies `spec`, writing a float32 batch [B, C, OH, OW].
 *
 * @param images all images of the data set, NCHW bytes
 * @param imageShape [C, H, W] of one image
 * @param indices dataset indices of the batch (B of them)
 * @param key augmentation key, augmentKey(seed, epoch)
 * @param out optional destination of B*C*OH*OW floats
 * @example transformBatch(ds.images, ds.imageShape, Int32Array.of(0, 5), { hflip: true }, augmentKey(0, 1))
 */
export function transformBatch(
  images: Uint8Array,
  imageShape: readonly [number, number, number],
  indices: Int32Array,
  spec: TransformSpec,
  key: number,
  out?: Float32Array,
): Float32Array {
  const [c, h, w] = imageShape;
  const [, oh, ow] = transformedShape(imageShape, spec);
  const pad = spec.randomCrop ? spec.randomCrop.padding : 0;
  const imageSize = c * h * w;
  const outSize = c * oh * ow;
  const dst = out ?? new Float32Array(indices.length * outSize);
  if (dst.length !== indices.length * outSize) {
    throw new OptionError(`transformBatch: out has ${dst.length} floats, a batch of ${indices.length} x ${c}x${oh}x${ow} needs ${indices.length * outSize}`);
  }
  if (spec.randomResizedCrop || spec.centerCrop) return resampleBatch(images, imageShape, indices, spec, key, dst);
  const tables = channelTables(c, spec);
  const count = images.length / imageSize;
  for (let b = 0; b < indices.length; b++) {
    const index = indices[b];
    if (!(index >= 0 && index < count)) throw new OptionError(`transformBatch: index ${index} at batch position ${b} is outside 0..${count - 1}`);
    const { dy, dx, flip } = augmentParams(key, index, spec, imageShape);
    for (let ch = 0; ch < c; ch++) {
      const table = tables[ch];
      const zero = table[0]; // zero padding is byte 0, normalised like any other pixel
      const src = index * imageSize + ch * h * w;
      let o = b * outSize + ch * oh * ow;
      for (let y = 0; y < oh; y++) {
        const sy = dy + y - pad;
        if (sy < 0 || sy >= h) {
          dst.fill(zero, o, o + ow);
          o += ow;
          continue;
        }
        const row = src + sy * w;
        for (let x = 0; x < ow; x++, o++) {
          const sx = dx + (flip ? ow - 1 - x : x) - pad;
          dst[o] = sx >= 0 && sx < w ? table[images[row + sx]] : zero;
        }
      }
    }
  }
  return dst;
}

/** The RandomResizedCrop window (top, left, height, width) of image `index`, as torchvision's get_params. */
export function resizedCropWindow(key: number, index: number, h: number, w: number, scale: [number, number], ratio: [number, number]): [number, number, number, number] {
  const k = counterKey(key, 7); // a stream of its own, beside the crop / flip draws of augmentParams
  const area = h * w;
  const [lr0, lr1] = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let t = 0; t < 10; t++) {
    const u = (j: number): number => counterUniform(k, index * 64 + t * 4 + j);
    const target = area * (scale[0] + (scale[1] - scale[0]) * u(0));
    const aspect = Math.exp(lr0 + (lr1 - lr0) * u(1));
    const cw = Math.round(Math.sqrt(target * aspect));
    const ch = Math.round(Math.sqrt(target / aspect));
    if (cw > 0 && cw <= w && ch > 0 && ch <= h) {
      return [Math.floor(u(2) * (h - ch + 1)), Math.floor(u(3) * (w - cw + 1)), ch, cw];
    }
  }
  const inRatio = w / h;
  let cw = w, ch = h;
  if (inRatio < ratio[0]) ch = Math.round(w / ratio[0]);
  else if (inRatio > ratio[1]) cw = Math.round(h * ratio[1]);
  return [Math.floor((h - ch) / 2), Math.floor((w - cw) / 2), ch, cw];
}

/** transformBatch for randomResizedCrop (bilinear, align_corners false) and centerCrop, then flip and normalize. */
function resampleBatch(
  images: Uint8Array, imageShape: readonly [number, number, number], indices: Int32Array, spec: TransformSpec, key: number, dst: Float32Array,
): Float32Array {
  const [c, h, w] = imageShape;
  const size = (spec.randomResizedCrop ?? spec.centerCrop)!.size;
  const imageSize = c * h * w;
  const outSize = c * size * size;
  const count = images.length / imageSize;
  const mean = spec.normalize?.mean ?? [0];
  const std = spec.normalize?.std ?? [1];
  const ys = new Float64Array(size), xs = new Float64Array(size);
  for (let b = 0; b < indices.length; b++) {
    const index = indices[b];
    if (!(index >= 0 && index < count)) throw new OptionError(`transformBatch: index ${index} at batch position ${b} is outside 0..${count - 1}`);
    const [top, left, ch, cw] = spec.randomResizedCrop
      ? resizedCropWindow(key, index, h, w, spec.randomResizedCrop.scale, spec.randomResizedCrop.ratio)
      : [Math.round((h - size) / 2), Math.round((w - size) / 2), size, size];
    const flip = spec.hflip === true && counterUniform(key, index * 4 + 2) < 0.5;
    for (let i = 0; i < size; i++) {
      ys[i] = Math.min(Math.max(top + (i + 0.5) * (ch / size) - 0.5, top), top + ch - 1);
      xs[i] = Math.min(Math.max(left + (i + 0.5) * (cw / size) - 0.5, left), left + cw - 1);
    }
    for (let chn = 0; chn < c; chn++) {
      const m = mean[mean.length === 1 ? 0 : chn], sd = std[std.length === 1 ? 0 : chn];
      const src = index * imageSize + chn * h * w;
      let o = b * outSize + chn * size * size;
      for (let y = 0; y < size; y++) {
        const fy = ys[y], y0 = Math.floor(fy), y1 = Math.min(y0 + 1, h - 1), wy = fy - y0;
        for (let x = 0; x < size; x++, o++) {
          const fx = xs[flip ? size - 1 - x : x], x0 = Math.floor(fx), x1 = Math.min(x0 + 1, w - 1), wx = fx - x0;
          const v =
            (1 - wy) * ((1 - wx) * images[src + y0 * w + x0] + wx * images[src + y0 * w + x1]) +
            wy * ((1 - wx) * images[src + y1 * w + x0] + wx * images[src + y1 * w + x1]);
          dst[o] = (v / 255 - m) / sd;
        }
      }
    }
  }
  return dst;
}

/** ImageNet normalization (torchvision's models' mean and std). */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];

export const CIFAR10_MEAN = [0.4914, 0.4822, 0.4465];
export const CIFAR10_STD = [0.247, 0.2435, 0.2616];
export const CIFAR100_MEAN = [0.5071, 0.4865, 0.4409];
export const CIFAR100_STD = [0.2673, 0.2564, 0.2762];
export const MNIST_MEAN = [0.1307];
export const MNIST_STD = [0.3081];
export const FASHION_MNIST_MEAN = [0.286];
export const FASHION_MNIST_STD = [0.353];

/**
 * The standard transform of a data set split. CIFAR train: randomCrop 32 pad 4 + hflip +
 * normalize; CIFAR test: normalize only (CIFAR-10 uses the CIFAR-10 mean/std, CIFAR-100 its own).
 * MNIST and digits: normalize with mean 0.1307, std 0.3081; Fashion-MNIST: 0.2860 / 0.3530.
 * imagefolder: RandomResizedCrop(7/8 of the stored size, scale 0.08-1) + flip for training,
 * CenterCrop of the same size for testing, ImageNet mean / std.
 */
export function transformPreset(datasetName: string, split: Split, opts: { imageSize?: number } = {}): TransformSpec {
  const cifar = (mean: number[], std: number[]): TransformSpec =>
    split === 'train'
      ? { randomCrop: { size: 32, padding: 4 }, hflip: true, normalize: { mean: [...mean], std: [...std] } }
      : { normalize: { mean: [...mean], std: [...std] } };
  switch (datasetName) {
    case 'cifar10':
      return cifar(CIFAR10_MEAN, CIFAR10_STD);
    case 'cifar100':
      return cifar(CIFAR100_MEAN, CIFAR100_STD);
    case 'mnist':
      return { normalize: { mean: [...MNIST_MEAN], std: [...MNIST_STD] } };
    case 'digits':
      // Only 7,996 training digits: small random shifts (crop 28 from a 2-pixel zero pad) keep
      // LeNet-5 from memorising them; the full MNIST needs no augmentation.
      return split === 'train'
        ? { randomCrop: { size: 28, padding: 2 }, normalize: { mean: [...MNIST_MEAN], std: [...MNIST_STD] } }
        : { normalize: { mean: [...MNIST_MEAN], std: [...MNIST_STD] } };
    case 'fashion-mnist':
      return { normalize: { mean: [...FASHION_MNIST_MEAN], std: [...FASHION_MNIST_STD] } };
    case 'imagefolder': {
      // ImageNet style: train RandomResizedCrop + flip, test CenterCrop (of the image stored at
      // imageSize, i.e. Resize + CenterCrop); crops are 7/8 of the stored side (224 of 256).
      const stored = opts.imageSize ?? 64;
      const crop = Math.round((stored * 7) / 8);
      const normalize = { mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] };
      return split === 'train'
        ? { randomResizedCrop: { size: crop, scale: [0.08, 1], ratio: [3 / 4, 4 / 3] }, hflip: true, normalize }
        : { centerCrop: { size: crop }, normalize };
    }
    default:
      throw new OptionError(`transformPreset: no preset for dataset '${datasetName}' (known: cifar10, cifar100, mnist, digits, fashion-mnist, imagefolder)`);
  }
}
