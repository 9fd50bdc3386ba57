/**
 * The trainer's public types: what fit / evaluate / predict take and give back.
 */
import type { Tensor } from '../tensor';
import type { Labels, Loss } from '../losses';
import type { Sequential } from '../model';
import type { TrainerState } from '../io/state';

/** What fit tells its callbacks when training begins. */
export interface TrainContext {
  model: Sequential;
  optimizer: OptimizerLike;
  /** The trainer's state now (after the epochs done), to save for an exact resume. */
  trainerState(): TrainerState;
}

/** The trainer takes any Loss (lib/losses.ts): the stock losses or an object of the same shape. */
export type LossFn = Loss;

/**
 * An optimizer over the model's parameter arena. fit calls step() once a step and zeroes the
 * model's gradients itself (once a step); a stock Optimizer's buffers and step count are also
 * part of what the NaN guard rolls back.
 */
export interface OptimizerLike {
  step(): void;
  zeroGrad(): void;
}

export type Metric = 'accuracy';
export type { Labels };

/** Class indices, or regression targets (a tensor with one row per sample). */
export type Targets = Labels | Tensor | Float32Array | number[][];

/** What an epoch logs; the history and the progress line use these same names. */
export interface Logs {
  loss: number;
  accuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  [k: string]: number | undefined;
}

export interface Callback {
  onTrainBegin?(context: TrainContext): void | Promise<void>;
  onTrainEnd?(logs: Logs | null): void | Promise<void>;
  onEpochBegin?(epoch: number): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: Logs): void | Promise<void>;
  /** Before each step; `size` is the number of samples in the batch. */
  onBatchBegin?(batch: number, logs: { size: number }): void | Promise<void>;
  onBatchEnd?(batch: number, logs: { loss: number; size: number }): void | Promise<void>;
  /** Set by a callback to end training after the current epoch. */
  stopTraining?: boolean;
}

/** A writable stream for the progress output (process.stdout by default). */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** A learning-rate schedule fit can step: a closed-form LRScheduler or ReduceLROnPlateau. */
export interface SchedulerLike {
  step(metric?: number): void;
}

export interface FitOptions {
  /**
   * A learning-rate schedule of the optimizer, stepped by fit after each epoch (default) or each
   * batch (schedulerStep: 'batch', e.g. OneCycleLR). ReduceLROnPlateau is stepped each epoch with
   * its monitored log (default valLoss, or loss when there is no validation data). It steps before
   * the callbacks' onEpochEnd / onBatchEnd, so a ModelCheckpoint saves the schedule of what comes next.
   */
  scheduler?: SchedulerLike;
  /** When fit steps the scheduler: 'epoch' (default) or 'batch'. */
  schedulerStep?: 'epoch' | 'batch';
  /** Passes over the training data. Default 1. */
  epochs?: number;
  /** Samples per step: 1 is SGD, N is full-batch descent. Default 32 (or N when smaller). */
  batchSize?: number;
  /** Reshuffle the training data every epoch (seeded). Default true. */
  shuffle?: boolean;
  /**
   * Fraction in [0, 1) held out for validation, taken after one seeded shuffle (arrays and a
   * Dataset; an iterable source takes validationData instead). Default 0.
   */
  validationSplit?: number;
  /** Explicit validation data [x, y] (takes precedence over validationSplit). */
  validationData?: [unknown, Targets] | import('../data/dataset').DataSource;
  /** The loss. Required. */
  loss: LossFn;
  /** The optimizer over model.parameters(). Required. */
  optimizer: OptimizerLike;
  /** Metrics besides the loss. Default: none. */
  metrics?: Metric[];
  callbacks?: Callback[];
  /**
   * For an iterable source: shuffle its items (samples, or the batches it yields) through a buffer
   * of this many, seeded by `seed` (tf.data's shuffle(bufferSize)); 0 for the source's order.
   * Not for arrays or a Dataset, which fit shuffles by a full permutation. Default 0.
   */
  shuffleBuffer?: number;
  /** Seed of the shuffling generator. Default 0. */
  seed?: number;
  /** Skip the last incomplete batch of each epoch. Default false. */
  dropLast?: boolean;
  /** 0 silent, 1 progress bar on a terminal (one line per epoch otherwise), 2 one line per epoch. Default 1. */
  verbose?: 0 | 1 | 2;
  /** Where progress goes. Default process.stdout. */
  output?: ProgressStream;
  /**
   * Continue a run where it stopped: the saved shuffling generator and sample order (same data,
   * same seed), from `history.trainerState` or `loadCheckpoint(path).trainer`. Arrays and a Dataset
   * continue their sample order; an iterable source its epoch count and shuffleBuffer generator.
   */
  resume?: TrainerState;
  /**
   * Run the steps in a worker thread the library manages, leaving the event loop free; results
   * are bit for bit the in-thread ones. Needs the library's own losses, optimizers and layers.
   * Default false.
   */
  offThread?: boolean;
}

export interface History {
  epoch: number[];
  history: { loss: number[]; accuracy?: number[]; valLoss?: number[]; valAccuracy?: number[] };
  /** Where training stopped: save it with the model (saveModel's `trainer`) to resume exactly. */
  trainerState: TrainerState;
}

export interface EvaluateOptions {
  loss: LossFn;
  /** Samples per forward pass. Default 256. */
  batchSize?: number;
  metrics?: Metric[];
}

export interface PredictOptions {
  /** Rows per forward pass. Default 256. */
  batchSize?: number;
  /** Reject NaN and infinite inputs, naming the row (one pass over x). Default true. */
  checkFinite?: boolean;
}

/** evaluate's result: the loss, and accuracy when it was asked for. */
export interface EvaluateResult {
  loss: number;
  accuracy?: number;
}
