/** `leantrain train`: parses options into a TrainConfig and runs the trainer. */
import type { Command } from 'commander';
import { DEFAULT_TRAIN_CONFIG, Progress, readCheckpoint, runTraining, type TrainConfig } from '../train/index.js';
import { choiceOption, intOption, numberOption } from './options.js';

/** What commander hands the action: the config fields plus output and resume flags. */
type TrainFlags = TrainConfig & { json: boolean; resume?: string };

/** The training options `train` and `experiment` share (model, data, optimizer, schedule, seed, threads). */
export function addCommonTrainingOptions(cmd: Command): Command {
  const d = DEFAULT_TRAIN_CONFIG;
  return cmd
    .option('--model <name>', 'model (leantrain models lists them): lenet5, resnet20/32/44/56/110, resnet18_cifar, alexnet_cifar, resnet18, ...', d.model)
    .option('--dataset <name>', 'digits (embedded), mnist, fashion-mnist, cifar10, cifar100, imagefolder (ROOT/train|val/<class>/<image>)', d.dataset)
    .option('--image-size <n>', 'imagefolder: side the images are stored at (crops: 7/8 of it); default 64', intOption('--image-size', 8))
    .option('--on-bad-image <what>', 'imagefolder: fail (default) or skip unreadable images, naming them', choiceOption('--on-bad-image', ['fail', 'skip'] as const))
    .option('--data-dir <dir>', 'directory with the data set files (official formats, raw or .gz)')
    .option('--epochs <n>', 'training epochs', intOption('--epochs'), d.epochs)
    .option('--batch-size <n>', 'mini-batch size', intOption('--batch-size'), d.batchSize)
    .option('--lr <x>', 'base learning rate', numberOption('--lr'), d.lr)
    .option('--momentum <x>', 'SGD momentum (sgd only)', numberOption('--momentum'), d.momentum)
    .option('--nesterov', 'Nesterov momentum (sgd only)', d.nesterov)
    .option('--weight-decay <x>', 'L2 weight decay (decoupled for adamw)', numberOption('--weight-decay'), d.weightDecay)
    .option('--optimizer <name>', 'sgd or adamw', choiceOption('--optimizer', ['sgd', 'adamw'] as const), d.optimizer)
    .option('--schedule <spec>', 'lr schedule: constant | cosine | step:E[:g] | multistep:E1,E2[:g] | warmup:E+<spec>', d.schedule)
    .option('--shortcut <A|B>', 'ResNet shortcut: A (zero-pad identity) or B (1x1 conv + BN)', choiceOption('--shortcut', ['A', 'B'] as const))
    .option('--no-augment', 'no random crop/flip on the training split')
    .option('--seed <n>', 'seed for init, data order and augmentation', intOption('--seed', 0), d.seed)
    .option('--threads <n>', 'kernel threads (default: all cores, or LEANTRAIN_THREADS)', intOption('--threads'))
    .option('--eval-batch-size <n>', 'batch size for evaluation', intOption('--eval-batch-size'), d.evalBatchSize)
    .option('--limit-batches <n>', 'stop each epoch after n batches (0 = all)', intOption('--limit-batches', 0), d.limitBatches);
}

export function addTrainCommand(program: Command): void {
  const d = DEFAULT_TRAIN_CONFIG;
  addCommonTrainingOptions(
    program.command('train').description('train a CNN; with no options, LeNet-5 on the embedded MNIST digits (under a minute)'),
  )
    .option('--out <dir>', 'write log.jsonl and summary.json here')
    .option('--json', 'print the summary as JSON on stdout (progress goes to stderr)', false)
    .option('--log-every <n>', 'write every n-th step to log.jsonl', intOption('--log-every'), d.logEvery)
    .option('--checkpoint-every <n>', 'with --out: write checkpoint.safetensors (weights, optimizer, position) every n epochs and after the last; 0 = never', intOption('--checkpoint-every', 0), d.checkpointEvery)
    .option('--resume <checkpoint>', 'continue a run from its checkpoint.safetensors (same options; --epochs, --out, --threads may change)')
    .option('--init-from <file>', 'start from these weights: a safetensors state dict with PyTorch names (from PyTorch or a previous run)')
    .option('--prune <policy>', 'sparse back-propagation: prune conv-output gradients with normal | lognormal | topk | deterministic')
    .option('--prune-rate <p>', 'normal/deterministic: pruning rate p in [0, 1) (p is not the sparsity: density is measured)', numberOption('--prune-rate', -Infinity))
    .option('--sparsity <s>', 'lognormal: target zero fraction in [0, 1)', numberOption('--sparsity', -Infinity))
    .option('--keep <f>', 'topk: kept fraction per sample in (0, 1]', numberOption('--keep', -Infinity))
    .option('--prune-exclude <list>', "layers left dense: comma list of first, shortcut, fc, or 'none' (default: fc)")
    .option('--prune-warmup <steps>', 'training steps (mini-batches) run dense before pruning starts', intOption('--prune-warmup', 0))
    .option('--prune-warmup-epochs <n>', 'the same in epochs (exclusive with --prune-warmup)', intOption('--prune-warmup-epochs', 0))
    .option('--prune-schedule <spec>', "target over steps: constant (default) or linear:<start>:<steps> (from start after warm-up to the rate)")
    .option('--prune-tau-cap <q>', 'cap tau at the q-quantile of |g| (q in (0, 1]; guards lognormal at high sparsity)', numberOption('--prune-tau-cap', -Infinity))
    .option('--prune-compare-dense', 'experiment mode: also time the dense backward on the same gradient where sparse ran (slower)')
    .option('--prune-kernels <mode>', 'auto: sparse backward kernels below the measured crossover (default); dense: always dense')
    .option('--prune-stats-every <n>', 'measure natural zeros and relative error every n-th pruned step (default 1)', intOption('--prune-stats-every'))
    .option('--prune-log-steps', 'also write one log.jsonl record per pruned layer and step (tau, density, natural zeros, rel. error, prune and backward ms)')
    .action(async (f: TrainFlags, cmd: Command) => {
      const { json, resume, ...given } = f;
      let config: TrainConfig = given;
      if (resume !== undefined) {
        // The checkpoint's config, with the options given on this command line on top (the
        // trainer then refuses changes other than --epochs, --out, --threads, ...).
        const saved = readCheckpoint(resume).config;
        const explicit = Object.fromEntries(Object.entries(given).filter(([k]) => cmd.getOptionValueSource(k) === 'cli'));
        config = { ...saved, ...explicit };
      }
      // With --json, stdout carries only the summary; everything human goes to stderr.
      const human = json ? process.stderr : process.stdout;
      const summary = await runTraining(
        config,
        { info: (line) => human.write(`${line}\n`), progress: new Progress(human) },
        { resume },
      );
      if (json) {
        process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      } else {
        human.write(
          `done: final test accuracy ${(100 * summary.finalTestAccuracy).toFixed(2)}%, best ${(100 * summary.bestTestAccuracy).toFixed(2)}% ` +
            `(epoch ${summary.bestEpoch}), ${summary.meanSecondsPerEpoch.toFixed(1)} s/epoch, ${summary.imagesPerSec.toFixed(0)} img/s, ` +
            `total ${summary.totalSeconds.toFixed(1)} s${config.out ? `; run files in ${config.out}` : ''}\n`,
        );
      }
    });
}
