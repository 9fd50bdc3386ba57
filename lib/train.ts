/**
 * The mini-batch trainer: fit / evaluate / predict.
 *
 * batchSize 1 is plain SGD, batchSize = N is full-batch gradient descent, anything between is
 * mini-batch SGD. fit is async: it yields to the event loop after every mini-batch, so a server
 * keeps answering while a model trains (no stretch of blocking longer than one step). Each step is
 * one synchronous function of (batch x, batch y) → loss, so it can later move off the main thread.
 */
import { Sequential } from './model';
import { Generator } from './random';
import { Tensor, sizeOf, toTensor, checkFiniteData } from './tensor';
import { checkBool, checkInt, checkNumber, checkOptions, describe, fail, formatShape, isDetached } from './validate';
import { checkCallbacks, checkLoss, checkMetrics, checkModel, checkOutput, checkTargetKind, given } from './train-checks';

/** A loss as lib/losses.ts defines them: forward returns the mean loss, backward its gradient. */
export interface LossFn {
  forward(input: Tensor, target: any): number;
  backward(): Tensor;
  /** 'labels' (class indices) or 'values' (a target tensor): when given, fit checks y against it. */
  readonly targetKind?: 'labels' | 'values';
}
/** An optimizer over the model's parameter arena. */
export interface OptimizerLike {
  step(): void;
  zeroGrad(): void;
}

export type Metric = 'accuracy';
export type Labels = Int32Array | Uint8Array | number[];
export type Targets = Labels | Tensor | Float32Array | number[][];

export interface Logs {
  loss: number;
  accuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  [k: string]: number | undefined;
}

export interface Callback {
  onTrainBegin?(): void | Promise<void>;
  onTrainEnd?(logs: Logs | null): void | Promise<void>;
  onEpochBegin?(epoch: number): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: Logs): void | Promise<void>;
  onBatchEnd?(batch: number, logs: { loss: number; size: number }): void | Promise<void>;
  /** Set by a callback to end training after the current epoch. */
  stopTraining?: boolean;
}

