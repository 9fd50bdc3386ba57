/**
 * Optimizers, gradient clipping and learning-rate schedules, with torch.optim (1.13) semantics.
 *
 * An optimizer updates parameter arenas (lib/params.ts): a model exposes its parameters as one
 * arena, so `step()` is one kernel call; layers used on their own can be passed as an array of
 * arenas (one call each). Nothing is allocated per step: state buffers are made once.
 *
 *   const opt = new AdamW(model.params, { lr: 1e-3 });
 *   const sched = new SequentialLR(opt, {
 *     schedulers: [new LinearWarmup(opt, { warmupSteps: 100, startFactor: 0.1 }),
 *                  new CosineAnnealingLR(opt, { tMax: 900 })],
 *     milestones: [100],
 *   });
 *   for (...) { opt.zeroGrad(); ...backward...; clipGradNorm(model.params, 1); opt.step(); sched.step(); }
 */
import type { Backend, BackendName } from './backend/types';
import type { ParamArena } from './params';
import { resolveBackend } from './backend/index';
import { checkBool, checkInt, checkNumber, checkOptions, describe, fail, isDetached } from './validate';

/** One arena, or several (layers used standalone). */
export type Params = ParamArena | readonly ParamArena[];

// ------------------------------------------------------------------ validation helpers

/** Names people reach for from other libraries, mapped to ours for the error hint. */
const ALIASES: Record<string, string> = {
  learningRate: 'lr',
  learning_rate: 'lr',
  rate: 'lr',
  weight_decay: 'weightDecay',
  decay: 'weightDecay',
  l2: 'weightDecay',
  beta1: 'betas',
  beta2: 'betas',
  beta_1: 'betas',
  beta_2: 'betas',
  epsilon: 'eps',
  rho: 'alpha',
  step_size: 'stepSize',
  T_max: 'tMax',
  eta_min: 'etaMin',
  total_iters: 'warmupSteps',
  totalIters: 'warmupSteps',
  warmup_steps: 'warmupSteps',
  start_factor: 'startFactor',
};

function checkOpts(opts: unknown, known: readonly string[], name: string): Record<string, unknown> {
  if (opts === undefined) return {};
  if (opts !== null && typeof opts === 'object' && !Array.isArray(opts)) {
    for (const key of Object.keys(opts)) {
      const alias = ALIASES[key];
      if (!known.includes(key) && alias !== undefined && known.includes(alias)) {
        throw new TypeError(
          `Expected one of ${known.map((k) => `'${k}'`).join(', ')} for an option of ${name} but received '${key}' (did you mean '${alias}'?)`,
        );
      }
    }
  }
  checkOptions(opts, known, name);
  return opts as Record<string, unknown>;
}

function checkLr(v: unknown, name = 'lr'): number {
  return checkNumber(v, name, 0);
}

/** A number in [0, 1): betas. */
function checkUnit(v: unknown, name: string): number {
  checkNumber(v, name, -Infinity, Infinity, 'number in [0, 1)');
  if (!((v as number) >= 0 && (v as number) < 1)) fail('range', 'number in [0, 1)', name, describe(v));
  return v as number;
}

function checkPositive(v: unknown, name: string): number {
  checkNumber(v, name, -Infinity, Infinity, 'finite number > 0');
  if (!((v as number) > 0)) fail('range', 'finite number > 0', name, describe(v));
  return v as number;
}

function checkArena(a: unknown, name: string): ParamArena {
  if (a === null || typeof a !== 'object' || Array.isArray(a) || ArrayBuffer.isView(a)) {
    fail('type', 'parameter arena ({ data, grad, views })', name, describe(a));
  }
  const { data, grad } = a as { data?: unknown; grad?: unknown };
  if (!(data instanceof Float32Array)) fail('type', 'Float32Array', `${name}.data`, describe(data));
  if (!(grad instanceof Float32Array)) fail('type', 'Float32Array', `${name}.grad`, describe(grad));
  if (isDetached(data)) fail('range', 'an attached Float32Array', `${name}.data`, 'a detached buffer');
  if (isDetached(grad)) fail('range', 'an attached Float32Array', `${name}.grad`, 'a detached buffer');
  if (grad.length !== data.length) {
    fail('range', `Float32Array of length ${data.length} (as ${name}.data)`, `${name}.grad`, describe(grad));
  }
  return a as ParamArena;
}

