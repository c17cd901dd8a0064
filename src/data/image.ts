/**
 * Image files to pixels: JPEG (jpeg-js) and PNG (pngjs) decoding to RGB bytes, and resampling
 * with an antialiased bilinear (triangle) filter whose support widens with the downscale factor,
 * as PIL's BILINEAR resize that torchvision uses. Pure functions; the image-folder loader runs
 * them in worker threads.
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

/** Decoded RGB pixels, row-major, 3 bytes per pixel. */
export interface RgbImage {
  width: number;
  height: number;
  rgb: Uint8Array;
}

/** Largest image side accepted (guards against decompression bombs). */
const MAX_SIDE = 16384;

/** Decodes a JPEG or PNG file's bytes (by signature, not extension) to RGB; grayscale is replicated, alpha dropped. */
export function decodeImage(bytes: Uint8Array): RgbImage {
  let width: number, height: number, rgba: Uint8Array;
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    const d = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: 256, maxMemoryUsageInMB: 1024 });
    ({ width, height } = d);
    rgba = d.data;
  } else if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    const p = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    ({ width, height } = p);
    rgba = p.data;
  } else {
    throw new Error('not a JPEG or PNG file (unknown signature)');
  }
  if (!(width > 0 && height > 0 && width <= MAX_SIDE && height <= MAX_SIDE)) throw new Error(`bad image size ${width}x${height}`);
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < width * height; i++, j += 4) {
    rgb[3 * i] = rgba[j];
    rgb[3 * i + 1] = rgba[j + 1];
    rgb[3 * i + 2] = rgba[j + 2];
  }
  return { width, height, rgb };
}

/** Filter taps of one output coordinate: first source index and normalised weights. */
interface Taps {
  start: number[];
  weights: Float64Array[];
}

/** Triangle-filter taps mapping source [x0, x0 + len) onto `out` samples. */
function taps(x0: number, len: number, out: number): Taps {
  const scale = len / out;
  const support = Math.max(1, scale);
  const start: number[] = [];
  const weights: Float64Array[] = [];
  for (let i = 0; i < out; i++) {
    const centre = x0 + (i + 0.5) * scale;
    const lo = Math.max(x0, Math.floor(centre - support));
    const hi = Math.min(x0 + len, Math.ceil(centre + support));
    const w = new Float64Array(hi - lo);
    let sum = 0;
    for (let s = lo; s < hi; s++) {
      const v = Math.max(0, 1 - Math.abs(s + 0.5 - centre) / support);
      w[s - lo] = v;
      sum += v;
    }
    if (sum === 0) {
      w.fill(0);
      w[Math.min(w.length - 1, Math.max(0, Math.floor(centre) - lo))] = 1;
      sum = 1;
    }
    for (let k = 0; k < w.length; k++) w[k] /= sum;
    start.push(lo);
    weights.push(w);
  }
  return { start, weights };
}

/**
 * Resamples the window (x0, y0, cw, ch) of `img` to `ow` x `oh`, writing planar CHW bytes
 * (3 x oh x ow) into `out` at `offset`. Antialiased bilinear: exact for integer upscales'
 * bilinear weights, averaging over the footprint when downscaling.
 */
export function resizeWindowToCHW(
  img: RgbImage, x0: number, y0: number, cw: number, ch: number, ow: number, oh: number, out: Uint8Array, offset: number,
): void {
  const tx = taps(x0, cw, ow);
  const ty = taps(y0, ch, oh);
  // Horizontal pass over the needed rows: rows y0..y0+ch of width ow, 3 channels, float.
  const tmp = new Float64Array(ch * ow * 3);
  for (let y = 0; y < ch; y++) {
    const row = (y0 + y) * img.width * 3;
    for (let x = 0; x < ow; x++) {
      const w = tx.weights[x];
      const s0 = tx.start[x];
      let r = 0, g = 0, b = 0;
      for (let k = 0; k < w.length; k++) {
        const p = row + (s0 + k) * 3;
        r += w[k] * img.rgb[p];
        g += w[k] * img.rgb[p + 1];
        b += w[k] * img.rgb[p + 2];
      }
      const t = (y * ow + x) * 3;
      tmp[t] = r;
      tmp[t + 1] = g;
      tmp[t + 2] = b;
    }
  }
  const plane = ow * oh;
  for (let y = 0; y < oh; y++) {
    const w = ty.weights[y];
    const s0 = ty.start[y] - y0;
    for (let x = 0; x < ow; x++) {
      let r = 0, g = 0, b = 0;
      for (let k = 0; k < w.length; k++) {
        const t = ((s0 + k) * ow + x) * 3;
        r += w[k] * tmp[t];
        g += w[k] * tmp[t + 1];
        b += w[k] * tmp[t + 2];
      }
      const o = offset + y * ow + x;
      out[o] = Math.min(255, Math.max(0, Math.round(r)));
      out[o + plane] = Math.min(255, Math.max(0, Math.round(g)));
      out[o + 2 * plane] = Math.min(255, Math.max(0, Math.round(b)));
    }
  }
}

/**
 * torchvision's Resize(size) (shorter side to `size`) then CenterCrop(size), done as one
 * resample of the centred square window: planar CHW bytes (3 x size x size) into `out` at `offset`.
 */
export function resizeCenterSquare(img: RgbImage, size: number, out: Uint8Array, offset: number): void {
  const side = Math.min(img.width, img.height);
  const x0 = Math.floor((img.width - side) / 2);
  const y0 = Math.floor((img.height - side) / 2);
  resizeWindowToCHW(img, x0, y0, side, side, size, size, out, offset);
}
