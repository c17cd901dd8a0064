/**
 * Bad input to every op fails in the op, before any kernel runs, with a ShapeError (shapes) or an
 * OptionError (options) whose message names the op, its scope and the shapes found and expected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  adaptiveAvgPool2d1, add, avgPool2d, batchNorm2d, conv2d, crossEntropy, dropout, flatten, linear, maxPool2d,
  nativeBackend, OptionError, reshape, ShapeError, shortcutPadA, Tensor, UnsupportedError, withBackend, withScope,
} from '../src/index.js';

type ErrorClass = typeof ShapeError | typeof OptionError | typeof UnsupportedError;

/** Asserts `fn` throws `cls` with a message containing every fragment. */
function throwsWith(cls: ErrorClass, fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    for (const f of fragments) assert.ok(e.message.includes(f), `message '${e.message}' should mention '${f}'`);
    return true;
  });
}
const shapeErr = (fn: () => unknown, ...fragments: string[]) => throwsWith(ShapeError, fn, ...fragments);
const optionErr = (fn: () => unknown, ...fragments: string[]) => throwsWith(OptionError, fn, ...fragments);
const z = (...shape: number[]) => Tensor.zeros(shape);

test('conv2d: channels, ranks, kernel larger than input, bias, options', () => {
  shapeErr(() => conv2d(z(2, 3, 8, 8), z(16, 4, 3, 3), null), 'conv2d', 'input has 3 channels', '[2, 3, 8, 8]', 'weight expects 4', '[16, 4, 3, 3]');
  shapeErr(() => conv2d(z(3, 8, 8), z(16, 3, 3, 3), null), 'conv2d', 'input must be 4-D', '[3, 8, 8]');
  shapeErr(() => conv2d(z(1, 3, 8, 8), z(16, 3, 3), null), 'conv2d', 'weight must be 4-D', '[16, 3, 3]');
  shapeErr(() => conv2d(z(1, 1, 2, 2), z(1, 1, 3, 3), null), 'conv2d', '[1, 1, 2, 2]', '3x3 kernel');
  shapeErr(() => conv2d(z(1, 3, 8, 8), z(16, 3, 3, 3), z(3)), 'conv2d', 'bias must be [16]', 'got [3]');
  optionErr(() => conv2d(z(1, 3, 8, 8), z(16, 3, 3, 3), null, { stride: 0 }), 'conv2d', "'stride'");
  optionErr(() => conv2d(z(1, 3, 8, 8), z(16, 3, 3, 3), null, { padding: -1 }), 'conv2d', "'padding'");
});

test('batchNorm2d: per-channel parameter sizes, rank, one value per channel, options', () => {
  const bn = (x: Tensor, g: Tensor, rv = z(3), training = true, eps = 1e-5) =>
    batchNorm2d(x, g, z(3), z(3), rv, { training, momentum: 0.1, eps });
  shapeErr(() => bn(z(2, 3, 4, 4), z(4)), 'batchNorm2d', 'input has 3 channels', '[2, 3, 4, 4]', 'weight has shape [4]', 'expected [3]');
  shapeErr(() => bn(z(2, 3, 4, 4), z(3), z(3, 1), false), 'batchNorm2d', 'running_var has shape [3, 1]');
  shapeErr(() => bn(z(2, 3), z(3)), 'batchNorm2d', 'input must be 4-D', '[2, 3]');
  shapeErr(() => bn(z(1, 3, 1, 1), z(3)), 'batchNorm2d', 'more than 1 value per channel', '[1, 3, 1, 1]');
  optionErr(() => bn(z(2, 3, 4, 4), z(3), z(3), true, 0), 'batchNorm2d', "'eps'");
});

test('maxPool2d and avgPool2d: rank, window larger than input, options', () => {
  for (const [name, pool] of [['maxPool2d', maxPool2d], ['avgPool2d', avgPool2d]] as const) {
    shapeErr(() => pool(z(3, 8, 8), { kernelSize: 2 }), name, 'input must be 4-D', '[3, 8, 8]');
    shapeErr(() => pool(z(1, 1, 2, 2), { kernelSize: 3 }), name, '[1, 1, 2, 2]', '3x3 window');
    optionErr(() => pool(z(1, 1, 8, 8), { kernelSize: 2, padding: 2 }), name, 'at most half');
    optionErr(() => pool(z(1, 1, 8, 8), { kernelSize: 0 }), name, "'kernelSize'");
  }
  shapeErr(() => withScope('stem', () => maxPool2d(z(4, 4), { kernelSize: 2 })), 'maxPool2d (stem)', '[4, 4]');
});

