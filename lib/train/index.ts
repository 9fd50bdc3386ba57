/**
 * The mini-batch trainer: fit / evaluate / predict, callbacks, progress, the shared step.
 *
 * Files: types.ts (public types), options.ts (fit's options), data.ts (datasets and batches),
 * step.ts (createTrainStep and the NaN/Inf guard), fit.ts (the loop), evaluate.ts (evaluate,
 * predict), callbacks.ts (EarlyStopping), progress.ts (the progress line).
 */
export { fit } from './fit';
export { evaluate, predict } from './evaluate';
export type { Evaluation } from './evaluate';
export { EarlyStopping } from './callbacks';
export type { EarlyStoppingOptions } from './callbacks';
export { NonFiniteLossError, createTrainStep } from './step';
export type { StepPosition, StepResult, TrainStep, TrainStepOptions } from './step';
export type {
  Callback, TrainContext, EvaluateOptions, EvaluateResult, FitOptions, History, Labels, Logs, LossFn, Metric, OptimizerLike,
  PredictOptions, ProgressStream, SchedulerLike, Targets,
} from './types';