/** Arenas from one arena or a non-empty array of them. */
export function checkParams(params: unknown, name = 'params'): ParamArena[] {
  if (Array.isArray(params)) {
    if (params.length === 0) fail('range', 'at least one parameter arena', name, 'an empty array');
    return params.map((a, i) => checkArena(a, `${name}[${i}]`));
  }
  return [checkArena(params, name)];
}

function checkBackendOption(b: unknown): Backend {
  if (b === undefined || typeof b === 'string') return resolveBackend(b as BackendName | undefined);
  if (b !== null && typeof b === 'object' && typeof (b as Backend).sgdStep === 'function') return b as Backend;
  return fail('type', "'js', 'native' or a Backend", 'backend', describe(b));
}

/** Saved buffers that hold squares (second moments): never negative. */
const SQUARE_BUFFERS = new Set(['v', 'sq']);

/** A plain array of finite numbers of the given length, as a Float32Array (for loading state). */
function checkNumbers(v: unknown, name: string, length: number, nonNegative = false): Float32Array {
  if (!Array.isArray(v) && !(v instanceof Float32Array)) fail('type', 'array of numbers', name, describe(v));
  const a = v as ArrayLike<unknown>;
  if (a.length !== length) fail('range', `array of ${length} numbers`, name, describe(v));
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const x = a[i];
    if (typeof x !== 'number') fail('type', 'number', `${name}[${i}]`, describe(x));
    if (!Number.isFinite(x) || (nonNegative && x < 0)) fail('range', nonNegative ? 'finite number >= 0' : 'finite number', `${name}[${i}]`, describe(x));
    out[i] = x;
  }
  return out;
}

const EMPTY = new Float32Array(0);

// ------------------------------------------------------------------ optimizers

/** The serializable state of an optimizer: plain JSON. */
export interface OptimizerState {
  kind: string;
  /** Steps taken so far. */
  step: number;
  /** Hyper-parameters, lr included (restored by loadStateDict, as torch restores param_groups). */
  options: Record<string, number | boolean | number[]>;
  /** Per arena, its buffers as plain arrays (null for a buffer not created yet). */
  state: Record<string, number[] | null>[];
}

/** What every optimizer shares: arenas, backend, lr, step count, zeroGrad and state dicts. */
export abstract class Optimizer {
  readonly params: readonly ParamArena[];
  readonly backend: Backend;
  protected _lr = 0;
  protected _step = 0;
  /** The lr when the first schedule attached (PyTorch's `initial_lr`); schedules start from it. */
  initialLr: number | undefined = undefined;

  protected constructor(params: unknown, backend: unknown) {
    this.params = checkParams(params);
    this.backend = checkBackendOption(backend);
  }

  /** The learning rate used by the next step (schedules set it). */
  get lr(): number {
    return this._lr;
  }
  set lr(v: number) {
    this._lr = checkLr(v);
  }

  /** Steps taken so far. */
  get steps(): number {
    return this._step;
  }

  /** One update of every arena from its gradients (one kernel call per arena). */
  step(): void {
    this._step++;
    for (let i = 0; i < this.params.length; i++) this.update(i, this.params[i]);
  }

  /** Sets every gradient to 0. */
  zeroGrad(): void {
    for (const a of this.params) a.grad.fill(0);
  }

  stateDict(): OptimizerState {
    return {
      kind: this.constructor.name,
      step: this._step,
      options: { lr: this._lr, ...this.hyper() },
      state: this.params.map((_, i) =>
        Object.fromEntries(Object.entries(this.buffers(i)).map(([k, b]) => [k, b === null ? null : Array.from(b)])),
      ),
    };
  }

