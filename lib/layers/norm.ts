/**
 * Normalization layers with PyTorch's semantics, parameter and buffer names, so numbers and state
 * dicts carry over: BatchNorm1d, BatchNorm2d, LayerNorm, InstanceNorm2d, GroupNorm.
 *
 * Every layer views its input as x[n, c, inner] for the kernels (types.ts):
 *   BatchNorm1d    (N, C) → inner = 1;  (N, C, L) → inner = L     batchNorm*
 *   BatchNorm2d    (N, C, H, W) → inner = H·W                     batchNorm*
 *   LayerNorm      rows = N·(leading dims), c = prod(normalizedShape), inner = 1, groups = 1
 *   InstanceNorm2d (N, C, H, W): groups = C                       groupNorm* (batchNormInference in eval
 *                                                                  mode with running statistics)
 *   GroupNorm      (N, C, *): inner = prod(*)                     groupNorm*
 *
 * Running statistics (trackRunningStats): after each training forward,
 *   running_mean = (1 − momentum)·running_mean + momentum·batch_mean
 *   running_var  = (1 − momentum)·running_var  + momentum·batch_var·m/(m − 1)   (unbiased, m values)
 * momentum is the weight of the NEW batch (PyTorch's convention; Keras's momentum 0.99 is 0.01 here).
 * momentum null is PyTorch's momentum=None: a cumulative average, factor 1/num_batches_tracked.
 * InstanceNorm averages its per-instance statistics over the batch first and, as PyTorch, does not
 * count num_batches_tracked.
 *
 * Backward through evaluation mode (running statistics) is the per-channel affine map's:
 * dx = dy·γ·s, dγ += Σ dy·(x − μ)·s, dβ += Σ dy with s = 1/sqrt(running_var + eps).
 */
import { Layer, LayerArgs } from './layer';
import { Generator } from '../random';
import { constant } from '../init';
import { type Tensor } from '../tensor';
import { checkBool, checkInt, checkOptions, describe, fail } from '../validate';
import { BASE_KEYS, checkEpsArg, checkMomentumArg, singleValueError, affineBackward, runningNormConfig } from './norm-common';

// ======================================================================================= BatchNorm

export interface BatchNormArgs extends LayerArgs {
  /** Channels C (the dimension after the batch). Required. */
  numFeatures: number;
  /** Added to the variance before the square root, > 0. Default 1e-5. */
  eps?: number;
  /**
   * Weight of the NEW batch in the running statistics, in [0, 1] (PyTorch's convention; Keras's 0.99
   * is 0.01 here; values above 0.5 give a warning). null: cumulative moving average. Default 0.1.
   */
  momentum?: number | null;
  /** Learn a per-channel scale `weight` (γ, init 1) and shift `bias` (β, init 0). Default true. */
  affine?: boolean;
  /**
   * Keep `running_mean`, `running_var` and `num_batches_tracked` buffers and use them in eval mode.
   * false: batch statistics in both modes and no buffers. Default true.
   */
  trackRunningStats?: boolean;
}

const BN_KEYS = ['numFeatures', 'eps', 'momentum', 'affine', 'trackRunningStats', ...BASE_KEYS] as const;

abstract class BatchNormBase extends Layer {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  private inner = 1;
  private usedBatchStats = true;
  /** Exact count behind the float32 num_batches_tracked buffer (resynchronised if the buffer is loaded). */
  private count = 0;

  constructor(args: BatchNormArgs, cls: string) {
    checkOptions(args, BN_KEYS, cls);
    if (!args) fail('type', 'options object', cls, describe(args));
    super(args, cls);
    this.numFeatures = checkInt(args.numFeatures, `numFeatures of ${cls}`);
    this.eps = checkEpsArg(args.eps, cls);
    this.momentum = checkMomentumArg(args.momentum, cls, true);
    this.affine = args.affine === undefined ? true : checkBool(args.affine, `affine of ${cls}`);
    this.trackRunningStats = args.trackRunningStats === undefined ? true : checkBool(args.trackRunningStats, `trackRunningStats of ${cls}`);
  }

  /** Checks the per-sample shape; returns inner (1 or the product of the trailing dims). */
  protected abstract innerOf(inputShape: number[]): number;
  protected abstract readonly innerName: string;
  /** The spatial extent's name for messages, null for (N, C) input. */
  private innerLabel(): string | null {
    return this.inputShape && this.inputShape.length > 1 ? this.innerName : null;
  }

  protected buildImpl(inputShape: number[], rng: Generator): number[] {
    this.inner = this.innerOf(inputShape);
    const c = this.numFeatures;
    if (this.affine) {
      const ctx = { fanIn: c, fanOut: c, role: 'other' as const };
      this.addParam('weight', [c], constant(1), rng, ctx);
      this.addParam('bias', [c], constant(0), rng, ctx);
    }
    if (this.trackRunningStats) {
      this.addBuffer('running_mean', [c], 0);
      this.addBuffer('running_var', [c], 1);
      this.addBuffer('num_batches_tracked', [], 0);
    }
    return inputShape;
  }

