/** The group family of normalization layers: LayerNorm, GroupNorm, InstanceNorm2d (see norm.ts). */
import { Layer, LayerArgs, Param } from './layer';
import { Generator } from '../random';
import { constant } from '../init';
import { sizeOf, type Tensor } from '../tensor';
import { checkBool, checkInt, checkOptions, describe, fail, formatShape } from '../validate';
import { BASE_KEYS, checkEpsArg, checkMomentumArg, affineBackward, runningNormConfig } from './norm-common';

// ================================================================================ group family

/** Shared forward/backward of the GroupNorm-kernel layers: x as [n, c, inner] with `groups` groups. */
abstract class GroupFamily extends Layer {
  protected dims = { rows: 0, c: 0, inner: 1, groups: 1 };

  /** Sets rows (from the batch size), c, inner and groups for an input. */
  protected abstract setDims(x: Tensor): void;
  protected get gammaParam(): Param | null {
    return this.paramList.length ? this.paramList[0] : null;
  }
  protected get betaParam(): Param | null {
    return this.paramList.length ? this.paramList[1] : null;
  }

  protected groupForward(x: Tensor, eps: number): Tensor {
    this.setDims(x);
    const { rows, c, inner, groups } = this.dims;
    const y = this.out('y', x.shape as number[]);
    const mean = this.scratch('gmean', rows * groups);
    const rstd = this.scratch('grstd', rows * groups);
    this.backend.groupNormForward(y.data, mean, rstd, x.data, this.gammaParam?.data ?? null, this.betaParam?.data ?? null, rows, c, inner, groups, eps);
    return y;
  }

  protected groupBackward(dy: Tensor): Tensor {
    const x = this.cachedInput;
    const { rows, c, inner, groups } = this.dims;
    const dx = this.out('dx', x.shape as number[]);
    const mean = this.scratch('gmean', rows * groups);
    const rstd = this.scratch('grstd', rows * groups);
    const g = this.gammaParam;
    const b = this.betaParam;
    this.backend.groupNormBackward(dx.data, g?.grad ?? null, b?.grad ?? null, dy.data, x.data, mean, rstd, g?.data ?? null, rows, c, inner, groups);
    return dx;
  }

  protected addAffine(shape: number[], rng: Generator): void {
    const size = sizeOf(shape);
    const ctx = { fanIn: size, fanOut: size, role: 'other' as const };
    this.addParam('weight', shape, constant(1), rng, ctx);
    this.addParam('bias', shape, constant(0), rng, ctx);
  }
}

export interface LayerNormArgs extends LayerArgs {
  /** The trailing input dims to normalize over: a number (the last dim) or an array. Required. */
  normalizedShape: number | number[];
  /** Added to the variance before the square root, > 0. Default 1e-5. */
  eps?: number;
  /** Learn `weight` (init 1) and `bias` (init 0) of shape normalizedShape. Default true. */
  elementwiseAffine?: boolean;
}

/** Layer normalization over the last dims, as torch.nn.LayerNorm. Same in train and eval mode. */
export class LayerNorm extends GroupFamily {
  readonly className: string = 'LayerNorm';
  readonly normalizedShape: readonly number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;

  constructor(args: LayerNormArgs) {
    checkOptions(args, ['normalizedShape', 'eps', 'elementwiseAffine', ...BASE_KEYS], 'LayerNorm');
    if (!args) fail('type', 'options object', 'LayerNorm', describe(args));
    super(args, 'LayerNorm');
    const ns = args.normalizedShape;
    if (typeof ns === 'number') this.normalizedShape = Object.freeze([checkInt(ns, 'normalizedShape of LayerNorm')]);
    else if (Array.isArray(ns) && ns.length > 0) this.normalizedShape = Object.freeze(ns.map((d, i) => checkInt(d, `normalizedShape[${i}] of LayerNorm`)));
    else fail('type', 'positive integer or non-empty array of positive integers', 'normalizedShape of LayerNorm', describe(ns));
    this.eps = checkEpsArg(args.eps, 'LayerNorm');
    this.elementwiseAffine = args.elementwiseAffine === undefined ? true : checkBool(args.elementwiseAffine, 'elementwiseAffine of LayerNorm');
  }

  protected buildImpl(inputShape: number[], rng: Generator): number[] {
    const k = this.normalizedShape.length;
    const tail = inputShape.slice(inputShape.length - k);
    if (inputShape.length < k || tail.some((d, i) => d !== this.normalizedShape[i])) {
      fail(
        'range',
        `input of shape [N, ..., ${this.normalizedShape.join(', ')}] (trailing dims equal to normalizedShape ${formatShape(this.normalizedShape)})`,
        this.label(),
        `input shape [N, ${inputShape.join(', ')}]`,
      );
    }
    if (this.elementwiseAffine) this.addAffine([...this.normalizedShape], rng);
    return inputShape;
  }

