/**
 * ModelCheckpoint: a fit callback that saves the whole checkpoint (model, optimizer, a schedule
 * when given, trainer state for an exact resume) every N epochs, or only when a monitored metric improves (mode 'min' for
 * losses, 'max' for accuracies). `{epoch}` in the path is replaced by the epoch number (1-based,
 * counting resumed epochs), so every-N checkpoints can be kept side by side.
 */
import type { Callback, Logs, TrainContext } from '../train';
import { LRScheduler, Optimizer } from '../optim';
import { checkInt, checkOptions, describe, fail, StateError } from '../validate';
import { checkPath } from './atomic';
import { saveModel } from './checkpoint';

export interface ModelCheckpointOptions {
  /** File to write; `{epoch}` is replaced by the epoch number. Required. */
  path: string;
  /** Save (or, with monitor, check) every this many epochs. Default 1. */
  every?: number;
  /** A log name ('valLoss', 'loss', 'valAccuracy', ...): save only when it improves. Default: none. */
  monitor?: string;
  /** Whether lower ('min', default) or higher ('max') values of monitor are better. */
  mode?: 'min' | 'max';
  /** Preprocessing to store alongside (see saveModel). */
  preprocess?: unknown;
  /** Extra JSON to store alongside (see saveModel). */
  extra?: unknown;
  /**
   * A schedule of fit's optimizer to store with it (its epoch; OneCycleLR's cycled momentum is the
   * optimizer's), so that fit can continue it with `scheduler: loadCheckpoint(path).scheduler`.
   */
  scheduler?: LRScheduler;
}

export class ModelCheckpoint implements Callback {
  readonly path: string;
  readonly every: number;
  readonly monitor: string | null;
  readonly mode: 'min' | 'max';
  /** The best monitored value so far and its epoch (1-based), when monitoring. */
  best: number | null = null;
  bestEpoch: number | null = null;
  /** Every file written, in order. */
  readonly saved: string[] = [];
  private ctx: TrainContext | null = null;
  private readonly preprocess: unknown;
  private readonly extra: unknown;
  private readonly scheduler: LRScheduler | undefined;

  constructor(options: ModelCheckpointOptions) {
    checkOptions(options, ['path', 'every', 'monitor', 'mode', 'preprocess', 'extra', 'scheduler'], 'ModelCheckpoint');
    if (!options) fail('type', 'options object with path', 'ModelCheckpoint', describe(options));
    this.path = checkPath(options.path, 'path');
    this.every = checkInt(options.every ?? 1, 'every', 1);
    if (options.monitor !== undefined && (typeof options.monitor !== 'string' || !options.monitor)) fail('type', 'log name string (e.g. \'valLoss\')', 'monitor', describe(options.monitor));
    this.monitor = options.monitor ?? null;
    const mode = options.mode ?? 'min';
    if (mode !== 'min' && mode !== 'max') fail('range', "'min' or 'max'", 'mode', describe(mode));
    this.mode = mode;
    this.preprocess = options.preprocess;
    this.extra = options.extra;
    if (options.scheduler !== undefined && !(options.scheduler instanceof LRScheduler)) fail('type', 'LRScheduler (StepLR, OneCycleLR, ...)', 'scheduler', describe(options.scheduler));
    this.scheduler = options.scheduler;
  }

  onTrainBegin(context: TrainContext): void {
    if (this.scheduler && this.scheduler.optimizer !== context.optimizer) fail('range', "a schedule of fit's optimizer", 'scheduler', 'a schedule of another optimizer');
    this.ctx = context;
  }

  onEpochEnd(_epoch: number, logs: Logs): void {
    const ctx = this.ctx;
    if (!ctx) throw new StateError('ModelCheckpoint: onTrainBegin was not called; pass it in fit({ callbacks: [...] })');
    const state = ctx.trainerState();
    if (state.epochs % this.every !== 0) return;
    if (this.monitor !== null) {
      const v = logs[this.monitor];
      if (typeof v !== 'number') fail('range', `a log name of this fit (${Object.keys(logs).join(', ')})`, 'monitor', describe(this.monitor));
      const better = this.best === null || (this.mode === 'min' ? v < this.best : v > this.best);
      if (!better) return;
      this.best = v;
      this.bestEpoch = state.epochs;
    }
    const file = this.path.replace(/\{epoch\}/g, String(state.epochs));
    saveModel(ctx.model, file, {
      ...(ctx.optimizer instanceof Optimizer ? { optimizer: ctx.optimizer } : {}),
      ...(this.scheduler !== undefined ? { scheduler: this.scheduler } : {}),
      trainer: state,
      ...(this.preprocess !== undefined ? { preprocess: this.preprocess } : {}),
      ...(this.extra !== undefined ? { extra: this.extra } : {}),
    });
    this.saved.push(file);
  }
}
