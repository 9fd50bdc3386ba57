/**
 * Weight initializers, seeded by an explicit Generator (never Math.random).
 *
 * The lecture's menu: constant (every unit learns the same thing — warned), small random
 * (0.01·N(0,1)), Xavier/Glorot (variance 1/fanIn, or 2/(fanIn+fanOut)), Kaiming/He (gain √2 for ReLU).
 * All variance-scaling initializers share one core, as tfjs-layers does.
 * Fan-in of a dense layer is in_features; of a convolution kernel_h·kernel_w·in_channels.
 */
import { Generator } from './random';
import { checkNumber, describe, fail, checkOptions } from './validate';

export type FanMode = 'fanIn' | 'fanOut' | 'fanAvg';
export type Distribution = 'normal' | 'uniform' | 'truncatedNormal';

/** What a layer tells an initializer about the tensor it fills. */
export interface InitContext {
  fanIn: number;
  fanOut: number;
  /** 'weight' tensors get the symmetry warning for constant fills; 'bias' ones do not. */
  role: 'weight' | 'bias' | 'other';
  /** Layer name for messages. */
  layer: string;
}

export interface Initializer {
  readonly name: string;
  fill(out: Float32Array, ctx: InitContext, rng: Generator): void;
  getConfig(): Record<string, unknown>;
}

const warnedLayers = new Set<string>();

/** The warning constant weight fills give (once per layer name). */
function warnSymmetric(ctx: InitContext, value: number): void {
  if (ctx.role !== 'weight') return;
  const key = ctx.layer;
  if (warnedLayers.has(key)) return;
  warnedLayers.add(key);
  process.emitWarning(
    `${ctx.layer}: weights initialised to the constant ${value}: every unit of the layer computes the same output ` +
      'and receives the same gradient, so all units learn the same thing (symmetry is never broken). ' +
      'Use a random initializer such as kaimingNormal() or xavierUniform().',
    'MinibatchWarning',
  );
}

class Constant implements Initializer {
  readonly name: string;
  constructor(readonly value: number, name = 'constant') {
    this.name = name;
  }
  fill(out: Float32Array, ctx: InitContext): void {
    warnSymmetric(ctx, this.value);
    out.fill(this.value);
  }
  getConfig(): Record<string, unknown> {
    return this.name === 'zeros' ? { name: 'zeros' } : { name: this.name, value: this.value };
  }
}

class Normal implements Initializer {
  readonly name = 'normal';
  constructor(readonly mean: number, readonly std: number) {}
  fill(out: Float32Array, _ctx: InitContext, rng: Generator): void {
    for (let i = 0; i < out.length; i++) out[i] = this.mean + this.std * rng.normal();
  }
  getConfig(): Record<string, unknown> {
    return { name: 'normal', mean: this.mean, std: this.std };
  }
}

class Uniform implements Initializer {
  readonly name = 'uniform';
  constructor(readonly low: number, readonly high: number) {}
  fill(out: Float32Array, _ctx: InitContext, rng: Generator): void {
    const w = this.high - this.low;
    for (let i = 0; i < out.length; i++) out[i] = this.low + w * rng.uniform();
  }
  getConfig(): Record<string, unknown> {
    return { name: 'uniform', low: this.low, high: this.high };
  }
}

/**
 * Variance scaling: std = gain / sqrt(fan) (normal) or bound = gain·sqrt(3 / fan) (uniform).
 * Xavier: gain 1 over fanAvg (Glorot) — `xavier*`; Kaiming: gain √2 (ReLU) or √(2/(1+a²)) for Leaky ReLU.
 */