  /** Restores step count, hyper-parameters and buffers saved by stateDict (checked before anything changes). */
  loadStateDict(sd: OptimizerState): void {
    if (sd === null || typeof sd !== 'object') fail('type', 'optimizer state object', 'stateDict', describe(sd));
    const kind = this.constructor.name;
    if (sd.kind !== kind) fail('range', `state of a ${kind}`, 'stateDict.kind', describe(sd.kind));
    const step = checkInt(sd.step, 'stateDict.step', 0);
    if (sd.options === null || typeof sd.options !== 'object') fail('type', 'options object', 'stateDict.options', describe(sd.options));
    const { lr, ...rest } = sd.options;
    const newLr = checkLr(lr, 'stateDict.options.lr');
    const parsed = this.parse(rest, `${kind} state`);
    if (!Array.isArray(sd.state) || sd.state.length !== this.params.length) {
      fail('range', `array of ${this.params.length} arena states`, 'stateDict.state', describe(sd.state));
    }
    const loaded = sd.state.map((s, i) => {
      const name = `stateDict.state[${i}]`;
      if (s === null || typeof s !== 'object') fail('type', 'arena state object', name, describe(s));
      const out: Record<string, Float32Array | null> = {};
      for (const [k, v] of Object.entries(s)) {
        out[k] = v === null ? null : checkNumbers(v, `${name}.${k}`, this.params[i].data.length, SQUARE_BUFFERS.has(k));
      }
      return out;
    });
    // Everything checked: apply.
    this._lr = newLr;
    this._step = step;
    this.apply(parsed);
    loaded.forEach((b, i) => this.setBuffers(i, b));
  }

  protected abstract update(i: number, arena: ParamArena): void;
  /** Hyper-parameters other than lr, for stateDict. */
  protected abstract hyper(): Record<string, number | boolean | number[]>;
  /** Validates hyper-parameters other than lr (defaults for missing ones). */
  protected abstract parse(opts: Record<string, unknown>, name: string): unknown;
  protected abstract apply(parsed: unknown): void;
  protected abstract buffers(i: number): Record<string, Float32Array | null>;
  protected abstract setBuffers(i: number, b: Record<string, Float32Array | null>): void;
}

function take<T>(b: Record<string, Float32Array | null>, key: string, kind: string, i: number): T {
  if (!(key in b)) fail('range', `a '${key}' buffer`, `stateDict.state[${i}]`, `a ${kind} state without it`);
  return b[key] as T;
}

export interface SGDOptions {
  /** Learning rate, >= 0 (required). */
  lr: number;
  /** Momentum factor, >= 0. Default 0. */
  momentum?: number;
  /** Dampening of the momentum, in [0, 1]. Default 0. */
  dampening?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). Default false. */
  nesterov?: boolean;
  /** L2 penalty added to the gradient, >= 0. Default 0. */
  weightDecay?: number;
  /** Backend for the update: 'js', 'native' or a Backend. Default: getBackend(). */
  backend?: BackendName | Backend;
}

interface SGDHyper {
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
}

const SGD_KEYS = ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay', 'backend'];

/** Stochastic gradient descent with optional (Nesterov) momentum, as torch.optim.SGD. */
export class SGD extends Optimizer {
  private h!: SGDHyper;
  private bufs: (Float32Array | null)[];

  constructor(params: Params, options: SGDOptions) {
    const o = checkOpts(options, SGD_KEYS, 'SGD');
    super(params, o.backend);
    this._lr = checkLr(o.lr);
    this.apply(this.parse(o, 'SGD'));
    this.bufs = this.params.map(() => null);
  }

  get options(): Readonly<SGDHyper> {
    return { ...this.h };
  }

  protected parse(o: Record<string, unknown>, name: string): SGDHyper {
    checkOpts(o, SGD_KEYS, name);
    const momentum = o.momentum === undefined ? 0 : checkNumber(o.momentum, 'momentum', 0);
    const dampening = o.dampening === undefined ? 0 : checkNumber(o.dampening, 'dampening', 0, 1);
    const nesterov = o.nesterov === undefined ? false : checkBool(o.nesterov, 'nesterov');
    const weightDecay = o.weightDecay === undefined ? 0 : checkNumber(o.weightDecay, 'weightDecay', 0);
    if (nesterov && (momentum <= 0 || dampening !== 0)) {
      fail('range', 'momentum > 0 and dampening 0', 'nesterov', `momentum ${momentum} and dampening ${dampening}`);
    }
    return { momentum, dampening, nesterov, weightDecay };
  }