export interface FitOptions {
  /** Passes over the training data. Default 1. */
  epochs?: number;
  /** Samples per step: 1 is SGD, N is full-batch descent. Default 32. */
  batchSize?: number;
  /** Reshuffle the training data every epoch (seeded). Default true. */
  shuffle?: boolean;
  /** Fraction in [0, 1) held out for validation, taken after one seeded shuffle. Default 0. */
  validationSplit?: number;
  /** Explicit validation data [x, y] (takes precedence over validationSplit). */
  validationData?: [unknown, Targets];
  /** The loss. Required. */
  loss: LossFn;
  /** The optimizer over model.parameters(). Required. */
  optimizer: OptimizerLike;
  /** Metrics besides the loss. Default: none. */
  metrics?: Metric[];
  callbacks?: Callback[];
  /** Seed of the shuffling generator. Default 0. */
  seed?: number;
  /** Skip the last incomplete batch of each epoch. Default false. */
  dropLast?: boolean;
  /** 0 silent, 1 progress bar on a terminal (one line per epoch otherwise), 2 one line per epoch. Default 1. */
  verbose?: 0 | 1 | 2;
  /** Where progress goes. Default process.stdout. */
  output?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

export interface History {
  epoch: number[];
  history: { loss: number[]; accuracy?: number[]; valLoss?: number[]; valAccuracy?: number[] };
}

const FIT_KEYS = [
  'epochs', 'batchSize', 'shuffle', 'validationSplit', 'validationData', 'loss', 'optimizer', 'metrics',
  'callbacks', 'seed', 'dropLast', 'verbose', 'output',
] as const;

/** Training data in one flat layout: rows of x, and either labels or regression targets. */
interface Dataset {
  x: Float32Array;
  rowShape: number[];
  rowSize: number;
  n: number;
  labels: Int32Array | null;
  targets: Float32Array | null;
  targetShape: number[];
}

/** `prefix` names the argument in messages: '' for fit's and evaluate's x and y, 'validationData ' for it. */
function toDataset(xIn: unknown, yIn: unknown, prefix: string, model: Sequential, loss?: LossFn): Dataset {
  const xName = `${prefix}x`;
  const x = toTensor(xIn, xName);
  if (x.shape.length < 2) fail('range', 'a batch of samples [N, ...]', xName, `tensor of shape ${formatShape(x.shape)}`);
  const n = x.shape[0];
  const rowShape = x.shape.slice(1);
  const rowSize = sizeOf(rowShape);
  for (let i = 0; i < x.data.length; i++) {
    if (!Number.isFinite(x.data[i])) {
      fail('range', 'finite values', `${xName} (row ${Math.floor(i / rowSize)}, index ${i % rowSize})`, describe(x.data[i]));
    }
  }
  const yName = `${prefix}y`;
  checkTargetKind(yIn, yName, loss);
  let labels: Int32Array | null = null;
  let targets: Float32Array | null = null;
  let targetShape: number[] = [];
  if (yIn instanceof Int32Array || yIn instanceof Uint8Array || (Array.isArray(yIn) && (yIn.length === 0 || typeof yIn[0] === 'number'))) {
    if (ArrayBuffer.isView(yIn) && isDetached(yIn)) fail('range', 'an attached buffer', yName, 'a detached buffer');
    const arr = yIn as ArrayLike<number>;
    if (arr.length !== n) fail('range', `${n} labels (one per row of x)`, yName, describe(yIn));
    labels = new Int32Array(n);
    const classes = model.outputShape ? model.outputShape[model.outputShape.length - 1] : Infinity;
    for (let i = 0; i < n; i++) {
      const v = arr[i];
      if (!Number.isInteger(v) || v < 0 || v >= classes) {
        fail('range', `class index between 0 and ${classes - 1}`, `${yName}[${i}]`, describe(v));
      }
      labels[i] = v;
    }
  } else {
    const t = toTensor(yIn, yName);
    if (t.shape[0] !== n) fail('range', `${n} rows (one per row of x)`, yName, `tensor of shape ${formatShape(t.shape)}`);
    checkFiniteData(t, yName);
    targets = t.data;
    targetShape = t.shape.slice(1) as number[];
  }
  return { x: x.data, rowShape: rowShape as number[], rowSize, n, labels, targets, targetShape };
}

/** dst[i] = src[idx[from + i]] for m rows of `size` values (no views allocated per row). */
function copyRows(dst: Float32Array, src: Float32Array, idx: Int32Array, from: number, m: number, size: number): void {
  for (let i = 0; i < m; i++) {
    const s = idx[from + i] * size;
    const d = i * size;
    for (let j = 0; j < size; j++) dst[d + j] = src[s + j];
  }
}

/** Copies the rows idx[from..to) of a dataset into reusable batch buffers. */
class Batcher {
  private xBuf = new Float32Array(0);
  private yBuf: Int32Array = new Int32Array(0);
  private tBuf = new Float32Array(0);
  constructor(private ds: Dataset) {}
  batch(idx: Int32Array, from: number, to: number): { x: Tensor; y: Int32Array | Tensor } {
    const ds = this.ds;
    const m = to - from;
    if (this.xBuf.length !== m * ds.rowSize) this.xBuf = new Float32Array(m * ds.rowSize);
    copyRows(this.xBuf, ds.x, idx, from, m, ds.rowSize);
    const x: Tensor = { data: this.xBuf, shape: [m, ...ds.rowShape] };
    if (ds.labels) {
      if (this.yBuf.length !== m) this.yBuf = new Int32Array(m);
      for (let i = 0; i < m; i++) this.yBuf[i] = ds.labels[idx[from + i]];
      return { x, y: this.yBuf };
    }
    const ts = sizeOf(ds.targetShape);
    if (this.tBuf.length !== m * ts) this.tBuf = new Float32Array(m * ts);
    copyRows(this.tBuf, ds.targets!, idx, from, m, ts);
    return { x, y: { data: this.tBuf, shape: [m, ...ds.targetShape] } };
  }
}

function countCorrect(out: Tensor, labels: Int32Array): number {
  const k = out.shape[out.shape.length - 1];
  const n = out.shape[0];
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bv = out.data[i * k];
    for (let j = 1; j < k; j++) {
      const v = out.data[i * k + j];
      if (v > bv) {
        bv = v;
        best = j;
      }
    }
    if (best === labels[i]) correct++;
  }
  return correct;
}