test('adaptiveAvgPool2d1: rank', () => {
  shapeErr(() => adaptiveAvgPool2d1(z(2, 64)), 'adaptiveAvgPool2d1', 'input must be 4-D', '[2, 64]');
});

test('linear: features, ranks, bias', () => {
  assert.throws(() => withScope('fc', () => linear(z(8, 512), z(10, 256), null)), {
    name: 'ShapeError',
    message: 'linear (fc): input has 512 features (shape [8, 512]), weight expects 256 (shape [10, 256])',
  });
  shapeErr(() => linear(z(8, 64, 1, 1), z(10, 64), null), 'linear', 'input must be 2-D', '[8, 64, 1, 1]', 'flatten');
  shapeErr(() => linear(z(8, 64), z(640), null), 'linear', 'weight must be 2-D', '[640]');
  shapeErr(() => linear(z(8, 64), z(10, 64), z(64)), 'linear', 'bias must be [10]', 'got [64]');
});

test('add: shapes must match exactly', () => {
  shapeErr(() => add(z(2, 3), z(3, 2)), 'add', '[2, 3]', '[3, 2]');
  shapeErr(() => withScope('layer2.0', () => add(z(1, 16, 8, 8), z(1, 32, 4, 4))), 'add (layer2.0)', '[1, 16, 8, 8]', '[1, 32, 4, 4]');
});

test('crossEntropy: rank, label count, label range (naming the index and value)', () => {
  const labels = Int32Array.from([0, 1, 2, 3]);
  shapeErr(() => crossEntropy(z(10), labels), 'crossEntropy', 'logits must be 2-D', '[10]');
  shapeErr(() => crossEntropy(z(3, 10), labels), 'crossEntropy', '4 labels', '[3, 10]', 'expected 3');
  shapeErr(() => crossEntropy(z(4, 10), Int32Array.from([0, 1, 10, 3])), 'crossEntropy', 'label at index 2 is 10', '[0, 10)');
  shapeErr(() => crossEntropy(z(4, 10), Int32Array.from([0, -1, 2, 3])), 'crossEntropy', 'label at index 1 is -1');
});

test('reshape and flatten: element counts and dimensions', () => {
  shapeErr(() => reshape(z(2, 3), [4, 2]), 'reshape', '[2, 3]', '6 elements', '[4, 2]', 'has 8');
  shapeErr(() => reshape(z(2, 3), [-1, -1]), 'reshape', 'at most one -1');
  shapeErr(() => reshape(z(2, 3), [4, -1]), 'reshape', 'cannot infer', '[4, -1]', '[2, 3]');
  shapeErr(() => flatten(z(2, 3, 4, 4), 4), 'flatten', 'startDim 4', '[2, 3, 4, 4]');
});

test('shortcutPadA: rank and channel count', () => {
  shapeErr(() => shortcutPadA(z(16, 8, 8), 32, 2), 'shortcutPadA', 'input must be 4-D', '[16, 8, 8]');
  shapeErr(() => shortcutPadA(z(1, 32, 8, 8), 16, 2), 'shortcutPadA', 'outChannels 16', '32 channels', '[1, 32, 8, 8]');
  optionErr(() => shortcutPadA(z(1, 16, 8, 8), 32, 0), 'shortcutPadA', 'stride');
});

test('dropout: p and key are validated; relu accepts any shape', () => {
  optionErr(() => dropout(z(4), { p: 1.5, training: true, key: 1 }), 'dropout', "'p'");
  optionErr(() => dropout(z(4), { p: 0.5, training: true, key: 0.5 }), 'dropout', "'key'");
});

test('mixed dtypes, non-Int32Array labels and float64 on the native backend are UnsupportedError', () => {
  throwsWith(UnsupportedError, () => conv2d(Tensor.zeros([1, 1, 3, 3], 'float64'), z(1, 1, 2, 2), null), 'conv2d', "'weight' is float32", "'input' is float64");
  throwsWith(UnsupportedError, () => add(z(2), Tensor.zeros([2], 'float64')), 'add', "'b' is float64");
  // As an untyped JavaScript caller would pass a dataset's Uint8Array labels.
  throwsWith(UnsupportedError, () => Reflect.apply(crossEntropy, null, [z(2, 3), Uint8Array.from([0, 1])]), 'crossEntropy', 'Int32Array');
  const native = nativeBackend();
  if (native) {
    throwsWith(
      UnsupportedError,
      () => withBackend(native, () => linear(Tensor.zeros([2, 3], 'float64'), Tensor.zeros([4, 3], 'float64'), null)),
      'native linearForward', 'float64',
    );
  }
});
