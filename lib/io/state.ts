/**
 * What a checkpoint holds besides the model's state dict, as safetensors tensors and JSON metadata:
 *
 *   optimizer   metadata `minibatch_optimizer` = { kind, step, options, initialLr }; one tensor per
 *               parameter and buffer, `optimizer/<parameter key>/<buffer>` (SGD `momentum_buffer`,
 *               Adam/AdamW `exp_avg` and `exp_avg_sq`, RMSProp `square_avg` and `momentum_buffer`),
 *               shaped as the parameter.
 *   scheduler   metadata `minibatch_scheduler` = { kind, options, lastEpoch } (SequentialLR nests
 *               its schedules in options.schedulers; OneCycleLR's cycled momentum is the
 *               optimizer's, saved with it).
 *   preprocess  metadata `minibatch_preprocess` = [{ kind, ...scalars }] and its arrays as float64
 *               tensors `preprocess/<index>/<field>` (mean, variance, components, ...).
 *   trainer     metadata `minibatch_trainer` = { epochs, seed, rng }; the sample order as int32
 *               tensors `trainer/train_index` and `trainer/val_index`.
 */
import type { Sequential } from '../model';
import {
  Optimizer, SGD, Adam, AdamW, RMSProp, LRScheduler, StepLR, ExponentialLR, CosineAnnealingLR, LinearWarmup, SequentialLR, OneCycleLR,
} from '../optim';
import type { OptimizerState } from '../optim';
import { StandardScaler, MeanCenter, ChannelNormalizer, PCA, ZCA } from '../preprocess';
import { describe, fail } from '../validate';
import { RawTensor, WritableTensor, toFloat32, toFloat64, toIntegers } from './safetensors';

export type Tensors = Record<string, WritableTensor>;

// ====================================================================================== optimizer

const OPTIMIZERS: Record<string, new (params: any, opts: any) => Optimizer> = { SGD, Adam, AdamW, RMSProp };
/** The optimizers' buffer names and PyTorch's, which the file uses. */
const TORCH_NAMES: Record<string, string> = { momentumBuf: 'momentum_buffer', m: 'exp_avg', v: 'exp_avg_sq', sq: 'square_avg' };
const OWN_NAMES: Record<string, string> = Object.fromEntries(Object.entries(TORCH_NAMES).map(([a, b]) => [b, a]));

/** Writes an optimizer over the model's parameter arena. */
export function optimizerToTensors(opt: unknown, model: Sequential, out: Tensors): string {
  if (!(opt instanceof Optimizer)) fail('type', 'Optimizer (SGD, Adam, AdamW, RMSProp)', 'optimizer', describe(opt));
  const arena = model.parameters();
  if (opt.params.length !== 1 || opt.params[0].data !== arena.data) fail('range', "an optimizer over the model's parameters (new SGD(model.parameters(), ...))", 'optimizer', "an optimizer over other parameters");
  const sd = opt.stateDict();
  for (const [buf, values] of Object.entries(sd.state[0])) {
    if (values === null) continue;
    for (const v of arena.views) {
      out[`optimizer/${v.name}/${TORCH_NAMES[buf] ?? buf}`] = { shape: [...v.shape], data: Float32Array.from(values.slice(v.offset, v.offset + v.size)) };
    }
  }
  return JSON.stringify({ kind: sd.kind, step: sd.step, options: sd.options, initialLr: opt.initialLr ?? null });
}

