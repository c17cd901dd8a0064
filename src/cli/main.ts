/**
 * The `leantrain` command: argument parsing and dispatch only. User errors (LeantrainError:
 * bad options, data, shapes) print one line and exit 1; anything else is a bug and shows its stack.
 */
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { LeantrainError } from '../core/errors.js';
import { selectBackend } from '../backends/select.js';
import '../index.js';
import { addBenchCommand } from './bench.js';
import { addExperimentCommand } from './experiment.js';
import { addDataCommand } from './data.js';
import { addEvalCommand } from './eval.js';
import { addExportCommand } from './export.js';
import { addImportCommand } from './import.js';
import { addModelsCommand } from './models.js';
import { choiceOption } from './options.js';
import { addTrainCommand } from './train.js';

function version(): string {
  const pkg: { version?: string } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
  return pkg.version ?? '0.0.0';
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command();
  program
    .name('leantrain')
    .description('Train CNNs fast on CPUs in Node.js, with sparse back-propagation')
    .version(version())
    .option('--backend <name>', 'kernels: native (default when built) or ref', choiceOption('--backend', ['native', 'ref'] as const))
    .exitOverride()
    .hook('preAction', (cmd) => {
      const b = cmd.opts().backend as 'native' | 'ref' | undefined;
      if (b) selectBackend(b);
    });
  addTrainCommand(program);
  addBenchCommand(program);
  addModelsCommand(program);
  addExperimentCommand(program);
  addExportCommand(program);
  addImportCommand(program);
  addEvalCommand(program);
  addDataCommand(program);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander already printed the message (help and version exit with code 0).
      return e.exitCode;
    }
    if (e instanceof LeantrainError) {
      process.stderr.write(`leantrain: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`leantrain: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 70;
  },
);
