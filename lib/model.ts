/**
 * Sequential: a stack of layers. It infers each layer's input shape from the one before, keeps all
 * parameters in one arena and all gradients in another (named views, PyTorch keys such as
 * `0.weight`), and exposes the explicit training loop pieces: forward, backward, zeroGrad, train/eval.
 */
import type { Backend, BackendName } from './backend/types';
import { checkBackend, getBackend } from './backend/index';
import { Layer, withDeferredArena } from './layers/layer';
import { Block, Container, withPath } from './layers/containers';
import { Generator } from './random';
import type { ParamArena, ParamView } from './params';
import { Tensor, checkFiniteData, sameShape, sizeOf, toTensor, type TensorLike } from './tensor';
import { loadWeights } from './io/checkpoint';
import { fusedForward, FoldBuffers } from './fuse';
import { allFinite } from './train/data';
import { checkBool, checkInt, checkOptions, describe, fail, formatShape, StateError } from './validate';

/** Layers whose backward only reshapes or masks the gradient: they may precede the first trainable layer. */
const SHAPE_ONLY = new Set(['Flatten', 'Dropout']);

export interface SequentialArgs {
  /** Per-sample input shape (no batch dimension), e.g. [784] or [1, 28, 28]. Default: taken from the first batch. */
  inputShape?: number[];
  /** Seed of the generator used to initialise every layer (and Dropout masks). Default 0. */
  seed?: number;
  /** Backend for every layer ('native', 'js' or a Backend). Default: each layer's own. */
  backend?: BackendName | Backend;
  /**
   * Whether backward() must return the gradient with respect to the model's input. Default false:
   * as in PyTorch, where the input does not require a gradient, a first Conv2d then skips its input
   * gradient (col2im, or one GEMM for a Linear) and backward() returns zeros of the input's shape.
   * Set true to get dx.
   */
  inputGrad?: boolean;
}

export interface ForwardOptions {
  /** Reject NaN and infinite inputs (one pass over the input). Default true. */
  checkFinite?: boolean;
}

/** A state-dict entry: shape and values (a copy on export). */
export interface StateEntry {
  shape: number[];
  data: Float32Array;
}
export type StateDict = Record<string, StateEntry>;

/**
 * A built model's memory: parameters, gradients and buffers (running statistics), each one
 * SharedArrayBuffer. A replica of the model in a worker thread binds its layers to these, so the
 * weights a worker trains are the caller's weights, with no copy.
 */
export interface SharedState {
  readonly data: SharedArrayBuffer;
  readonly grad: SharedArrayBuffer;
  readonly buffers: SharedArrayBuffer;
}

/** Sets the backend of a layer and, in a container, of every layer inside. */
function setBackend(l: Layer, b: Backend): void {
  l.backend = b;
  if (l instanceof Container) for (const c of l.children()) setBackend(c, b);
}

export class Sequential {
  readonly layers: Layer[];
  private arena: ParamArena | null = null;
  private bufferArena: Float32Array | null = null;
  /** The backend given to the model (and so to its layers and arena), if any. */
  readonly backend: Backend | undefined;
  private rng: Generator;
  private _training = true;
  /** The input of the last forward when it ran fused (backward reruns it plain first), else null. */
  private fusedInput: Tensor | null = null;
  private readonly foldBuffers: FoldBuffers = new Map();
  private readonly finiteScratch = new Float64Array(3);
  inputShape: readonly number[] | null = null;
  outputShape: readonly number[] | null = null;

