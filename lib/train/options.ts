/**
 * fit's options, checked and given their defaults before anything changes.
 */
import { checkBool, checkInt, checkNumber, checkOptions, describe, fail } from '../validate';
import type { Callback, FitOptions, LossFn, Metric, OptimizerLike, ProgressStream, Targets } from './types';

const FIT_KEYS = [
  'epochs', 'batchSize', 'shuffle', 'validationSplit', 'validationData', 'loss', 'optimizer', 'metrics',
  'callbacks', 'seed', 'dropLast', 'verbose', 'output', 'resume',
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
}

function checkMetrics(v: unknown): Metric[] {
  const metrics = v ?? [];
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

export function parseFitOptions(options: FitOptions): FitConfig {
  checkOptions(options, FIT_KEYS, 'fit');
  if (!options) fail('type', 'options object with loss and optimizer', 'fit options', describe(options));
  const verbose = options.verbose ?? 1;
  if (verbose !== 0 && verbose !== 1 && verbose !== 2) fail('range', '0, 1 or 2', 'verbose', describe(verbose));
  const split = checkNumber(options.validationSplit ?? 0, 'validationSplit', 0, 1, 'number in [0, 1)');
  if (split >= 1) fail('range', 'number in [0, 1)', 'validationSplit', describe(split));
  const loss = checkLoss(options.loss);
  const opt = options.optimizer;
  if (!opt || typeof opt.step !== 'function' || typeof opt.zeroGrad !== 'function') fail('type', 'optimizer (e.g. new SGD(model.parameters(), { lr }))', 'optimizer', describe(opt));
  const metrics = checkMetrics(options.metrics);
  const vd = options.validationData;
  if (vd !== undefined && (!Array.isArray(vd) || vd.length !== 2)) fail('type', '[x, y] pair', 'validationData', describe(vd));
  return {
    epochs: checkInt(options.epochs ?? 1, 'epochs', 1),
    batchSize: options.batchSize,
    shuffle: checkBool(options.shuffle ?? true, 'shuffle'),
    dropLast: checkBool(options.dropLast ?? false, 'dropLast'),
    seed: checkInt(options.seed ?? 0, 'seed', 0),
    verbose,
    split,
    validationData: vd,
    loss,
    optimizer: opt,
    metrics,
    accuracy: metrics.includes('accuracy'),
    callbacks: options.callbacks ?? [],
    output: options.output ?? process.stdout,
    resume: options.resume,
  };
}

export { checkMetrics };