/** Rebuilds the optimizer over the model's arena (every buffer checked before it is used). */
export function optimizerFromTensors(json: string, tensors: Record<string, RawTensor>, model: Sequential, file: string): Optimizer {
  const meta = parseJson(json, 'minibatch_optimizer', file) as { kind?: unknown; step?: unknown; options?: unknown; initialLr?: unknown };
  const cls = typeof meta.kind === 'string' && Object.prototype.hasOwnProperty.call(OPTIMIZERS, meta.kind) ? OPTIMIZERS[meta.kind] : null;
  if (!cls) fail('range', `an optimizer kind (${Object.keys(OPTIMIZERS).join(', ')})`, `${file} minibatch_optimizer.kind`, describe(meta.kind));
  if (meta.options === null || typeof meta.options !== 'object') fail('type', 'options object', `${file} minibatch_optimizer.options`, describe(meta.options));
  const arena = model.parameters();
  const opt = new cls(arena, meta.options);
  const buffers = new Map<string, Float32Array>();
  const filled = new Map<string, number>();
  for (const [key, t] of Object.entries(tensors)) {
    const m = /^optimizer\/(.+)\/([^/]+)$/.exec(key);
    if (!m) continue;
    const view = arena.views.find((v) => v.name === m[1]);
    if (!view) fail('range', "a parameter key of the model's", `${file}['${key}']`, `'${m[1]}'`);
    if (t.shape.join(',') !== view.shape.join(',')) fail('range', `shape [${view.shape.join(', ')}]`, `${file}['${key}']`, `shape [${t.shape.join(', ')}]`);
    const own = Object.prototype.hasOwnProperty.call(OWN_NAMES, m[2]) ? OWN_NAMES[m[2]] : m[2];
    let b = buffers.get(own);
    if (!b) buffers.set(own, (b = new Float32Array(arena.data.length)));
    b.set(toFloat32(t), view.offset);
    filled.set(own, (filled.get(own) ?? 0) + 1);
  }
  for (const [name, count] of filled) {
    if (count !== arena.views.length) fail('range', `the '${TORCH_NAMES[name] ?? name}' buffer of all ${arena.views.length} parameters`, file, `${count} of them`);
  }
  const state: Record<string, number[] | null> = {};
  for (const [name, b] of buffers) state[name] = b as unknown as number[];
  const own = opt.stateDict().state[0];
  for (const k of Object.keys(own)) if (!(k in state)) state[k] = null;
  opt.loadStateDict({ kind: meta.kind as string, step: meta.step as number, options: meta.options as OptimizerState['options'], state: [state] });
  if (meta.initialLr !== null && meta.initialLr !== undefined) opt.initialLr = meta.initialLr as number;
  return opt;
}

// ====================================================================================== scheduler

const SCHEDULE_FIELDS: Record<string, string[]> = {
  StepLR: ['stepSize', 'gamma'],
  ExponentialLR: ['gamma'],
  CosineAnnealingLR: ['tMax', 'etaMin'],
  LinearWarmup: ['warmupSteps', 'startFactor'],
  SequentialLR: ['milestones'],
  OneCycleLR: ['maxLr', 'totalSteps', 'pctStart', 'annealStrategy', 'divFactor', 'finalDivFactor', 'threePhase', 'cycleMomentum', 'baseMomentum', 'maxMomentum'],
};
const SCHEDULES: Record<string, new (opt: Optimizer, o: any) => LRScheduler> = { StepLR, ExponentialLR, CosineAnnealingLR, LinearWarmup, SequentialLR, OneCycleLR };

interface ScheduleConfig {
  kind: string;
  options: Record<string, unknown>;
  lastEpoch: number;
}

export function schedulerConfig(s: unknown, opt: Optimizer | undefined): ScheduleConfig {
  if (!(s instanceof LRScheduler)) fail('type', 'LRScheduler (StepLR, CosineAnnealingLR, ...)', 'scheduler', describe(s));
  if (opt && s.optimizer !== opt) fail('range', 'a schedule of the optimizer saved with it', 'scheduler', 'a schedule of another optimizer');
  const kind = s.constructor.name;
  const fields = SCHEDULE_FIELDS[kind];
  if (!fields) fail('range', `a built-in schedule (${Object.keys(SCHEDULES).join(', ')})`, 'scheduler', describe(s));
  const o = s as unknown as Record<string, unknown>;
  const options: Record<string, unknown> = {};
  for (const f of fields) options[f] = Array.isArray(o[f]) ? [...(o[f] as unknown[])] : o[f];
  if (s instanceof SequentialLR) options.schedulers = s.schedulers.map((c) => schedulerConfig(c, s.optimizer));
  return { kind, options, lastEpoch: s.lastEpoch };
}

export function schedulerFromConfig(c: unknown, opt: Optimizer, where: string): LRScheduler {
  const cfg = c as ScheduleConfig;
  if (cfg === null || typeof cfg !== 'object' || !Object.prototype.hasOwnProperty.call(SCHEDULES, cfg.kind)) {
    fail('range', `a schedule config (${Object.keys(SCHEDULES).join(', ')})`, where, describe(cfg?.kind ?? cfg));
  }
  if (cfg.options === null || typeof cfg.options !== 'object') fail('type', 'options object', `${where}.options`, describe(cfg.options));
  const options = { ...cfg.options };
  if (cfg.kind === 'SequentialLR') {
    if (!Array.isArray(options.schedulers)) fail('type', 'array of schedule configs', `${where}.options.schedulers`, describe(options.schedulers));
    options.schedulers = (options.schedulers as unknown[]).map((x, i) => schedulerFromConfig(x, opt, `${where}.options.schedulers[${i}]`));
  }
  const lr = opt.lr, momentum = opt.momentum;
  const s = new SCHEDULES[cfg.kind](opt, options);
  s.loadStateDict({ lastEpoch: cfg.lastEpoch });
  // the optimizer's saved lr (and cycled momentum) stand: they are the schedule's at lastEpoch
  opt.lr = lr;
  if (momentum !== undefined) opt.momentum = momentum;
  return s;
}

