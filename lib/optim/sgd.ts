/** Stochastic gradient descent with optional (Nesterov) momentum, as torch.optim.SGD. */
import type { Backend, BackendName } from '../backend/types';
import type { ParamArena } from '../params';
import { checkBool, checkNumber, fail } from '../validate';
import { EMPTY, checkLr, checkOpts, type Params } from './checks';
import { Optimizer, take } from './optimizer';

export interface SGDOptions {
  /** Learning rate, >= 0 (required). */
  lr: number;
  /** Momentum factor, >= 0. Default 0. */
  momentum?: number;
  /** Dampening of the momentum, in [0, 1]. Default 0. */
  dampening?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). Default false. */
  nesterov?: boolean;
  /** L2 penalty added to the gradient, >= 0. Default 0. */
  weightDecay?: number;
  /** Backend for the update: 'js', 'native' or a Backend. Default: getBackend(). */
  backend?: BackendName | Backend;
}

interface SGDHyper {
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
}

const SGD_KEYS = ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay', 'backend'];

/** Stochastic gradient descent with optional (Nesterov) momentum, as torch.optim.SGD. */
export class SGD extends Optimizer {
  private h!: SGDHyper;
  private bufs: (Float32Array | null)[];

  constructor(params: Params, options: SGDOptions) {
    const o = checkOpts(options, SGD_KEYS, 'SGD');
    super(params, o.backend);
    this._lr = checkLr(o.lr);
    this.apply(this.parse(o, 'SGD'));
    this.bufs = this.params.map(() => null);
  }

  get options(): Readonly<SGDHyper> {
    return { ...this.h };
  }

  protected parse(o: Record<string, unknown>, name: string): SGDHyper {
    checkOpts(o, SGD_KEYS, name);
    const momentum = o.momentum === undefined ? 0 : checkNumber(o.momentum, 'momentum', 0);
    const dampening = o.dampening === undefined ? 0 : checkNumber(o.dampening, 'dampening', 0, 1);
    const nesterov = o.nesterov === undefined ? false : checkBool(o.nesterov, 'nesterov');
    const weightDecay = o.weightDecay === undefined ? 0 : checkNumber(o.weightDecay, 'weightDecay', 0);
    if (nesterov && (momentum <= 0 || dampening !== 0)) {
      fail('range', 'momentum > 0 and dampening 0', 'nesterov', `momentum ${momentum} and dampening ${dampening}`);
    }
    return { momentum, dampening, nesterov, weightDecay };
  }

  protected apply(h: SGDHyper): void {
    this.h = h;
  }

  protected override momentumTerm(): number {
    return this.h.momentum;
  }
  protected override setMomentumTerm(v: number): void {
    this.apply(this.parse({ ...this.h, momentum: v }, 'SGD'));
  }

  protected hyper(): Record<string, number | boolean> {
    return { ...this.h };
  }

  protected update(i: number, a: ParamArena): void {
    const { momentum, dampening, nesterov, weightDecay } = this.h;
    let buf: Float32Array = EMPTY;
    let first = false;
    if (momentum !== 0) {
      const b = this.bufs[i];
      first = b === null;
      buf = b ?? (this.bufs[i] = new Float32Array(a.data.length));
    }
    this.backend.sgdStep(a.data, a.grad, buf, a.data.length, this._lr, momentum, dampening, weightDecay, nesterov, first);
  }

  /** Not while a first momentum step would create the buffer: that step takes the plain path. */
  protected override canGuard(i: number): boolean {
    return this.constructor === SGD && typeof this.backend.sgdStepGuarded === 'function' && (this.h.momentum === 0 || this.bufs[i] !== null);
  }

  protected override updateGuarded(i: number, a: ParamArena, bak: Float32Array, into: Record<string, Float32Array | null>): boolean {
    const { momentum, dampening, nesterov, weightDecay } = this.h;
    const buf = this.bufs[i];
    const bakBuf = into.momentumBuf ?? EMPTY;
    // a buffer left from a momentum a schedule has since set to 0: unused by the update, still state
    if (momentum === 0 && buf !== null) bakBuf.set(buf);
    return this.backend.sgdStepGuarded(
      a.data, a.grad, buf ?? EMPTY, bak, bakBuf, a.data.length, this._lr, momentum, dampening, weightDecay, nesterov, false,
    );
  }

  protected buffers(i: number): Record<string, Float32Array | null> {
    return { momentumBuf: this.bufs[i] };
  }

  protected setBuffers(i: number, b: Record<string, Float32Array | null>): void {
    this.bufs[i] = take<Float32Array | null>(b, 'momentumBuf', 'SGD', i);
  }
}
