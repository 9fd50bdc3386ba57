/**
 * Dense layers: Linear (y = x·Wᵀ + b, weight stored [out, in] as PyTorch does).
 */
import { Layer, LayerArgs } from './layer';
import { Generator } from '../random';
import { Initializer, checkInit, initConfigs, torchDefault, uniform } from '../init';
import type { Tensor } from '../tensor';
import { checkBool, checkInt, checkOptions, describe, fail } from '../validate';

export interface LinearArgs extends LayerArgs {
  /** Input features (the last input dimension). Required. */
  inFeatures: number;
  /** Output features. Required. */
  outFeatures: number;
  /** Learn an additive bias. Default true. */
  bias?: boolean;
  /** Weight initializer. Default: PyTorch's, U(±1/√inFeatures) (kaiming_uniform with a = √5). */
  weightInit?: Initializer;
  /** Bias initializer. Default: PyTorch's, U(±1/√inFeatures). */
  biasInit?: Initializer;
}

const LINEAR_KEYS = ['inFeatures', 'outFeatures', 'bias', 'weightInit', 'biasInit', 'name', 'backend'] as const;

export class Linear extends Layer {
  readonly className: string = 'Linear';
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly hasBias: boolean;
  readonly weightInit: Initializer;
  readonly biasInit: Initializer | null;
  /**
   * Whether backward() computes the input gradient (one GEMM). A Sequential sets it false for its
   * first trainable layer unless asked for the input gradient; backward() then returns zeros.
   */
  needsInputGrad = true;

  constructor(args: LinearArgs) {
    checkOptions(args, LINEAR_KEYS, 'Linear');
    if (!args) fail('type', 'options object', 'Linear', describe(args));
    super(args, 'Linear');
    this.inFeatures = checkInt(args.inFeatures, 'inFeatures');
    this.outFeatures = checkInt(args.outFeatures, 'outFeatures');
    this.hasBias = args.bias === undefined ? true : checkBool(args.bias, 'bias');
    this.weightInit = checkInit(args.weightInit, 'weightInit') ?? torchDefault();
    this.biasInit = checkInit(args.biasInit, 'biasInit') ?? null;
  }

  protected buildImpl(inputShape: number[], rng: Generator): number[] {
    if (inputShape.length !== 1 || inputShape[0] !== this.inFeatures) {
      fail('range', `input of shape [N, ${this.inFeatures}]`, this.label(), `input shape [N, ${inputShape.join(', ')}]`);
    }
    const fan = { fanIn: this.inFeatures, fanOut: this.outFeatures };
    this.addParam('weight', [this.outFeatures, this.inFeatures], this.weightInit, rng, { ...fan, role: 'weight' });
    if (this.hasBias) {
      const b = 1 / Math.sqrt(this.inFeatures);
      this.addParam('bias', [this.outFeatures], this.biasInit ?? uniform(-b, b), rng, { ...fan, role: 'bias' });
    }
    return [this.outFeatures];
  }

  protected forwardImpl(x: Tensor): Tensor {
    const n = x.shape[0];
    const y = this.out('y', [n, this.outFeatures]);
    const w = this.paramList[0];
    // y[n, out] = x[n, in] · W[out, in]ᵀ
    this.backend.gemm(false, true, n, this.outFeatures, this.inFeatures, 1, x.data, w.data, 0, y.data);
    if (this.hasBias) this.backend.biasAdd(y.data, this.paramList[1].data, n, this.outFeatures, 1);
    return y;
  }

  protected backwardImpl(dy: Tensor): Tensor {
    const x = this.cachedInput;
    const n = x.shape[0];
    const w = this.paramList[0];
    // dW[out, in] += dy[n, out]ᵀ · x[n, in]
    this.backend.gemm(true, false, this.outFeatures, this.inFeatures, n, 1, dy.data, x.data, 1, w.grad);
    // db[out] += Σ_n dy[n, out]
    if (this.hasBias) this.backend.biasBackward(this.paramList[1].grad, dy.data, n, this.outFeatures, 1);
    if (!this.needsInputGrad) return this.zeros('dx', [n, this.inFeatures]);
    // dx[n, in] = dy[n, out] · W[out, in]
    const dx = this.out('dx', [n, this.inFeatures]);
    this.backend.gemm(false, false, n, this.inFeatures, this.outFeatures, 1, dy.data, w.data, 0, dx.data);
    return dx;
  }

  override getConfig(): Record<string, unknown> {
    const own = { inFeatures: this.inFeatures, outFeatures: this.outFeatures, bias: this.hasBias };
    return { ...super.getConfig(), ...own, ...initConfigs(this.weightInit, this.biasInit) };
  }
}