const nextTick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Error thrown by the NaN/Inf guard; the model keeps its last good weights. */
export class NonFiniteLossError extends Error {
  constructor(message: string, readonly epoch: number, readonly step: number) {
    super(message);
    this.name = 'NonFiniteLossError';
  }
}

/** Trains the model; returns the per-epoch history. */
export async function fit(model: Sequential, x: unknown, y: Targets, options: FitOptions): Promise<History> {
  checkModel(model);
  checkOptions(options, FIT_KEYS, 'fit');
  if (!options) fail('type', 'options object with loss and optimizer', 'fit options', describe(options));
  const epochs = checkInt(given(options.epochs, 1), 'epochs', 1);
  const shuffle = checkBool(given(options.shuffle, true), 'shuffle');
  const dropLast = checkBool(given(options.dropLast, false), 'dropLast');
  const seed = checkInt(given(options.seed, 0), 'seed', 0);
  const verbose = given(options.verbose, 1);
  if (verbose !== 0 && verbose !== 1 && verbose !== 2) fail('range', '0, 1 or 2', 'verbose', describe(verbose));
  const split = checkNumber(given(options.validationSplit, 0), 'validationSplit', 0, 1, 'number in [0, 1)');
  if (split >= 1) fail('range', 'number in [0, 1)', 'validationSplit', describe(split));
  const loss = checkLoss(options.loss);
  const opt = options.optimizer;
  if (!opt || typeof opt.step !== 'function' || typeof opt.zeroGrad !== 'function') fail('type', 'optimizer (e.g. new SGD(model.parameters(), { lr }))', 'optimizer', describe(opt));
  const metrics = checkMetrics(options.metrics);
  const withAccuracy = metrics.includes('accuracy');
  const callbacks = checkCallbacks(options.callbacks);
  const out = checkOutput(options.output);

  // Build (from the data's row shape) and validate everything before changing anything.
  const xt = toTensor(x, 'x');
  if (!model.built) {
    if (xt.shape.length < 2) fail('range', 'a batch of samples [N, ...]', 'x', `tensor of shape ${formatShape(xt.shape)}`);
    model.build(xt.shape.slice(1));
  }
  const all = toDataset(xt, y, '', model, loss);
  const arenaOf = (opt as { params?: unknown }).params;
  if (Array.isArray(arenaOf) && !arenaOf.includes(model.parameters())) {
    fail('range', "an optimizer over this model's parameters (new SGD(model.parameters(), ...))", 'optimizer', 'an optimizer over other parameters');
  }
  if (formatShape(all.rowShape) !== formatShape(model.inputShape!)) {
    fail('range', `samples of shape ${formatShape(model.inputShape!)} (the model's input, first layer ${model.layers[0].className} '${model.layers[0].name}')`, 'x', `tensor of shape ${formatShape(xt.shape)}`);
  }
  if (all.labels && model.outputShape!.length !== 1) fail('range', 'a model with [N, classes] output for class labels', 'y', `output shape [N, ${model.outputShape!.join(', ')}]`);
  if (withAccuracy && !all.labels) fail('range', 'class labels for the accuracy metric', 'y', 'a target tensor');

  // one seeded shuffle before the split, so the validation set is a random sample
  const rng = new Generator(seed);
  const order = new Int32Array(all.n);
  for (let i = 0; i < all.n; i++) order[i] = i;
  let trainIdx = order;
  let valIdx: Int32Array | null = null;
  let valDs: Dataset | null = null;
  if (options.validationData) {
    if (!Array.isArray(options.validationData) || options.validationData.length !== 2) fail('type', '[x, y] pair', 'validationData', describe(options.validationData));
    valDs = toDataset(options.validationData[0], options.validationData[1], 'validationData ', model, loss);
    if (formatShape(valDs.rowShape) !== formatShape(model.inputShape!)) fail('range', `samples of shape ${formatShape(model.inputShape!)}`, 'validationData x', `rows of shape ${formatShape(valDs.rowShape)}`);
    valIdx = new Int32Array(valDs.n).map((_, i) => i);
  } else if (split > 0) {
    rng.shuffle(order);
    const nVal = Math.floor(all.n * split);
    if (nVal < 1 || nVal >= all.n) fail('range', `a split leaving at least one sample on each side of ${all.n}`, 'validationSplit', describe(split));
    valIdx = order.slice(all.n - nVal);
    trainIdx = order.slice(0, all.n - nVal);
    valDs = all;
  }
  const nTrain = trainIdx.length;
  const batchSize = checkInt(given(options.batchSize, Math.min(32, nTrain)), 'batchSize', 1);
  if (batchSize > nTrain) fail('range', `integer between 1 and ${nTrain} (the training samples)`, 'batchSize', describe(batchSize));
  const fullBatches = Math.floor(nTrain / batchSize);
  const rest = nTrain - fullBatches * batchSize;
  const stepsPerEpoch = fullBatches + (rest > 0 && !dropLast ? 1 : 0);
  // The BatchNorm single-value rule, checked up front for every batch size that will occur.
  model.train();
  for (const size of rest > 0 && !dropLast ? [batchSize, rest] : [batchSize]) {
    for (const l of model.layers) {
      try {
        l.checkTrainingBatch(size);
      } catch (e) {
        const hint = size === rest && size !== batchSize ? ` (the last batch of each epoch has ${rest} sample${rest === 1 ? '' : 's'}: use dropLast: true or another batchSize)` : '';
        throw new RangeError(`${(e as Error).message}${hint}`);
      }
    }
  }

  const batcher = new Batcher(all);
  const history: History = { epoch: [], history: { loss: [] } };
  if (withAccuracy) history.history.accuracy = [];
  if (valDs) {
    history.history.valLoss = [];
    if (withAccuracy) history.history.valAccuracy = [];
  }
  const progress = new Progress(out, verbose, epochs, stepsPerEpoch);
  const arena = model.parameters();
  // The NaN/Inf guard keeps the last good weights: parameters are copied before each step (one
  // preallocated arena copy), buffers (running statistics) before each forward.
  const paramSnap = new Float32Array(arena.data.length);
  let haveSnap = false;
  const bufferSnap = model.layers.flatMap((l) => l.buffers().map((b) => ({ b, copy: new Float32Array(b.data.length) })));

  for (const cb of callbacks) await cb.onTrainBegin?.();
  let lastLogs: Logs | null = null;
  let globalStep = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (const cb of callbacks) await cb.onEpochBegin?.(epoch);
    model.train();
    if (shuffle) rng.shuffle(trainIdx);
    progress.epochBegin(epoch);
    let lossSum = 0;
    let seen = 0;
    let correct = 0;
    for (let s = 0; s < stepsPerEpoch; s++) {
      const from = s * batchSize;
      const to = Math.min(from + batchSize, nTrain);
      const { x: bx, y: by } = batcher.batch(trainIdx, from, to);
      for (const e of bufferSnap) e.copy.set(e.b.data);
      // --- one step: forward, loss, backward, optimizer ---
      const outT = model.forward(bx, { checkFinite: false });
      const l = loss.forward(outT, by);
      if (!Number.isFinite(l)) {
        for (const e of bufferSnap) e.b.data.set(e.copy);
        if (haveSnap) arena.data.set(paramSnap);
        progress.end();
        throw new NonFiniteLossError(`Training stopped: the loss became ${l} at epoch ${epoch + 1}, step ${s + 1} (global step ${globalStep + 1}); the model keeps the weights of the last good step. Lower the learning rate or check the data.`, epoch, s);
      }
      if (withAccuracy) correct += countCorrect(outT, by as Int32Array);
      opt.zeroGrad();
      model.zeroGrad();
      model.backward(loss.backward());
      let gsum = 0;
      const g = arena.grad;
      for (let i = 0; i < g.length; i++) gsum += g[i] * 0;
      if (!Number.isFinite(gsum)) {
        for (const e of bufferSnap) e.b.data.set(e.copy);
        progress.end();
        throw new NonFiniteLossError(`Training stopped: a gradient became NaN or infinite at epoch ${epoch + 1}, step ${s + 1} (global step ${globalStep + 1}); the model keeps the weights of the last good step.`, epoch, s);
      }
      paramSnap.set(arena.data);
      haveSnap = true;
      opt.step();
      globalStep++;
      const m = to - from;
      lossSum += l * m;
      seen += m;
      for (const cb of callbacks) await cb.onBatchEnd?.(s, { loss: l, size: m });
      progress.batch(s + 1, lossSum / seen, withAccuracy ? correct / seen : undefined, seen);
      await nextTick();
    }
    const logs: Logs = { loss: lossSum / seen };
    if (withAccuracy) logs.accuracy = correct / seen;
    if (valDs && valIdx) {
      const v = await evaluateIdx(model, valDs, valIdx, loss, batchSize, metrics);
      logs.valLoss = v.loss;
      if (v.accuracy !== undefined) logs.valAccuracy = v.accuracy;
    }
    history.epoch.push(epoch);
    history.history.loss.push(logs.loss);
    if (logs.accuracy !== undefined) history.history.accuracy!.push(logs.accuracy);
    if (logs.valLoss !== undefined) history.history.valLoss!.push(logs.valLoss);
    if (logs.valAccuracy !== undefined) history.history.valAccuracy!.push(logs.valAccuracy);
    progress.epochEnd(epoch, logs);
    lastLogs = logs;
    for (const cb of callbacks) await cb.onEpochEnd?.(epoch, logs);
    if (callbacks.some((c) => c.stopTraining)) break;
  }
  model.train();
  for (const cb of callbacks) await cb.onTrainEnd?.(lastLogs);
  progress.end();
  return history;
}

