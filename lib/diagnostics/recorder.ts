/**
 * StatsRecorder: per-layer activation and per-parameter gradient statistics recorded during
 * training, every `every` steps — the lecture's diagnostics over time. Each recorded step holds,
 * per layer, the output's mean, std, min/max, a histogram over fixed bins, the saturated fraction
 * (Tanh |y| > 0.99, Sigmoid y < 0.01 or y > 0.99) and the dead fraction (ReLU units zero for the
 * whole batch); per parameter, the gradient norm ‖g‖, the weight norm ‖w‖ and the update ratio
 * ‖Δw‖/‖w‖ of that step (about 1e-3 is the sign of a good learning rate).
 *
 * One pass over each buffer through the backend's tensorStats / paramStats kernels, into buffers
 * allocated once; between recorded steps a step costs one counter increment (and one arena copy on
 * the step before a recorded one, for Δw). Use it in an explicit loop — call `step()` after
 * `optimizer.step()` — or pass it to `fit` in `callbacks`.
 */
import type { Backend } from '../backend/types';
import { Sequential } from '../model';
import type { Callback } from '../train';
import { checkInt, checkNumber, checkOptions, describe, fail, StateError } from '../validate';

export interface StatsRecorderOptions {
  /** Record every this many steps (the first step is always recorded). Default 50. */
  every?: number;
  /** Histogram bins per layer. Default 30. */
  bins?: number;
  /**
   * Histogram range [lo, hi] for every layer. Default: Tanh [-1, 1], Sigmoid [0, 1], other layers
   * chosen from the first recorded batch (its min and max, widened by half the span; from 0 for
   * outputs that never go below 0). Values outside count in the edge bins.
   */
  range?: [number, number];
  /** Something with an `lr` (an optimizer) whose learning rate is recorded with each step. */
  optimizer?: { lr: number };
}

/** One layer's output statistics at one recorded step. */
export interface LayerStepStats {
  mean: number;
  std: number;
  min: number;
  max: number;
  /** Fraction of exact zeros. */
  zeros: number;
  /** NaN or infinite values (left out of every other number). */
  nonFinite: number;
  /** Tanh / Sigmoid: fraction of outputs in the flat tails. */
  saturated?: number;
  /** ReLU: fraction of units (features or channels) zero for every sample of the batch. */
  dead?: number;
  /** Counts per bin over the layer's fixed range (StatsJSON.layers[i].hist). */
  hist: number[];
}

/** One parameter's statistics at one recorded step. */
export interface ParamStepStats {
  gradNorm: number;
  weightNorm: number;
  /** ‖w after − w before‖ / ‖w after‖ over this step; null when the weights before are unknown. */
  updateRatio: number | null;
}

export interface StepRecord {
  /** 0-based global step. */
  step: number;
  epoch: number;
  loss?: number;
  lr?: number;
  /** Per layer, in model order. */
  layers: LayerStepStats[];
  /** Per parameter, in StatsJSON.params order. */
  params: ParamStepStats[];
}

/** What toJSON gives: self-describing, so a report can check it against its history. */
export interface StatsJSON {
  format: 'minibatch-stats';
  version: 1;
  every: number;
  layers: { index: number; name: string; className: string; shape: number[]; hist: { lo: number; hi: number; bins: number } | null }[];
  params: { name: string; shape: number[] }[];
  /** Loss of every step (recorded or not) when known. */
  losses: number[];
  records: StepRecord[];
}

const OPTION_KEYS = ['every', 'bins', 'range', 'optimizer'] as const;

interface LayerSlot {
  range: [number, number] | null;
  hist: Float64Array;
  nonzero: Int32Array;
}

