/**
 * Checkpoints: one safetensors file that is the whole model. It holds the state dict under
 * PyTorch's keys and layouts (float32; `num_batches_tracked` as int64, as torch keeps it), and in
 * its string metadata:
 *   format              'pt' (so safetensors' torch loader takes it)
 *   minibatch_format    the version of this layout, '1'
 *   minibatch_config    model.getConfig(): every layer's config and the input shape
 *   minibatch_rng       the generators of layers that draw at run time (Dropout), by layer index
 *                       (the state-dict path inside containers, '3.block.1')
 *   minibatch_extra     the caller's `extra`, as JSON
 * and, when given, the optimizer, schedule, preprocessing and trainer state of state.ts.
 * `loadModel(path)` rebuilds the model from the file alone; `loadCheckpoint(path)` also rebuilds what
 * else it holds. Writes are atomic (atomic.ts); reads check every size before trusting a byte.
 */
import * as fs from 'fs';
import { Sequential } from '../model';
import type { StateDict } from '../model';
import type { Backend, BackendName } from '../backend/types';
import type { Optimizer, LRScheduler } from '../optim';
import { Dropout } from '../layers/reshape';
import { withoutInit } from '../layers/layer';
import { dropoutLayers } from '../layers/containers';
import { checkBool, checkOptions, describe, fail } from '../validate';
import { atomicWrite, checkPath } from './atomic';
import { parseSafetensors, encodeSafetensors, toFloat32, toIntegers, record, RawTensor } from './safetensors';
import { sequentialFromConfig } from './registry';
import {
  Tensors, TrainerState, optimizerToTensors, optimizerFromTensors, schedulerConfig, schedulerFromConfig,
  preprocessToTensors, preprocessFromTensors, trainerToTensors, trainerFromTensors, parseJson,
} from './state';

export const FORMAT_VERSION = '1';

export interface SaveOptions {
  /** An optimizer over model.parameters(): its step count, hyper-parameters and buffers. */
  optimizer?: Optimizer;
  /** A schedule of that optimizer: its kind, options and epoch. */
  scheduler?: LRScheduler;
  /** A fitted transformer or a pipeline of them (StandardScaler, MeanCenter, ChannelNormalizer, PCA, ZCA). */
  preprocess?: unknown;
  /** The trainer's state to continue from (`history.trainerState` after fit). */
  trainer?: TrainerState;
  /** Any JSON-serializable value of the caller's, returned as `extra` by loadCheckpoint. */
  extra?: unknown;
}

/** Every Dropout of the model with its key (index, or state-dict path inside containers). */
function dropouts(model: Sequential): Array<[string, Dropout]> {
  return dropoutLayers(model.layers);
}

/** The model's state dict with `num_batches_tracked` as int64 (PyTorch's dtype). */
function modelTensors(model: Sequential): Tensors {
  const out: Tensors = record();
  for (const [k, e] of Object.entries(model.stateDict())) {
    out[k] = k.endsWith('num_batches_tracked') ? { shape: e.shape, data: BigInt64Array.from(e.data, (v) => BigInt(v)) } : e;
  }
  return out;
}

