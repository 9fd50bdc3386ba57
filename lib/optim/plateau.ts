/**
 * Schedules beyond the closed forms of schedules.ts, as torch.optim.lr_scheduler:
 *   ReduceLROnPlateau  cuts the lr when a watched metric stops improving (stepped with the metric)
 *   OneCycleLR         warm-up to maxLr and annealing far below it over a known number of steps
 * OneCycleLR cycles the momentum inversely to the lr by default (torch's cycle_momentum=True): SGD's
 * and RMSProp's momentum, Adam's and AdamW's beta1.
 */
import { checkBool, checkInt, checkNumber, describe, fail } from '../validate';
import { checkOpts } from './checks';
import { Optimizer } from './optimizer';
import { LRScheduler } from './schedules';

export interface ReduceLROnPlateauOptions {
  /** 'min': lower is better (a loss); 'max': higher is better (an accuracy). Default 'min'. */
  mode?: 'min' | 'max';
  /** lr *= factor on a plateau, in [0, 1). Default 0.1. */
  factor?: number;
  /** Epochs without improvement tolerated before a cut, integer >= 0. Default 10. */
  patience?: number;
  /** Smallest change that counts as improvement, >= 0. Default 1e-4. */
  threshold?: number;
  /** 'rel': relative to the best value; 'abs': absolute. Default 'rel'. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a cut before counting again, integer >= 0. Default 0. */
  cooldown?: number;
  /** Lower bound of the lr, >= 0. Default 0. */
  minLr?: number;
  /** A cut smaller than this is skipped, >= 0. Default 1e-8. */
  eps?: number;
  /** The log fit passes to step() when it steps the schedule: 'valLoss' (default; 'loss' without validation), 'loss', 'accuracy', 'valAccuracy'. */
  monitor?: string;
}

export const PLATEAU_KEYS = ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps', 'monitor'];

/** torch.optim.lr_scheduler.ReduceLROnPlateau: step(metric) once per epoch. */
export class ReduceLROnPlateau {
  readonly optimizer: Optimizer;
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  readonly cooldown: number;
  readonly minLr: number;
  readonly eps: number;
  readonly monitor: string | undefined;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;

  constructor(optimizer: Optimizer, options: ReduceLROnPlateauOptions = {}) {
    if (!(optimizer instanceof Optimizer)) fail('type', 'Optimizer', 'optimizer', describe(optimizer));
    const o = checkOpts(options, PLATEAU_KEYS, 'ReduceLROnPlateau');
    this.optimizer = optimizer;
    const mode = o.mode ?? 'min';
    if (mode !== 'min' && mode !== 'max') fail('range', "'min' or 'max'", 'mode', describe(mode));
    this.mode = mode;
    this.factor = o.factor === undefined ? 0.1 : checkNumber(o.factor, 'factor', 0, 1, 'number in [0, 1)');
    if (this.factor >= 1) fail('range', 'number in [0, 1)', 'factor', describe(this.factor));
    this.patience = checkInt(o.patience ?? 10, 'patience', 0);
    this.threshold = o.threshold === undefined ? 1e-4 : checkNumber(o.threshold, 'threshold', 0);
    const tm = o.thresholdMode ?? 'rel';
    if (tm !== 'rel' && tm !== 'abs') fail('range', "'rel' or 'abs'", 'thresholdMode', describe(tm));
    this.thresholdMode = tm;
    this.cooldown = checkInt(o.cooldown ?? 0, 'cooldown', 0);
    this.minLr = o.minLr === undefined ? 0 : checkNumber(o.minLr, 'minLr', 0);
    this.eps = o.eps === undefined ? 1e-8 : checkNumber(o.eps, 'eps', 0);
    if (o.monitor !== undefined && !['loss', 'valLoss', 'accuracy', 'valAccuracy'].includes(o.monitor as string)) {
      fail('range', "'loss', 'valLoss', 'accuracy' or 'valAccuracy'", 'monitor', describe(o.monitor));
    }
    this.monitor = o.monitor as string | undefined;
    this.best = mode === 'min' ? Infinity : -Infinity;
  }

  private isBetter(a: number): boolean {
    const t = this.threshold, b = this.best;
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? a < b * (1 - t) : a < b - t;
    return this.thresholdMode === 'rel' ? a > b * (1 + t) : a > b + t;
  }

