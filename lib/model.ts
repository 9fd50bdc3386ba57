/**
 * Sequential: a stack of layers. It infers each layer's input shape from the one before, keeps all
 * parameters in one arena and all gradients in another (named views, PyTorch keys such as
 * `0.weight`), and exposes the explicit training loop pieces: forward, backward, zeroGrad, train/eval.
 */
import type { Backend, BackendName } from './backend/types';
import { checkBackend } from './backend/index';
import { Layer } from './layers/layer';
import { Generator } from './random';
import type { ParamArena, ParamView } from './params';
import { Tensor, checkFiniteData, sameShape, sizeOf, toTensor, type TensorLike } from './tensor';
import { loadWeights } from './io/checkpoint';
import { checkBool, checkInt, checkOptions, describe, fail, formatShape } from './validate';

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

export class Sequential {
  readonly layers: Layer[];
  private arena: ParamArena | null = null;
  /** The backend given to the model (and so to its layers and arena), if any. */
  readonly backend: Backend | undefined;
  private rng: Generator;
  private _training = true;
  inputShape: readonly number[] | null = null;
  outputShape: readonly number[] | null = null;

  constructor(layers: Layer[], args: SequentialArgs = {}) {
    checkOptions(args, ['inputShape', 'seed', 'backend', 'inputGrad'], 'Sequential');
    if (!Array.isArray(layers) || layers.length === 0) fail('type', 'non-empty array of layers', 'layers', describe(layers));
    layers.forEach((l, i) => {
      if (!(l instanceof Layer)) fail('type', 'Layer', `layers[${i}]`, describe(l));
    });
    if (new Set(layers).size !== layers.length) throw new RangeError('Expected distinct layer objects for layers but received the same layer twice');
    this.layers = layers;
    this.rng = new Generator(checkInt(args.seed ?? 0, 'seed', 0));
    // The first layer with parameters (after shape-only layers such as Flatten) skips its input
    // gradient unless the caller wants the gradient with respect to the model's input.
    const inputGrad = args.inputGrad === undefined ? false : checkBool(args.inputGrad, 'inputGrad');
    const first = layers.find((l) => 'needsInputGrad' in l || l.parameterCount() > 0 || !SHAPE_ONLY.has(l.className)) as
      | (Layer & { needsInputGrad?: boolean })
      | undefined;
    if (first && 'needsInputGrad' in first) first.needsInputGrad = inputGrad;
    this.backend = checkBackend(args.backend);
    if (this.backend) for (const l of layers) l.backend = this.backend;
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
    for (const l of this.layers) shape = l.build(shape, this.rng);
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
        views.push({ name: `${i}.${p.name}`, shape: p.shape, offset: total, size: p.data.length });
        total += p.data.length;
      }
    });
    const data = new Float32Array(total);
    const grad = new Float32Array(total);
    let off = 0;
    for (const l of this.layers) off = l.bindArena(data, grad, off);
    this.arena = this.backend ? { data, grad, views, backend: this.backend } : { data, grad, views };
  }

  /**
   * Forward through every layer. Builds the model from the first batch's shape if needed. The input
   * must be finite (a NaN or infinity is an error naming its row) unless `checkFinite: false`.
   */
  forward(input: TensorLike, options: ForwardOptions = {}): Tensor {
    checkOptions(options, ['checkFinite'], 'forward');
    let x = toTensor(input, 'input');
    if (options.checkFinite === undefined || checkBool(options.checkFinite, 'checkFinite')) checkFiniteData(x, 'input');
    if (!this.built) this.build(x.shape.slice(1));
    for (const l of this.layers) x = l.forward(x);
    return x;
  }

  /** Backward through every layer in reverse; parameter gradients accumulate. Returns dx. */
  backward(gradOutput: TensorLike): Tensor {
    let g = toTensor(gradOutput, 'gradient');
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
    if (!this.arena) throw new Error('Sequential: not built yet; give inputShape, call build(inputShape) or run forward on a batch first');
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
    if (!this.built) throw new Error('Sequential: not built yet; summary() needs the input shape (build(inputShape) first)');
    const rows: string[][] = [['#', 'layer', 'output shape', 'params']];
    this.layers.forEach((l, i) => {
      rows.push([String(i), `${l.className} (${l.name})`, formatShape(['N' as unknown as number, ...l.outputShape!]), String(l.parameterCount())]);
    });
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
    if (!this.built) throw new Error('Sequential: not built yet; stateDict() needs the input shape');
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
    if (!this.built) throw new Error('Sequential: not built yet; build(inputShape) before loadStateDict()');
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