/** The bytes saveModel writes (exported for tests and for saving elsewhere than a file). */
export function encodeModel(model: Sequential, options: SaveOptions = {}): Uint8Array {
  if (!(model instanceof Sequential)) fail('type', 'Sequential model', 'model', describe(model));
  checkOptions(options, ['optimizer', 'scheduler', 'preprocess', 'trainer', 'extra'], 'saveModel');
  if (!model.built) fail('range', 'a built model (give inputShape, call build(inputShape) or train it first)', 'model', 'a model that is not built');
  const tensors = modelTensors(model);
  const meta: Record<string, string> = { format: 'pt', minibatch_format: FORMAT_VERSION, minibatch_config: JSON.stringify(model.getConfig()) };
  const rng: Record<string, number[]> = {};
  for (const [key, l] of dropouts(model)) if (l.generatorState()) rng[key] = l.generatorState()!;
  if (Object.keys(rng).length) meta.minibatch_rng = JSON.stringify(rng);
  if (options.optimizer !== undefined) meta.minibatch_optimizer = optimizerToTensors(options.optimizer, model, tensors);
  if (options.scheduler !== undefined) {
    if (options.optimizer === undefined) fail('range', 'the optimizer of the schedule as well', 'optimizer', 'undefined');
    meta.minibatch_scheduler = JSON.stringify(schedulerConfig(options.scheduler, options.optimizer));
  }
  if (options.preprocess !== undefined) meta.minibatch_preprocess = preprocessToTensors(options.preprocess, tensors);
  if (options.trainer !== undefined) meta.minibatch_trainer = trainerToTensors(options.trainer, tensors);
  if (options.extra !== undefined) {
    let s: string | undefined;
    try {
      s = JSON.stringify(options.extra);
    } catch (e) {
      fail('type', 'a JSON-serializable value', 'extra', `a value JSON cannot hold (${(e as Error).message})`);
    }
    if (s === undefined) fail('type', 'a JSON-serializable value', 'extra', describe(options.extra));
    meta.minibatch_extra = s;
  }
  return encodeSafetensors(tensors, meta);
}

/**
 * Saves the whole model to one safetensors file (see the header), atomically: a failed save leaves
 * the previous file as it was.
 */
export function saveModel(model: Sequential, path: string, options: SaveOptions = {}): void {
  if (!(model instanceof Sequential)) fail('type', 'Sequential model', 'model', describe(model));
  checkPath(path, 'path');
  atomicWrite(path, encodeModel(model, options));
}

/** Reads a file, with errors that name it. */
export function readCheckpointFile(path: unknown): Uint8Array {
  const p = checkPath(path, 'path');
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail('range', 'an existing checkpoint file', 'path', `'${p}' (${code === 'ENOENT' ? 'no such file' : code})`);
  }
  if (st.isDirectory()) fail('range', 'a checkpoint file', 'path', `'${p}', which is a folder`);
  return fs.readFileSync(p);
}

export interface LoadOptions {
  /** Backend of the rebuilt layers. Default: the current backend. */
  backend?: BackendName | Backend;
  /** Keys must match the architecture exactly. Default true. */
  strict?: boolean;
}

interface Parsed {
  file: string;
  tensors: Record<string, RawTensor>;
  metadata: Record<string, string>;
}

function parseFile(path: unknown): Parsed {
  const file = checkPath(path, 'path');
  const { tensors, metadata } = parseSafetensors(readCheckpointFile(file), file);
  return { file, tensors, metadata };
}

/** The model's tensors of a parsed file (keys without a '/'), as float32 state-dict entries. */
function stateOf(p: Parsed): StateDict {
  const sd: StateDict = record();
  for (const [k, t] of Object.entries(p.tensors)) {
    if (k.includes('/')) continue;
    const where = `${p.file}['${k}']`;
    if (t.dtype === 'I64' || t.dtype === 'I32') {
      if (!k.endsWith('num_batches_tracked')) fail('range', 'dtype F32, F16, BF16 or F64 (integers only for num_batches_tracked)', where, `dtype ${t.dtype}`);
      sd[k] = { shape: t.shape, data: Float32Array.from(toIntegers(t, where)) };
    } else sd[k] = { shape: t.shape, data: toFloat32(t) };
  }
  return sd;
}

