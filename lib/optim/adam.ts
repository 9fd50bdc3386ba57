/** Adam and AdamW, as torch.optim.Adam and torch.optim.AdamW. */
import type { Backend, BackendName } from '../backend/types';
import type { ParamArena } from '../params';
import { checkBool, checkNumber, describe, fail } from '../validate';
import { checkLr, checkOpts, checkPositive, checkUnit, type Params } from './checks';
import { Optimizer, take } from './optimizer';

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
  /**
   * AMSGrad: divide by the running maximum of the second-moment average instead of the average
   * itself (torch's amsgrad). Runs a TypeScript loop instead of the backend's fused kernel. Default false.
   */
  amsgrad?: boolean;
  /** Backend for the update: 'js', 'native' or a Backend. Default: getBackend(). */
  backend?: BackendName | Backend;
}

interface AdamHyper {
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
}

const ADAM_KEYS = ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad', 'backend'];

/** Adam as torch.optim.Adam (weight decay as an L2 term in the gradient). */
export class Adam extends Optimizer {
  private h!: AdamHyper;
  private m: Float32Array[];
  private v: Float32Array[];
  private vMax: (Float32Array | null)[];
  protected readonly decoupled: boolean = false;

  constructor(params: Params, options: AdamOptions = {}) {
    const name = new.target === AdamW ? 'AdamW' : 'Adam';
    const o = checkOpts(options, ADAM_KEYS, name);
    super(params, o.backend);
    this._lr = o.lr === undefined ? 1e-3 : checkLr(o.lr);
    this.m = this.params.map((a) => new Float32Array(a.data.length));
    this.v = this.params.map((a) => new Float32Array(a.data.length));
    this.vMax = this.params.map(() => null);
    this.apply(this.parse(o, name));
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
    const amsgrad = o.amsgrad === undefined ? false : checkBool(o.amsgrad, 'amsgrad');
    return { betas, eps, weightDecay, amsgrad };
  }

  protected apply(h: AdamHyper): void {
    this.h = h;
    if (h.amsgrad) this.vMax = this.vMax.map((b, i) => b ?? new Float32Array(this.params[i].data.length));
  }

  protected override momentumTerm(): number {
    return this.h.betas[0];
  }
  protected override setMomentumTerm(v: number): void {
    this.h = { ...this.h, betas: [checkUnit(v, 'betas[0]'), this.h.betas[1]] };
  }

  protected hyper(): Record<string, number | boolean | number[]> {
    return { betas: [...this.h.betas], eps: this.h.eps, weightDecay: this.h.weightDecay, ...(this.h.amsgrad ? { amsgrad: true } : {}) };
  }

  /** torch.optim.Adam(W)'s AMSGrad step, element by element. */
  private amsgradStep(i: number, a: ParamArena): void {
    const { betas: [b1, b2], eps, weightDecay: wd } = this.h;
    const lr = this._lr, p = a.data, g = a.grad, m = this.m[i], v = this.v[i], vm = this.vMax[i]!;
    const bc1 = 1 - b1 ** this._step, rbc2 = Math.sqrt(1 - b2 ** this._step), stepSize = lr / bc1;
    for (let k = 0; k < p.length; k++) {
      let gk = g[k];
      if (this.decoupled) p[k] *= 1 - lr * wd;
      else if (wd !== 0) gk += wd * p[k];
      m[k] = b1 * m[k] + (1 - b1) * gk;
      v[k] = b2 * v[k] + (1 - b2) * gk * gk;
      if (v[k] > vm[k]) vm[k] = v[k];
      p[k] -= (stepSize * m[k]) / (Math.sqrt(vm[k]) / rbc2 + eps);
    }
  }

  protected update(i: number, a: ParamArena): void {
    const { betas, eps, weightDecay } = this.h;
    if (this.h.amsgrad) return this.amsgradStep(i, a);
    this.backend.adamStep(
      a.data, a.grad, this.m[i], this.v[i], a.data.length, this._lr, betas[0], betas[1], eps, weightDecay,
      this.decoupled, this._step,
    );
  }

  /** The fused kernel's form only (AMSGrad's update is a TypeScript loop). */
  protected override canGuard(_i: number): boolean {
    return (this.constructor === Adam || this.constructor === AdamW) && !this.h.amsgrad && typeof this.backend.adamStepGuarded === 'function';
  }

  protected override updateGuarded(i: number, a: ParamArena, bak: Float32Array, into: Record<string, Float32Array | null>): boolean {
    const { betas, eps, weightDecay } = this.h;
    return this.backend.adamStepGuarded(
      a.data, a.grad, this.m[i], this.v[i], bak, into.m!, into.v!, a.data.length, this._lr, betas[0], betas[1], eps,
      weightDecay, this.decoupled, this._step,
    );
  }

  protected buffers(i: number): Record<string, Float32Array | null> {
    return { m: this.m[i], v: this.v[i], ...(this.h.amsgrad ? { vMax: this.vMax[i] } : {}) };
  }

  protected setBuffers(i: number, b: Record<string, Float32Array | null>): void {
    const m = take<Float32Array | null>(b, 'm', this.constructor.name, i);
    const v = take<Float32Array | null>(b, 'v', this.constructor.name, i);
    this.m[i] = m ?? new Float32Array(this.params[i].data.length);
    this.v[i] = v ?? new Float32Array(this.params[i].data.length);
    const vMax = 'vMax' in b ? take<Float32Array | null>(b, 'vMax', this.constructor.name, i) : null;
    this.vMax[i] = vMax ?? (this.h.amsgrad ? new Float32Array(this.params[i].data.length) : null);
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