async function evaluateIdx(model: Sequential, ds: Dataset, idx: Int32Array, loss: LossFn, batchSize: number, metrics: Metric[]): Promise<{ loss: number; accuracy?: number }> {
  const wasTraining = model.training;
  model.eval();
  const batcher = new Batcher(ds);
  const withAccuracy = metrics.includes('accuracy');
  let lossSum = 0;
  let correct = 0;
  for (let from = 0; from < idx.length; from += batchSize) {
    const to = Math.min(from + batchSize, idx.length);
    const { x, y } = batcher.batch(idx, from, to);
    const out = model.forward(x, { checkFinite: false });
    lossSum += loss.forward(out, y) * (to - from);
    if (withAccuracy) correct += countCorrect(out, y as Int32Array);
    await nextTick();
  }
  model.train(wasTraining);
  const r: { loss: number; accuracy?: number } = { loss: lossSum / idx.length };
  if (withAccuracy) r.accuracy = correct / idx.length;
  return r;
}

export interface EvaluateOptions {
  loss: LossFn;
  batchSize?: number;
  metrics?: Metric[];
}

/** Loss (and metrics) over a dataset, in evaluation mode, batched. */
export async function evaluate(model: Sequential, x: unknown, y: Targets, options: EvaluateOptions): Promise<{ loss: number; accuracy?: number }> {
  checkModel(model);
  checkOptions(options, ['loss', 'batchSize', 'metrics'], 'evaluate');
  const loss = checkLoss(options?.loss);
  const metrics = checkMetrics(options.metrics);
  const bs = checkInt(given(options.batchSize, 256), 'batchSize', 1);
  if (!model.built) fail('range', 'a built model (train it or call build(inputShape) first)', 'model', 'an unbuilt Sequential');
  const ds = toDataset(x, y, '', model, loss);
  if (formatShape(ds.rowShape) !== formatShape(model.inputShape!)) fail('range', `samples of shape ${formatShape(model.inputShape!)}`, 'x', `rows of shape ${formatShape(ds.rowShape)}`);
  if (metrics.includes('accuracy') && !ds.labels) fail('range', 'class labels for the accuracy metric', 'y', 'a target tensor');
  const idx = new Int32Array(ds.n).map((_, i) => i);
  return evaluateIdx(model, ds, idx, loss, bs, metrics);
}