function modelOf(p: Parsed, options: LoadOptions): Sequential {
  const cfgText = p.metadata.minibatch_config;
  if (cfgText === undefined) {
    fail('range', "a minibatch checkpoint (metadata 'minibatch_config' with the architecture)", p.file, 'a safetensors file without it: build the model in code and call model.loadWeights(path)');
  }
  const version = p.metadata.minibatch_format;
  if (version !== undefined && version !== FORMAT_VERSION) {
    fail('range', `checkpoint format ${FORMAT_VERSION} (minibatch_format)`, p.file, `format '${version}': written by another version of minibatch`);
  }
  const cfg = parseJson(cfgText, 'minibatch_config', p.file);
  if (options.strict ?? true) checkParameterBudget(cfg, p);
  // With strict loading every parameter is overwritten from the file: skip initializing them.
  const build = () => sequentialFromConfig(cfg, options.backend === undefined ? {} : { backend: options.backend });
  const model = options.strict ?? true ? withoutInit(build) : build();
  if (!model.built) fail('range', 'a config with the input shape', `${p.file} minibatch_config`, 'a model saved before it was built');
  loadInto(model, stateOf(p), p.file, options.strict ?? true);
  if (p.metadata.minibatch_rng !== undefined) {
    const rng = parseJson(p.metadata.minibatch_rng, 'minibatch_rng', p.file) as Record<string, number[]>;
    const byKey = new Map(dropouts(model));
    for (const [key, s] of Object.entries(rng ?? {})) {
      const l = byKey.get(key);
      if (!l) fail('range', "the key of a Dropout layer (its index, or its path in containers: '3.block.1')", `${p.file} minibatch_rng`, `'${key}'`);
      l.setGeneratorState(s);
    }
  }
  return model.eval();
}

/**
 * A hostile config must not make the loader allocate more than the file holds: with strict loading
 * every weight of the large layers is in the file, so their sizes are checked against its values
 * before any layer is built.
 */
function checkParameterBudget(cfg: unknown, p: Parsed): void {
  const layers = (cfg as { layers?: unknown })?.layers;
  if (!Array.isArray(layers)) return;
  let have = 0;
  for (const [k, t] of Object.entries(p.tensors)) if (!k.includes('/')) have += t.shape.reduce((a, d) => a * d, 1);
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);
  const pair = (v: unknown) => (Array.isArray(v) ? num(v[0]) * num(v[1]) : num(v) * num(v));
  let need = 0;
  // every layer config, containers' children included (layers, block, shortcut, branches)
  const walk = (l: unknown, depth: number): void => {
    if (!l || typeof l !== 'object' || depth > 64) return;
    const c = l as Record<string, unknown>;
    if (c.className === 'Linear') need += num(c.inFeatures) * num(c.outFeatures);
    else if (c.className === 'Maxout') need += num(c.inFeatures) * num(c.outFeatures) * num(c.pieces ?? 2);
    else if (c.className === 'Conv2d') need += (num(c.inChannels) * num(c.outChannels) * pair(c.kernelSize)) / Math.max(1, num(c.groups ?? 1));
    for (const k of ['layers', 'branches']) if (Array.isArray(c[k])) for (const x of c[k] as unknown[]) walk(x, depth + 1);
    for (const k of ['block', 'shortcut']) walk(c[k], depth + 1);
  };
  for (const l of layers) walk(l, 0);
  if (need > have) fail('range', `a config whose weights are in the file (${have} values)`, `${p.file} minibatch_config`, `layers of ${need} weights`);
}

function checkLoadOptions(options: unknown, name: string): LoadOptions {
  checkOptions(options, ['backend', 'strict'], name);
  const o = (options ?? {}) as LoadOptions;
  if (o.strict !== undefined) checkBool(o.strict, 'strict');
  return o;
}

/**
 * Rebuilds the model a checkpoint holds — architecture, weights and buffers — with no code from
 * the caller. The model comes back built and in eval mode (fit switches it to training).
 */
export function loadModel(path: string, options: LoadOptions = {}): Sequential {
  if ((path as unknown) instanceof Sequential) {
    throw new TypeError('Expected a file path string for path but received a Sequential model: loadModel(path) rebuilds the model from the file; to load weights into a model you built, call model.loadWeights(path)');
  }
  const o = checkLoadOptions(options, 'loadModel');
  return modelOf(parseFile(path), o);
}

export interface Checkpoint {
  model: Sequential;
  optimizer?: Optimizer;
  scheduler?: LRScheduler;
  /** The saved transformers, in order. */
  preprocess?: unknown[];
  /** Pass as fit's `resume` to continue the same sample order. */
  trainer?: TrainerState;
  extra?: unknown;
  /** The file's metadata as stored. */
  metadata: Record<string, string>;
}