export class StatsRecorder implements Callback {
  readonly model: Sequential;
  readonly every: number;
  readonly bins: number;
  readonly records: StepRecord[] = [];
  readonly losses: number[] = [];
  private readonly fixedRange: [number, number] | null;
  private readonly optimizer: { lr: number } | null;
  private ready = false;
  private slots: LayerSlot[] = [];
  private views: { name: string; shape: number[]; w: Float32Array; g: Float32Array; prev: Float32Array }[] = [];
  private prev: Float32Array | null = null;
  private havePrev = false;
  private readonly out = new Float64Array(8);
  private readonly pout = new Float64Array(3);
  private stepCount = 0;
  private epoch = 0;

  constructor(model: Sequential, options: StatsRecorderOptions = {}) {
    if (!(model instanceof Sequential)) fail('type', 'Sequential model', 'model', describe(model));
    checkOptions(options, OPTION_KEYS, 'StatsRecorder');
    this.model = model;
    this.every = checkInt(options.every ?? 50, 'every', 1);
    this.bins = checkInt(options.bins ?? 30, 'bins', 1, 1000);
    if (options.range !== undefined) {
      const r = options.range;
      if (!Array.isArray(r) || r.length !== 2) fail('type', '[lo, hi] pair of numbers', 'range', describe(r));
      const lo = checkNumber(r[0], 'range[0]');
      const hi = checkNumber(r[1], 'range[1]');
      if (!(hi > lo)) fail('range', `number > range[0] = ${lo}`, 'range[1]', describe(hi));
      this.fixedRange = [lo, hi];
    } else this.fixedRange = null;
    const opt = options.optimizer;
    if (opt !== undefined && (opt === null || typeof opt !== 'object' || typeof (opt as { lr: unknown }).lr !== 'number')) {
      fail('type', 'an optimizer (an object with a numeric lr)', 'optimizer', describe(opt));
    }
    this.optimizer = opt ?? null;
    if (model.built) this.setup();
  }

  /** Steps counted so far. */
  get steps(): number {
    return this.stepCount;
  }

  /**
   * Counts one training step; call it after optimizer.step(), while the gradients and the layers'
   * outputs of this step are still in place. Records when the step is due; returns whether it did.
   */
  step(loss?: number): boolean {
    if (loss !== undefined && typeof loss !== 'number') fail('type', 'number or undefined', 'loss', describe(loss));
    if (!this.ready) {
      if (!this.model.built) throw new StateError('StatsRecorder: the model is not built yet; call step() after a forward and backward pass');
      this.setup();
    }
    const s = this.stepCount++;
    if (loss !== undefined) this.losses.push(loss);
    const due = s % this.every === 0;
    if (due) this.record(s, loss);
    // Keep the weights before the next recorded step's update, for Δw.
    if ((s + 1) % this.every === 0) {
      this.prev!.set(this.model.parameters().data);
      this.havePrev = true;
    } else this.havePrev = false;
    return due;
  }

  // ------------------------------------------------------------------ fit callback
  onTrainBegin(): void {
    if (!this.ready && this.model.built) this.setup();
    if (this.stepCount % this.every === 0 && this.prev) {
      this.prev.set(this.model.parameters().data);
      this.havePrev = true;
    }
  }
  onEpochBegin(epoch: number): void {
    this.epoch = epoch;
  }
  onBatchEnd(_batch: number, logs: { loss: number }): void {
    this.step(logs.loss);
  }

  /** The records as plain JSON-ready data. */
  toJSON(): StatsJSON {
    return {
      format: 'minibatch-stats',
      version: 1,
      every: this.every,
      layers: this.model.layers.map((l, index) => ({
        index,
        name: l.name,
        className: l.className,
        shape: [...(l.outputShape ?? [])],
        hist: this.slots[index]?.range ? { lo: this.slots[index].range![0], hi: this.slots[index].range![1], bins: this.bins } : null,
      })),
      params: this.views.map((v) => ({ name: v.name, shape: v.shape })),
      losses: this.losses,
      records: this.records,
    };
  }