  /** One epoch's value of the watched metric; cuts the lr after more than `patience` bad epochs. */
  step(metric: number): void {
    const current = checkNumber(metric, 'metric');
    this.lastEpoch++;
    if (this.isBetter(current)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs++;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      const old = this.optimizer.lr;
      const next = Math.max(old * this.factor, this.minLr);
      if (old - next > this.eps) this.optimizer.lr = next;
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
  }

  getLastLr(): number {
    return this.optimizer.lr;
  }

  stateDict(): { best: number; numBadEpochs: number; cooldownCounter: number; lastEpoch: number } {
    return { best: this.best, numBadEpochs: this.numBadEpochs, cooldownCounter: this.cooldownCounter, lastEpoch: this.lastEpoch };
  }

  loadStateDict(sd: { best: number; numBadEpochs: number; cooldownCounter: number; lastEpoch: number }): void {
    if (sd === null || typeof sd !== 'object') fail('type', 'schedule state object', 'stateDict', describe(sd));
    const best = typeof sd.best === 'number' && !Number.isNaN(sd.best) ? sd.best : fail('type', 'number', 'stateDict.best', describe(sd.best));
    const bad = checkInt(sd.numBadEpochs, 'stateDict.numBadEpochs', 0);
    const cool = checkInt(sd.cooldownCounter, 'stateDict.cooldownCounter', 0);
    const last = checkInt(sd.lastEpoch, 'stateDict.lastEpoch', 0);
    this.best = best;
    this.numBadEpochs = bad;
    this.cooldownCounter = cool;
    this.lastEpoch = last;
  }
}

export interface OneCycleLROptions {
  /** The peak lr, > 0. Required. */
  maxLr: number;
  /** Steps of the whole cycle (step() calls), integer >= 2. Required. */
  totalSteps: number;
  /** Fraction of the steps spent rising to maxLr, in (0, 1). Default 0.3. */
  pctStart?: number;
  /** 'cos' or 'linear' annealing between the phase ends (of the lr and the momentum). Default 'cos'. */
  annealStrategy?: 'cos' | 'linear';
  /** The starting lr is maxLr / divFactor, > 0. Default 25. */
  divFactor?: number;
  /** The final lr is the starting lr / finalDivFactor, > 0. Default 1e4. */
  finalDivFactor?: number;
  /** Three phases (up, back down to the start, then to the final lr) as fast.ai. Default false. */
  threePhase?: boolean;
  /**
   * Cycle the optimizer's momentum (SGD, RMSProp) or beta1 (Adam, AdamW) inversely to the lr, from
   * maxMomentum down to baseMomentum while the lr rises and back. Default true (as torch).
   */
  cycleMomentum?: boolean;
  /** The lowest momentum, in [0, maxMomentum]. Default 0.85. */
  baseMomentum?: number;
  /** The highest momentum (the first and the last step's), below 1. Default 0.95. */
  maxMomentum?: number;
}

const ONE_CYCLE_KEYS = ['maxLr', 'totalSteps', 'pctStart', 'annealStrategy', 'divFactor', 'finalDivFactor', 'threePhase', 'cycleMomentum', 'baseMomentum', 'maxMomentum'];

interface Phase {
  end: number;
  from: number;
  to: number;
  /** Momentum at the phase's start and end. */
  mFrom: number;
  mTo: number;
}

function checkMomenta(o: Record<string, unknown>): [number, number] {
  const base = o.baseMomentum === undefined ? 0.85 : checkNumber(o.baseMomentum, 'baseMomentum', 0, 1, 'number in [0, 1)');
  const max = o.maxMomentum === undefined ? 0.95 : checkNumber(o.maxMomentum, 'maxMomentum', 0, 1, 'number in [0, 1)');
  if (max >= 1) fail('range', 'number in [0, 1)', 'maxMomentum', describe(max));
  if (base > max) fail('range', `a number at most maxMomentum (${max})`, 'baseMomentum', describe(base));
  return [base, max];
}

/**
 * torch.optim.lr_scheduler.OneCycleLR; step() once per batch. With cycleMomentum (the default) it
 * sets the optimizer's momentum (or Adam's beta1) every step as well, as torch does.
 */
export class OneCycleLR extends LRScheduler {
  readonly maxLr: number;
  readonly totalSteps: number;
  readonly pctStart: number;
  readonly annealStrategy: 'cos' | 'linear';
  readonly divFactor: number;
  readonly finalDivFactor: number;
  readonly threePhase: boolean;
  readonly cycleMomentum: boolean;
  readonly baseMomentum: number;
  readonly maxMomentum: number;
  private readonly phases: Phase[];

