/**
 * `leantrain export`: a model's inference graph as ONNX (src/onnx/export.ts), with weights from a
 * training checkpoint, a weights file (safetensors state dict, PyTorch names) or fresh init.
 */
import type { Command } from 'commander';
import { OptionError } from '../core/errors.js';
import { readSafetensors } from '../io/safetensors.js';
import { createModel, modelFromState, modelInfo, stateDims } from '../models/index.js';
import { exportOnnx } from '../onnx/export.js';
import type { Tensor } from '../tensor/tensor.js';
import { readCheckpoint } from '../train/checkpoint.js';
import { intOption } from './options.js';
import { shapeOption } from './models.js';

interface ExportFlags {
  onnx: string;
  model?: string;
  checkpoint?: string;
  weights?: string;
  input?: [number, number, number];
  classes?: number;
  shortcut?: 'A' | 'B';
  foldBn: boolean;
}

export function addExportCommand(program: Command): void {
  program
    .command('export')
    .description('export a model\'s inference graph to ONNX (opset 13; batch norm kept, or folded into the convs with --fold-bn)')
    .requiredOption('--onnx <file>', 'output .onnx file (written atomically)')
    .option('--checkpoint <file>', 'weights and model name from a training checkpoint (checkpoint.safetensors)')
    .option('--weights <file>', 'weights from a safetensors state dict (model.safetensors, or a PyTorch export); needs --model')
    .option('--model <name>', 'model name (leantrain models); implied by --checkpoint')
    .option('--input <CxHxW>', 'input size the graph is traced at (default: the model\'s; the batch stays symbolic)', shapeOption)
    .option('--classes <n>', 'number of classes (default: from the weights, else the model\'s)', intOption('--classes'))
    .option('--shortcut <A|B>', 'CIFAR ResNet shortcut option (default: from the checkpoint, else A)')
    .option('--fold-bn', 'fold batch norm into the preceding convolutions', false)
    .action((f: ExportFlags) => {
      let state: Map<string, Tensor> | null = null;
      let model = f.model;
      let shortcut = f.shortcut;
      if (f.checkpoint !== undefined && f.weights !== undefined) throw new OptionError('give --checkpoint or --weights, not both');
      if (f.checkpoint !== undefined) {
        const ck = readCheckpoint(f.checkpoint);
        if (model !== undefined && model !== ck.config.model) {
          throw new OptionError(`--model ${model} differs from the checkpoint's model '${ck.config.model}'`);
        }
        model = ck.config.model;
        shortcut ??= ck.config.shortcut;
        state = ck.model;
      } else if (f.weights !== undefined) {
        state = readSafetensors(f.weights).tensors;
      }
      if (model === undefined) throw new OptionError('--model is required without --checkpoint');
      const info = modelInfo(model);
      const opts = { numClasses: f.classes, inChannels: f.input?.[0], ...(shortcut ? { shortcut } : {}) };
      const m = state !== null ? modelFromState(model, state, (f.checkpoint ?? f.weights)!, opts) : createModel(model, opts);
      const inChannels = f.input?.[0] ?? (state !== null ? stateDims(state).inChannels : undefined) ?? info.defaultInChannels;
      const input: [number, number, number] = f.input ?? [inChannels, info.inputShape[1], info.inputShape[2]];
      const r = exportOnnx(m, f.onnx, { inputShape: input, foldBatchNorm: f.foldBn, name: model });
      const nodes = Object.entries(r.nodes).map(([k, v]) => `${v} ${k}`).join(', ');
      process.stdout.write(`wrote ${f.onnx}: ${model} at N x ${input.join('x')}, ${(r.bytes / 1e6).toFixed(2)} MB, nodes ${nodes}\n`);
    });
}
