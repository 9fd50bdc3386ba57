/**
 * minibatch — neural-network training on the CPU for Node.js: a C++ core (SIMD + OpenMP) behind
 * N-API, a pure-TypeScript backend with the same numerics, and a small typed API.
 *
 * The public surface, by module. `testing` holds the raw backends and test hooks: unchecked, not
 * part of this contract.
 */

// ---- backend: selection, capabilities, threads
export { getBackend, setBackend, capabilities, setNumThreads, getNumThreads } from './backend/index';
export type {
  Backend, BackendName, Capabilities, SimdLevel, ActivationKind, Conv2dParams, Pool2dParams,
} from './backend/types';
/** Raw backends and test hooks: unchecked, not the public contract (see lib/testing.ts). */
export * as testing from './testing';
export { VERSION as version } from './version';

// ---- tensors, randomness, parameters
export { tensor, toTensor, sizeOf } from './tensor';
export { StateError } from './validate';
export type { Tensor, TensorLike, NestedArray } from './tensor';
export { Generator } from './random';
export type { ParamArena, ParamView } from './params';

// ---- initializers
export * as init from './init';
export type { Initializer, InitContext } from './init';

// ---- layers
export { Layer } from './layers/layer';
export type { LayerArgs, Param, StateBuffer } from './layers/layer';
export { Linear } from './layers/linear';
export type { LinearArgs } from './layers/linear';
export { ReLU, LeakyReLU, ELU, Sigmoid, Tanh, Maxout } from './layers/activation';
export type { LeakyReLUArgs, ELUArgs, MaxoutArgs } from './layers/activation';
export { Conv2d } from './layers/conv';
export type { Conv2dArgs } from './layers/conv';
export { MaxPool2d, AvgPool2d } from './layers/pool';
export type { Pool2dArgs } from './layers/pool';
export { BatchNorm1d, BatchNorm2d, LayerNorm, InstanceNorm2d, GroupNorm } from './layers/norm';
export type { BatchNormArgs, LayerNormArgs, InstanceNormArgs, GroupNormArgs } from './layers/norm';
export { Flatten, Dropout } from './layers/reshape';
export type { DropoutArgs } from './layers/reshape';
export { Identity, Softmax, GlobalAvgPool2d, AdaptiveAvgPool2d } from './layers/blocks';
export type { AdaptiveAvgPool2dArgs } from './layers/blocks';
export { Container, Block, Residual, Concat } from './layers/containers';
export type { ResidualArgs } from './layers/containers';

// ---- models
export { Sequential } from './model';
export type { SequentialArgs, StateDict, StateEntry } from './model';

// ---- losses
export { CrossEntropyLoss, MSELoss, BCEWithLogitsLoss, MultiMarginLoss } from './losses';
export type { Loss, Labels, CrossEntropyLossArgs, ElementwiseLossArgs, MultiMarginLossArgs } from './losses';

// ---- optimizers, clipping, schedules
export {
  Optimizer, SGD, Adam, AdamW, RMSProp, clipGradNorm, clipGradValue,
  LRScheduler, StepLR, ExponentialLR, CosineAnnealingLR, LinearWarmup, SequentialLR, ReduceLROnPlateau, OneCycleLR,
} from './optim';
export type {
  Params, OptimizerState, OptimizerSnapshot, SGDOptions, AdamOptions, RMSPropOptions, StepLROptions,
  ExponentialLROptions, CosineAnnealingLROptions, LinearWarmupOptions, SequentialLROptions,
  ReduceLROnPlateauOptions, OneCycleLROptions,
} from './optim';

// ---- trainer
export { ArrayDataset } from './data/dataset';
export { FileDataset } from './data/file';
export type { FileDatasetOptions } from './data/file';
export { csvBatches, readCsv } from './data/csv';
export type { CsvOptions } from './data/csv';
export type { Dataset, Batch, Sample, BatchIterable, DataSource } from './data/dataset';
export { fit, evaluate, predict, EarlyStopping, NonFiniteLossError } from './train';
export type {
  FitOptions, History, Callback, TrainContext, Logs, Metric, Targets, OptimizerLike, EvaluateOptions, Evaluation,
  PredictOptions, EarlyStoppingOptions, ProgressStream, SchedulerLike,
} from './train';

// ---- preprocessing and linear algebra
export { StandardScaler, MeanCenter, ChannelNormalizer, PCA, ZCA } from './preprocess';
export type { DataInput, ChannelNormalizerArgs, PCAArgs, ZCAArgs } from './preprocess';
/** The symmetric eigendecomposition PCA and ZCA use (Jacobi, float64), public for whitening by hand. */
export { symmetricEigen } from './linalg';
export type { SymmetricEigen } from './linalg';

// ---- off the event loop: async inference, the inference pool, snapshots
export { predictAsync, closeInferenceWorker } from './async/predict';
export { snapshot } from './async/state';
export { InferencePool } from './async/pool';
export type { InferencePoolOptions, PoolStats } from './async/pool';

// ---- diagnostics
export { activationStats, formatStats, StatsRecorder, initExperiment, compareInits, LECTURE_CASES, report, initReport, saveRun, loadRun } from './diagnostics';
export type {
  LayerStats, StatsRecorderOptions, StatsJSON, StepRecord, LayerStepStats, ParamStepStats, InitExperimentOptions,
  InitExperimentCase, InitExperimentResult, InitLayerResult, ReportOptions, ReportResult, InitReportOptions, RunFile,
} from './diagnostics';

// ---- checkpoints (whole-model safetensors files, the layer registry, the codec) and ONNX export
export {
  saveModel, loadModel, loadCheckpoint, loadWeights, encodeSafetensors, decodeSafetensors,
  registerLayer, registeredLayers, layerFromConfig, sequentialFromConfig, ModelCheckpoint, exportOnnx, encodeOnnx,
} from './io';
export type { SaveOptions, LoadOptions, Checkpoint, LoadReport, TrainerState, LayerClass, ModelCheckpointOptions, OnnxOptions } from './io';
