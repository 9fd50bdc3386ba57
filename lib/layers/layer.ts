/**
 * The Layer lifecycle every layer follows (CS231n's explicit style):
 *   new Xxx(args)          options object, camelCase, defaults documented in XxxArgs
 *   build(inputShape, rng) allocates and names parameters (inputShape is per sample: no batch dim)
 *   forward(x)             x is [N, ...inputShape]; caches what backward needs
 *   backward(dy)           accumulates parameter gradients (+=) and returns dx
 *   getConfig()            plain JSON for saving
 * train()/eval() switch the mode. Parameters and gradients live in one arena each (named views).
 *
 * Outputs are written into buffers the layer owns and reuses: a tensor returned by forward() or
 * backward() stays valid until the next call of the same method. Nothing is allocated per step once
 * the batch shape is known.
 */
import type { Backend, BackendName } from '../backend/types';
import { checkBackend, getBackend } from '../backend/index';
import { Generator } from '../random';
import { fromConfig as initializerFromConfig } from '../init';
import type { Initializer, InitContext } from '../init';
import type { ParamArena, ParamView } from '../params';
import { Tensor, sizeOf, toTensor, sameShape, type TensorLike } from '../tensor';
import { checkBool, checkInt, describe, fail, formatShape, StateError } from '../validate';

export interface LayerArgs {
  /** Name used in messages and summaries. Default: the class name with a running number. */
  name?: string;
  /** Backend for this layer: 'native', 'js' or a Backend object. Default: the current backend. */
  backend?: BackendName | Backend;
}

/** A named parameter: `data` and `grad` are views into the owning arena. */
export interface Param {
  readonly name: string;
  readonly shape: readonly number[];
  data: Float32Array;
  grad: Float32Array;
}

/** A named non-trainable state tensor (BatchNorm running statistics). */
export interface StateBuffer {
  readonly name: string;
  readonly shape: readonly number[];
  data: Float32Array;
}

let initSkipped = false;
/**
 * Runs fn with parameter initialization skipped (parameters start at zero): for loaders that
 * overwrite every parameter right after building, so a large model is not initialized in vain.
 */
export function withoutInit<T>(fn: () => T): T {
  const before = initSkipped;
  initSkipped = true;
  try {
    return fn();
  } finally {
    initSkipped = before;
  }
}

let arenaDeferred = false;
/**
 * Runs fn with the layers it builds left without their own arena: for a container that binds every
 * layer into its own arena right after building, so each parameter is allocated and copied once,
 * not twice. Within it, gradients (and, with initialization skipped, values) are not allocated
 * before that binding.
 */
export function withDeferredArena<T>(fn: () => T): T {
  const before = arenaDeferred;
  arenaDeferred = true;
  try {
    return fn();
  } finally {
    arenaDeferred = before;
  }
}
const EMPTY = new Float32Array(0);

const counters = new Map<string, number>();
function autoName(cls: string): string {
  const n = counters.get(cls) ?? 0;
  counters.set(cls, n + 1);
  return `${cls.toLowerCase()}_${n}`;
}

export abstract class Layer {
  /** The class name as it appears in configs ('Linear', 'Conv2d', ...). */
  abstract readonly className: string;
  readonly name: string;
  private explicitBackend: Backend | undefined;
  /** true in training mode (the default), false after eval(). */
  training = true;
  /** Per-sample input and output shapes, set by build(). */
  inputShape: readonly number[] | null = null;
  outputShape: readonly number[] | null = null;

  protected readonly paramList: Param[] = [];
  protected readonly bufferList: StateBuffer[] = [];
  private arena: ParamArena | null = null;
  /** Whether a container's arena holds the parameters (bindArena). */
  private bound = false;
  private scratchMap = new Map<string, Float32Array | Int32Array>();
  private lastOut: Tensor | null = null;
  private lastIn: Tensor | null = null;

  constructor(args: LayerArgs = {}, cls?: string) {
    if (args.name !== undefined && (typeof args.name !== 'string' || args.name.length === 0)) fail('type', 'non-empty string', `name of ${cls ?? this.constructor.name}`, describe(args.name));
    this.name = args.name ?? autoName(cls ?? this.constructor.name);
    this.explicitBackend = checkBackend(args.backend);
  }

  /** The backend given to this layer, else the current one (looked up at each call). */
  get backend(): Backend {
    return this.explicitBackend ?? getBackend();
  }
  set backend(b: Backend) {
    this.explicitBackend = checkBackend(b);
  }

  get built(): boolean {
    return this.inputShape !== null;
  }

