/**
 * Activation layers: ReLU, LeakyReLU, ELU, Sigmoid, Tanh (elementwise, any input shape) and Maxout
 * (max over k affine maps, CS231n's form).
 */
import { Layer, LayerArgs } from './layer';
import type { ActivationKind } from '../backend/types';
import { Generator } from '../random';
import { Initializer, checkInit, initConfigs, torchDefault, uniform } from '../init';
import type { Tensor } from '../tensor';
import { checkInt, checkNumber, checkOptions, describe, fail } from '../validate';

abstract class Elementwise extends Layer {
  protected abstract readonly kind: ActivationKind;
  /** The slope or scale of the negative part (LeakyReLU, ELU); 0 and not an option elsewhere. */
  protected readonly alpha: number;
  private readonly hasAlpha: boolean;

  /** Checks the options (alpha only where defaultAlpha is given) before anything is built. */
  protected constructor(args: LayerArgs & { alpha?: number }, cls: string, defaultAlpha?: number) {
    checkOptions(args, defaultAlpha === undefined ? ['name', 'backend'] : ['alpha', 'name', 'backend'], cls);
    super(args, cls);
    this.hasAlpha = defaultAlpha !== undefined;
    this.alpha = defaultAlpha === undefined ? 0 : checkNumber(args?.alpha ?? defaultAlpha, 'alpha');
  }

  override getConfig(): Record<string, unknown> {
    return this.hasAlpha ? { ...super.getConfig(), alpha: this.alpha } : super.getConfig();
  }

  protected buildImpl(inputShape: number[]): number[] {
    return inputShape;
  }

  protected forwardImpl(x: Tensor): Tensor {
    const y = this.out('y', x.shape as number[]);
    this.backend.activation(this.kind, y.data, x.data, x.data.length, this.alpha);
    return y;
  }

  protected backwardImpl(dy: Tensor): Tensor {
    const x = this.cachedInput;
    const y = this.lastOutput()!;
    const dx = this.out('dx', x.shape as number[]);
    this.backend.activationBackward(this.kind, dx.data, x.data, y.data, dy.data, x.data.length, this.alpha);
    return dx;
  }
}

/** max(0, x). */
export class ReLU extends Elementwise {
  readonly className: string = 'ReLU';
  protected readonly kind = 'relu' as const;
  constructor(args: LayerArgs = {}) {
    super(args, 'ReLU');
  }
}

export interface LeakyReLUArgs extends LayerArgs {
  /** Slope for x < 0. Default 0.01 (PyTorch's negative_slope). */
  alpha?: number;
}
/** x for x > 0, alpha·x otherwise. */
export class LeakyReLU extends Elementwise {
  readonly className: string = 'LeakyReLU';
  protected readonly kind = 'leaky_relu' as const;
  constructor(args: LeakyReLUArgs = {}) {
    super(args, 'LeakyReLU', 0.01);
  }
}

export interface ELUArgs extends LayerArgs {
  /** Scale of the negative part, alpha·(eˣ − 1). Default 1. */
  alpha?: number;
}
/** x for x > 0, alpha·(eˣ − 1) otherwise. */
export class ELU extends Elementwise {
  readonly className: string = 'ELU';
  protected readonly kind = 'elu' as const;
  constructor(args: ELUArgs = {}) {
    super(args, 'ELU', 1);
  }
}

/** 1 / (1 + e⁻ˣ). */
export class Sigmoid extends Elementwise {
  readonly className: string = 'Sigmoid';
  protected readonly kind = 'sigmoid' as const;
  constructor(args: LayerArgs = {}) {
    super(args, 'Sigmoid');
  }
}

/** tanh(x). */
export class Tanh extends Elementwise {
  readonly className: string = 'Tanh';
  protected readonly kind = 'tanh' as const;
  constructor(args: LayerArgs = {}) {
    super(args, 'Tanh');
  }
}