  protected apply(h: SGDHyper): void {
    this.h = h;
  }

  protected hyper(): Record<string, number | boolean> {
    return { ...this.h };
  }

  protected update(i: number, a: ParamArena): void {
    const { momentum, dampening, nesterov, weightDecay } = this.h;
    let buf: Float32Array = EMPTY;
    let first = false;
    if (momentum !== 0) {
      const b = this.bufs[i];
      first = b === null;
      buf = b ?? (this.bufs[i] = new Float32Array(a.data.length));
    }
    this.backend.sgdStep(a.data, a.grad, buf, a.data.length, this._lr, momentum, dampening, weightDecay, nesterov, first);
  }

  protected buffers(i: number): Record<string, Float32Array | null> {
    return { momentumBuf: this.bufs[i] };
  }

  protected setBuffers(i: number, b: Record<string, Float32Array | null>): void {
    this.bufs[i] = take<Float32Array | null>(b, 'momentumBuf', 'SGD', i);
  }
}

export interface AdamOptions {
  /** Learning rate, >= 0. Default 1e-3. */
  lr?: number;
  /** Decay rates of the first and second moments, each in [0, 1). Default [0.9, 0.999]. */
  betas?: readonly [number, number] | number[];
  /** Added to the denominator, > 0. Default 1e-8. */
  eps?: number;
  /** Adam: L2 penalty added to the gradient; AdamW: decoupled decay (param *= 1 - lr·wd). >= 0.
   *  Default 0 (Adam), 1e-2 (AdamW). */
  weightDecay?: number;
  /** Backend for the update: 'js', 'native' or a Backend. Default: getBackend(). */
  backend?: BackendName | Backend;
}

interface AdamHyper {
  betas: [number, number];
  eps: number;
  weightDecay: number;
}

const ADAM_KEYS = ['lr', 'betas', 'eps', 'weightDecay', 'backend'];

/** Adam as torch.optim.Adam (weight decay as an L2 term in the gradient). */
export class Adam extends Optimizer {
  private h!: AdamHyper;
  private m: Float32Array[];
  private v: Float32Array[];
  protected readonly decoupled: boolean = false;

  constructor(params: Params, options: AdamOptions = {}) {
    const name = new.target === AdamW ? 'AdamW' : 'Adam';
    const o = checkOpts(options, ADAM_KEYS, name);
    super(params, o.backend);
    this._lr = o.lr === undefined ? 1e-3 : checkLr(o.lr);
    this.apply(this.parse(o, name));
    this.m = this.params.map((a) => new Float32Array(a.data.length));
    this.v = this.params.map((a) => new Float32Array(a.data.length));
  }

  protected defaultWeightDecay(): number {
    return 0;
  }

  get options(): Readonly<AdamHyper> {
    return { ...this.h, betas: [...this.h.betas] };
  }

  protected parse(o: Record<string, unknown>, name: string): AdamHyper {
    checkOpts(o, ADAM_KEYS, name);
    let betas: [number, number] = [0.9, 0.999];
    if (o.betas !== undefined) {
      const b = o.betas;
      if (!Array.isArray(b) || b.length !== 2) fail('type', '[beta1, beta2] pair of numbers in [0, 1)', 'betas', describe(b));
      betas = [checkUnit(b[0], 'betas[0]'), checkUnit(b[1], 'betas[1]')];
    }
    const eps = o.eps === undefined ? 1e-8 : checkPositive(o.eps, 'eps');
    const weightDecay = o.weightDecay === undefined ? this.defaultWeightDecay() : checkNumber(o.weightDecay, 'weightDecay', 0);
    return { betas, eps, weightDecay };
  }

  protected apply(h: AdamHyper): void {
    this.h = h;
  }