  /** Allocates parameters for a per-sample input shape; returns the per-sample output shape. */
  build(inputShape: readonly number[], rng: Generator = new Generator(0)): readonly number[] {
    if (!Array.isArray(inputShape)) fail('type', 'array of positive integers', `inputShape of ${this.label()}`, describe(inputShape));
    inputShape.forEach((d, i) => checkInt(d, `inputShape[${i}] of ${this.label()}`, 1));
    if (this.built) {
      if (!sameShape(inputShape, this.inputShape!)) {
        fail('range', `input shape ${formatShape(this.inputShape!)} (the layer is already built)`, this.label(), `shape ${formatShape(inputShape)}`);
      }
      return this.outputShape!;
    }
    const out = this.buildImpl([...inputShape], rng);
    this.inputShape = Object.freeze([...inputShape]);
    this.outputShape = Object.freeze([...out]);
    if (!arenaDeferred) this.packArena();
    return this.outputShape;
  }

  /** The input as a tensor of shape [N, ...inputShape] (building the layer on first use), or the error forward() throws. */
  protected checkInput(input: unknown): Tensor {
    const x = toTensor(input, `input of ${this.label()}`);
    if (x.shape.length < 1) fail('range', 'a batch', `input of ${this.label()}`, describe(x));
    if (!this.built) this.build(x.shape.slice(1));
    else if (x.shape.length !== this.inputShape!.length + 1 || !sameShape(x.shape.slice(1), this.inputShape!)) {
      fail('range', `input of shape [N, ${this.inputShape!.join(', ')}]`, this.label(), `tensor of shape ${formatShape(x.shape)}`);
    }
    return x;
  }

  /** Layer-specific build: validate the input shape, add parameters, return the output shape. */
  protected abstract buildImpl(inputShape: number[], rng: Generator): number[];
  protected abstract forwardImpl(x: Tensor): Tensor;
  protected abstract backwardImpl(dy: Tensor): Tensor;

  /** Forward pass over a batch [N, ...inputShape]. Builds the layer on first use. */
  forward(input: TensorLike): Tensor {
    const x = this.checkInput(input);
    const y = this.forwardImpl(x);
    this.lastIn = x;
    this.lastOut = y;
    return y;
  }

  /** Backward pass: dy has the shape of the last output. Accumulates parameter gradients, returns dx. */
  backward(gradOutput: TensorLike): Tensor {
    if (!this.lastOut) throw new StateError(`${this.label()}: backward() called before forward(); run forward on a batch first`);
    const dy = toTensor(gradOutput, `gradient of ${this.label()}`);
    if (!sameShape(dy.shape, this.lastOut.shape)) {
      fail('range', `gradient of shape ${formatShape(this.lastOut.shape)} (the last output's)`, this.label(), `tensor of shape ${formatShape(dy.shape)}`);
    }
    return this.backwardImpl(dy);
  }

  /** The input of the last forward call (valid until the next one). */
  protected get cachedInput(): Tensor {
    return this.lastIn!;
  }
  /** The output of the last forward call. */
  lastOutput(): Tensor | null {
    return this.lastOut;
  }

  /**
   * Throws (RangeError, saying why) if a training-mode batch of n samples cannot be processed —
   * BatchNorm with a single value per channel. The trainer asks before it changes anything.
   */
  checkTrainingBatch(_n: number): void {}

  train(mode = true): this {
    this.training = checkBool(mode, 'mode');
    return this;
  }
  eval(): this {
    return this.train(false);
  }

  /** Parameters in registration order (views into the arena). */
  parameters(): readonly Param[] {
    return this.paramList;
  }
  param(name: string): Param {
    const p = this.paramList.find((q) => q.name === name);
    if (!p) throw new RangeError(`Expected one of ${this.paramList.map((q) => `'${q.name}'`).join(', ') || 'no parameters'} for parameter name of ${this.label()} but received '${name}'`);
    return p;
  }
  /** Non-trainable state (BatchNorm running statistics). */
  buffers(): readonly StateBuffer[] {
    return this.bufferList;
  }

  /** This layer's own arena (when used standalone), for an optimizer. */
  paramArena(): ParamArena {
    if (!this.arena && this.built && !this.bound) this.packArena(); // built for a container that never bound it
    if (!this.arena) throw new StateError(`${this.label()}: not built yet; call build(inputShape) or forward first`);
    return this.arena;
  }

  /** Number of trainable values. */
  parameterCount(): number {
    return this.paramList.reduce((s, p) => s + sizeOf(p.shape), 0);
  }

  zeroGrad(): void {
    for (const p of this.paramList) p.grad.fill(0);
  }

