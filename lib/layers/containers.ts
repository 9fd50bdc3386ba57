/**
 * Containers: layers made of layers, so that a model need not be one straight stack.
 *
 *   Block (className 'Sequential')  a stack inside a stack; children keyed 0, 1, ...
 *   Residual                        y = block(x) + shortcut(x); children keyed `block`, `shortcut`
 *   Concat                          branches on the same input, outputs joined along the channel
 *                                   (or feature) axis; children keyed 0, 1, ...
 *
 * A container is a Layer: its parameters and buffers are its children's, under PyTorch's nested
 * names (`block.0.weight`, `shortcut.1.running_mean`), so a model that holds it names them
 * `3.block.0.weight` as `nn.Module.state_dict()` does. The children's parameters live in the
 * container's arena (or the model's, once the model binds it); train/eval, the training-batch
 * check and the input-gradient hint go down the tree. Build errors name the path to the layer at
 * fault (`block[1]`), which the model prefixes with `layers[i]`.
 */
import { Layer, LayerArgs, Param, StateBuffer } from './layer';
import { Dropout } from './reshape';
import { Generator } from '../random';
import { sameShape, type Tensor } from '../tensor';
import { checkOptions, describe, fail } from '../validate';

/** Something with a `layers` array that is not itself a Layer (a Sequential model used as a block). */
interface LayerStack {
  layers: Layer[];
}

/**
 * Prefixes a build error with a path segment (`[1]`, `.block`, `layers[3]`), outermost last:
 * `Expected … for layers[3].block[1]: Conv2d 'c' but received …`.
 */
export function withPath(e: unknown, segment: string): unknown {
  if (!(e instanceof TypeError || e instanceof RangeError)) return e;
  const E = e instanceof TypeError ? TypeError : RangeError;
  const tagged = e as Error & { layerPath?: string; baseMessage?: string };
  const path = segment + (tagged.layerPath ?? '');
  const shown = path.replace(/^\./, '');
  const base = tagged.baseMessage ?? e.message;
  const at = base.indexOf(' for ');
  const message = at >= 0 ? `${base.slice(0, at)} for ${shown}: ${base.slice(at + 5)}` : `${base} (at ${shown})`;
  const out = new E(message) as Error & { layerPath?: string; baseMessage?: string };
  out.layerPath = path;
  out.baseMessage = base;
  return out;
}

/** How a child's config becomes a layer (the registry's layerFromConfig, set when it loads). */
let childFromConfig: ((config: unknown, name: string) => Layer) | null = null;
export function setChildFactory(f: (config: unknown, name: string) => Layer): void {
  childFromConfig = f;
}
function child(config: unknown, name: string): Layer {
  if (!childFromConfig) throw new Error('Container.fromConfig: the layer registry is not loaded');
  return childFromConfig(config, name);
}
function configObject(config: unknown): Record<string, unknown> {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) fail('type', 'layer config object', 'config', describe(config));
  return config as Record<string, unknown>;
}
function configList(v: unknown, name: string): unknown[] {
  if (!Array.isArray(v) || v.length === 0) fail('range', 'a non-empty array of layer configs', name, describe(v));
  return v;
}

/** A Layer, an array of layers or a Sequential model, as a Layer (stacks become a Block). */
export function asLayer(v: unknown, name: string): Layer {
  if (v instanceof Layer) return v;
  if (Array.isArray(v)) return new Block(v as Layer[]);
  if (v !== null && typeof v === 'object' && Array.isArray((v as LayerStack).layers)) {
    const stack = v as LayerStack & { built?: boolean };
    if (stack.built) fail('range', 'an unbuilt Sequential (its layers join this container)', name, 'a built Sequential');
    return new Block(stack.layers);
  }
  return fail('type', 'Layer, array of layers or Sequential', name, describe(v));
}

function prefixed(prefix: string, p: Param): Param {
  return {
    name: `${prefix}.${p.name}`,
    shape: p.shape,
    get data() { return p.data; },
    set data(v: Float32Array) { p.data = v; },
    get grad() { return p.grad; },
    set grad(v: Float32Array) { p.grad = v; },
  };
}
function prefixedBuffer(prefix: string, b: StateBuffer): StateBuffer {
  return { name: `${prefix}.${b.name}`, shape: b.shape, get data() { return b.data; }, set data(v: Float32Array) { b.data = v; } };
}

