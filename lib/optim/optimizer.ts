/**
 * The optimizer base: arenas, backend, lr, step count, zeroGrad and state dicts. Subclasses give
 * the update and their hyper-parameters and buffers.
 */
import type { Backend } from '../backend/types';
import type { ParamArena } from '../params';
import { checkInt, describe, fail } from '../validate';
import { checkBackend, getBackend } from '../backend/index';
import { checkLr, checkNumbers, checkParams } from './checks';

/** Saved buffers that hold squares (second moments): never negative. */
const SQUARE_BUFFERS = new Set(['v', 'sq']);

/** The serializable state of an optimizer: plain JSON. */
export interface OptimizerState {
  kind: string;
  /** Steps taken so far. */
  step: number;
  /** Hyper-parameters, lr included (restored by loadStateDict, as torch restores param_groups). */
  options: Record<string, number | boolean | number[]>;
  /** Per arena, its buffers as plain arrays (null for a buffer not created yet). */
  state: Record<string, number[] | null>[];
}

/** A copy of what a step changes: the step count and every buffer (null where not created yet). */
export interface OptimizerSnapshot {
  step: number;
  buffers: Record<string, Float32Array | null>[];
}

/** What every optimizer shares: arenas, backend, lr, step count, zeroGrad and state dicts. */
export abstract class Optimizer {
  readonly params: readonly ParamArena[];
  private readonly explicitBackend: Backend | undefined;
  protected _lr = 0;
  protected _step = 0;
  /** The lr when the first schedule attached (PyTorch's `initial_lr`); schedules start from it. */
  initialLr: number | undefined = undefined;

  protected constructor(params: unknown, backend: unknown) {
    this.params = checkParams(params);
    this.explicitBackend = checkBackend(backend) ?? this.params[0].backend;
  }

  /** The backend given (or its model's, through the arena), else the current one at each step. */
  get backend(): Backend {
    return this.explicitBackend ?? getBackend();
  }

  /** The learning rate used by the next step (schedules set it). */
  get lr(): number {
    return this._lr;
  }
  set lr(v: number) {
    this._lr = checkLr(v);
  }

  /**
   * The momentum a schedule cycles (OneCycleLR): SGD's and RMSProp's momentum, Adam's and AdamW's
   * beta1 (torch's group['momentum'] or group['betas'][0]); undefined for an optimizer without one.
   */
  get momentum(): number | undefined {
    return this.momentumTerm();
  }
  set momentum(v: number | undefined) {
    if (this.momentumTerm() === undefined) fail('range', 'an optimizer with a momentum (SGD, RMSProp) or beta1 (Adam, AdamW)', 'momentum', `a ${this.constructor.name}`);
    this.setMomentumTerm(v as number);
  }
  protected momentumTerm(): number | undefined {
    return undefined;
  }
  protected setMomentumTerm(_v: number): void {}

  /** Steps taken so far. */
  get steps(): number {
    return this._step;
  }

  /** One update of every arena from its gradients (one kernel call per arena). */
  step(): void {
    this._step++;
    for (let i = 0; i < this.params.length; i++) this.update(i, this.params[i]);
  }