  protected hyper(): Record<string, number | number[]> {
    return { betas: [...this.h.betas], eps: this.h.eps, weightDecay: this.h.weightDecay };
  }

  protected update(i: number, a: ParamArena): void {
    const { betas, eps, weightDecay } = this.h;
    this.backend.adamStep(
      a.data, a.grad, this.m[i], this.v[i], a.data.length, this._lr, betas[0], betas[1], eps, weightDecay,
      this.decoupled, this._step,
    );
  }

  protected buffers(i: number): Record<string, Float32Array | null> {
    return { m: this.m[i], v: this.v[i] };
  }

  protected setBuffers(i: number, b: Record<string, Float32Array | null>): void {
    const m = take<Float32Array | null>(b, 'm', this.constructor.name, i);
    const v = take<Float32Array | null>(b, 'v', this.constructor.name, i);
    this.m[i] = m ?? new Float32Array(this.params[i].data.length);
    this.v[i] = v ?? new Float32Array(this.params[i].data.length);
  }
}

/** AdamW as torch.optim.AdamW: decoupled weight decay, param *= 1 - lr·weightDecay, default 1e-2. */
export class AdamW extends Adam {
  protected override readonly decoupled: boolean = true;

  constructor(params: Params, options: AdamOptions = {}) {
    super(params, options);
  }

  protected override defaultWeightDecay(): number {
    return 1e-2;
  }
}

export interface RMSPropOptions {
  /** Learning rate, >= 0. Default 1e-2. */
  lr?: number;
  /** Smoothing constant of the squared-gradient average, in [0, 1]. Default 0.99. */
  alpha?: number;
  /** Added to sqrt(average) (outside the root, as PyTorch), > 0. Default 1e-8. */
  eps?: number;
  /** L2 penalty added to the gradient, >= 0. Default 0. */
  weightDecay?: number;
  /** Momentum factor, >= 0. Default 0. */
  momentum?: number;
  /** Backend for the update: 'js', 'native' or a Backend. Default: getBackend(). */
  backend?: BackendName | Backend;
}

interface RMSPropHyper {
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
}

const RMSPROP_KEYS = ['lr', 'alpha', 'eps', 'weightDecay', 'momentum', 'backend'];

/** RMSprop as torch.optim.RMSprop (not centered). */
export class RMSProp extends Optimizer {
  private h!: RMSPropHyper;
  private sq: Float32Array[];
  private bufs: (Float32Array | null)[];

  constructor(params: Params, options: RMSPropOptions = {}) {
    const o = checkOpts(options, RMSPROP_KEYS, 'RMSProp');
    super(params, o.backend);
    this._lr = o.lr === undefined ? 1e-2 : checkLr(o.lr);
    this.sq = this.params.map((a) => new Float32Array(a.data.length));
    this.bufs = this.params.map(() => null);
    this.apply(this.parse(o, 'RMSProp'));
  }

  get options(): Readonly<RMSPropHyper> {
    return { ...this.h };
  }

  protected parse(o: Record<string, unknown>, name: string): RMSPropHyper {
    checkOpts(o, RMSPROP_KEYS, name);
    return {
      alpha: o.alpha === undefined ? 0.99 : checkNumber(o.alpha, 'alpha', 0, 1),
      eps: o.eps === undefined ? 1e-8 : checkPositive(o.eps, 'eps'),
      weightDecay: o.weightDecay === undefined ? 0 : checkNumber(o.weightDecay, 'weightDecay', 0),
      momentum: o.momentum === undefined ? 0 : checkNumber(o.momentum, 'momentum', 0),
    };
  }

  protected apply(h: RMSPropHyper): void {
    this.h = h;
    // The momentum buffer exists (zeros at first, as PyTorch) whenever momentum is on.
    if (h.momentum > 0) this.bufs = this.bufs.map((b, i) => b ?? new Float32Array(this.params[i].data.length));
  }

  protected hyper(): Record<string, number> {
    return { ...this.h };
  }