// ===================================================================================== preprocess

type Transformer = StandardScaler | MeanCenter | ChannelNormalizer | PCA | ZCA;
const TRANSFORMS: Record<string, { fromJSON(json: unknown): Transformer }> = { StandardScaler, MeanCenter, ChannelNormalizer, PCA, ZCA };
/** Fields that stay in the JSON (shapes); every other number array becomes a tensor. */
const JSON_ARRAYS = new Set(['featureShape']);

export function preprocessToTensors(pre: unknown, out: Tensors): string {
  const list = Array.isArray(pre) ? pre : [pre];
  const steps = list.map((p, i) => {
    const name = Array.isArray(pre) ? `preprocess[${i}]` : 'preprocess';
    if (!Object.values(TRANSFORMS).some((c) => p instanceof (c as unknown as new () => Transformer))) {
      fail('type', 'a fitted StandardScaler, MeanCenter, ChannelNormalizer, PCA or ZCA (or an array of them)', name, describe(p));
    }
    const json = (p as Transformer).toJSON() as unknown as Record<string, unknown>;
    const step: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(json)) {
      if (Array.isArray(v) && !JSON_ARRAYS.has(k)) {
        out[`preprocess/${i}/${k}`] = { shape: [v.length], data: Float64Array.from(v as number[]) };
      } else step[k] = v;
    }
    return step;
  });
  return JSON.stringify(steps);
}

export function preprocessFromTensors(json: string, tensors: Record<string, RawTensor>, file: string): Transformer[] {
  const steps = parseJson(json, 'minibatch_preprocess', file);
  if (!Array.isArray(steps)) fail('range', 'an array of preprocessing steps', `${file} minibatch_preprocess`, describe(steps));
  return steps.map((s, i) => {
    const where = `${file} minibatch_preprocess[${i}]`;
    if (s === null || typeof s !== 'object' || !Object.prototype.hasOwnProperty.call(TRANSFORMS, (s as { kind?: string }).kind ?? '')) {
      fail('range', `a preprocessing step (${Object.keys(TRANSFORMS).join(', ')})`, where, describe((s as { kind?: unknown })?.kind ?? s));
    }
    const full: Record<string, unknown> = { ...s };
    const prefix = `preprocess/${i}/`;
    for (const [k, t] of Object.entries(tensors)) if (k.startsWith(prefix)) full[k.slice(prefix.length)] = Array.from(toFloat64(t));
    return TRANSFORMS[(s as { kind: string }).kind].fromJSON(full);
  });
}

// ======================================================================================== trainer

/** Where a fit stopped, so the next fit continues the same sample order (see fit's `resume`). */
export interface TrainerState {
  /** Epochs trained so far, over every fit that continued this state. */
  epochs: number;
  seed: number;
  /** The shuffling generator's state. */
  rng: number[];
  /** The training samples' order after the last epoch, and the validation samples. */
  trainIndex: Int32Array;
  valIndex: Int32Array | null;
}

export function trainerToTensors(t: unknown, out: Tensors): string {
  const s = t as TrainerState;
  if (s === null || typeof s !== 'object' || !(s.trainIndex instanceof Int32Array) || !Array.isArray(s.rng)) {
    fail('type', 'trainer state (history.trainerState from fit)', 'trainer', describe(t));
  }
  out['trainer/train_index'] = { shape: [s.trainIndex.length], data: Int32Array.from(s.trainIndex) };
  if (s.valIndex) out['trainer/val_index'] = { shape: [s.valIndex.length], data: Int32Array.from(s.valIndex) };
  return JSON.stringify({ epochs: s.epochs, seed: s.seed, rng: s.rng });
}

export function trainerFromTensors(json: string, tensors: Record<string, RawTensor>, file: string): TrainerState {
  const m = parseJson(json, 'minibatch_trainer', file) as Partial<TrainerState>;
  const tr = tensors['trainer/train_index'];
  if (!tr) fail('range', "a 'trainer/train_index' tensor", file, 'a trainer state without it');
  const va = tensors['trainer/val_index'];
  const ints = (t: RawTensor, k: string) => Int32Array.from(toIntegers(t, `${file}['${k}']`));
  return {
    epochs: m.epochs as number,
    seed: m.seed as number,
    rng: m.rng as number[],
    trainIndex: ints(tr, 'trainer/train_index'),
    valIndex: va ? ints(va, 'trainer/val_index') : null,
  };
}

export function parseJson(text: string, key: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    return fail('range', `JSON in the metadata '${key}'`, file, `unparsable text (${(e as Error).message})`);
  }
}