  protected setDims(x: Tensor): void {
    const d = sizeOf(this.normalizedShape);
    this.dims = { rows: x.data.length / d, c: d, inner: 1, groups: 1 };
  }
  protected forwardImpl(x: Tensor): Tensor {
    return this.groupForward(x, this.eps);
  }
  protected backwardImpl(dy: Tensor): Tensor {
    return this.groupBackward(dy);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), normalizedShape: [...this.normalizedShape], eps: this.eps, elementwiseAffine: this.elementwiseAffine };
  }
}

export interface GroupNormArgs extends LayerArgs {
  /** Groups the channels are split into; must divide numChannels. Required. */
  numGroups: number;
  /** Channels C (the dimension after the batch). Required. */
  numChannels: number;
  /** Added to the variance before the square root, > 0. Default 1e-5. */
  eps?: number;
  /** Learn a per-channel `weight` (init 1) and `bias` (init 0). Default true. */
  affine?: boolean;
}

/**
 * Group normalization over (N, C, *) input, as torch.nn.GroupNorm: statistics per sample and group
 * of C/numGroups channels. Same in train and eval mode.
 */
export class GroupNorm extends GroupFamily {
  readonly className: string = 'GroupNorm';
  readonly numGroups: number;
  readonly numChannels: number;
  readonly eps: number;
  readonly affine: boolean;

  constructor(args: GroupNormArgs) {
    checkOptions(args, ['numGroups', 'numChannels', 'eps', 'affine', ...BASE_KEYS], 'GroupNorm');
    if (!args) fail('type', 'options object', 'GroupNorm', describe(args));
    super(args, 'GroupNorm');
    this.numGroups = checkInt(args.numGroups, 'numGroups of GroupNorm');
    this.numChannels = checkInt(args.numChannels, 'numChannels of GroupNorm');
    if (this.numChannels % this.numGroups !== 0) {
      fail('range', `a divisor of numChannels = ${this.numChannels}`, 'numGroups of GroupNorm', describe(this.numGroups));
    }
    this.eps = checkEpsArg(args.eps, 'GroupNorm');
    this.affine = args.affine === undefined ? true : checkBool(args.affine, 'affine of GroupNorm');
  }

  protected buildImpl(inputShape: number[], rng: Generator): number[] {
    if (inputShape.length < 1 || inputShape[0] !== this.numChannels) {
      fail('range', `input of shape [N, ${this.numChannels}, ...]`, this.label(), `input shape [N, ${inputShape.join(', ')}]`);
    }
    if (this.affine) this.addAffine([this.numChannels], rng);
    return inputShape;
  }

  protected setDims(x: Tensor): void {
    this.dims = { rows: x.shape[0], c: this.numChannels, inner: sizeOf(x.shape.slice(2)), groups: this.numGroups };
  }
  protected forwardImpl(x: Tensor): Tensor {
    return this.groupForward(x, this.eps);
  }
  protected backwardImpl(dy: Tensor): Tensor {
    return this.groupBackward(dy);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), numGroups: this.numGroups, numChannels: this.numChannels, eps: this.eps, affine: this.affine };
  }
}

export interface InstanceNormArgs extends LayerArgs {
  /** Channels C. Required. */
  numFeatures: number;
  /** Added to the variance before the square root, > 0. Default 1e-5. */
  eps?: number;
  /** Weight of the NEW batch in the running statistics, in [0, 1] (as BatchNorm's). Default 0.1. */
  momentum?: number;
  /** Learn a per-channel `weight` (init 1) and `bias` (init 0). Default false (PyTorch's). */
  affine?: boolean;
  /**
   * Keep running averages of the per-instance statistics and use them in eval mode. Default false:
   * instance statistics in both modes.
   */
  trackRunningStats?: boolean;
}

/** Instance normalization over (N, C, H, W) input, as torch.nn.InstanceNorm2d (GroupNorm with groups = C). */
export class InstanceNorm2d extends GroupFamily {
  readonly className: string = 'InstanceNorm2d';
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  private usedInstanceStats = true;