/** Model outputs for x, in evaluation mode, batched; returns a new tensor [N, ...outputShape]. */
export async function predict(model: Sequential, x: unknown, options: PredictOptions = {}): Promise<Tensor> {
  checkModel(model);
  checkOptions(options, ['batchSize', 'checkFinite'], 'predict');
  const batchSize = checkInt(given(options.batchSize, 256), 'batchSize', 1);
  const checkFinite = checkBool(given(options.checkFinite, true), 'checkFinite');
  const xt = toTensor(x, 'x');
  if (xt.shape.length < 2) fail('range', 'a batch of samples [N, ...]', 'x', `tensor of shape ${formatShape(xt.shape)}`);
  if (checkFinite) checkFiniteData(xt, 'x');
  if (!model.built) model.build(xt.shape.slice(1));
  if (formatShape(xt.shape.slice(1)) !== formatShape(model.inputShape!)) fail('range', `samples of shape ${formatShape(model.inputShape!)}`, 'x', `tensor of shape ${formatShape(xt.shape)}`);
  const n = xt.shape[0];
  const rowSize = xt.data.length / n;
  const outSize = sizeOf(model.outputShape!);
  const result = new Float32Array(n * outSize);
  const wasTraining = model.training;
  model.eval();
  for (let from = 0; from < n; from += batchSize) {
    const to = Math.min(from + batchSize, n);
    const out = model.forward({ data: xt.data.subarray(from * rowSize, to * rowSize), shape: [to - from, ...model.inputShape!] }, { checkFinite: false });
    result.set(out.data, from * outSize);
    await nextTick();
  }
  model.train(wasTraining);
  return { data: result, shape: [n, ...model.outputShape!] };
}