  protected update(i: number, a: ParamArena): void {
    const { alpha, eps, weightDecay, momentum } = this.h;
    this.backend.rmspropStep(
      a.data, a.grad, this.sq[i], this.bufs[i] ?? EMPTY, a.data.length, this._lr, alpha, eps, weightDecay, momentum,
    );
  }

  protected buffers(i: number): Record<string, Float32Array | null> {
    return { sq: this.sq[i], momentumBuf: this.bufs[i] };
  }

  protected setBuffers(i: number, b: Record<string, Float32Array | null>): void {
    const n = this.params[i].data.length;
    this.sq[i] = take<Float32Array | null>(b, 'sq', 'RMSProp', i) ?? new Float32Array(n);
    const buf = take<Float32Array | null>(b, 'momentumBuf', 'RMSProp', i);
    this.bufs[i] = buf ?? (this.h.momentum > 0 ? new Float32Array(n) : null);
  }
}

// ------------------------------------------------------------------ gradient clipping

/**
 * Scales all gradients together so that their total norm is at most maxNorm, as
 * torch.nn.utils.clip_grad_norm_: total = (Σ|g|^p)^(1/p) over every gradient (max |g| for
 * normType Infinity), then g *= min(1, maxNorm / (total + 1e-6)). Returns the total norm before
 * clipping. A non-finite total scales by NaN, as PyTorch does by default.
 */
export function clipGradNorm(params: Params, maxNorm: number, normType = 2): number {
  const arenas = checkParams(params);
  checkNumber(maxNorm, 'maxNorm', 0);
  if (typeof normType !== 'number') fail('type', 'number > 0 or Infinity', 'normType', describe(normType));
  if (!(normType > 0)) fail('range', 'number > 0 or Infinity', 'normType', describe(normType));
  let total = 0;
  if (normType === Infinity) {
    for (const a of arenas) for (const g of a.grad) total = Math.max(total, Math.abs(g)); // NaN stays NaN
  } else {
    let sum = 0;
    for (const a of arenas) {
      const g = a.grad;
      if (normType === 2) for (let i = 0; i < g.length; i++) sum += g[i] * g[i];
      else if (normType === 1) for (let i = 0; i < g.length; i++) sum += Math.abs(g[i]);
      else for (let i = 0; i < g.length; i++) sum += Math.abs(g[i]) ** normType;
    }
    total = normType === 1 ? sum : normType === 2 ? Math.sqrt(sum) : sum ** (1 / normType);
  }
  const coef = Math.fround(maxNorm / (total + 1e-6));
  if (!(coef >= 1)) for (const a of arenas) {
    const g = a.grad;
    for (let i = 0; i < g.length; i++) g[i] *= coef;
  }
  return total;
}

/** Clamps every gradient to [-clipValue, clipValue], as torch.nn.utils.clip_grad_value_. */
export function clipGradValue(params: Params, clipValue: number): void {
  const arenas = checkParams(params);
  checkNumber(clipValue, 'clipValue', 0);
  for (const a of arenas) {
    const g = a.grad;
    for (let i = 0; i < g.length; i++) {
      if (g[i] > clipValue) g[i] = clipValue;
      else if (g[i] < -clipValue) g[i] = -clipValue;
    }
  }
}

// ------------------------------------------------------------------ learning-rate schedules

function checkOptimizer(opt: unknown): Optimizer {
  if (!(opt instanceof Optimizer)) fail('type', 'Optimizer', 'optimizer', describe(opt));
  return opt;
}

/**
 * A schedule sets optimizer.lr from a closed form of the epoch (call step() once per epoch, or per
 * iteration). Like PyTorch, constructing one sets the epoch-0 lr, and every schedule of an optimizer
 * starts from the lr the optimizer had when the first schedule attached (initial_lr).
 */
export abstract class LRScheduler {
  readonly optimizer: Optimizer;
  /** The optimizer's initial lr, which the closed forms scale. */
  readonly baseLr: number;
  /** Epochs stepped so far (0 after construction). */
  lastEpoch = 0;
  protected lastLr = 0;

