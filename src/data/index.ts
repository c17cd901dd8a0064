/**
 * Data: readers for MNIST / Fashion-MNIST (IDX), CIFAR-10 / CIFAR-100 (binary), the embedded
 * digits, seeded transforms, and a prefetching DataLoader.
 */
export type { Dataset, Split } from './dataset.js';
export { classCounts } from './dataset.js';
export { loadDataset, datasetNames, datasetInfo, isDatasetName } from './registry.js';
export type { DatasetName, LoadDatasetOptions } from './registry.js';
export { readIdxImages, readIdxLabels, loadIdxDataset, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, MNIST_CLASS_NAMES, FASHION_MNIST_CLASS_NAMES } from './idx.js';
export { loadCifar10, loadCifar100, CIFAR10_CLASS_NAMES, CIFAR100_CLASS_NAMES } from './cifar.js';
export { loadDigits, DIGITS_TRAIN_FRACTION } from './digits.js';
export {
  transformBatch,
  transformPreset,
  transformedShape,
  validateTransform,
  augmentParams,
  augmentKey,
  CIFAR10_MEAN,
  CIFAR10_STD,
  CIFAR100_MEAN,
  CIFAR100_STD,
  MNIST_MEAN,
  MNIST_STD,
  FASHION_MNIST_MEAN,
  FASHION_MNIST_STD,
} from './transforms.js';
export type { TransformSpec, AugmentParams } from './transforms.js';
export { DataLoader } from './loader.js';
export type { DataLoaderOptions, Batch } from './loader.js';
