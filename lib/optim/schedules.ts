/** Learning-rate schedules, as torch.optim.lr_scheduler (closed forms of the epoch). */
import { checkInt, checkNumber, describe, fail } from '../validate';
import { checkOpts } from './checks';
import { Optimizer } from './optimizer';

function checkOptimizer(opt: unknown): Optimizer {
  if (!(opt instanceof Optimizer)) fail('type', 'Optimizer', 'optimizer', describe(opt));
  return opt;
}

/**
 * A schedule sets optimizer.lr from a closed form of the epoch (call step() once per epoch, or per
 * iteration). Like PyTorch, constructing one sets the epoch-0 lr, and every schedule of an optimizer
 * starts from the lr the optimizer had when the first schedule attached (initial_lr).
 */
export abstract class LRScheduler {
  readonly optimizer: Optimizer;
  /** The optimizer's initial lr, which the closed forms scale. */
  readonly baseLr: number;
  /** Epochs stepped so far (0 after construction). */
  lastEpoch = 0;
  protected lastLr = 0;

  protected constructor(optimizer: Optimizer) {
    this.optimizer = checkOptimizer(optimizer);
    optimizer.initialLr ??= optimizer.lr;
    this.baseLr = optimizer.initialLr;
  }

  /** The lr of epoch `epoch` (closed form), an integer >= 0. */
  lrAt(epoch: number): number {
    return this.lrOf(checkInt(epoch, 'epoch', 0));
  }
  protected abstract lrOf(epoch: number): number;

  /** Sets the epoch-0 lr; subclasses call it once their fields are set. */
  protected start(): void {
    this.lastLr = this.lrAt(0);
    this.optimizer.lr = this.lastLr;
    this.applyOthers(0);
  }

  /** What a schedule sets besides the lr at `epoch` (OneCycleLR: the momentum); none by default. */
  protected applyOthers(_epoch: number): void {}

  /** Advances one epoch and sets the optimizer's lr. */
  step(): void {
    this.lastEpoch++;
    this.lastLr = this.lrAt(this.lastEpoch);
    this.optimizer.lr = this.lastLr;
    this.applyOthers(this.lastEpoch);
  }

  /** The lr this schedule set last. */
  getLastLr(): number {
    return this.lastLr;
  }

  stateDict(): { lastEpoch: number; baseLr: number } {
    return { lastEpoch: this.lastEpoch, baseLr: this.baseLr };
  }

  /** Restores the epoch (and sets the optimizer's lr for it). */
  loadStateDict(sd: { lastEpoch: number }): void {
    if (sd === null || typeof sd !== 'object') fail('type', 'schedule state object', 'stateDict', describe(sd));
    this.lastEpoch = checkInt(sd.lastEpoch, 'stateDict.lastEpoch', 0);
    this.lastLr = this.lrAt(this.lastEpoch);
    this.optimizer.lr = this.lastLr;
    this.applyOthers(this.lastEpoch);
  }
}

export interface StepLROptions {
  /** Epochs between decays, integer >= 1. */
  stepSize: number;
  /** Factor per decay, >= 0. Default 0.1. */
  gamma?: number;
}

/** lr = baseLr · gamma^floor(epoch / stepSize), as torch's StepLR. */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;
  constructor(optimizer: Optimizer, options: StepLROptions) {
    const o = checkOpts(options, ['stepSize', 'gamma'], 'StepLR');
    super(optimizer);
    this.stepSize = checkInt(o.stepSize, 'stepSize', 1);
    this.gamma = o.gamma === undefined ? 0.1 : checkNumber(o.gamma, 'gamma', 0);
    this.start();
  }
  protected lrOf(epoch: number): number {
    return this.baseLr * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

export interface ExponentialLROptions {
  /** Factor per epoch, >= 0 (required). */
  gamma: number;
}

/** lr = baseLr · gamma^epoch, as torch's ExponentialLR. */
export class ExponentialLR extends LRScheduler {
  readonly gamma: number;
  constructor(optimizer: Optimizer, options: ExponentialLROptions) {
    const o = checkOpts(options, ['gamma'], 'ExponentialLR');
    super(optimizer);
    this.gamma = checkNumber(o.gamma, 'gamma', 0);
    this.start();
  }
  protected lrOf(epoch: number): number {
    return this.baseLr * this.gamma ** epoch;
  }
}

export interface CosineAnnealingLROptions {
  /** Epochs of the half cosine, integer >= 1 (past it the cosine rises again, as PyTorch's). */
  tMax: number;
  /** The lowest lr, >= 0. Default 0. */
  etaMin?: number;
}

/** lr = etaMin + (baseLr - etaMin) · (1 + cos(π · epoch / tMax)) / 2, as torch's CosineAnnealingLR. */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;
  constructor(optimizer: Optimizer, options: CosineAnnealingLROptions) {
    const o = checkOpts(options, ['tMax', 'etaMin'], 'CosineAnnealingLR');
    super(optimizer);
    this.tMax = checkInt(o.tMax, 'tMax', 1);
    this.etaMin = o.etaMin === undefined ? 0 : checkNumber(o.etaMin, 'etaMin', 0);
    this.start();
  }
  protected lrOf(epoch: number): number {
    return this.etaMin + ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }
}