  private setup(): void {
    const arena = this.model.parameters();
    this.ready = true;
    this.prev = new Float32Array(arena.data.length);
    this.views = arena.views.map((v) => ({
      name: v.name,
      shape: [...v.shape],
      w: arena.data.subarray(v.offset, v.offset + v.size),
      g: arena.grad.subarray(v.offset, v.offset + v.size),
      prev: this.prev!.subarray(v.offset, v.offset + v.size),
    }));
    // the weights before the first step's update
    this.prev.set(arena.data);
    this.havePrev = this.stepCount % this.every === 0;
    this.slots = this.model.layers.map((l) => {
      const shape = l.outputShape!;
      const cls = l.className;
      const range = this.fixedRange ?? (cls === 'Tanh' ? [-1, 1] : cls === 'Sigmoid' ? [0, 1] : null);
      return { range: range ? [range[0], range[1]] : null, hist: new Float64Array(this.bins), nonzero: new Int32Array(shape[0] ?? 1) };
    });
  }

  private record(step: number, loss: number | undefined): void {
    const b = this.model.layers[0].backend; // the model's backend at this step
    const rec: StepRecord = { step, epoch: this.epoch, layers: [], params: [] };
    if (loss !== undefined) rec.loss = loss;
    if (this.optimizer) rec.lr = this.optimizer.lr;
    this.model.layers.forEach((layer, i) => {
      const y = layer.lastOutput();
      const slot = this.slots[i];
      if (!y) throw new StateError(`StatsRecorder: layer ${i} (${layer.className} '${layer.name}') has no output yet; call step() after a forward pass`);
      rec.layers.push(this.layerStats(b, y.data, y.shape, layer.className, slot));
    });
    for (const v of this.views) {
      b.paramStats(this.pout, v.w, this.havePrev ? v.prev : null, v.g, v.w.length);
      const wn = Math.sqrt(this.pout[0]);
      rec.params.push({
        gradNorm: Math.sqrt(this.pout[2]),
        weightNorm: wn,
        updateRatio: this.havePrev ? (wn > 0 ? Math.sqrt(this.pout[1]) / wn : 0) : null,
      });
    }
    this.records.push(rec);
  }

  private layerStats(b: Backend, data: Float32Array, shape: readonly number[], cls: string, slot: LayerSlot): LayerStepStats {
    const outer = shape[0];
    const units = shape.length > 1 ? shape[1] : 1;
    const inner = data.length / Math.max(1, outer * units);
    const out = this.out;
    const nonzero = slot.nonzero.length === units ? slot.nonzero : (slot.nonzero = new Int32Array(units));
    if (!slot.range) {
      b.tensorStats(out, null, null, data, outer, units, inner, 0, 1, 0);
      slot.range = chooseRange(out[2], out[3]);
    }
    b.tensorStats(out, slot.hist, nonzero, data, outer, units, inner, slot.range[0], slot.range[1], this.bins);
    const count = data.length - out[5];
    const mean = count > 0 ? out[0] / count : NaN;
    const s: LayerStepStats = {
      mean,
      std: count > 0 ? Math.sqrt(Math.max(0, out[1] / count - mean * mean)) : NaN,
      min: out[2],
      max: out[3],
      zeros: count > 0 ? out[4] / count : 0,
      nonFinite: out[5],
      hist: Array.from(slot.hist),
    };
    if (cls === 'Tanh' && count > 0) s.saturated = out[6] / count;
    if (cls === 'Sigmoid' && count > 0) s.saturated = out[7] / count;
    if (cls === 'ReLU') {
      let dead = 0;
      for (let u = 0; u < units; u++) if (nonzero[u] === 0) dead++;
      s.dead = dead / units;
    }
    return s;
  }
}

/** A histogram range around [min, max]: widened by half the span, from 0 when nothing is negative. */
export function chooseRange(min: number, max: number): [number, number] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [-1, 1];
  const span = max - min || Math.max(1, Math.abs(max));
  const lo = min >= 0 ? 0 : min - span / 2;
  return [lo, max + span / 2];
}
