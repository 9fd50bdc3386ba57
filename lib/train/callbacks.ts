/**
 * Stock callbacks: EarlyStopping, with Keras's and tfjs's rule for patience.
 */
import { Sequential } from '../model';
import { checkBool, checkInt, checkNumber, checkOptions, describe, fail } from '../validate';
import type { Callback, History, Logs } from './types';
import type { Progress } from './progress';

export interface EarlyStoppingOptions {
  /** Logged quantity to watch. Default 'valLoss' (falls back to 'loss' without validation). */
  monitor?: string;
  /**
   * Epochs in a row without improvement after which training stops (Keras's rule: stop when the
   * count of such epochs reaches patience; 0 and 1 both stop at the first one). Default 3.
   */
  patience?: number;
  /** Smallest change that counts as improvement, >= 0. Default 0. */
  minDelta?: number;
  /** 'min' for losses, 'max' for accuracies. Default 'max' when monitor names an accuracy, else 'min'. */
  mode?: 'min' | 'max';
  /** Put back the best epoch's parameters and buffers when training ends. Default false. */
  restoreBestWeights?: boolean;
}

/** Stops training when the monitored quantity stops improving. */
export class EarlyStopping implements Callback {
  stopTraining = false;
  stoppedEpoch: number | null = null;
  bestEpoch = -1;
  best: number;
  private wait = 0;
  private bestState: Float32Array[] | null = null;
  private readonly monitor: string;
  private readonly patience: number;
  private readonly minDelta: number;
  private readonly mode: 'min' | 'max';
  private readonly restore: boolean;

  constructor(private model: Sequential, opts: EarlyStoppingOptions = {}) {
    if (!(model instanceof Sequential)) fail('type', 'Sequential model', 'model', describe(model));
    checkOptions(opts, ['monitor', 'patience', 'minDelta', 'mode', 'restoreBestWeights'], 'EarlyStopping');
    if (opts.monitor !== undefined && typeof opts.monitor !== 'string') fail('type', 'string', 'monitor', describe(opts.monitor));
    this.monitor = opts.monitor ?? 'valLoss';
    this.patience = checkInt(opts.patience ?? 3, 'patience', 0);
    this.minDelta = checkNumber(opts.minDelta ?? 0, 'minDelta', 0);
    this.mode = opts.mode ?? (this.monitor.toLowerCase().includes('acc') ? 'max' : 'min');
    if (this.mode !== 'min' && this.mode !== 'max') fail('range', "'min' or 'max'", 'mode', describe(this.mode));
    this.restore = checkBool(opts.restoreBestWeights ?? false, 'restoreBestWeights');
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  private arrays(): Float32Array[] {
    return [this.model.parameters().data, ...this.model.layers.flatMap((l) => l.buffers().map((b) => b.data))];
  }

  onTrainBegin(): void {
    this.stopTraining = false;
    this.wait = 0;
    this.bestEpoch = -1;
    this.best = this.mode === 'min' ? Infinity : -Infinity;
    this.bestState = null;
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    const v = logs[this.monitor] ?? (this.monitor === 'valLoss' ? logs.loss : undefined);
    if (v === undefined) throw new RangeError(`Expected a logged quantity (${Object.keys(logs).join(', ')}) for EarlyStopping monitor but received '${this.monitor}'`);
    const improved = this.mode === 'min' ? v < this.best - this.minDelta : v > this.best + this.minDelta;
    if (improved) {
      this.best = v;
      this.bestEpoch = epoch;
      this.wait = 0;
      if (this.restore) {
        const now = this.arrays();
        if (this.bestState) now.forEach((a, i) => this.bestState![i].set(a));
        else this.bestState = now.map((a) => Float32Array.from(a));
      }
      return;
    }
    this.wait++;
    if (this.wait >= this.patience) {
      this.stopTraining = true;
      this.stoppedEpoch = epoch;
    }
  }

  onTrainEnd(): void {
    if (this.restore && this.bestState) this.arrays().forEach((a, i) => a.set(this.bestState![i]));
  }
}

/**
 * The end of an epoch, the same for arrays and streams: the logs go into the history, the progress
 * line and every onEpochEnd; returns whether a callback asks to stop.
 */
export async function endEpoch(history: History, epoch: number, logs: Logs, progress: Progress, callbacks: Callback[]): Promise<boolean> {
  history.epoch.push(epoch);
  const h = history.history as Record<string, number[]>;
  for (const [k, v] of Object.entries(logs)) if (v !== undefined) (h[k] ??= []).push(v);
  progress.epochEnd(epoch, logs);
  for (const cb of callbacks) await cb.onEpochEnd?.(epoch, logs);
  return callbacks.some((cb) => cb.stopTraining);
}