export interface MaxoutArgs extends LayerArgs {
  /** Input features. Required. */
  inFeatures: number;
  /** Output units. Required. */
  outFeatures: number;
  /** Affine pieces per unit (k). Default 2. */
  pieces?: number;
  /** Weight initializer ([outFeatures·pieces, inFeatures]). Default U(±1/√inFeatures). */
  weightInit?: Initializer;
  /** Bias initializer. Default U(±1/√inFeatures). */
  biasInit?: Initializer;
}

/**
 * Maxout (Goodfellow et al.): y_u = max_p (w_{u,p} · x + b_{u,p}). Weight [outFeatures·pieces,
 * inFeatures], row u·pieces + p is piece p of unit u; bias [outFeatures·pieces].
 * Backward routes the gradient to the winning piece (the first one on ties).
 */
export class Maxout extends Layer {
  readonly className: string = 'Maxout';
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly pieces: number;
  readonly weightInit: Initializer;
  readonly biasInit: Initializer | null;

  constructor(args: MaxoutArgs) {
    checkOptions(args, ['inFeatures', 'outFeatures', 'pieces', 'weightInit', 'biasInit', 'name', 'backend'], 'Maxout');
    if (!args) fail('type', 'options object', 'Maxout', describe(args));
    super(args, 'Maxout');
    this.inFeatures = checkInt(args.inFeatures, 'inFeatures');
    this.outFeatures = checkInt(args.outFeatures, 'outFeatures');
    this.pieces = checkInt(args.pieces ?? 2, 'pieces');
    this.weightInit = checkInit(args.weightInit, 'weightInit') ?? torchDefault();
    this.biasInit = checkInit(args.biasInit, 'biasInit') ?? null;
  }

  protected buildImpl(inputShape: number[], rng: Generator): number[] {
    if (inputShape.length !== 1 || inputShape[0] !== this.inFeatures) {
      fail('range', `input of shape [N, ${this.inFeatures}]`, this.label(), `input shape [N, ${inputShape.join(', ')}]`);
    }
    const rows = this.outFeatures * this.pieces;
    const fan = { fanIn: this.inFeatures, fanOut: this.outFeatures };
    this.addParam('weight', [rows, this.inFeatures], this.weightInit, rng, { ...fan, role: 'weight' });
    const b = 1 / Math.sqrt(this.inFeatures);
    this.addParam('bias', [rows], this.biasInit ?? uniform(-b, b), rng, { ...fan, role: 'bias' });
    return [this.outFeatures];
  }

  protected forwardImpl(x: Tensor): Tensor {
    const n = x.shape[0];
    const rows = this.outFeatures * this.pieces;
    const z = this.scratch('z', n * rows);
    const [w, b] = this.paramList;
    this.backend.gemm(false, true, n, rows, this.inFeatures, 1, x.data, w.data, 0, z);
    this.backend.biasAdd(z, b.data, n, rows, 1);
    const y = this.out('y', [n, this.outFeatures]);
    const argmax = this.scratch('argmax', n * this.outFeatures, 'int32');
    this.backend.maxoutForward(y.data, argmax, z, n, this.outFeatures, this.pieces);
    return y;
  }

  protected backwardImpl(dy: Tensor): Tensor {
    const x = this.cachedInput;
    const n = x.shape[0];
    const rows = this.outFeatures * this.pieces;
    const dz = this.scratch('dz', n * rows);
    const argmax = this.scratch('argmax', n * this.outFeatures, 'int32');
    this.backend.maxoutBackward(dz, argmax, dy.data, n, this.outFeatures, this.pieces);
    const [w, b] = this.paramList;
    this.backend.gemm(true, false, rows, this.inFeatures, n, 1, dz, x.data, 1, w.grad);
    this.backend.biasBackward(b.grad, dz, n, rows, 1);
    const dx = this.out('dx', [n, this.inFeatures]);
    this.backend.gemm(false, false, n, this.inFeatures, rows, 1, dz, w.data, 0, dx.data);
    return dx;
  }

  override getConfig(): Record<string, unknown> {
    const own = { inFeatures: this.inFeatures, outFeatures: this.outFeatures, pieces: this.pieces };
    return { ...super.getConfig(), ...own, ...initConfigs(this.weightInit, this.biasInit) };
  }
}