  constructor(layers: Array<Layer | Sequential>, args: SequentialArgs = {}) {
    checkOptions(args, ['inputShape', 'seed', 'backend', 'inputGrad'], 'Sequential');
    if (!Array.isArray(layers) || layers.length === 0) fail('type', 'non-empty array of layers', 'layers', describe(layers));
    layers = layers.map((l, i) => {
      if (l instanceof Sequential) {
        if (l.built) fail('range', 'an unbuilt Sequential (its layers join this model)', `layers[${i}]`, 'a built Sequential');
        return new Block(l.layers);
      }
      if (!(l instanceof Layer)) fail('type', 'Layer or Sequential', `layers[${i}]`, describe(l));
      return l;
    });
    if (new Set(layers).size !== layers.length) throw new RangeError('Expected distinct layer objects for layers but received the same layer twice');
    this.layers = layers as Layer[];
    this.rng = new Generator(checkInt(args.seed ?? 0, 'seed', 0));
    // The first layer with parameters (after shape-only layers such as Flatten) skips its input
    // gradient unless the caller wants the gradient with respect to the model's input.
    const inputGrad = args.inputGrad === undefined ? false : checkBool(args.inputGrad, 'inputGrad');
    const first = this.layers.find((l) => 'needsInputGrad' in l || l.parameterCount() > 0 || !SHAPE_ONLY.has(l.className)) as
      | (Layer & { needsInputGrad?: boolean })
      | undefined;
    if (first && 'needsInputGrad' in first) first.needsInputGrad = inputGrad;
    this.backend = checkBackend(args.backend);
    if (this.backend) for (const l of this.layers) setBackend(l, this.backend);
    if (args.inputShape !== undefined) this.build(args.inputShape);
  }

  get built(): boolean {
    return this.arena !== null;
  }
  get training(): boolean {
    return this._training;
  }

  /** Builds every layer for a per-sample input shape and packs the parameter arena. */
  build(inputShape: readonly number[]): readonly number[] {
    if (!Array.isArray(inputShape)) fail('type', 'array of positive integers', 'inputShape', describe(inputShape));
    if (inputShape.length === 0) fail('range', 'non-empty array of positive integers', 'inputShape', 'an empty array');
    if (this.built) {
      if (!sameShape(inputShape, this.inputShape!)) {
        fail('range', `input shape ${formatShape(this.inputShape!)} (the model is built)`, 'inputShape', formatShape(inputShape));
      }
      return this.outputShape!;
    }
    let shape: readonly number[] = inputShape;
    // layers built here are bound into this model's arena at once: no arena of their own first
    try {
      withDeferredArena(() => {
        this.layers.forEach((l, i) => {
          try {
            shape = l.build(shape, this.rng);
          } catch (e) {
            throw l instanceof Container ? withPath(e, `layers[${i}]`) : e;
          }
        });
      });
    } catch (e) {
      for (const l of this.layers) if (l.built) l.paramArena(); // the layers built so far get their own arenas
      throw e;
    }
    this.inputShape = Object.freeze([...inputShape]);
    this.outputShape = shape;
    this.packArena();
    return shape;
  }

  private packArena(): void {
    const views: ParamView[] = [];
    let total = 0;
    this.layers.forEach((l, i) => {
      for (const p of l.parameters()) {
        const size = sizeOf(p.shape);
        views.push({ name: `${i}.${p.name}`, shape: p.shape, offset: total, size });
        total += size;
      }
    });
    // Shared memory, so that a worker-thread replica trains and reads these very values.
    const data = new Float32Array(new SharedArrayBuffer(total * 4));
    const grad = new Float32Array(new SharedArrayBuffer(total * 4));
    let off = 0;
    for (const l of this.layers) off = l.bindArena(data, grad, off);
    this.arena = this.backend ? { data, grad, views, backend: this.backend } : { data, grad, views };
    const nb = this.layers.reduce((s, l) => s + l.buffers().reduce((t, b) => t + b.data.length, 0), 0);
    this.bufferArena = new Float32Array(new SharedArrayBuffer(nb * 4));
    this.bindBuffers(this.bufferArena, true);
  }

  /** Points every layer buffer at its slice of `all` (copying the current values when asked). */
  private bindBuffers(all: Float32Array, copy: boolean): void {
    let off = 0;
    for (const l of this.layers) {
      for (const b of l.buffers()) {
        const v = all.subarray(off, off + b.data.length);
        if (copy) v.set(b.data);
        b.data = v;
        off += v.length;
      }
    }
  }

  /** The shared memory behind parameters, gradients and buffers (see SharedState). */
  sharedState(): SharedState {
    const a = this.parameters();
    return { data: a.data.buffer as SharedArrayBuffer, grad: a.grad.buffer as SharedArrayBuffer, buffers: this.bufferArena!.buffer as SharedArrayBuffer };
  }

