/**
 * Parameter storage. A model's parameters live in one Float32Array arena and its gradients in
 * another, with named views; optimizers update an arena in one call.
 */
import type { Backend } from './backend/types';

/** One named parameter inside an arena: data.subarray(offset, offset + size). */
export interface ParamView {
  /** PyTorch-style key, e.g. `0.weight` in a model or `weight` in a single layer. */
  readonly name: string;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly size: number;
}

/** Values and gradients of a set of parameters, each in one contiguous Float32Array. */
export interface ParamArena {
  readonly data: Float32Array;
  readonly grad: Float32Array;
  readonly views: readonly ParamView[];
  /** The backend of the model that owns the arena, when it was given one (optimizers default to it). */
  readonly backend?: Backend;
}