  constructor(args: InstanceNormArgs) {
    checkOptions(args, ['numFeatures', 'eps', 'momentum', 'affine', 'trackRunningStats', ...BASE_KEYS], 'InstanceNorm2d');
    if (!args) fail('type', 'options object', 'InstanceNorm2d', describe(args));
    super(args, 'InstanceNorm2d');
    this.numFeatures = checkInt(args.numFeatures, 'numFeatures of InstanceNorm2d');
    this.eps = checkEpsArg(args.eps, 'InstanceNorm2d');
    this.momentum = checkMomentumArg(args.momentum, 'InstanceNorm2d', false)!;
    this.affine = args.affine === undefined ? false : checkBool(args.affine, 'affine of InstanceNorm2d');
    this.trackRunningStats = args.trackRunningStats === undefined ? false : checkBool(args.trackRunningStats, 'trackRunningStats of InstanceNorm2d');
  }

  protected buildImpl(inputShape: number[], rng: Generator): number[] {
    if (inputShape.length !== 3 || inputShape[0] !== this.numFeatures) {
      fail('range', `input of shape [N, ${this.numFeatures}, H, W]`, this.label(), `input shape [N, ${inputShape.join(', ')}]`);
    }
    if (this.affine) this.addAffine([this.numFeatures], rng);
    if (this.trackRunningStats) {
      this.addBuffer('running_mean', [this.numFeatures], 0);
      this.addBuffer('running_var', [this.numFeatures], 1);
      this.addBuffer('num_batches_tracked', [], 0); // present (PyTorch's state dict) but never counted
    }
    return inputShape;
  }

  /** Instance statistics need more than one spatial value (H·W > 1). */
  override checkTrainingBatch(_n: number): void {
    if (this.built) this.checkSpatial(this.inputShape![1] * this.inputShape![2]);
  }

  private checkSpatial(hw: number): void {
    if (hw === 1) {
      throw new RangeError(
        `Expected more than 1 spatial value (H·W > 1) for input of ${this.label()} but received H·W = 1: ` +
          'InstanceNorm cannot compute a variance from one value per instance and channel',
      );
    }
  }

  protected setDims(x: Tensor): void {
    this.dims = { rows: x.shape[0], c: this.numFeatures, inner: x.shape[2] * x.shape[3], groups: this.numFeatures };
  }

  protected forwardImpl(x: Tensor): Tensor {
    if (this.training || !this.trackRunningStats) {
      this.checkSpatial(x.shape[2] * x.shape[3]);
      const y = this.groupForward(x, this.eps);
      if (this.training && this.trackRunningStats) this.updateRunningStats();
      this.usedInstanceStats = true;
      return y;
    }
    this.setDims(x);
    const { rows: n, c, inner } = this.dims;
    const y = this.out('y', x.shape as number[]);
    const rm = this.bufferList[0].data;
    const rv = this.bufferList[1].data;
    this.backend.batchNormInference(y.data, x.data, rm, rv, this.gammaParam?.data ?? null, this.betaParam?.data ?? null, n, c, inner, this.eps);
    const mean = this.scratch('rmean', c);
    const s = this.scratch('rrstd', c);
    mean.set(rm);
    for (let ch = 0; ch < c; ch++) s[ch] = 1 / Math.sqrt(rv[ch] + this.eps);
    this.usedInstanceStats = false;
    return y;
  }

  /**
   * PyTorch's: the batch average of the per-instance mean and unbiased variance enters the running
   * averages. The biased variance is recovered from the kernel's rstd: var = 1/rstd² − eps.
   */
  private updateRunningStats(): void {
    const { rows: n, c, inner } = this.dims;
    const mean = this.scratch('gmean', n * c);
    const rstd = this.scratch('grstd', n * c);
    const f = this.momentum;
    const unbias = inner / (inner - 1);
    const rm = this.bufferList[0].data;
    const rv = this.bufferList[1].data;
    for (let ch = 0; ch < c; ch++) {
      let sm = 0;
      let sv = 0;
      for (let i = 0; i < n; i++) {
        const r = rstd[i * c + ch];
        sm += mean[i * c + ch];
        sv += Math.max(0, 1 / (r * r) - this.eps);
      }
      rm[ch] = (1 - f) * rm[ch] + (f * sm) / n;
      rv[ch] = (1 - f) * rv[ch] + (f * sv * unbias) / n;
    }
  }

  protected backwardImpl(dy: Tensor): Tensor {
    if (this.usedInstanceStats) return this.groupBackward(dy);
    const x = this.cachedInput;
    const { rows: n, c, inner } = this.dims;
    const dx = this.out('dx', x.shape as number[]);
    const g = this.gammaParam;
    const b = this.betaParam;
    affineBackward(dx.data, g?.grad ?? null, b?.grad ?? null, dy.data, x.data, this.scratch('rmean', c), this.scratch('rrstd', c), g?.data ?? null, n, c, inner);
    return dx;
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), ...runningNormConfig(this) };
  }
}