  constructor(optimizer: Optimizer, options: OneCycleLROptions) {
    const o = checkOpts(options, ONE_CYCLE_KEYS, 'OneCycleLR');
    super(optimizer);
    this.maxLr = checkNumber(o.maxLr, 'maxLr', 0);
    if (!(this.maxLr > 0)) fail('range', 'number > 0', 'maxLr', describe(o.maxLr));
    this.totalSteps = checkInt(o.totalSteps, 'totalSteps', 2);
    const pct = o.pctStart === undefined ? 0.3 : checkNumber(o.pctStart, 'pctStart', 0, 1);
    if (pct <= 0 || pct >= 1) fail('range', 'number in (0, 1)', 'pctStart', describe(pct));
    this.pctStart = pct;
    const strat = o.annealStrategy ?? 'cos';
    if (strat !== 'cos' && strat !== 'linear') fail('range', "'cos' or 'linear'", 'annealStrategy', describe(strat));
    this.annealStrategy = strat;
    const div = o.divFactor === undefined ? 25 : checkNumber(o.divFactor, 'divFactor', 0);
    const finalDiv = o.finalDivFactor === undefined ? 1e4 : checkNumber(o.finalDivFactor, 'finalDivFactor', 0);
    if (!(div > 0)) fail('range', 'number > 0', 'divFactor', describe(div));
    if (!(finalDiv > 0)) fail('range', 'number > 0', 'finalDivFactor', describe(finalDiv));
    this.divFactor = div;
    this.finalDivFactor = finalDiv;
    const three = o.threePhase === undefined ? false : checkBool(o.threePhase, 'threePhase');
    this.threePhase = three;
    this.cycleMomentum = o.cycleMomentum === undefined ? true : checkBool(o.cycleMomentum, 'cycleMomentum');
    [this.baseMomentum, this.maxMomentum] = checkMomenta(o);
    if (this.cycleMomentum && optimizer.momentum === undefined) {
      fail('range', 'an optimizer with a momentum or beta1 (or cycleMomentum: false)', 'optimizer', `a ${optimizer.constructor.name}`);
    }
    const initial = this.maxLr / div, min = initial / finalDiv, T = this.totalSteps;
    const lo = this.baseMomentum, hi = this.maxMomentum;
    this.phases = three
      ? [
          { end: pct * T - 1, from: initial, to: this.maxLr, mFrom: hi, mTo: lo },
          { end: 2 * pct * T - 2, from: this.maxLr, to: initial, mFrom: lo, mTo: hi },
          { end: T - 1, from: initial, to: min, mFrom: hi, mTo: hi },
        ]
      : [
          { end: pct * T - 1, from: initial, to: this.maxLr, mFrom: hi, mTo: lo },
          { end: T - 1, from: this.maxLr, to: min, mFrom: lo, mTo: hi },
        ];
    this.start();
  }

  private anneal(from: number, to: number, pct: number): number {
    return this.annealStrategy === 'cos' ? to + ((from - to) / 2) * (Math.cos(Math.PI * pct) + 1) : (to - from) * pct + from;
  }

  /** The phase of `epoch` and the fraction of it done. */
  private locate(epoch: number): [Phase, number] {
    if (epoch > this.totalSteps) {
      fail('range', `at most totalSteps (${this.totalSteps}) steps`, 'OneCycleLR.step()', `step ${epoch}`);
    }
    let start = 0;
    for (let i = 0; i < this.phases.length; i++) {
      const ph = this.phases[i];
      if (epoch <= ph.end || i === this.phases.length - 1) return [ph, (epoch - start) / (ph.end - start)];
      start = ph.end;
    }
    throw new Error('unreachable');
  }

  protected lrOf(epoch: number): number {
    const [ph, pct] = this.locate(epoch);
    return this.anneal(ph.from, ph.to, pct);
  }

  /** The momentum (or beta1) of step `epoch`, an integer >= 0 (closed form). */
  momentumAt(epoch: number): number {
    const [ph, pct] = this.locate(checkInt(epoch, 'epoch', 0));
    return this.anneal(ph.mFrom, ph.mTo, pct);
  }

  protected override applyOthers(epoch: number): void {
    if (this.cycleMomentum) this.optimizer.momentum = this.momentumAt(epoch);
  }
}
