/** `leantrain data download <name> --dir DIR`: official files, checksums verified (src/data/download.ts). */
import type { Command } from 'commander';
import { downloadDataset, DOWNLOADS } from '../data/download.js';

interface DownloadFlags {
  dir: string;
  baseUrl?: string;
}

/** A progress line on stderr: redrawn in place on a terminal, every 10% otherwise. */
function progressPrinter(): (file: string, bytes: number, total: number | null) => void {
  const tty = process.stderr.isTTY === true;
  let lastTenth = -1;
  let lastFile = '';
  return (file, bytes, total) => {
    if (file !== lastFile) {
      lastFile = file;
      lastTenth = -1;
    }
    const mb = (bytes / 1e6).toFixed(1);
    const pct = total ? Math.floor((100 * bytes) / total) : null;
    const line = `${file}: ${mb}${total ? ` / ${(total / 1e6).toFixed(1)} MB (${pct}%)` : ' MB'}`;
    if (tty) {
      const width = 30;
      const bar = total ? `[${'#'.repeat(Math.round((width * bytes) / total)).padEnd(width, '.')}] ` : '';
      process.stderr.write(`\r${bar}${line}`);
      if (total && bytes >= total) process.stderr.write('\n');
    } else {
      const tenth = pct === null ? Math.floor(bytes / 1e7) : Math.floor(pct / 10);
      if (tenth !== lastTenth) {
        lastTenth = tenth;
        process.stderr.write(`${line}\n`);
      }
    }
  };
}

export function addDataCommand(program: Command): void {
  const data = program.command('data').description('data sets');
  data
    .command('download <name>')
    .description(`download a data set from its official location and verify the checksums (${Object.keys(DOWNLOADS).join(', ')})`)
    .requiredOption('--dir <dir>', 'directory to put the files in (then use it as --data-dir)')
    .option('--base-url <url>', 'a mirror with the same file names')
    .action(async (name: string, f: DownloadFlags) => {
      const files = await downloadDataset(name, f.dir, {
        baseUrl: f.baseUrl,
        progress: progressPrinter(),
        info: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(`${name}: ${files.length} file(s) written to ${f.dir}; train with --dataset ${name} --data-dir ${f.dir}\n`);
    });
}
