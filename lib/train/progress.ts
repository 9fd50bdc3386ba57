/**
 * fit's progress output: a live bar on a terminal, one line per epoch otherwise, nothing with
 * verbose 0. The line names each value as the history does (loss, accuracy, valLoss, valAccuracy).
 */
import type { Logs, ProgressStream } from './types';

const LOGGED = ['loss', 'accuracy', 'valLoss', 'valAccuracy'] as const;

export class Progress {
  private t0 = 0;
  private lastDraw = 0;
  private readonly tty: boolean;
  constructor(
    private out: ProgressStream,
    private verbose: number,
    private epochs: number,
    private steps: number,
  ) {
    this.tty = verbose === 1 && !!out.isTTY;
  }
  epochBegin(): void {
    this.t0 = Date.now();
    this.lastDraw = 0;
  }
  batch(step: number, loss: number, accuracy: number | undefined, seen: number): void {
    if (!this.tty) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && step < this.steps) return;
    this.lastDraw = now;
    const el = (now - this.t0) / 1000;
    const rate = seen / Math.max(el, 1e-3);
    const eta = ((this.steps - step) * el) / step;
    const width = 24;
    const filled = Math.round((width * step) / this.steps);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const acc = accuracy !== undefined ? ` accuracy ${accuracy.toFixed(4)}` : '';
    const line = `${bar} ${step}/${this.steps} loss ${loss.toFixed(4)}${acc} ${Math.round(rate)} samples/s ETA ${eta.toFixed(1)}s`;
    this.out.write(`\r${line.slice(0, (this.out.columns ?? 120) - 1)}\x1b[K`);
  }
  epochEnd(epoch: number, logs: Logs): void {
    if (this.verbose === 0) return;
    const el = (Date.now() - this.t0) / 1000;
    const parts = [`epoch ${epoch + 1}/${this.epochs}`];
    for (const k of LOGGED) {
      const v = logs[k];
      if (v !== undefined) parts.push(`${k} ${v.toFixed(4)}`);
    }
    parts.push(`${el.toFixed(1)}s`);
    this.out.write(`${this.tty ? '\r\x1b[K' : ''}${parts.join(' - ')}\n`);
  }
}