  /**
   * step() with the copies a trainer's NaN/Inf guard takes before it (fit's rollback), fused into the
   * update's own pass over each arena: `backup` receives the values `weights` held before the update,
   * `snap` what captureState(snap) would have held, and the result says whether every weight the
   * update wrote is finite. `weights` is the array the arenas are views of (a model's
   * parameters().data); each arena's part of `backup` is the same range as its part of `weights`.
   * Step count, lr and results are exactly those of step(), and restoreState(snap) undoes it.
   *
   * Returns null, having changed nothing, where the fused form does not apply, and the caller copies,
   * steps and checks in turn: an optimizer that is not one of the stock ones (or whose step has been
   * replaced), an update that runs in TypeScript (AMSGrad, centered RMSprop) or a backend without the
   * guarded kernels, arenas that are not disjoint views together covering `weights`, a snapshot of
   * another number of arenas, or a buffer the update would create (SGD's first momentum step).
   * Should the update throw, backup and snap still hold the state before this step, as after
   * captureState.
   */
  stepGuarded(weights: Float32Array, backup: Float32Array, snap: OptimizerSnapshot): boolean | null {
    const n = this.params.length;
    if (this.step !== Optimizer.prototype.step || backup.length !== weights.length || snap.buffers.length !== n) return null;
    if (!tiles(this.params, weights)) return null;
    for (let i = 0; i < n; i++) if (!this.canGuard(i)) return null;
    // sized as captureState sizes them: an array is made only for a buffer that is new or resized
    for (let i = 0; i < n; i++) shapeLike(snap.buffers[i], this.buffers(i));
    snap.step = this._step;
    this._step++;
    let finite = true;
    for (let i = 0; i < n; i++) {
      const a = this.params[i];
      const bak = backupOf(backup, weights, a.data);
      const into = snap.buffers[i];
      try {
        if (!this.updateGuarded(i, a, bak, into)) finite = false;
      } catch (e) {
        // the kernels check before they write: arenas i and later are as they were, copy them now
        for (let j = i; j < n; j++) {
          backupOf(backup, weights, this.params[j].data).set(this.params[j].data);
          const to = snap.buffers[j];
          for (const [k, b] of Object.entries(this.buffers(j))) {
            if (b === null) to[k] = null;
            else to[k]!.set(b);
          }
        }
        throw e;
      }
    }
    return finite;
  }

  /** Whether updateGuarded can do arena i's update now (see stepGuarded). */
  protected canGuard(_i: number): boolean {
    return false;
  }

  /**
   * Arena i's update through the backend's guarded kernel: `bak` receives the arena's values before
   * it, `into` (shaped like buffers(i), null entries set) the buffers' values before it,
   * every one, also those the update does not use. Returns whether the new values are finite.
   */
  protected updateGuarded(_i: number, _arena: ParamArena, _bak: Float32Array, _into: Record<string, Float32Array | null>): boolean {
    throw new Error(`${this.constructor.name} has no guarded update`);
  }

  /** Sets every gradient to 0. */
  zeroGrad(): void {
    for (const a of this.params) a.grad.fill(0);
  }

  stateDict(): OptimizerState {
    return {
      kind: this.constructor.name,
      step: this._step,
      options: { lr: this._lr, ...this.hyper() },
      state: this.params.map((_, i) =>
        Object.fromEntries(Object.entries(this.buffers(i)).map(([k, b]) => [k, b === null ? null : Array.from(b)])),
      ),
    };
  }

  /** Restores step count, hyper-parameters and buffers saved by stateDict (checked before anything changes). */
  loadStateDict(sd: OptimizerState): void {
    if (sd === null || typeof sd !== 'object') fail('type', 'optimizer state object', 'stateDict', describe(sd));
    const kind = this.constructor.name;
    if (sd.kind !== kind) fail('range', `state of a ${kind}`, 'stateDict.kind', describe(sd.kind));
    const step = checkInt(sd.step, 'stateDict.step', 0);
    if (sd.options === null || typeof sd.options !== 'object') fail('type', 'options object', 'stateDict.options', describe(sd.options));
    const { lr, ...rest } = sd.options;
    const newLr = checkLr(lr, 'stateDict.options.lr');
    const parsed = this.parse(rest, `${kind} state`);
    if (!Array.isArray(sd.state) || sd.state.length !== this.params.length) {
      fail('range', `array of ${this.params.length} arena states`, 'stateDict.state', describe(sd.state));
    }
    const loaded = sd.state.map((s, i) => {
      const name = `stateDict.state[${i}]`;
      if (s === null || typeof s !== 'object') fail('type', 'arena state object', name, describe(s));
      const out: Record<string, Float32Array | null> = {};
      for (const [k, v] of Object.entries(s)) {
        out[k] = v === null ? null : checkNumbers(v, `${name}.${k}`, this.params[i].data.length, SQUARE_BUFFERS.has(k));
      }
      return out;
    });
    // Everything checked: apply.
    this._lr = newLr;
    this._step = step;
    this.apply(parsed);
    loaded.forEach((b, i) => this.setBuffers(i, b));
  }