/** The base of every container: children with their key segments. */
export abstract class Container extends Layer {
  /** [state-dict key segment, path label for messages, child]. */
  protected abstract entries(): Array<[string, string, Layer]>;
  protected abstract buildChildren(inputShape: number[], rng: Generator): number[];

  /** [state-dict key segment, child] pairs in order (summaries, walks over the tree). */
  childEntries(): Array<[string, Layer]> {
    return this.entries().map((e) => [e[0], e[2]]);
  }

  /** The children in order. */
  children(): Layer[] {
    return this.entries().map((e) => e[2]);
  }

  /** Builds one child, prefixing a failure with its path. */
  protected buildChild(label: string, child: Layer, shape: readonly number[], rng: Generator): readonly number[] {
    try {
      return child.build(shape, rng);
    } catch (e) {
      throw withPath(e, label);
    }
  }

  protected buildImpl(inputShape: number[], rng: Generator): number[] {
    const out = this.buildChildren(inputShape, rng);
    for (const [key, , child] of this.entries()) {
      for (const p of child.parameters()) this.paramList.push(prefixed(key, p));
      for (const b of child.buffers()) this.bufferList.push(prefixedBuffer(key, b));
    }
    return out;
  }

  override build(inputShape: readonly number[], rng: Generator = new Generator(0)): readonly number[] {
    const wasBuilt = this.built;
    const out = super.build(inputShape, rng);
    if (!wasBuilt) {
      // Point every child at the container's arena (their own arenas would go stale).
      const a = this.paramArena();
      this.bindArena(a.data, a.grad, 0);
    }
    return out;
  }

  override bindArena(data: Float32Array, grad: Float32Array, offset: number): number {
    for (const c of this.children()) offset = c.bindArena(data, grad, offset);
    return offset;
  }

  override train(mode = true): this {
    super.train(mode);
    for (const c of this.children()) c.train(mode);
    return this;
  }

  override checkTrainingBatch(n: number): void {
    for (const [, label, c] of this.entries()) {
      try {
        c.checkTrainingBatch(n);
      } catch (e) {
        throw withPath(e, label);
      }
    }
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig() };
  }
}

/**
 * Every Dropout among `layers` and inside their containers, with its key: the layer's index at the
 * top level, its state-dict path inside containers ('3.block.1', '2.0.1'). What a checkpoint or a
 * worker carries of the generators drawn at run time.
 */
export function dropoutLayers(layers: readonly Layer[]): Array<[string, Dropout]> {
  const out: Array<[string, Dropout]> = [];
  const walk = (l: Layer, key: string): void => {
    if (l instanceof Dropout) out.push([key, l]);
    else if (l instanceof Container) for (const [k, c] of l.childEntries()) walk(c, `${key}.${k}`);
  };
  layers.forEach((l, i) => walk(l, String(i)));
  return out;
}

/** Sets a layer's input-gradient hint when it has one (Conv2d, Linear, containers). */
function setInputGrad(l: Layer, v: boolean): void {
  if ('needsInputGrad' in l) (l as Layer & { needsInputGrad: boolean }).needsInputGrad = v;
}

export interface BlockArgs extends LayerArgs {}

/** A stack of layers used as one layer (a Sequential inside a Sequential). */
export class Block extends Container {
  readonly className: string = 'Sequential';
  readonly layers: Layer[];
  private inputGrad = true;

  constructor(layers: Layer[], args: BlockArgs = {}) {
    checkOptions(args, ['name', 'backend'], 'Sequential block');
    super(args, 'Sequential');
    if (!Array.isArray(layers) || layers.length === 0) fail('type', 'non-empty array of layers', 'layers', describe(layers));
    this.layers = layers.map((l, i) => asLayer(l, `layers[${i}]`));
    if (new Set(this.layers).size !== this.layers.length) throw new RangeError('Expected distinct layer objects for layers but received the same layer twice');
    // A Sequential model sets its first layer to skip the input gradient; inside a block it is read.
    for (const l of this.layers) setInputGrad(l, true);
  }

  /** Whether backward() must return the input gradient (false lets the first layer skip it). */
  get needsInputGrad(): boolean {
    return this.inputGrad;
  }
  set needsInputGrad(v: boolean) {
    this.inputGrad = v;
    setInputGrad(this.layers[0], v);
  }

  protected entries(): Array<[string, string, Layer]> {
    return this.layers.map((l, i) => [String(i), `[${i}]`, l]);
  }

