/**
 * MNIST and Fashion-MNIST in the IDX format (raw or .gz). Big-endian header:
 * images: magic 2051 (0x00000803), count, rows (28), cols (28), then count*28*28 bytes;
 * labels: magic 2049 (0x00000801), count, then count bytes (0..9).
 */
import { DataError } from '../core/errors.js';
import { checkLabels, sharedBytes, type Dataset, type Split } from './dataset.js';
import { fmtBytes, readDataFile, requireFile, resolveDataDir, type FileSpec } from './files.js';

export const IDX_IMAGES_MAGIC = 2051;
export const IDX_LABELS_MAGIC = 2049;
const ROWS = 28;
const COLS = 28;

export const MNIST_CLASS_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
export const FASHION_MNIST_CLASS_NAMES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

function readHeader(file: string, bytes: Uint8Array, words: number, magic: number, kind: string): number[] {
  if (bytes.length < words * 4) {
    throw new DataError(`${file}: truncated IDX ${kind} file: ${fmtBytes(bytes.length)} bytes, the header alone needs ${words * 4}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header: number[] = [];
  for (let i = 0; i < words; i++) header.push(view.getUint32(i * 4, false));
  if (header[0] !== magic) {
    throw new DataError(`${file}: wrong magic number ${header[0]} (${hex(header[0])}), expected ${magic} (${hex(magic)}) for an IDX ${kind} file`);
  }
  return header;
}

/**
 * Reads an IDX image file (raw or .gz): checks the magic, 28x28 dims and that the size matches
 * the count. Returns the count and the pixel bytes [count, 1, 28, 28] in a shared buffer.
 */
export function readIdxImages(file: string): { count: number; images: Uint8Array } {
  const bytes = readDataFile(file);
  const [, count, rows, cols] = readHeader(file, bytes, 4, IDX_IMAGES_MAGIC, 'image');
  if (rows !== ROWS || cols !== COLS) {
    throw new DataError(`${file}: images are ${rows}x${cols}, expected ${ROWS}x${COLS}`);
  }
  const expected = 16 + count * rows * cols;
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? 'truncated' : 'too long';
    throw new DataError(
      `${file}: ${what}: header says ${fmtBytes(count)} images of ${rows}x${cols} = ${fmtBytes(expected)} bytes, file has ${fmtBytes(bytes.length)} bytes`,
    );
  }
  const images = sharedBytes(count * rows * cols);
  images.set(bytes.subarray(16));
  return { count, images };
}

/** Reads an IDX label file (raw or .gz): checks the magic, the size against the count, and labels < numClasses. */
export function readIdxLabels(file: string, numClasses = 10): Uint8Array {
  const bytes = readDataFile(file);
  const [, count] = readHeader(file, bytes, 2, IDX_LABELS_MAGIC, 'label');
  const expected = 8 + count;
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? 'truncated' : 'too long';
    throw new DataError(
      `${file}: ${what}: header says ${fmtBytes(count)} labels = ${fmtBytes(expected)} bytes, file has ${fmtBytes(bytes.length)} bytes`,
    );
  }
  const labels = sharedBytes(count);
  labels.set(bytes.subarray(8));
  checkLabels(labels, numClasses, file);
  return labels;
}

function idxFiles(split: Split): { images: FileSpec; labels: FileSpec } {
  const prefix = split === 'train' ? 'train' : 't10k';
  return {
    images: { names: [`${prefix}-images-idx3-ubyte`, `${prefix}-images.idx3-ubyte`] },
    labels: { names: [`${prefix}-labels-idx1-ubyte`, `${prefix}-labels.idx1-ubyte`] },
  };
}

/**
 * Loads MNIST or Fashion-MNIST from `dataDir` (the folder with the four IDX files, or a parent
 * holding it as `mnist/` or `fashion-mnist/`). Images: [N, 1, 28, 28].
 */
export function loadIdxDataset(name: 'mnist' | 'fashion-mnist', split: Split, dataDir: string): Dataset {
  const all = [...Object.values(idxFiles('train')), ...Object.values(idxFiles('test'))];
  const files = idxFiles(split);
  const dir = resolveDataDir(name, dataDir, [name, name === 'mnist' ? 'MNIST/raw' : 'FashionMNIST/raw'], all);
  const imageFile = requireFile(name, dir, files.images, all);
  const labelFile = requireFile(name, dir, files.labels, all);
  const { count, images } = readIdxImages(imageFile);
  const labels = readIdxLabels(labelFile);
  if (labels.length !== count) {
    throw new DataError(
      `${name} ${split}: record count mismatch: ${imageFile} has ${fmtBytes(count)} images but ${labelFile} has ${fmtBytes(labels.length)} labels`,
    );
  }
  return {
    name,
    split,
    length: count,
    imageShape: [1, ROWS, COLS],
    numClasses: 10,
    classNames: name === 'mnist' ? [...MNIST_CLASS_NAMES] : [...FASHION_MNIST_CLASS_NAMES],
    images,
    labels,
    source: `${imageFile}, ${labelFile}`,
  };
}
