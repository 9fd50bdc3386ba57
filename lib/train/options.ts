/**
 * fit's options, checked and given their defaults before anything changes.
 */
import { checkBool, checkInt, checkNumber, checkOptions, describe, fail } from '../validate';
import { schedulerCallback } from './scheduler';
import { isDataSource } from '../data/dataset';
import type { Callback, FitOptions, LossFn, Metric, OptimizerLike, ProgressStream, Targets } from './types';

export const FIT_KEYS = [
  'epochs', 'batchSize', 'shuffle', 'validationSplit', 'validationData', 'loss', 'optimizer', 'metrics',
  'callbacks', 'seed', 'dropLast', 'verbose', 'output', 'resume', 'offThread', 'scheduler', 'schedulerStep', 'shuffleBuffer',
] as const;

/** fit's options with their defaults; batchSize stays optional (its default needs the data). */
export interface FitConfig {
  epochs: number;
  batchSize: number | undefined;
  shuffle: boolean;
  dropLast: boolean;
  seed: number;
  verbose: 0 | 1 | 2;
  split: number;
  validationData: [unknown, Targets] | undefined;
  loss: LossFn;
  optimizer: OptimizerLike;
  metrics: Metric[];
  accuracy: boolean;
  callbacks: Callback[];
  output: ProgressStream;
  /** A saved trainer state to continue from (checked against the data in fit). */
  resume: unknown;
  /** Items an iterable source is shuffled through (0: none). */
  shuffleBuffer: number;
}

function checkMetrics(v: unknown): Metric[] {
  const metrics = given(v, []);
  if (!Array.isArray(metrics)) fail('type', "array of metric names (e.g. ['accuracy'])", 'metrics', describe(metrics));
  metrics.forEach((m, i) => {
    if (m !== 'accuracy') fail('range', "'accuracy'", `metrics[${i}]`, describe(m));
  });
  return metrics as Metric[];
}

/** Checks a loss object: forward and backward functions. */
export function checkLoss(loss: unknown): LossFn {
  const l = loss as LossFn | null | undefined;
  if (!l || typeof l.forward !== 'function' || typeof l.backward !== 'function') fail('type', 'loss (e.g. new CrossEntropyLoss())', 'loss', describe(loss));
  return l;
}

/** Callbacks: an array of objects whose hooks, where present, are functions. */
function checkCallbacks(v: unknown): Callback[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail('type', 'array of callback objects', 'callbacks', describe(v));
  v.forEach((c, i) => {
    if (c === null || typeof c !== 'object') fail('type', 'callback object', `callbacks[${i}]`, describe(c));
    for (const hook of ['onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onBatchBegin', 'onBatchEnd'] as const) {
      const f = (c as Record<string, unknown>)[hook];
      if (f !== undefined && typeof f !== 'function') fail('type', 'function', `callbacks[${i}].${hook}`, describe(f));
    }
  });
  return v as Callback[];
}

/** The progress stream: anything with a write method. */
function checkOutput(v: unknown): ProgressStream {
  if (v === undefined) return process.stdout;
  if (v === null || typeof v !== 'object' || typeof (v as { write?: unknown }).write !== 'function') {
    fail('type', 'writable stream (an object with write())', 'output', describe(v));
  }
  return v as ProgressStream;
}

/** An option's value, or its default when the option is absent (null is a value, and is checked). */
export const given = <T>(v: T | undefined, d: T): T => (v === undefined ? d : v);

export function parseFitOptions(options: FitOptions): FitConfig {
  checkOptions(options, FIT_KEYS, 'fit');
  if (!options) fail('type', 'options object with loss and optimizer', 'fit options', describe(options));
  const verbose = given(options.verbose, 1);
  if (verbose !== 0 && verbose !== 1 && verbose !== 2) fail('range', '0, 1 or 2', 'verbose', describe(verbose));
  const split = checkNumber(given(options.validationSplit, 0), 'validationSplit', 0, 1, 'number in [0, 1)');
  if (split >= 1) fail('range', 'number in [0, 1)', 'validationSplit', describe(split));
  const loss = checkLoss(options.loss);
  const opt = options.optimizer;
  if (!opt || typeof opt.step !== 'function' || typeof opt.zeroGrad !== 'function') fail('type', 'optimizer (e.g. new SGD(model.parameters(), { lr }))', 'optimizer', describe(opt));
  const metrics = checkMetrics(options.metrics);
  const callbacks = checkCallbacks(options.callbacks);
  const output = checkOutput(options.output);
  const vd = options.validationData;
  if (vd !== undefined && !isDataSource(vd) && (!Array.isArray(vd) || (vd as unknown[]).length !== 2)) fail('type', '[x, y] pair or a dataset', 'validationData', describe(vd));
  return {
    epochs: checkInt(given(options.epochs, 1), 'epochs', 1),
    batchSize: options.batchSize,
    shuffle: checkBool(given(options.shuffle, true), 'shuffle'),
    dropLast: checkBool(given(options.dropLast, false), 'dropLast'),
    seed: checkInt(given(options.seed, 0), 'seed', 0),
    verbose,
    split,
    validationData: vd !== undefined && isDataSource(vd) ? ([vd, undefined] as unknown as [unknown, Targets]) : (vd as [unknown, Targets] | undefined),
    loss,
    optimizer: opt,
    metrics,
    accuracy: metrics.includes('accuracy'),
    // the schedule steps before the callbacks see the epoch (or batch) end, as a PyTorch loop steps it
    // before it logs or saves: a checkpoint written then holds the schedule of the next epoch
    callbacks: [...schedulerCallback(options.scheduler, options.schedulerStep, opt), ...callbacks],
    output,
    resume: options.resume,
    shuffleBuffer: checkInt(given(options.shuffleBuffer, 0), 'shuffleBuffer', 0),
  };
}


export { checkMetrics };