  protected constructor(optimizer: Optimizer) {
    this.optimizer = checkOptimizer(optimizer);
    optimizer.initialLr ??= optimizer.lr;
    this.baseLr = optimizer.initialLr;
  }

  /** The lr of epoch `epoch` (closed form), an integer >= 0. */
  lrAt(epoch: number): number {
    return this.lrOf(checkInt(epoch, 'epoch', 0));
  }
  protected abstract lrOf(epoch: number): number;

  /** Sets the epoch-0 lr; subclasses call it once their fields are set. */
  protected start(): void {
    this.lastLr = this.lrAt(0);
    this.optimizer.lr = this.lastLr;
  }

  /** Advances one epoch and sets the optimizer's lr. */
  step(): void {
    this.lastEpoch++;
    this.lastLr = this.lrAt(this.lastEpoch);
    this.optimizer.lr = this.lastLr;
  }

  /** The lr this schedule set last. */
  getLastLr(): number {
    return this.lastLr;
  }

  stateDict(): { lastEpoch: number; baseLr: number } {
    return { lastEpoch: this.lastEpoch, baseLr: this.baseLr };
  }

  /** Restores the epoch (and sets the optimizer's lr for it). */
  loadStateDict(sd: { lastEpoch: number }): void {
    if (sd === null || typeof sd !== 'object') fail('type', 'schedule state object', 'stateDict', describe(sd));
    this.lastEpoch = checkInt(sd.lastEpoch, 'stateDict.lastEpoch', 0);
    this.lastLr = this.lrAt(this.lastEpoch);
    this.optimizer.lr = this.lastLr;
  }
}

export interface StepLROptions {
  /** Epochs between decays, integer >= 1. */
  stepSize: number;
  /** Factor per decay, >= 0. Default 0.1. */
  gamma?: number;
}

/** lr = baseLr · gamma^floor(epoch / stepSize), as torch's StepLR. */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;
  constructor(optimizer: Optimizer, options: StepLROptions) {
    const o = checkOpts(options, ['stepSize', 'gamma'], 'StepLR');
    super(optimizer);
    this.stepSize = checkInt(o.stepSize, 'stepSize', 1);
    this.gamma = o.gamma === undefined ? 0.1 : checkNumber(o.gamma, 'gamma', 0);
    this.start();
  }
  protected lrOf(epoch: number): number {
    return this.baseLr * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

export interface ExponentialLROptions {
  /** Factor per epoch, >= 0 (required). */
  gamma: number;
}

/** lr = baseLr · gamma^epoch, as torch's ExponentialLR. */
export class ExponentialLR extends LRScheduler {
  readonly gamma: number;
  constructor(optimizer: Optimizer, options: ExponentialLROptions) {
    const o = checkOpts(options, ['gamma'], 'ExponentialLR');
    super(optimizer);
    this.gamma = checkNumber(o.gamma, 'gamma', 0);
    this.start();
  }
  protected lrOf(epoch: number): number {
    return this.baseLr * this.gamma ** epoch;
  }
}

export interface CosineAnnealingLROptions {
  /** Epochs of the half cosine, integer >= 1 (past it the cosine rises again, as PyTorch's). */
  tMax: number;
  /** The lowest lr, >= 0. Default 0. */
  etaMin?: number;
}

/** lr = etaMin + (baseLr - etaMin) · (1 + cos(π · epoch / tMax)) / 2, as torch's CosineAnnealingLR. */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;
  constructor(optimizer: Optimizer, options: CosineAnnealingLROptions) {
    const o = checkOpts(options, ['tMax', 'etaMin'], 'CosineAnnealingLR');
    super(optimizer);
    this.tMax = checkInt(o.tMax, 'tMax', 1);
    this.etaMin = o.etaMin === undefined ? 0 : checkNumber(o.etaMin, 'etaMin', 0);
    this.start();
  }
  protected lrOf(epoch: number): number {
    return this.etaMin + ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }
}

export interface LinearWarmupOptions {
  /** Epochs of the ramp, integer >= 1 (torch's total_iters). */
  warmupSteps: number;
  /** Fraction of the lr at epoch 0, in (0, 1]. Default 1/3 (as torch's LinearLR). */
  startFactor?: number;
}

