/**
 * What a worker thread needs to hold a replica of a live model, a loss and an optimizer: plain,
 * structured-clonable descriptions (a spec), and the functions that rebuild the objects from them.
 *
 * A replica is rebuilt from the layers' configs (the checkpoint registry), then bound to the model's SharedState, so its
 * parameters, gradients and running statistics are the caller's own memory: nothing is copied,
 * and a step the worker takes is visible to the caller. Everything that decides the numerics
 * travels too (each layer's backend, which layer skips its input gradient, Dropout's generator
 * state, the optimizer's buffers), so a replica computes bit for bit what the model would.
 */
import type { BackendName } from '../backend/types';
import { dropoutLayers } from '../layers/containers';
import { checkBackend } from '../backend/index';
import type { Backend } from '../backend/types';
import { layerFromConfig, registeredLayers } from '../io/registry';
import { Sequential, SharedState } from '../model';
import { CrossEntropyLoss, MSELoss, BCEWithLogitsLoss, MultiMarginLoss } from '../losses';
import { Optimizer, SGD, Adam, AdamW, RMSProp, OptimizerState } from '../optim';
import { describe, fail } from '../validate';
import { LRScheduler } from '../optim/schedules';
import { ReduceLROnPlateau, PLATEAU_KEYS } from '../optim/plateau';
import { schedulerConfig, schedulerFromConfig } from '../io/state';

/** A live model as a worker rebuilds it. */
export interface ModelSpec {
  config: { inputShape: readonly number[] | null; layers: Record<string, unknown>[] };
  /** The model's own backend, and each layer's, where one was given (null: the current one). */
  backend: BackendName | null;
  backends: (BackendName | null)[];
  /** Per layer: whether it computes its input gradient (null where the layer has no such switch). */
  inputGrad: (boolean | null)[];
  /** Per Dropout (nested ones included, in dropoutLayers order): its generator state, or null. */
  rng: (number[] | null)[];
  training: boolean;
  shared: SharedState;
}

export interface LossSpec {
  kind: string;
  args: Record<string, unknown>;
}

export interface OptimizerSpec {
  state: OptimizerState;
  initialLr: number | undefined;
  backend: BackendName | null;
}

type LayerInternals = { needsInputGrad?: boolean };

/** The registry's layers when this module loads: the built-in ones. */
const BUILT_IN = registeredLayers();

/** The name of an explicitly given backend (null when none was given: the current one is used). */
function backendName(b: Backend | undefined, what: string): BackendName | null {
  if (b === undefined) return null;
  const n = b.name;
  if (n !== 'js' && n !== 'native') fail('type', "the 'js' or 'native' backend", what, describe(n));
  return n as BackendName;
}

/** Describes a built model (architecture, numerics switches and shared memory). */
export function modelSpec(model: Sequential): ModelSpec {
  const config = model.getConfig() as ModelSpec['config'];
  // A worker knows the built-in layers only (layers registered by the caller live in its thread).
  const known = new Set(BUILT_IN);
  config.layers.forEach((c, i) => {
    if (!known.has(String(c.className))) fail('range', `a built-in layer class (${BUILT_IN.join(', ')}) off the main thread`, `layers[${i}] of the model`, describe(c.className));
  });
  return {
    config,
    backend: backendName(model.backend, 'backend of the model'),
    backends: model.layers.map((l, i) => backendName((l as unknown as { explicitBackend?: Backend }).explicitBackend, `backend of layers[${i}]`)),
    inputGrad: model.layers.map((l) => {
      const v = (l as unknown as LayerInternals).needsInputGrad;
      return typeof v === 'boolean' ? v : null;
    }),
    rng: rngStates(model),
    training: model.training,
    shared: model.sharedState(),
  };
}

/** Rebuilds a replica bound to the spec's shared memory (no parameter is copied). */
export function buildReplica(spec: ModelSpec): Sequential {
  const layers = spec.config.layers.map((c, i) => {
    const l = layerFromConfig(c, `layers[${i}]`);
    const b = spec.backends[i];
    if (b !== null) l.backend = checkBackend(b)!;
    return l;
  });
  const model = new Sequential(layers, { inputShape: spec.config.inputShape as number[], ...(spec.backend ? { backend: spec.backend } : {}) });
  model.attachSharedState(spec.shared);
  model.layers.forEach((l, i) => {
    const li = l as unknown as LayerInternals;
    if (spec.inputGrad[i] !== null) li.needsInputGrad = spec.inputGrad[i]!;
  });
  setRngStates(model, spec.rng);
  model.train(spec.training);
  return model;
}

/** Generator states of the model's layers (to carry a replica's draws back to the caller). */
export function rngStates(model: Sequential): (number[] | null)[] {
  return dropoutLayers(model.layers).map(([, l]) => l.generatorState());
}
export function setRngStates(model: Sequential, states: (number[] | null)[]): void {
  dropoutLayers(model.layers).forEach(([, l], i) => {
    if (states[i]) l.setGeneratorState(states[i]);
  });
}

