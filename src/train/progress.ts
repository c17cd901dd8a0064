/**
 * Progress display: a redrawn bar on a TTY, plain lines otherwise (logs, CI, pipes).
 * Shows loss, accuracy, images/s and the epoch's ETA.
 */

export interface ProgressState {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  loss: number;
  accuracy: number;
  imagesPerSec: number;
  etaSec: number;
}

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '--:--';
  const s = Math.round(sec);
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m % 60)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}

function describe(s: ProgressState): string {
  return (
    `loss ${s.loss.toFixed(4)}  acc ${(100 * s.accuracy).toFixed(2)}%  ` +
    `${s.imagesPerSec.toFixed(0)} img/s  ETA ${formatDuration(s.etaSec)}`
  );
}

export class Progress {
  private lastPlain = 0;
  private drawn = false;

  /**
   * @param stream where to draw (stderr when stdout carries --json output)
   * @param plainEverySec with no TTY, print a line at most this often
   */
  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly plainEverySec = 10,
  ) {}

  get isTTY(): boolean {
    return this.stream.isTTY === true;
  }

  update(s: ProgressState): void {
    const now = Date.now() / 1000;
    if (this.isTTY) {
      const width = 24;
      const filled = Math.round((width * s.batch) / Math.max(1, s.batches));
      const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
      this.stream.write(`\r\x1b[2Kepoch ${s.epoch}/${s.epochs} [${bar}] ${s.batch}/${s.batches}  ${describe(s)}`);
      this.drawn = true;
    } else if (now - this.lastPlain >= this.plainEverySec || s.batch === s.batches) {
      this.lastPlain = now;
      this.stream.write(`epoch ${s.epoch}/${s.epochs} batch ${s.batch}/${s.batches}  ${describe(s)}\n`);
    }
  }

  /** Ends a redrawn bar before a normal line is printed. */
  line(text: string): void {
    if (this.drawn) {
      this.stream.write('\r\x1b[2K');
      this.drawn = false;
    }
    this.stream.write(`${text}\n`);
  }
}