export class VarianceScaling implements Initializer {
  constructor(
    readonly name: string,
    readonly gain: number,
    readonly mode: FanMode,
    readonly distribution: Distribution,
  ) {}
  std(ctx: InitContext): number {
    const fan = this.mode === 'fanIn' ? ctx.fanIn : this.mode === 'fanOut' ? ctx.fanOut : (ctx.fanIn + ctx.fanOut) / 2;
    return this.gain / Math.sqrt(Math.max(1, fan));
  }
  fill(out: Float32Array, ctx: InitContext, rng: Generator): void {
    const std = this.std(ctx);
    if (this.distribution === 'uniform') {
      const bound = Math.sqrt(3) * std;
      for (let i = 0; i < out.length; i++) out[i] = (2 * rng.uniform() - 1) * bound;
    } else if (this.distribution === 'truncatedNormal') {
      // truncated at 2 std, rescaled so the variance stays std² (as tfjs/Keras do)
      const s = std / 0.8796256610342398;
      for (let i = 0; i < out.length; i++) {
        let v: number;
        do v = rng.normal();
        while (Math.abs(v) > 2);
        out[i] = v * s;
      }
    } else {
      for (let i = 0; i < out.length; i++) out[i] = std * rng.normal();
    }
  }
  getConfig(): Record<string, unknown> {
    return { name: this.name, gain: this.gain, mode: this.mode, distribution: this.distribution };
  }
}

/** All zeros. Fine for biases; for weights it warns (symmetry). */
export function zeros(): Initializer {
  return new Constant(0, 'zeros');
}
/** All `value`. For weights it warns that every unit will learn the same thing. */
export function constant(value: number): Initializer {
  return new Constant(checkNumber(value, 'value'), 'constant');
}
/** N(mean, std²); the lecture's "small random numbers" is normal(0.01). */
export function normal(std = 0.01, mean = 0): Initializer {
  return new Normal(checkNumber(mean, 'mean'), checkNumber(std, 'std', 0));
}
/** U(low, high). */
export function uniform(low = -0.05, high = 0.05): Initializer {
  checkNumber(low, 'low');
  checkNumber(high, 'high');
  if (!(high > low)) fail('range', `number greater than low (${low})`, 'high', describe(high));
  return new Uniform(low, high);
}

export interface XavierOptions {
  /** Extra gain (PyTorch's calculate_gain of the nonlinearity). Default 1. */
  gain?: number;
  /**
   * Which fan scales the variance. Default 'fanAvg' (Glorot & Bengio: 2/(fanIn+fanOut)); the
   * lecture's form is 'fanIn' (1/Din).
   */
  mode?: FanMode;
}
/** Xavier/Glorot normal: std = gain·sqrt(1/fan) (fan = (fanIn+fanOut)/2 by default). */
export function xavierNormal(opts: XavierOptions = {}): Initializer {
  checkOptions(opts, ['gain', 'mode'], 'xavierNormal');
  return new VarianceScaling('xavierNormal', checkGain(opts.gain), checkMode(opts.mode ?? 'fanAvg'), 'normal');
}
/** Xavier/Glorot uniform: U(±gain·sqrt(3/fan)). */
export function xavierUniform(opts: XavierOptions = {}): Initializer {
  checkOptions(opts, ['gain', 'mode'], 'xavierUniform');
  return new VarianceScaling('xavierUniform', checkGain(opts.gain), checkMode(opts.mode ?? 'fanAvg'), 'uniform');
}

export interface KaimingOptions {
  /** 'fanIn' (default; preserves forward variance) or 'fanOut' (backward). */
  mode?: 'fanIn' | 'fanOut';
  /** 'relu' (default, gain √2), 'leaky_relu' (gain √(2/(1+a²))), 'linear' (gain 1), 'tanh' (5/3). */
  nonlinearity?: 'relu' | 'leaky_relu' | 'linear' | 'tanh' | 'sigmoid';
  /** Negative slope of the Leaky ReLU (default 0.01 as PyTorch's nn.LeakyReLU). */
  a?: number;
}
/** He/Kaiming normal: std = gain / sqrt(fan); gain √2 for ReLU. */
export function kaimingNormal(opts: KaimingOptions = {}): Initializer {
  checkOptions(opts, ['mode', 'nonlinearity', 'a'], 'kaimingNormal');
  return new VarianceScaling('kaimingNormal', kaimingGain(opts), checkKaimingMode(opts.mode), 'normal');
}
/** He/Kaiming uniform: U(±gain·sqrt(3/fan)). */
export function kaimingUniform(opts: KaimingOptions = {}): Initializer {
  checkOptions(opts, ['mode', 'nonlinearity', 'a'], 'kaimingUniform');
  return new VarianceScaling('kaimingUniform', kaimingGain(opts), checkKaimingMode(opts.mode), 'uniform');
}

