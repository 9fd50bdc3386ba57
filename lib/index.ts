/**
 * minibatch — neural-network training on the CPU for Node.js: a C++ core (SIMD + OpenMP) behind
 * N-API, a pure-TypeScript backend with the same numerics, and a small typed API.
 */
import { getBackend } from './backend/index';
import type { Capabilities } from './backend/types';
import { checkInt } from './validate';

export type {
  Backend,
  BackendName,
  Capabilities,
  SimdLevel,
  ActivationKind,
  Conv2dParams,
  Pool2dParams,
  LabelArray,
} from './backend/types';
export { getBackend, setBackend } from './backend/index';
/** Raw backends and test hooks: unchecked, not the public contract (see lib/testing.ts). */
export * as testing from './testing';
export { VERSION as version } from './version';
export { tensor, toTensor, sizeOf } from './tensor';
export type { Tensor, TensorLike, NestedArray } from './tensor';
export { Generator } from './random';
export type { ParamArena, ParamView } from './params';
export * as init from './init';
export type { Initializer, InitContext } from './init';
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

/** What the library runs on: backend, SIMD level chosen at run time, OpenMP, threads, version. */
export function capabilities(): Capabilities {
  return getBackend().capabilities();
}

/** Threads the native kernels use from now on (in the calling thread; a worker has its own). */
export function setNumThreads(n: number): void {
  checkInt(n, 'n', 1, 1024);
  getBackend().setNumThreads(n);
}

export function getNumThreads(): number {
  return getBackend().getNumThreads();
}
export { Flatten, Dropout } from './layers/reshape';
export type { DropoutArgs } from './layers/reshape';
export { Sequential } from './model';
export type { SequentialArgs, StateDict, StateEntry } from './model';
export {
  Optimizer, SGD, Adam, AdamW, RMSProp, clipGradNorm, clipGradValue,
  LRScheduler, StepLR, ExponentialLR, CosineAnnealingLR, LinearWarmup, SequentialLR,
} from './optim';
export { fit, evaluate, predict, EarlyStopping, NonFiniteLossError } from './train';
export type { FitOptions, History, Callback, Logs, LossFn, OptimizerLike, EvaluateOptions, PredictOptions, EarlyStoppingOptions } from './train';
export { activationStats, formatStats } from './diagnostics';
export type { LayerStats } from './diagnostics';
export { saveModel, loadModel, encodeSafetensors, decodeSafetensors } from './io';
export type {
  Params, OptimizerState, SGDOptions, AdamOptions, RMSPropOptions, StepLROptions, ExponentialLROptions,
  CosineAnnealingLROptions, LinearWarmupOptions, SequentialLROptions,
} from './optim';
export { CrossEntropyLoss, MSELoss, BCEWithLogitsLoss, MultiMarginLoss } from './losses';
export type { Loss, ClassTargets, CrossEntropyLossArgs, ElementwiseLossArgs, MultiMarginLossArgs } from './losses';
export { StandardScaler, MeanCenter, ChannelNormalizer, PCA, ZCA } from './preprocess';
export type { DataInput, ChannelNormalizerArgs, PCAArgs, ZCAArgs } from './preprocess';
export { symmetricEigen } from './linalg';
export type { SymmetricEigen } from './linalg';
export { BatchNorm1d, BatchNorm2d, LayerNorm, InstanceNorm2d, GroupNorm } from './layers/norm';
export type { BatchNormArgs, LayerNormArgs, InstanceNormArgs, GroupNormArgs } from './layers/norm';