  /**
   * Binds this built model to the shared state of a model of the same architecture, without
   * copying: from now on both read and write the same parameters, gradients and buffers.
   */
  attachSharedState(s: SharedState): void {
    const a = this.parameters();
    const nb = this.bufferArena!.length;
    if (!s || !(s.data instanceof SharedArrayBuffer) || s.data.byteLength !== a.data.byteLength || s.grad?.byteLength !== a.grad.byteLength || s.buffers?.byteLength !== nb * 4) {
      fail('range', `shared state of ${a.data.length} parameters and ${nb} buffer values`, 'sharedState', describe(s));
    }
    const data = new Float32Array(s.data);
    const grad = new Float32Array(s.grad);
    let off = 0;
    for (const l of this.layers) {
      for (const p of l.parameters()) {
        p.data = data.subarray(off, off + p.data.length);
        p.grad = grad.subarray(off, off + p.grad.length);
        off += p.data.length;
      }
    }
    this.arena = this.backend ? { data, grad, views: a.views, backend: this.backend } : { data, grad, views: a.views };
    this.bufferArena = new Float32Array(s.buffers);
    this.bindBuffers(this.bufferArena, false);
  }

  /**
   * Forward through every layer. Builds the model from the first batch's shape if needed. In eval
   * mode, Conv2d → BatchNorm2d → ReLU runs fused (lib/fuse.ts): same results to float32 rounding.
   * The input must be finite (a NaN or infinity is an error naming its row) unless `checkFinite: false`.
   */
  forward(input: TensorLike, options: ForwardOptions = {}): Tensor {
    checkOptions(options, ['checkFinite'], 'forward');
    let x = toTensor(input, 'input');
    // the finite check: one SIMD pass of the backend (paramStats), the scan naming the row only when it fails
    if ((options.checkFinite === undefined || checkBool(options.checkFinite, 'checkFinite')) && !allFinite(this.backend ?? getBackend(), x.data, this.finiteScratch)) {
      checkFiniteData(x, 'input');
    }
    if (!this.built) this.build(x.shape.slice(1));
    this.fusedInput = null;
    if (!this._training) {
      const r = fusedForward(this.layers, x, this.foldBuffers);
      if (r.fused) this.fusedInput = x;
      return r.y;
    }
    for (const l of this.layers) x = l.forward(x);
    return x;
  }

  /** Backward through every layer in reverse; parameter gradients accumulate. Returns dx. */
  backward(gradOutput: TensorLike): Tensor {
    let g = toTensor(gradOutput, 'gradient');
    if (this.fusedInput) {
      // the last forward was fused: run it plain so that every layer holds what backward needs
      let x = this.fusedInput;
      this.fusedInput = null;
      for (const l of this.layers) x = l.forward(x);
    }
    for (let i = this.layers.length - 1; i >= 0; i--) g = this.layers[i].backward(g);
    return g;
  }

  train(mode = true): this {
    this._training = checkBool(mode, 'mode');
    for (const l of this.layers) l.train(mode);
    return this;
  }
  eval(): this {
    return this.train(false);
  }

  /** Parameters and gradients: one arena each, with named views (for optimizers). */
  parameters(): ParamArena {
    if (!this.arena) throw new StateError('Sequential: not built yet; give inputShape, call build(inputShape) or run forward on a batch first');
    return this.arena;
  }

  zeroGrad(): void {
    if (this.arena) this.arena.grad.fill(0);
  }

  parameterCount(): number {
    return this.arena ? this.arena.data.length : 0;
  }

  /** A table of layers, output shapes and parameter counts. */
  summary(): string {
    if (!this.built) throw new StateError('Sequential: not built yet; summary() needs the input shape (build(inputShape) first)');
    const rows: string[][] = [['#', 'layer', 'output shape', 'params']];
    const add = (l: Layer, key: string, depth: number) => {
      rows.push([key, `${'  '.repeat(depth)}${l.className} (${l.name})`, formatShape(['N' as unknown as number, ...l.outputShape!]), String(l.parameterCount())]);
      if (l instanceof Container) for (const [k, c] of l.childEntries()) add(c, `${key}.${k}`, depth + 1);
    };
    this.layers.forEach((l, i) => add(l, String(i), 0));
    const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    const line = (r: string[]) => r.map((s, c) => (c === 3 ? s.padStart(w[c]) : s.padEnd(w[c]))).join('  ');
    const sep = '-'.repeat(w.reduce((a, b) => a + b + 2, -2));
    const trainable = this.parameterCount();
    return [
      `Sequential: input ${formatShape(['N' as unknown as number, ...this.inputShape!])}`,
      sep,
      line(rows[0]),
      sep,
      ...rows.slice(1).map(line),
      sep,
      `trainable parameters: ${trainable}`,
    ].join('\n');
  }