  /** Moves this layer's parameters into a bigger arena at `offset` (copies the current values). */
  bindArena(data: Float32Array, grad: Float32Array, offset: number): number {
    for (const p of this.paramList) offset = this.bindParam(p, data, grad, offset);
    this.arena = null;
    this.bound = true;
    return offset;
  }

  getConfig(): Record<string, unknown> {
    return { className: this.className, name: this.name };
  }

  /**
   * Rebuilds a layer of this class from its getConfig() output (initializer configs included); the
   * constructor checks every value. Subclasses whose config is not their constructor's options
   * override it.
   */
  static fromConfig<T extends Layer>(this: new (args: any) => T, config: Record<string, unknown>): T {
    if (config === null || typeof config !== 'object' || Array.isArray(config)) fail('type', 'layer config object', 'config', describe(config));
    const { className, ...args } = config as Record<string, unknown>;
    for (const [k, v] of Object.entries(args)) {
      if (k.endsWith('Init') && v !== null && typeof v === 'object') args[k] = initializerFromConfig(v as Record<string, unknown>);
    }
    const layer = new this(args);
    if (className !== undefined && className !== layer.className) fail('range', `className '${layer.className}'`, 'config.className', describe(className));
    return layer;
  }

  toString(): string {
    return this.label();
  }

  // ------------------------------------------------------------ helpers for subclasses
  protected label(): string {
    return `${this.className} '${this.name}'`;
  }

  /** Adds a parameter filled by `init` (fans for the initializer given by the caller). */
  protected addParam(name: string, shape: number[], init: Initializer, rng: Generator, ctx: Omit<InitContext, 'layer'>): Param {
    // bound into a container's fresh (zeroed) arena right after: nothing to allocate for zeros
    const data = arenaDeferred && initSkipped ? EMPTY : new Float32Array(sizeOf(shape));
    if (!initSkipped) init.fill(data, { ...ctx, layer: this.label() }, rng);
    const grad = arenaDeferred ? EMPTY : new Float32Array(data.length);
    const p: Param = { name, shape: Object.freeze([...shape]), data, grad };
    this.paramList.push(p);
    return p;
  }

  protected addBuffer(name: string, shape: number[], value: number): StateBuffer {
    const b: StateBuffer = { name, shape: Object.freeze([...shape]), data: new Float32Array(sizeOf(shape)).fill(value) };
    this.bufferList.push(b);
    return b;
  }

  /** A reusable Float32Array (or Int32Array: argmax indices) of exactly `size` elements, reallocated only when the size changes. */
  protected scratch(key: string, size: number): Float32Array;
  protected scratch(key: string, size: number, kind: 'int32'): Int32Array;
  protected scratch(key: string, size: number, kind: 'float32' | 'int32' = 'float32'): Float32Array | Int32Array {
    const k = kind === 'int32' ? `i32:${key}` : key;
    let b = this.scratchMap.get(k);
    if (!b || b.length !== size) {
      b = kind === 'int32' ? new Int32Array(size) : new Float32Array(size);
      this.scratchMap.set(k, b);
    }
    return b;
  }

  /**
   * A tensor of zeros over a buffer nothing writes to (the input gradient a layer returns when it is
   * told nobody reads it): zeroed once at allocation, not on every call.
   */
  protected zeros(key: string, shape: number[]): Tensor {
    return this.out(`zeros:${key}`, shape);
  }

  /** A tensor over a reusable buffer. */
  protected out(key: string, shape: number[]): Tensor {
    return { data: this.scratch(key, sizeOf(shape)), shape };
  }

  private packArena(): void {
    const total = this.paramList.reduce((s, p) => s + sizeOf(p.shape), 0);
    const data = new Float32Array(total);
    const grad = new Float32Array(total);
    const views: ParamView[] = [];
    let off = 0;
    for (const p of this.paramList) {
      views.push({ name: p.name, shape: p.shape, offset: off, size: sizeOf(p.shape) });
      off = this.bindParam(p, data, grad, off);
    }
    this.arena = { data, grad, views };
  }

  /** Points a parameter at data/grad[off, off + size), carrying its values and gradient over. */
  private bindParam(p: Param, data: Float32Array, grad: Float32Array, off: number): number {
    const n = sizeOf(p.shape);
    const d = data.subarray(off, off + n);
    const g = grad.subarray(off, off + n);
    if (p.data.length === n) d.set(p.data); // else not allocated yet (withDeferredArena): zeros
    if (p.grad.length === n) g.set(p.grad);
    p.data = d;
    p.grad = g;
    return off + n;
  }
}