export interface PredictOptions {
  /** Rows per forward pass. Default 256. */
  batchSize?: number;
  /** Reject NaN and infinite inputs (one pass over x). Default true. */
  checkFinite?: boolean;
}

export interface EarlyStoppingOptions {
  /** Logged quantity to watch. Default 'valLoss' (falls back to 'loss' without validation). */
  monitor?: string;
  /** Epochs without improvement before stopping. Default 3. */
  patience?: number;
  /** Smallest change that counts as improvement. Default 0. */
  minDelta?: number;
  /** 'min' for losses (default), 'max' for accuracies. */
  mode?: 'min' | 'max';
  /** Put back the best epoch's parameters and buffers when stopping or at the end. Default false. */
  restoreBestWeights?: boolean;
}

/** Stops training when the monitored quantity stops improving. */
export class EarlyStopping implements Callback {
  stopTraining = false;
  stoppedEpoch: number | null = null;
  bestEpoch = -1;
  best: number;
  private wait = 0;
  private bestState: Float32Array[] | null = null;
  private readonly monitor: string;
  private readonly patience: number;
  private readonly minDelta: number;
  private readonly mode: 'min' | 'max';
  private readonly restore: boolean;

  constructor(private model: Sequential, opts: EarlyStoppingOptions = {}) {
    checkModel(model);
    checkOptions(opts, ['monitor', 'patience', 'minDelta', 'mode', 'restoreBestWeights'], 'EarlyStopping');
    this.monitor = opts.monitor ?? 'valLoss';
    if (typeof this.monitor !== 'string') fail('type', "name of a logged quantity (e.g. 'valLoss')", 'monitor', describe(this.monitor));
    this.patience = checkInt(opts.patience ?? 3, 'patience', 0);
    this.minDelta = checkNumber(opts.minDelta ?? 0, 'minDelta', 0);
    this.mode = opts.mode ?? (this.monitor.toLowerCase().includes('acc') ? 'max' : 'min');
    if (this.mode !== 'min' && this.mode !== 'max') fail('range', "'min' or 'max'", 'mode', describe(this.mode));
    this.restore = checkBool(opts.restoreBestWeights ?? false, 'restoreBestWeights');
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  private snapshot(): Float32Array[] {
    const arrays = [this.model.parameters().data, ...this.model.layers.flatMap((l) => l.buffers().map((b) => b.data))];
    return arrays.map((a) => Float32Array.from(a));
  }

  onTrainBegin(): void {
    this.stopTraining = false;
    this.wait = 0;
    this.bestEpoch = -1;
    this.best = this.mode === 'min' ? Infinity : -Infinity;
    this.bestState = null;
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    const v = logs[this.monitor] ?? (this.monitor === 'valLoss' ? logs.loss : undefined);
    if (v === undefined) throw new RangeError(`Expected a logged quantity (${Object.keys(logs).join(', ')}) for EarlyStopping monitor but received '${this.monitor}'`);
    const improved = this.mode === 'min' ? v < this.best - this.minDelta : v > this.best + this.minDelta;
    if (improved) {
      this.best = v;
      this.bestEpoch = epoch;
      this.wait = 0;
      if (this.restore) this.bestState = this.snapshot();
    } else if (++this.wait > this.patience) {
      this.stopTraining = true;
      this.stoppedEpoch = epoch;
    }
  }

  onTrainEnd(): void {
    if (this.restore && this.bestState) {
      const arrays = [this.model.parameters().data, ...this.model.layers.flatMap((l) => l.buffers().map((b) => b.data))];
      arrays.forEach((a, i) => a.set(this.bestState![i]));
    }
  }
}

/** Progress: a live bar on a terminal, one line per epoch otherwise, nothing with verbose 0. */
class Progress {
  private t0 = 0;
  private lastDraw = 0;
  private readonly tty: boolean;
  constructor(
    private out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
    private verbose: number,
    private epochs: number,
    private steps: number,
  ) {
    this.tty = verbose === 1 && !!out.isTTY;
  }
  epochBegin(_epoch: number): void {
    this.t0 = Date.now();
    this.lastDraw = 0;
  }
  batch(step: number, loss: number, acc: number | undefined, seen: number): void {
    if (!this.tty) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && step < this.steps) return;
    this.lastDraw = now;
    const el = (now - this.t0) / 1000;
    const rate = seen / Math.max(el, 1e-3);
    const eta = ((this.steps - step) * el) / step;
    const width = 24;
    const filled = Math.round((width * step) / this.steps);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const line = `${bar} ${step}/${this.steps} loss ${loss.toFixed(4)}${acc !== undefined ? ` acc ${acc.toFixed(4)}` : ''} ${Math.round(rate)} samples/s ETA ${eta.toFixed(1)}s`;
    this.out.write(`\r${line.slice(0, (this.out.columns ?? 120) - 1)}\x1b[K`);
  }
  epochEnd(epoch: number, logs: Logs): void {
    if (this.verbose === 0) return;
    const el = (Date.now() - this.t0) / 1000;
    const parts = [`epoch ${epoch + 1}/${this.epochs}`, `loss ${logs.loss.toFixed(4)}`];
    if (logs.accuracy !== undefined) parts.push(`acc ${logs.accuracy.toFixed(4)}`);
    if (logs.valLoss !== undefined) parts.push(`val_loss ${logs.valLoss.toFixed(4)}`);
    if (logs.valAccuracy !== undefined) parts.push(`val_acc ${logs.valAccuracy.toFixed(4)}`);
    parts.push(`${el.toFixed(1)}s`);
    this.out.write(`${this.tty ? '\r\x1b[K' : ''}${parts.join(' - ')}\n`);
  }
  end(): void {}
}