  protected buildChildren(inputShape: number[], rng: Generator): number[] {
    let shape: readonly number[] = inputShape;
    this.layers.forEach((l, i) => {
      shape = this.buildChild(`[${i}]`, l, shape, rng);
    });
    return [...shape];
  }

  protected forwardImpl(x: Tensor): Tensor {
    for (const l of this.layers) x = l.forward(x);
    return x;
  }

  protected backwardImpl(dy: Tensor): Tensor {
    for (let i = this.layers.length - 1; i >= 0; i--) dy = this.layers[i].backward(dy);
    return dy;
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), layers: this.layers.map((l) => l.getConfig()) };
  }

  static override fromConfig(config: Record<string, unknown>): any {
    const c = configObject(config);
    const layers = configList(c.layers, 'config.layers').map((l, i) => child(l, `config.layers[${i}]`));
    return new Block(layers, c.name === undefined ? {} : { name: c.name as string });
  }
}

export interface ResidualArgs extends LayerArgs {
  /**
   * The shortcut: a layer, an array of layers or a Sequential (typically a 1×1 Conv2d and a
   * BatchNorm2d when the block changes the shape). Default: the identity, which needs the block to
   * keep the shape.
   */
  shortcut?: Layer | Layer[] | LayerStack;
}

/** y = block(x) + shortcut(x), the shortcut the identity unless given. */
export class Residual extends Container {
  readonly className: string = 'Residual';
  readonly block: Layer;
  readonly shortcut: Layer | null;
  private inputGrad = true;

  constructor(block: Layer | Layer[] | LayerStack, args: ResidualArgs = {}) {
    checkOptions(args, ['shortcut', 'name', 'backend'], 'Residual');
    super(args, 'Residual');
    this.block = asLayer(block, 'block');
    this.shortcut = args.shortcut === undefined || args.shortcut === null ? null : asLayer(args.shortcut, 'shortcut');
    if (this.shortcut === this.block) throw new RangeError('Expected distinct layers for block and shortcut but received the same layer twice');
    setInputGrad(this.block, true);
    if (this.shortcut) setInputGrad(this.shortcut, true);
  }

  get needsInputGrad(): boolean {
    return this.inputGrad;
  }
  set needsInputGrad(v: boolean) {
    this.inputGrad = v;
    setInputGrad(this.block, v);
    if (this.shortcut) setInputGrad(this.shortcut, v);
  }

  protected entries(): Array<[string, string, Layer]> {
    const e: Array<[string, string, Layer]> = [['block', '.block', this.block]];
    if (this.shortcut) e.push(['shortcut', '.shortcut', this.shortcut]);
    return e;
  }

  protected buildChildren(inputShape: number[], rng: Generator): number[] {
    const out = this.buildChild('.block', this.block, inputShape, rng);
    const side = this.shortcut ? this.buildChild('.shortcut', this.shortcut, inputShape, rng) : inputShape;
    if (!sameShape(out, side)) {
      const what = this.shortcut
        ? `the shortcut's output shape [N, ${side.join(', ')}] from the block`
        : `the input shape [N, ${inputShape.join(', ')}] from the block (or a shortcut that maps the input to its output shape)`;
      fail('range', what, this.label(), `block output shape [N, ${out.join(', ')}]`);
    }
    return [...out];
  }

  protected forwardImpl(x: Tensor): Tensor {
    const a = this.block.forward(x);
    const b = this.shortcut ? this.shortcut.forward(x) : x;
    const y = this.out('y', a.shape as number[]);
    const yd = y.data, ad = a.data, bd = b.data;
    for (let i = 0; i < yd.length; i++) yd[i] = ad[i] + bd[i];
    return y;
  }

  protected backwardImpl(dy: Tensor): Tensor {
    const x = this.cachedInput;
    const ga = this.block.backward(dy);
    if (!this.inputGrad) {
      if (this.shortcut) this.shortcut.backward(dy);
      return this.zeros('dx', x.shape as number[]);
    }
    const dx = this.out('dx', x.shape as number[]);
    const dd = dx.data, ad = ga.data;
    if (this.shortcut) {
      const gb = this.shortcut.backward(dy).data;
      for (let i = 0; i < dd.length; i++) dd[i] = ad[i] + gb[i];
    } else {
      const gb = dy.data;
      for (let i = 0; i < dd.length; i++) dd[i] = ad[i] + gb[i];
    }
    return dx;
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), block: this.block.getConfig(), ...(this.shortcut ? { shortcut: this.shortcut.getConfig() } : {}) };
  }

  static override fromConfig(config: Record<string, unknown>): any {
    const c = configObject(config);
    const block = child(c.block, 'config.block');
    const shortcut = c.shortcut === undefined ? undefined : child(c.shortcut, 'config.shortcut');
    return new Residual(block, { ...(shortcut ? { shortcut } : {}), ...(c.name === undefined ? {} : { name: c.name as string }) });
  }
}