/** Describes one of the library's losses. */
export function lossSpec(loss: unknown): LossSpec {
  const backendOf = (l: unknown): Record<string, unknown> => {
    const b = backendName((l as { backendOpt?: Backend }).backendOpt, 'backend of the loss');
    return b === null ? {} : { backend: b };
  };
  if (loss instanceof CrossEntropyLoss) return { kind: 'CrossEntropyLoss', args: { labelSmoothing: loss.labelSmoothing, ...backendOf(loss) } };
  if (loss instanceof MultiMarginLoss) return { kind: 'MultiMarginLoss', args: { margin: loss.margin, p: loss.p } };
  if (loss instanceof MSELoss) return { kind: 'MSELoss', args: {} };
  if (loss instanceof BCEWithLogitsLoss) return { kind: 'BCEWithLogitsLoss', args: {} };
  return fail('type', 'a loss of minibatch (CrossEntropyLoss, MSELoss, BCEWithLogitsLoss, MultiMarginLoss) off the main thread', 'loss', describe(loss));
}

export function buildLoss(s: LossSpec): CrossEntropyLoss | MSELoss | BCEWithLogitsLoss | MultiMarginLoss {
  switch (s.kind) {
    case 'CrossEntropyLoss':
      return new CrossEntropyLoss(s.args);
    case 'MultiMarginLoss':
      return new MultiMarginLoss(s.args as { margin: number; p: 1 | 2 });
    case 'MSELoss':
      return new MSELoss();
    default:
      return new BCEWithLogitsLoss();
  }
}

const OPTIMIZERS: Record<string, new (params: any, options: any) => Optimizer> = { SGD, Adam, AdamW, RMSProp };

/** Describes one of the library's optimizers over the model's own arena. */
export function optimizerSpec(opt: unknown, model: Sequential): OptimizerSpec {
  if (!(opt instanceof Optimizer) || !(opt.constructor.name in OPTIMIZERS)) {
    fail('type', 'an optimizer of minibatch (SGD, Adam, AdamW, RMSProp) off the main thread', 'optimizer', describe(opt));
  }
  const o = opt as Optimizer;
  if (o.params.length !== 1 || o.params[0].data !== model.parameters().data) {
    fail('range', 'an optimizer over model.parameters()', 'optimizer', `an optimizer over ${o.params.length} other arena(s)`);
  }
  return { state: o.stateDict(), initialLr: o.initialLr, backend: backendName((o as unknown as { explicitBackend?: Backend }).explicitBackend, 'backend of the optimizer') };
}

export function buildOptimizer(s: OptimizerSpec, model: Sequential): Optimizer {
  const Ctor = OPTIMIZERS[s.state.kind];
  const opt = new Ctor(model.parameters(), { lr: s.state.options.lr, ...(s.backend ? { backend: s.backend } : {}) });
  opt.loadStateDict(s.state);
  opt.initialLr = s.initialLr;
  return opt;
}

/** A schedule passed to an off-thread fit: rebuilt over the replica's optimizer in the worker. */
export type SchedulerSpec =
  | { kind: 'closed'; config: ReturnType<typeof schedulerConfig> }
  | { kind: 'plateau'; options: Record<string, unknown>; state: ReturnType<ReduceLROnPlateau['stateDict']> };
export type AnyScheduler = LRScheduler | ReduceLROnPlateau;

/** Describes fit's `scheduler` option (undefined when none); the checks are fit's own. */
export function schedulerSpec(s: unknown, opt: unknown): SchedulerSpec | undefined {
  if (s === undefined) return undefined;
  if (!(s instanceof LRScheduler) && !(s instanceof ReduceLROnPlateau)) fail('type', 'LRScheduler or ReduceLROnPlateau', 'scheduler', describe(s));
  if (s.optimizer !== opt) fail('range', "a schedule of fit's optimizer", 'scheduler', 'a schedule of another optimizer');
  if (s instanceof LRScheduler) return { kind: 'closed', config: schedulerConfig(s, s.optimizer) };
  const fields = s as unknown as Record<string, unknown>;
  const options: Record<string, unknown> = {};
  for (const k of PLATEAU_KEYS) if (fields[k] !== undefined) options[k] = fields[k];
  return { kind: 'plateau', options, state: s.stateDict() };
}

export function buildScheduler(s: SchedulerSpec, opt: Optimizer): AnyScheduler {
  if (s.kind === 'closed') return schedulerFromConfig(s.config, opt, 'scheduler');
  const p = new ReduceLROnPlateau(opt, s.options);
  p.loadStateDict(s.state);
  return p;
}

/** A schedule's state as it travels back to the caller's schedule (see setSchedulerState). */
export function schedulerState(s: AnyScheduler): Record<string, number> {
  return s.stateDict();
}

/** Brings the caller's schedule to the worker's state; the optimizer's own state is loaded after it. */
export function setSchedulerState(s: AnyScheduler, state: Record<string, number>): void {
  (s as { loadStateDict(sd: Record<string, number>): void }).loadStateDict(state);
}