/** Rebuilds everything a checkpoint holds: the model and, when saved, optimizer, schedule, preprocessing, trainer state. */
export function loadCheckpoint(path: string, options: LoadOptions = {}): Checkpoint {
  const o = checkLoadOptions(options, 'loadCheckpoint');
  const p = parseFile(path);
  const model = modelOf(p, o);
  const m = p.metadata;
  const ck: Checkpoint = { model, metadata: { ...m } };
  if (m.minibatch_optimizer !== undefined) ck.optimizer = optimizerFromTensors(m.minibatch_optimizer, p.tensors, model, p.file);
  if (m.minibatch_scheduler !== undefined) {
    if (!ck.optimizer) fail('range', 'an optimizer saved with the schedule', p.file, 'a schedule without one');
    ck.scheduler = schedulerFromConfig(parseJson(m.minibatch_scheduler, 'minibatch_scheduler', p.file), ck.optimizer, `${p.file} minibatch_scheduler`);
  }
  if (m.minibatch_preprocess !== undefined) ck.preprocess = preprocessFromTensors(m.minibatch_preprocess, p.tensors, p.file);
  if (m.minibatch_trainer !== undefined) ck.trainer = trainerFromTensors(m.minibatch_trainer, p.tensors, p.file);
  if (m.minibatch_extra !== undefined) ck.extra = parseJson(m.minibatch_extra, 'minibatch_extra', p.file);
  return ck;
}

/** What loadWeights found: keys the model has and the file lacks, and the other way round. */
export interface LoadReport {
  missing: string[];
  unexpected: string[];
}

/**
 * Loads the tensors of a safetensors file (ours or another writer's) into a built model. Every
 * missing, unexpected and mis-shaped key is listed in one error; with strict false, missing and
 * unexpected keys are allowed and reported, mis-shaped ones are still an error. Nothing changes
 * unless everything fits.
 */
export function loadWeights(model: Sequential, path: string, options: { strict?: boolean } = {}): LoadReport {
  if (!(model instanceof Sequential)) fail('type', 'Sequential model', 'model', describe(model));
  checkOptions(options, ['strict'], 'loadWeights');
  const strict = options.strict === undefined ? true : checkBool(options.strict, 'strict');
  if (!model.built) fail('range', 'a built model (build(inputShape) first)', 'model', 'a model that is not built');
  return loadInto(model, stateOf(parseFile(path)), checkPath(path, 'path'), strict);
}

/** Shapes of the model's state-dict entries (no copy of the values). */
function stateShapes(model: Sequential): Record<string, { shape: readonly number[] }> {
  const own: Record<string, { shape: readonly number[] }> = record();
  model.layers.forEach((l, i) => {
    for (const t of [...l.parameters(), ...l.buffers()]) own[`${i}.${t.name}`] = { shape: t.shape };
  });
  return own;
}

function loadInto(model: Sequential, sd: StateDict, file: string, strict: boolean): LoadReport {
  const own = stateShapes(model);
  const missing = Object.keys(own).filter((k) => !(k in sd));
  const unexpected = Object.keys(sd).filter((k) => !Object.prototype.hasOwnProperty.call(own, k));
  const misshaped = Object.keys(sd)
    .filter((k) => Object.prototype.hasOwnProperty.call(own, k) && own[k].shape.join(',') !== sd[k].shape.join(','))
    .map((k) => `${k} (shape [${sd[k].shape.join(', ')}], the model's [${own[k].shape.join(', ')}])`);
  if (misshaped.length || (strict && (missing.length || unexpected.length))) {
    const parts = [
      missing.length && strict ? `missing ${missing.join(', ')}` : '',
      unexpected.length && strict ? `unexpected ${unexpected.join(', ')}` : '',
      misshaped.length ? `mis-shaped ${misshaped.join(', ')}` : '',
    ].filter(Boolean);
    throw new RangeError(`Expected the keys and shapes of the model's state dict for ${file} but received ${parts.join('; ')}`);
  }
  const fitting: StateDict = {};
  for (const k of Object.keys(sd)) if (Object.prototype.hasOwnProperty.call(own, k)) fitting[k] = sd[k];
  model.loadStateDict(fitting, { strict: false });
  return { missing, unexpected };
}