  /** Batches processed in training mode (exact; the buffer holds it as float32). */
  get numBatchesTracked(): number {
    if (!this.trackRunningStats || !this.built) return 0;
    const b = this.bufferList[2].data;
    if (b[0] !== Math.fround(this.count)) this.count = b[0];
    return this.count;
  }

  override checkTrainingBatch(n: number): void {
    if (!this.built) return; // the per-sample shape is unknown: forward checks
    if (n * this.inner === 1) throw singleValueError(this.label(), n, this.inner, this.innerLabel(), this.trackRunningStats);
  }

  protected forwardImpl(x: Tensor): Tensor {
    const n = x.shape[0];
    const c = this.numFeatures;
    const inner = this.inner;
    const y = this.out('y', x.shape as number[]);
    const gamma = this.affine ? this.paramList[0].data : null;
    const beta = this.affine ? this.paramList[1].data : null;
    const mean = this.scratch('mean', c);
    const rstd = this.scratch('rstd', c);
    if (this.training || !this.trackRunningStats) {
      if (n * inner === 1) throw singleValueError(this.label(), n, inner, this.innerLabel(), this.trackRunningStats);
      const variance = this.scratch('var', c);
      this.backend.batchNormForward(y.data, mean, variance, rstd, x.data, gamma, beta, n, c, inner, this.eps);
      if (this.training && this.trackRunningStats) this.updateRunningStats(mean, variance, n * inner);
      this.usedBatchStats = true;
    } else {
      const rm = this.bufferList[0].data;
      const rv = this.bufferList[1].data;
      this.backend.batchNormInference(y.data, x.data, rm, rv, gamma, beta, n, c, inner, this.eps);
      // what backward needs: the statistics this forward used
      mean.set(rm);
      for (let ch = 0; ch < c; ch++) rstd[ch] = 1 / Math.sqrt(rv[ch] + this.eps);
      this.usedBatchStats = false;
    }
    return y;
  }

  private updateRunningStats(mean: Float32Array, variance: Float32Array, m: number): void {
    const count = this.numBatchesTracked + 1;
    this.count = count;
    this.bufferList[2].data[0] = count;
    const f = this.momentum === null ? 1 / count : this.momentum;
    const unbias = m / (m - 1);
    const rm = this.bufferList[0].data;
    const rv = this.bufferList[1].data;
    for (let ch = 0; ch < this.numFeatures; ch++) {
      rm[ch] = (1 - f) * rm[ch] + f * mean[ch];
      rv[ch] = (1 - f) * rv[ch] + f * variance[ch] * unbias;
    }
  }

  protected backwardImpl(dy: Tensor): Tensor {
    const x = this.cachedInput;
    const n = x.shape[0];
    const c = this.numFeatures;
    const dx = this.out('dx', x.shape as number[]);
    const gamma = this.affine ? this.paramList[0] : null;
    const beta = this.affine ? this.paramList[1] : null;
    const mean = this.scratch('mean', c);
    const rstd = this.scratch('rstd', c);
    if (this.usedBatchStats) {
      this.backend.batchNormBackward(dx.data, gamma?.grad ?? null, beta?.grad ?? null, dy.data, x.data, mean, rstd, gamma?.data ?? null, n, c, this.inner);
    } else {
      affineBackward(dx.data, gamma?.grad ?? null, beta?.grad ?? null, dy.data, x.data, mean, rstd, gamma?.data ?? null, n, c, this.inner);
    }
    return dx;
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), ...runningNormConfig(this) };
  }
}

/** Batch normalization over (N, C) or (N, C, L) input, as torch.nn.BatchNorm1d. */
export class BatchNorm1d extends BatchNormBase {
  readonly className: string = 'BatchNorm1d';
  protected readonly innerName = 'L';
  constructor(args: BatchNormArgs) {
    super(args, 'BatchNorm1d');
  }
  protected innerOf(s: number[]): number {
    if ((s.length !== 1 && s.length !== 2) || s[0] !== this.numFeatures) {
      fail('range', `input of shape [N, ${this.numFeatures}] or [N, ${this.numFeatures}, L]`, this.label(), `input shape [N, ${s.join(', ')}]`);
    }
    return s.length === 2 ? s[1] : 1;
  }
}

/** Batch normalization over (N, C, H, W) input, as torch.nn.BatchNorm2d. */
export class BatchNorm2d extends BatchNormBase {
  readonly className: string = 'BatchNorm2d';
  protected readonly innerName = 'H·W';
  constructor(args: BatchNormArgs) {
    super(args, 'BatchNorm2d');
  }
  protected innerOf(s: number[]): number {
    if (s.length !== 3 || s[0] !== this.numFeatures) {
      fail('range', `input of shape [N, ${this.numFeatures}, H, W]`, this.label(), `input shape [N, ${s.join(', ')}]`);
    }
    return s[1] * s[2];
  }
}

export { LayerNorm, GroupNorm, InstanceNorm2d } from './norm-group';
export type { LayerNormArgs, GroupNormArgs, InstanceNormArgs } from './norm-group';
