/**
 * `leantrain import`: checks a PyTorch state dict saved as safetensors against a zoo model
 * (names, shapes; every mismatch listed) and writes it as a leantrain weights file (float32,
 * PyTorch names, atomic), ready for --init-from, eval and export. float16 / bfloat16 / integer
 * tensors are converted; entries with other dtypes are reported.
 */
import type { Command } from 'commander';
import { DataError } from '../core/errors.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import { createModel, modelInfo } from '../models/index.js';
import { stateDims } from './export.js';

interface ImportFlags {
  model: string;
  from: string;
  out: string;
  shortcut?: 'A' | 'B';
}

export function addImportCommand(program: Command): void {
  program
    .command('import')
    .description('check a PyTorch state dict (safetensors) against a model and write it as leantrain weights')
    .requiredOption('--model <name>', 'zoo model the state dict belongs to (leantrain models)')
    .requiredOption('--from <file>', 'the state dict, saved from PyTorch as safetensors')
    .requiredOption('--out <file>', 'leantrain weights file to write (float32 safetensors, PyTorch names)')
    .option('--shortcut <A|B>', 'CIFAR ResNets: shortcut option of the state dict (default A)')
    .action((f: ImportFlags) => {
      const { tensors, skipped } = readSafetensors(f.from);
      const dims = stateDims(tensors);
      const info = modelInfo(f.model);
      const model = createModel(f.model, {
        numClasses: dims.numClasses ?? info.defaultNumClasses, inChannels: dims.inChannels ?? info.defaultInChannels, ...(f.shortcut ? { shortcut: f.shortcut } : {}),
      });
      try {
        model.loadStateDict(tensors, true);
      } catch (e) {
        throw new DataError(`${f.from}: does not fit ${f.model}: ${(e as Error).message}${skipped.length ? `; unreadable dtypes: ${skipped.join(', ')}` : ''}`);
      }
      writeSafetensors(f.out, model.stateDict(), { format: 'pt', model: f.model, framework: 'leantrain', source: f.from });
      process.stdout.write(
        `imported ${tensors.size} tensors into ${f.model} (${model.parameterCount().toLocaleString('en-US')} parameters, ${dims.numClasses ?? info.defaultNumClasses} classes): ${f.out}\n`,
      );
    });
}