  /**
   * Copies the step count and buffers into `into` (reusing its arrays, so nothing is allocated once
   * sized) or a new snapshot. With restoreState, what lets a trainer undo steps (fit's NaN guard).
   */
  captureState(into?: OptimizerSnapshot): OptimizerSnapshot {
    const snap: OptimizerSnapshot = into ?? { step: 0, buffers: this.params.map(() => ({})) };
    snap.step = this._step;
    this.params.forEach((_, i) => {
      const dst = snap.buffers[i];
      for (const [k, b] of Object.entries(this.buffers(i))) {
        if (b === null) dst[k] = null;
        else {
          const d = dst[k];
          if (d && d.length === b.length) d.set(b);
          else dst[k] = Float32Array.from(b);
        }
      }
    });
    return snap;
  }

  /** Puts back a snapshot taken by captureState of this optimizer (copies into the live buffers). */
  restoreState(snap: OptimizerSnapshot): void {
    this._step = snap.step;
    this.params.forEach((_, i) => {
      const live = this.buffers(i);
      const next: Record<string, Float32Array | null> = {};
      for (const [k, b] of Object.entries(snap.buffers[i])) {
        const cur = live[k];
        if (b === null) next[k] = null;
        else if (cur && cur.length === b.length) next[k] = (cur.set(b), cur);
        else next[k] = Float32Array.from(b);
      }
      this.setBuffers(i, next);
    });
  }

  protected abstract update(i: number, arena: ParamArena): void;
  /** Hyper-parameters other than lr, for stateDict. */
  protected abstract hyper(): Record<string, number | boolean | number[]>;
  /** Validates hyper-parameters other than lr (defaults for missing ones). */
  protected abstract parse(opts: Record<string, unknown>, name: string): unknown;
  protected abstract apply(parsed: unknown): void;
  protected abstract buffers(i: number): Record<string, Float32Array | null>;
  protected abstract setBuffers(i: number, b: Record<string, Float32Array | null>): void;
}

/** Where `view` starts in `whole` when it is a view of `whole` that lies inside it, else -1. */
function offsetIn(whole: Float32Array, view: Float32Array): number {
  if (view.buffer !== whole.buffer) return -1;
  const off = (view.byteOffset - whole.byteOffset) / Float32Array.BYTES_PER_ELEMENT;
  return off >= 0 && off + view.length <= whole.length ? off : -1;
}

/** Whether the arenas' values are disjoint views of `weights` that together cover it. */
function tiles(arenas: readonly ParamArena[], weights: Float32Array): boolean {
  let total = 0;
  for (let i = 0; i < arenas.length; i++) {
    const a = arenas[i].data;
    const at = offsetIn(weights, a);
    if (at < 0) return false;
    for (let j = 0; j < i; j++) {
      const b = arenas[j].data;
      const bt = (b.byteOffset - weights.byteOffset) / Float32Array.BYTES_PER_ELEMENT;
      if (a.length > 0 && b.length > 0 && at < bt + b.length && bt < at + a.length) return false;
    }
    total += a.length;
  }
  return total === weights.length;
}

/** The part of `backup` at the place `view` has in `weights` (the whole array for a whole view). */
function backupOf(backup: Float32Array, weights: Float32Array, view: Float32Array): Float32Array {
  const at = offsetIn(weights, view);
  return at === 0 && view.length === backup.length ? backup : backup.subarray(at, at + view.length);
}

/**
 * Gives `snap` what captureState would give it before copying: null for a buffer not created yet
 * (canGuard made sure the update creates none), an array of the same length for every other.
 */
function shapeLike(snap: Record<string, Float32Array | null>, live: Record<string, Float32Array | null>): void {
  for (const [k, b] of Object.entries(live)) {
    if (b === null) snap[k] = null;
    else if (snap[k]?.length !== b.length) snap[k] = new Float32Array(b.length);
  }
}

export function take<T>(b: Record<string, Float32Array | null>, key: string, kind: string, i: number): T {
  if (!(key in b)) fail('range', `a '${key}' buffer`, `stateDict.state[${i}]`, `a ${kind} state without it`);
  return b[key] as T;
}