/** Linear ramp from startFactor·baseLr to baseLr over warmupSteps epochs, then baseLr: torch's LinearLR. */
export class LinearWarmup extends LRScheduler {
  readonly warmupSteps: number;
  readonly startFactor: number;
  constructor(optimizer: Optimizer, options: LinearWarmupOptions) {
    const o = checkOpts(options, ['warmupSteps', 'startFactor'], 'LinearWarmup');
    super(optimizer);
    this.warmupSteps = checkInt(o.warmupSteps, 'warmupSteps', 1);
    if (o.startFactor === undefined) this.startFactor = 1 / 3;
    else {
      checkNumber(o.startFactor, 'startFactor', -Infinity, Infinity, 'number in (0, 1]');
      if (!((o.startFactor as number) > 0 && (o.startFactor as number) <= 1)) {
        fail('range', 'number in (0, 1]', 'startFactor', describe(o.startFactor));
      }
      this.startFactor = o.startFactor as number;
    }
    this.start();
  }
  protected lrOf(epoch: number): number {
    const t = Math.min(epoch, this.warmupSteps) / this.warmupSteps;
    return this.baseLr * (this.startFactor + (1 - this.startFactor) * t);
  }
}

export interface SequentialLROptions {
  /** Schedules of the same optimizer, run one after another. */
  schedulers: LRScheduler[];
  /** Epochs where the next schedule takes over (restarting at its epoch 0); one fewer than schedulers. */
  milestones: number[];
}

/**
 * Runs schedules one after another, as torch's SequentialLR: schedule i runs from milestone i-1,
 * counting its epochs from 0. Warm-up then cosine:
 *   new SequentialLR(opt, { schedulers: [new LinearWarmup(opt, {...}), new CosineAnnealingLR(opt, {...})],
 *                           milestones: [warmupSteps] })
 */
export class SequentialLR extends LRScheduler {
  readonly schedulers: readonly LRScheduler[];
  readonly milestones: readonly number[];
  constructor(optimizer: Optimizer, options: SequentialLROptions) {
    const o = checkOpts(options, ['schedulers', 'milestones'], 'SequentialLR');
    super(optimizer);
    const s = o.schedulers;
    if (!Array.isArray(s) || s.length === 0) fail('type', 'non-empty array of schedules', 'schedulers', describe(s));
    s.forEach((x, i) => {
      if (!(x instanceof LRScheduler)) fail('type', 'LRScheduler', `schedulers[${i}]`, describe(x));
      if (x.optimizer !== optimizer) fail('range', 'a schedule of the same optimizer', `schedulers[${i}]`, 'a schedule of another optimizer');
    });
    const m = o.milestones;
    if (!Array.isArray(m)) fail('type', `array of ${s.length - 1} milestones`, 'milestones', describe(m));
    if (m.length !== s.length - 1) fail('range', `array of ${s.length - 1} milestones (one fewer than schedulers)`, 'milestones', describe(m));
    m.forEach((x, i) => checkInt(x, `milestones[${i}]`, i === 0 ? 1 : (m[i - 1] as number) + 1));
    this.schedulers = [...(s as LRScheduler[])];
    this.milestones = [...(m as number[])];
    this.start();
  }

  /** Which schedule runs at `epoch`, and its own epoch count there. */
  private locate(epoch: number): [number, number] {
    let idx = 0;
    while (idx < this.milestones.length && this.milestones[idx] <= epoch) idx++;
    return [idx, idx > 0 ? epoch - this.milestones[idx - 1] : epoch];
  }

  protected lrOf(epoch: number): number {
    const [idx, local] = this.locate(epoch);
    return this.schedulers[idx].lrAt(local);
  }

  override step(): void {
    super.step();
    // Keep the running schedule's own counters in step, so its getLastLr() agrees.
    const [idx, local] = this.locate(this.lastEpoch);
    const s = this.schedulers[idx];
    s.lastEpoch = local;
    (s as unknown as { lastLr: number }).lastLr = this.lastLr;
  }
}
