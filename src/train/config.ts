/**
 * Training configuration: defaults, and validation with errors that name the CLI option.
 * Bare `leantrain train` = LeNet-5 on the embedded digits, about a minute on 2 cores.
 */
import { OptionError } from '../core/errors.js';
import { pruningFromConfig, type PruneConfig } from './pruning.js';

export interface TrainConfig extends PruneConfig {
  /** Model name from the registry (`lenet5`, `resnet20`, ...). */
  model: string;
  /** 'digits' (embedded, no download), 'mnist', 'fashion-mnist', 'cifar10', 'cifar100'. */
  dataset: string;
  /** Directory holding the data set's files (required for all but 'digits'). */
  dataDir?: string;
  epochs: number;
  batchSize: number;
  /** Base learning rate (peak after warm-up). */
  lr: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  optimizer: 'sgd' | 'adamw';
  /** Schedule spec (see optim/schedule.ts): constant, cosine, step:E[:g], multistep:E1,E2[:g], warmup:E+spec. */
  schedule: string;
  /** CIFAR ResNet shortcut: option A (zero-pad identity) or B (1x1 conv + BN); unset = model default. */
  shortcut?: 'A' | 'B';
  /** Data augmentation preset on/off for the training split. */
  augment: boolean;
  seed: number;
  /** Kernel threads (default: all cores, or LEANTRAIN_THREADS). */
  threads?: number;
  /** Run directory for log.jsonl and summary.json (none: no files). */
  out?: string;
  /** Batch size for evaluation. */
  evalBatchSize: number;
  /** Stop each epoch after this many batches (0 = all): for smoke tests. */
  limitBatches: number;
  /** Log every n-th step to the JSONL log. */
  logEvery: number;
  /** With `out`: write <out>/checkpoint.safetensors every n epochs and after the last (0 = never). */
  checkpointEvery: number;
  /** Start from these weights (a safetensors state dict with PyTorch names, e.g. from PyTorch or a previous run). */
  initFrom?: string;
  /** 'imagefolder': side the images are stored at (crops are 7/8 of it); default 64. */
  imageSize?: number;
  /** 'imagefolder': an unreadable image fails the load ('fail', default) or is skipped with a warning. */
  onBadImage?: 'fail' | 'skip';
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  model: 'lenet5',
  dataset: 'digits',
  epochs: 20,
  batchSize: 64,
  lr: 0.05,
  momentum: 0.9,
  nesterov: false,
  weightDecay: 5e-4,
  optimizer: 'sgd',
  schedule: 'cosine',
  augment: true,
  seed: 0,
  evalBatchSize: 500,
  limitBatches: 0,
  logEvery: 1,
  checkpointEvery: 1,
};

function positiveInt(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v <= 0) throw new OptionError(`${name} must be a positive integer, got ${v}`);
}

function nonNegative(name: string, v: number): void {
  if (!Number.isFinite(v) || v < 0) throw new OptionError(`${name} must be a non-negative number, got ${v}`);
}

/** Throws OptionError naming the first invalid option. */
export function validateTrainConfig(c: TrainConfig): void {
  positiveInt('--epochs', c.epochs);
  positiveInt('--batch-size', c.batchSize);
  positiveInt('--eval-batch-size', c.evalBatchSize);
  nonNegative('--lr', c.lr);
  nonNegative('--weight-decay', c.weightDecay);
  if (!(c.momentum >= 0 && c.momentum < 1)) throw new OptionError(`--momentum must be in [0, 1), got ${c.momentum}`);
  if (!Number.isSafeInteger(c.seed) || c.seed < 0) throw new OptionError(`--seed must be a non-negative integer, got ${c.seed}`);
  if (c.threads !== undefined) positiveInt('--threads', c.threads);
  if (!Number.isSafeInteger(c.limitBatches) || c.limitBatches < 0) {
    throw new OptionError(`--limit-batches must be a non-negative integer, got ${c.limitBatches}`);
  }
  positiveInt('--log-every', c.logEvery);
  if (!Number.isSafeInteger(c.checkpointEvery) || c.checkpointEvery < 0) {
    throw new OptionError(`--checkpoint-every must be a non-negative integer, got ${c.checkpointEvery}`);
  }
  if (c.optimizer !== 'sgd' && c.optimizer !== 'adamw') {
    throw new OptionError(`--optimizer must be 'sgd' or 'adamw', got '${c.optimizer}'`);
  }
  if (c.optimizer === 'adamw' && c.nesterov) throw new OptionError('--nesterov applies to --optimizer sgd, not adamw');
  if (c.dataset === 'digits' && c.dataDir !== undefined) {
    throw new OptionError(
      `--data-dir ${c.dataDir} was given but --dataset is 'digits' (the embedded default, which reads no files): ` +
        'name the data set, e.g. --dataset mnist or --dataset cifar10',
    );
  }
  if (c.shortcut !== undefined && c.shortcut !== 'A' && c.shortcut !== 'B') throw new OptionError(`--shortcut must be 'A' or 'B', got '${c.shortcut}'`);
  pruningFromConfig(c, c.seed);
}
