/** RMSprop as torch.optim.RMSprop (centered or not). */
import type { Backend, BackendName } from '../backend/types';
import type { ParamArena } from '../params';
import { checkBool, checkNumber } from '../validate';
import { EMPTY, checkLr, checkOpts, checkPositive, type Params } from './checks';
import { Optimizer, take } from './optimizer';

export interface RMSPropOptions {
  /** Learning rate, >= 0. Default 1e-2. */
  lr?: number;
  /** Smoothing constant of the squared-gradient average, in [0, 1]. Default 0.99. */
  alpha?: number;
  /** Added to sqrt(average) (outside the root, as PyTorch), > 0. Default 1e-8. */
  eps?: number;
  /** L2 penalty added to the gradient, >= 0. Default 0. */
  weightDecay?: number;
  /** Momentum factor, >= 0. Default 0. */
  momentum?: number;
  /**
   * Centered RMSprop: divide by an estimate of the gradient's variance (the squared average minus
   * the squared mean gradient) instead of its second moment. Runs a TypeScript loop instead of the
   * backend's fused kernel. Default false.
   */
  centered?: boolean;
  /** Backend for the update: 'js', 'native' or a Backend. Default: getBackend(). */
  backend?: BackendName | Backend;
}

interface RMSPropHyper {
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
}

const RMSPROP_KEYS = ['lr', 'alpha', 'eps', 'weightDecay', 'momentum', 'centered', 'backend'];

/** RMSprop as torch.optim.RMSprop, centered or not. */
export class RMSProp extends Optimizer {
  private h!: RMSPropHyper;
  private sq: Float32Array[];
  private bufs: (Float32Array | null)[];
  private gradAvg: (Float32Array | null)[];

  constructor(params: Params, options: RMSPropOptions = {}) {
    const o = checkOpts(options, RMSPROP_KEYS, 'RMSProp');
    super(params, o.backend);
    this._lr = o.lr === undefined ? 1e-2 : checkLr(o.lr);
    this.sq = this.params.map((a) => new Float32Array(a.data.length));
    this.bufs = this.params.map(() => null);
    this.gradAvg = this.params.map(() => null);
    this.apply(this.parse(o, 'RMSProp'));
  }

  get options(): Readonly<RMSPropHyper> {
    return { ...this.h };
  }

  protected parse(o: Record<string, unknown>, name: string): RMSPropHyper {
    checkOpts(o, RMSPROP_KEYS, name);
    return {
      alpha: o.alpha === undefined ? 0.99 : checkNumber(o.alpha, 'alpha', 0, 1),
      eps: o.eps === undefined ? 1e-8 : checkPositive(o.eps, 'eps'),
      weightDecay: o.weightDecay === undefined ? 0 : checkNumber(o.weightDecay, 'weightDecay', 0),
      momentum: o.momentum === undefined ? 0 : checkNumber(o.momentum, 'momentum', 0),
      centered: o.centered === undefined ? false : checkBool(o.centered, 'centered'),
    };
  }

  protected apply(h: RMSPropHyper): void {
    this.h = h;
    // The momentum buffer exists (zeros at first, as PyTorch) whenever momentum is on.
    if (h.momentum > 0) this.bufs = this.bufs.map((b, i) => b ?? new Float32Array(this.params[i].data.length));
    if (h.centered) this.gradAvg = this.gradAvg.map((b, i) => b ?? new Float32Array(this.params[i].data.length));
  }

  protected override momentumTerm(): number {
    return this.h.momentum;
  }
  protected override setMomentumTerm(v: number): void {
    this.apply(this.parse({ ...this.h, momentum: v }, 'RMSProp'));
  }

  protected hyper(): Record<string, number | boolean> {
    const { centered, ...rest } = this.h;
    return centered ? { ...rest, centered } : rest;
  }

  /** torch.optim.RMSprop's centered step, element by element. */
  private centeredStep(i: number, a: ParamArena): void {
    const { alpha, eps, weightDecay: wd, momentum } = this.h;
    const lr = this._lr, p = a.data, g = a.grad, sq = this.sq[i], ga = this.gradAvg[i]!, buf = this.bufs[i];
    for (let k = 0; k < p.length; k++) {
      const gk = wd !== 0 ? g[k] + wd * p[k] : g[k];
      sq[k] = alpha * sq[k] + (1 - alpha) * gk * gk;
      ga[k] = alpha * ga[k] + (1 - alpha) * gk;
      const avg = Math.sqrt(sq[k] - ga[k] * ga[k]) + eps;
      if (momentum > 0) {
        buf![k] = momentum * buf![k] + gk / avg;
        p[k] -= lr * buf![k];
      } else {
        p[k] -= (lr * gk) / avg;
      }
    }
  }

  protected update(i: number, a: ParamArena): void {
    const { alpha, eps, weightDecay, momentum } = this.h;
    if (this.h.centered) return this.centeredStep(i, a);
    this.backend.rmspropStep(
      a.data, a.grad, this.sq[i], this.bufs[i] ?? EMPTY, a.data.length, this._lr, alpha, eps, weightDecay, momentum,
    );
  }

  /** The fused kernel's form only (the centered update is a TypeScript loop). */
  protected override canGuard(i: number): boolean {
    return this.constructor === RMSProp && !this.h.centered && typeof this.backend.rmspropStepGuarded === 'function' &&
      (this.h.momentum <= 0 || this.bufs[i] !== null);
  }

  protected override updateGuarded(i: number, a: ParamArena, bak: Float32Array, into: Record<string, Float32Array | null>): boolean {
    const { alpha, eps, weightDecay, momentum } = this.h;
    const buf = this.bufs[i];
    const bakBuf = into.momentumBuf ?? EMPTY;
    // a buffer left from a momentum a schedule has since set to 0: unused by the update, still state
    if (momentum <= 0 && buf !== null) bakBuf.set(buf);
    return this.backend.rmspropStepGuarded(
      a.data, a.grad, this.sq[i], buf ?? EMPTY, bak, into.sq!, bakBuf, a.data.length, this._lr, alpha, eps, weightDecay, momentum,
    );
  }

  protected buffers(i: number): Record<string, Float32Array | null> {
    return { sq: this.sq[i], momentumBuf: this.bufs[i], ...(this.h.centered ? { gradAvg: this.gradAvg[i] } : {}) };
  }

  protected setBuffers(i: number, b: Record<string, Float32Array | null>): void {
    const n = this.params[i].data.length;
    this.sq[i] = take<Float32Array | null>(b, 'sq', 'RMSProp', i) ?? new Float32Array(n);
    const buf = take<Float32Array | null>(b, 'momentumBuf', 'RMSProp', i);
    this.bufs[i] = buf ?? (this.h.momentum > 0 ? new Float32Array(n) : null);
    const ga = 'gradAvg' in b ? take<Float32Array | null>(b, 'gradAvg', 'RMSProp', i) : null;
    this.gradAvg[i] = ga ?? (this.h.centered ? new Float32Array(n) : null);
  }
}