  /** Parameters and buffers under PyTorch's keys (`0.weight`, `1.running_mean`, ...), copied. */
  stateDict(): StateDict {
    if (!this.built) throw new StateError('Sequential: not built yet; stateDict() needs the input shape');
    const sd: StateDict = {};
    this.layers.forEach((l, i) => {
      for (const t of [...l.parameters(), ...l.buffers()]) sd[`${i}.${t.name}`] = { shape: [...t.shape], data: Float32Array.from(t.data) };
    });
    return sd;
  }

  /**
   * Loads a state dict (shapes checked first; nothing changes unless every entry fits). With
   * strict (default) the keys must match exactly.
   */
  loadStateDict(sd: Record<string, { shape: readonly number[]; data: ArrayLike<number> }>, options: { strict?: boolean } = {}): void {
    checkOptions(options, ['strict'], 'loadStateDict');
    const strict = options.strict === undefined ? true : checkBool(options.strict, 'strict');
    if (!this.built) throw new StateError('Sequential: not built yet; build(inputShape) before loadStateDict()');
    if (!sd || typeof sd !== 'object') fail('type', 'state dict object', 'stateDict', describe(sd));
    const targets = new Map<string, { shape: readonly number[]; data: Float32Array }>();
    this.layers.forEach((l, i) => {
      for (const t of [...l.parameters(), ...l.buffers()]) targets.set(`${i}.${t.name}`, t);
    });
    const keys = Object.keys(sd);
    if (strict) {
      const missing = [...targets.keys()].filter((k) => !(k in sd));
      const unexpected = keys.filter((k) => !targets.has(k));
      if (missing.length || unexpected.length) {
        throw new RangeError(
          `Expected the keys ${[...targets.keys()].join(', ')} for stateDict but received ` +
            `${missing.length ? `missing ${missing.join(', ')}` : ''}${missing.length && unexpected.length ? '; ' : ''}` +
            `${unexpected.length ? `unexpected ${unexpected.join(', ')}` : ''}`,
        );
      }
    }
    // validate everything before writing anything
    for (const k of keys) {
      const t = targets.get(k);
      if (!t) continue;
      const e = sd[k];
      if (!e || !Array.isArray(e.shape) || !sameShape(e.shape, t.shape)) {
        fail('range', `shape ${formatShape(t.shape)}`, `stateDict['${k}']`, e && Array.isArray(e.shape) ? `shape ${formatShape(e.shape)}` : describe(e));
      }
      if (!e.data || e.data.length !== sizeOf(t.shape)) fail('range', `${sizeOf(t.shape)} values`, `stateDict['${k}']`, describe(e.data));
      for (let i = 0; i < e.data.length; i++) {
        if (!Number.isFinite(e.data[i])) fail('range', 'finite values', `stateDict['${k}'][${i}]`, describe(e.data[i]));
      }
      if (k.endsWith('num_batches_tracked')) {
        for (let i = 0; i < e.data.length; i++) if (!Number.isInteger(e.data[i]) || e.data[i] < 0) fail('range', 'a non-negative integer count', `stateDict['${k}'][${i}]`, describe(e.data[i]));
      }
      if (k.endsWith('running_var')) {
        for (let i = 0; i < e.data.length; i++) if (e.data[i] < 0) fail('range', 'non-negative variances', `stateDict['${k}'][${i}]`, describe(e.data[i]));
      }
    }
    for (const k of keys) {
      const t = targets.get(k);
      if (t) t.data.set(sd[k].data);
    }
  }

  /**
   * Loads the weights and buffers of a safetensors file (ours, or PyTorch's for the same
   * architecture) into this built model; lists missing, unexpected and mis-shaped keys.
   */
  loadWeights(path: string, options: { strict?: boolean } = {}): { missing: string[]; unexpected: string[] } {
    return loadWeights(this, path, options);
  }

  getConfig(): Record<string, unknown> {
    return { className: 'Sequential', inputShape: this.inputShape, layers: this.layers.map((l) => l.getConfig()) };
  }
}