export interface ConcatArgs extends LayerArgs {}

/**
 * Branches over the same input whose outputs are joined along axis 1 (channels of NCHW, features of
 * [N, F]); every other dimension must agree. The input gradient is the sum of the branches'.
 */
export class Concat extends Container {
  readonly className: string = 'Concat';
  readonly branches: Layer[];
  private widths: number[] = [];
  private inner = 1;
  private inputGrad = true;

  constructor(branches: Array<Layer | Layer[] | LayerStack>, args: ConcatArgs = {}) {
    checkOptions(args, ['name', 'backend'], 'Concat');
    super(args, 'Concat');
    if (!Array.isArray(branches) || branches.length === 0) fail('type', 'non-empty array of branches', 'branches', describe(branches));
    this.branches = branches.map((b, i) => asLayer(b, `branches[${i}]`));
    if (new Set(this.branches).size !== this.branches.length) throw new RangeError('Expected distinct layer objects for branches but received the same layer twice');
    for (const b of this.branches) setInputGrad(b, true);
  }

  get needsInputGrad(): boolean {
    return this.inputGrad;
  }
  set needsInputGrad(v: boolean) {
    this.inputGrad = v;
    for (const b of this.branches) setInputGrad(b, v);
  }

  protected entries(): Array<[string, string, Layer]> {
    return this.branches.map((b, i) => [String(i), `[${i}]`, b]);
  }

  protected buildChildren(inputShape: number[], rng: Generator): number[] {
    const outs = this.branches.map((b, i) => this.buildChild(`[${i}]`, b, inputShape, rng));
    const rest = outs[0].slice(1);
    outs.forEach((s, i) => {
      if (!sameShape(s.slice(1), rest)) {
        fail('range', `branch outputs that agree past axis 1 (branch [0] gives [N, ${outs[0].join(', ')}])`, `${this.label()} branch [${i}]`, `output shape [N, ${s.join(', ')}]`);
      }
    });
    this.widths = outs.map((s) => s[0]);
    this.inner = rest.reduce((a, b) => a * b, 1);
    return [this.widths.reduce((a, b) => a + b, 0), ...rest];
  }

  protected forwardImpl(x: Tensor): Tensor {
    const n = x.shape[0];
    const total = this.outputShape![0];
    const y = this.out('y', [n, ...this.outputShape!]);
    let c0 = 0;
    this.branches.forEach((b, i) => {
      const o = b.forward(x).data;
      const w = this.widths[i] * this.inner;
      for (let s = 0; s < n; s++) y.data.set(o.subarray(s * w, (s + 1) * w), (s * total + c0) * this.inner);
      c0 += this.widths[i];
    });
    return y;
  }

  protected backwardImpl(dy: Tensor): Tensor {
    const x = this.cachedInput;
    const n = x.shape[0];
    const total = this.outputShape![0];
    const dx = this.inputGrad ? this.out('dx', x.shape as number[]) : this.zeros('dx', x.shape as number[]);
    if (this.inputGrad) dx.data.fill(0);
    let c0 = 0;
    this.branches.forEach((b, i) => {
      const w = this.widths[i] * this.inner;
      const part = this.out(`dy${i}`, [n, ...b.outputShape!]);
      for (let s = 0; s < n; s++) part.data.set(dy.data.subarray((s * total + c0) * this.inner, (s * total + c0) * this.inner + w), s * w);
      const g = b.backward(part).data;
      if (this.inputGrad) for (let k = 0; k < g.length; k++) dx.data[k] += g[k];
      c0 += this.widths[i];
    });
    return dx;
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), branches: this.branches.map((b) => b.getConfig()) };
  }

  static override fromConfig(config: Record<string, unknown>): any {
    const c = configObject(config);
    const branches = configList(c.branches, 'config.branches').map((b, i) => child(b, `config.branches[${i}]`));
    return new Concat(branches, c.name === undefined ? {} : { name: c.name as string });
  }
}