export interface LinearWarmupOptions {
  /** Epochs of the ramp, integer >= 1 (torch's total_iters). */
  warmupSteps: number;
  /** Fraction of the lr at epoch 0, in (0, 1]. Default 1/3 (as torch's LinearLR). */
  startFactor?: number;
}

/** Linear ramp from startFactor·baseLr to baseLr over warmupSteps epochs, then baseLr: torch's LinearLR. */
export class LinearWarmup extends LRScheduler {
  readonly warmupSteps: number;
  readonly startFactor: number;
  constructor(optimizer: Optimizer, options: LinearWarmupOptions) {
    const o = checkOpts(options, ['warmupSteps', 'startFactor'], 'LinearWarmup');
    super(optimizer);
    this.warmupSteps = checkInt(o.warmupSteps, 'warmupSteps', 1);
    if (o.startFactor === undefined) this.startFactor = 1 / 3;
    else {
      checkNumber(o.startFactor, 'startFactor', -Infinity, Infinity, 'number in (0, 1]');
      if (!((o.startFactor as number) > 0 && (o.startFactor as number) <= 1)) {
        fail('range', 'number in (0, 1]', 'startFactor', describe(o.startFactor));
      }
      this.startFactor = o.startFactor as number;
    }
    this.start();
  }
  protected lrOf(epoch: number): number {
    const t = Math.min(epoch, this.warmupSteps) / this.warmupSteps;
    return this.baseLr * (this.startFactor + (1 - this.startFactor) * t);
  }
}

export interface SequentialLROptions {
  /** Schedules of the same optimizer, run one after another. */
  schedulers: LRScheduler[];
  /** Epochs where the next schedule takes over (restarting at its epoch 0); one fewer than schedulers. */
  milestones: number[];
}

/**
 * Runs schedules one after another, as torch's SequentialLR: schedule i runs from milestone i-1,
 * counting its epochs from 0. Warm-up then cosine:
 *   new SequentialLR(opt, { schedulers: [new LinearWarmup(opt, {...}), new CosineAnnealingLR(opt, {...})],
 *                           milestones: [warmupSteps] })
 */
export class SequentialLR extends LRScheduler {
  readonly schedulers: readonly LRScheduler[];
  readonly milestones: readonly number[];
  constructor(optimizer: Optimizer, options: SequentialLROptions) {
    const o = checkOpts(options, ['schedulers', 'milestones'], 'SequentialLR');
    super(optimizer);
    const s = o.schedulers;
    if (!Array.isArray(s) || s.length === 0) fail('type', 'non-empty array of schedules', 'schedulers', describe(s));
    s.forEach((x, i) => {
      if (!(x instanceof LRScheduler)) fail('type', 'LRScheduler', `schedulers[${i}]`, describe(x));
      if (x.optimizer !== optimizer) fail('range', 'a schedule of the same optimizer', `schedulers[${i}]`, 'a schedule of another optimizer');
    });
    const m = o.milestones;
    if (!Array.isArray(m)) fail('type', `array of ${s.length - 1} milestones`, 'milestones', describe(m));
    if (m.length !== s.length - 1) fail('range', `array of ${s.length - 1} milestones (one fewer than schedulers)`, 'milestones', describe(m));
    m.forEach((x, i) => checkInt(x, `milestones[${i}]`, i === 0 ? 1 : (m[i - 1] as number) + 1));
    this.schedulers = [...(s as LRScheduler[])];
    this.milestones = [...(m as number[])];
    this.start();
  }

  /** Which schedule runs at `epoch`, and its own epoch count there. */
  private locate(epoch: number): [number, number] {
    let idx = 0;
    while (idx < this.milestones.length && this.milestones[idx] <= epoch) idx++;
    return [idx, idx > 0 ? epoch - this.milestones[idx - 1] : epoch];
  }

  protected lrOf(epoch: number): number {
    const [idx, local] = this.locate(epoch);
    return this.schedulers[idx].lrAt(local);
  }

  /** The running schedule's other settings (a OneCycleLR's momentum) at its own epoch. */
  protected override applyOthers(epoch: number): void {
    if (!this.schedulers) return; // during super's construction
    const [idx, local] = this.locate(epoch);
    (this.schedulers[idx] as unknown as { applyOthers(e: number): void }).applyOthers(local);
  }

  override step(): void {
    super.step();
    // Keep the running schedule's own counters in step, so its getLastLr() agrees.
    const [idx, local] = this.locate(this.lastEpoch);
    const s = this.schedulers[idx];
    s.lastEpoch = local;
    (s as unknown as { lastLr: number }).lastLr = this.lastLr;
  }
}