/** PyTorch's torch.nn.init.calculate_gain. */
export function calculateGain(nonlinearity: string, param?: number): number {
  if (typeof nonlinearity !== 'string') fail('type', "one of 'linear', 'sigmoid', 'tanh', 'relu', 'leaky_relu'", 'nonlinearity', describe(nonlinearity));
  if (param !== undefined) checkNumber(param, 'param');
  switch (nonlinearity) {
    case 'linear':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const a = param ?? 0.01;
      return Math.sqrt(2 / (1 + a * a));
    }
    default:
      return fail('range', "one of 'linear', 'sigmoid', 'tanh', 'relu', 'leaky_relu'", 'nonlinearity', describe(nonlinearity));
  }
}

function kaimingGain(opts: KaimingOptions): number {
  const nl = opts.nonlinearity ?? 'relu';
  const a = opts.a === undefined ? undefined : checkNumber(opts.a, 'a', 0);
  return calculateGain(nl, a);
}

function checkGain(g: unknown): number {
  return g === undefined ? 1 : checkNumber(g, 'gain', 0);
}

/** Kaiming scales by one fan (PyTorch's fan_in / fan_out): the average is Xavier's. */
function checkKaimingMode(m: unknown): FanMode {
  if (m === undefined) return 'fanIn';
  if (m !== 'fanIn' && m !== 'fanOut') fail('range', "'fanIn' or 'fanOut'", 'mode', describe(m));
  return m;
}

function checkMode(m: unknown): FanMode {
  if (m !== 'fanIn' && m !== 'fanOut' && m !== 'fanAvg') fail('range', "'fanIn', 'fanOut' or 'fanAvg'", 'mode', describe(m));
  return m;
}

/**
 * PyTorch's default for Linear and Conv weights: kaiming_uniform(a=√5), i.e. U(±1/√fanIn);
 * biases U(±1/√fanIn).
 */
export function torchDefault(): Initializer {
  return new VarianceScaling('torchDefault', Math.sqrt(1 / 3), 'fanIn', 'uniform');
}

/** Rebuilds an initializer from getConfig() output. */
export function fromConfig(cfg: Record<string, unknown>): Initializer {
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) fail('type', 'initializer config object', 'config', describe(cfg));
  switch (cfg.name) {
    case 'zeros':
      return zeros();
    case 'constant':
      return constant(cfg.value as number);
    case 'normal':
      return normal(cfg.std as number, cfg.mean as number);
    case 'uniform':
      return uniform(cfg.low as number, cfg.high as number);
    case 'torchDefault':
      return torchDefault();
    default:
      if (typeof cfg.name === 'string' && 'gain' in cfg) {
        const d = cfg.distribution;
        if (d !== 'normal' && d !== 'uniform' && d !== 'truncatedNormal') fail('range', "'normal', 'uniform' or 'truncatedNormal'", 'distribution', describe(d));
        return new VarianceScaling(cfg.name, checkNumber(cfg.gain, 'gain', 0), checkMode(cfg.mode), d);
      }
      return fail('range', 'an initializer config', 'config', JSON.stringify(cfg));
  }
}

export function isInitializer(v: unknown): v is Initializer {
  return !!v && typeof v === 'object' && typeof (v as Initializer).fill === 'function';
}

/** Checks an initializer option: undefined (the layer's default) or an Initializer. */
export function checkInit(v: unknown, name: string): Initializer | undefined {
  if (v === undefined) return undefined;
  if (!isInitializer(v)) fail('type', 'initializer (e.g. kaimingNormal())', name, describe(v));
  return v;
}

/** The config entries of a layer's initializers: weightInit, and biasInit when one was given. */
export function initConfigs(weightInit: Initializer, biasInit: Initializer | null): Record<string, unknown> {
  return biasInit ? { weightInit: weightInit.getConfig(), biasInit: biasInit.getConfig() } : { weightInit: weightInit.getConfig() };
}
