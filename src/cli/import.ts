/**
 * `leantrain import`: checks a PyTorch state dict saved as safetensors against a zoo model
 * (names, shapes; every mismatch listed) and writes it as a leantrain weights file (float32,
 * PyTorch names, atomic), ready for --init-from, eval and export. float16 / bfloat16 / integer
 * tensors are converted; entries with other dtypes are reported.
 */
import type { Command } from 'commander';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import { modelFromState, stateDims } from '../models/index.js';

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
      const note = skipped.length ? `; unreadable dtypes: ${skipped.join(', ')}` : '';
      const model = modelFromState(f.model, tensors, f.from, f.shortcut ? { shortcut: f.shortcut } : {}, note);
      const classes = stateDims(model.stateDict()).numClasses;
      writeSafetensors(f.out, model.stateDict(), { format: 'pt', model: f.model, framework: 'leantrain', source: f.from });
      process.stdout.write(
        `imported ${tensors.size} tensors into ${f.model} (${model.parameterCount().toLocaleString('en-US')} parameters, ${classes} classes): ${f.out}\n`,
      );
    });
}
