/**
 * CIFAR-10 and CIFAR-100, binary version (raw or .gz).
 * CIFAR-10: data_batch_1..5.bin (train) and test_batch.bin; 3073-byte records: label byte (0..9),
 *   then 1024 red, 1024 green, 1024 blue bytes (32x32 row-major planes, i.e. already CHW).
 * CIFAR-100: train.bin and test.bin; 3074-byte records: coarse label, fine label (0..99), pixels.
 *   The fine labels are used.
 * Images: [N, 3, 32, 32].
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DataError } from '../core/errors.js';
import { checkLabels, sharedBytes, type Dataset, type Split } from './dataset.js';
import { fmtBytes, readDataFile, requireFile, resolveDataDir, type FileSpec } from './files.js';

const PIXELS = 3 * 32 * 32;

export const CIFAR10_CLASS_NAMES = [
  'airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck',
];

export const CIFAR100_CLASS_NAMES = [
  'apple', 'aquarium_fish', 'baby', 'bear', 'beaver', 'bed', 'bee', 'beetle', 'bicycle', 'bottle',
  'bowl', 'boy', 'bridge', 'bus', 'butterfly', 'camel', 'can', 'castle', 'caterpillar', 'cattle',
  'chair', 'chimpanzee', 'clock', 'cloud', 'cockroach', 'couch', 'crab', 'crocodile', 'cup', 'dinosaur',
  'dolphin', 'elephant', 'flatfish', 'forest', 'fox', 'girl', 'hamster', 'house', 'kangaroo', 'keyboard',
  'lamp', 'lawn_mower', 'leopard', 'lion', 'lizard', 'lobster', 'man', 'maple_tree', 'motorcycle', 'mountain',
  'mouse', 'mushroom', 'oak_tree', 'orange', 'orchid', 'otter', 'palm_tree', 'pear', 'pickup_truck', 'pine_tree',
  'plain', 'plate', 'poppy', 'porcupine', 'possum', 'rabbit', 'raccoon', 'ray', 'road', 'rocket',
  'rose', 'sea', 'seal', 'shark', 'shrew', 'skunk', 'skyscraper', 'snail', 'snake', 'spider',
  'squirrel', 'streetcar', 'sunflower', 'sweet_pepper', 'table', 'tank', 'telephone', 'television', 'tiger', 'tractor',
  'train', 'trout', 'tulip', 'turtle', 'wardrobe', 'whale', 'willow_tree', 'wolf', 'woman', 'worm',
];

/** Layout of one CIFAR variant's records. */
interface RecordFormat {
  /** Bytes per record (3073 or 3074). */
  recordBytes: number;
  /** Offset of the label used within the record (0 for CIFAR-10, 1 = fine label for CIFAR-100). */
  labelOffset: number;
  numClasses: number;
}

const CIFAR10_FORMAT: RecordFormat = { recordBytes: 1 + PIXELS, labelOffset: 0, numClasses: 10 };
const CIFAR100_FORMAT: RecordFormat = { recordBytes: 2 + PIXELS, labelOffset: 1, numClasses: 100 };

/** The decoded bytes of each file, after checking its size is a whole number of records. */
function readRecordFiles(files: string[], fmt: RecordFormat): { bytes: Uint8Array; file: string; count: number }[] {
  return files.map((file) => {
    const bytes = readDataFile(file);
    if (bytes.length === 0 || bytes.length % fmt.recordBytes !== 0) {
      const whole = Math.floor(bytes.length / fmt.recordBytes);
      throw new DataError(
        `${file}: size ${fmtBytes(bytes.length)} bytes is not a multiple of the ${fmt.recordBytes}-byte record size` +
          ` (${fmtBytes(whole)} whole records + ${bytes.length - whole * fmt.recordBytes} stray bytes; truncated or not a CIFAR binary file?)`,
      );
    }
    return { bytes, file, count: bytes.length / fmt.recordBytes };
  });
}

/**
 * Parses CIFAR records from `files` (in order) into one Dataset-shaped pair of arrays. Checks
 * record sizes and label ranges, naming the file at fault.
 */
function readCifarRecords(files: string[], fmt: RecordFormat): { count: number; images: Uint8Array; labels: Uint8Array } {
  const parts = readRecordFiles(files, fmt);
  const count = parts.reduce((s, p) => s + p.count, 0);
  const images = sharedBytes(count * PIXELS);
  const labels = sharedBytes(count);
  const pixelOffset = fmt.recordBytes - PIXELS;
  let n = 0;
  for (const { bytes, file, count: c } of parts) {
    const first = n;
    for (let i = 0; i < c; i++, n++) {
      const off = i * fmt.recordBytes;
      labels[n] = bytes[off + fmt.labelOffset];
      images.set(bytes.subarray(off + pixelOffset, off + fmt.recordBytes), n * PIXELS);
    }
    // Record numbers in the message count from the start of this file.
    checkLabels(labels.subarray(first, n), fmt.numClasses, file);
  }
  return { count, images, labels };
}

/** Class names from a names file (one per line, blank lines ignored) when present and complete. */
function namesFrom(dir: string, file: string, numClasses: number, fallback: string[]): string[] {
  const p = path.join(dir, file);
  if (!existsSync(p)) return [...fallback];
  const names = readFileSync(p, 'utf8').split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length !== numClasses) {
    throw new DataError(`${p}: has ${names.length} class names, expected ${numClasses}`);
  }
  return names;
}

function cifar10Files(split: Split): FileSpec[] {
  return split === 'train'
    ? [1, 2, 3, 4, 5].map((i) => ({ names: [`data_batch_${i}.bin`] }))
    : [{ names: ['test_batch.bin'] }];
}

/**
 * Loads CIFAR-10 from `dataDir` (the folder with data_batch_1..5.bin[.gz] and test_batch.bin[.gz],
 * or a parent holding it as `cifar10/` or `cifar-10-batches-bin/`).
 */
export function loadCifar10(split: Split, dataDir: string): Dataset {
  const all = [...cifar10Files('train'), ...cifar10Files('test')];
  const dir = resolveDataDir('cifar10', dataDir, ['cifar10', 'cifar-10-batches-bin'], all);
  const files = cifar10Files(split).map((spec) => requireFile('cifar10', dir, spec, all));
  const { count, images, labels } = readCifarRecords(files, CIFAR10_FORMAT);
  return {
    name: 'cifar10',
    split,
    length: count,
    imageShape: [3, 32, 32],
    numClasses: 10,
    classNames: namesFrom(dir, 'batches.meta.txt', 10, CIFAR10_CLASS_NAMES),
    images,
    labels,
    source: files.join(', '),
  };
}

/**
 * Loads CIFAR-100 (fine labels) from `dataDir` (the folder with train.bin[.gz] and test.bin[.gz],
 * or a parent holding it as `cifar100/` or `cifar-100-binary/`).
 */
export function loadCifar100(split: Split, dataDir: string): Dataset {
  const all: FileSpec[] = [{ names: ['train.bin'] }, { names: ['test.bin'] }];
  const dir = resolveDataDir('cifar100', dataDir, ['cifar100', 'cifar-100-binary'], all);
  const file = requireFile('cifar100', dir, split === 'train' ? all[0] : all[1], all);
  const { count, images, labels } = readCifarRecords([file], CIFAR100_FORMAT);
  return {
    name: 'cifar100',
    split,
    length: count,
    imageShape: [3, 32, 32],
    numClasses: 100,
    classNames: namesFrom(dir, 'fine_label_names.txt', 100, CIFAR100_CLASS_NAMES),
    images,
    labels,
    source: file,
  };
}
