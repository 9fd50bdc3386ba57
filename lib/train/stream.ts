/**
 * fit over a Dataset or an iterable of batches or samples (lib/data/): the same step (NaN guard
 * included), callbacks, progress, metrics and schedules as for arrays. The next batch is asked for
 * before the current step runs, so an asynchronous source (file reads) works while the step
 * computes. Every batch is checked (shape, labels) before its step; a source that throws rejects
 * fit with its error, and the model keeps the weights of the last step that completed.
 *
 * A Dataset (random access) is run exactly as arrays are: the same seeded permutation, the same
 * validationSplit (the last fraction of one seeded shuffle of the indices), the same trainer state
 * for an exact resume. An iterable has no sample order of its own to split: it takes validationData,
 * shuffles with a seeded shuffleBuffer, and its trainer state (an empty sample order) continues the
 * epoch count and that buffer's generator.
 */
import type { Sequential } from '../model';
import { Generator } from '../random';
import { sameShape, sizeOf, type Tensor } from '../tensor';
import { checkInt, checkLabels, describe, fail, formatShape } from '../validate';
import { ArrayDataset, isDataset, stackSamples, type Batch, type DataSource, type Dataset } from '../data/dataset';
import { iterableBatches, type Fetch } from '../data/iterate';
import { applyResume, trainerState } from '../io/resume';
import { endEpoch } from './callbacks';
import { countCorrect, range } from './data';
import { nextTick } from './evaluate';
import { parseFitOptions, type FitConfig } from './options';
import { Progress } from './progress';
import { createTrainStep, type TrainStep } from './step';
import type { FitOptions, History, Logs } from './types';

/** A fetcher per epoch: batches of a seeded permutation of a Dataset's indices, or the iterable's items. */
function epochBatches(src: DataSource, c: FitConfig, rng: Generator, batchSize: number, rowShape: readonly number[], order: Int32Array | undefined, where: string): { next: Fetch; steps: number } {
  if (isDataset(src)) {
    // one permutation reshuffled in place every epoch, as fit does for arrays (same seed, same order)
    const idx = order ?? range(src.length);
    if (c.shuffle) rng.shuffle(idx);
    const n = idx.length;
    const steps = c.dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
    let s = 0;
    return { steps, next: async () => (s < steps ? fetchIndices(src, idx.subarray(s * batchSize, Math.min(++s * batchSize, n)), rowShape) : null) };
  }
  const shuffleBuffer = c.shuffle ? c.shuffleBuffer : 0;
  return { steps: 0, next: iterableBatches(src, { batchSize, dropLast: c.dropLast, rowShape, shuffleBuffer, rng, where }) };
}

/** The rows `idx` of a dataset, as a dataset of their own (a validation split). */
function subset(ds: Dataset, idx: Int32Array, rowShape: readonly number[]): Dataset {
  return { length: idx.length, batch: (rows: Int32Array) => fetchIndices(ds, Int32Array.from(rows, (r) => idx[r]), rowShape) };
}

async function fetchIndices(ds: Dataset, idx: Int32Array, rowShape: readonly number[]): Promise<Batch> {
  if (typeof ds.batch === 'function') return ds.batch(Int32Array.from(idx));
  const samples = await Promise.all(Array.from(idx, (i) => ds.get!(i)));
  return stackSamples(samples, rowShape, 'dataset');
}

/** Checks one batch against the model: x [k, ...inputShape], y k labels or [k, ...outputShape]. */
function checkBatch(b: Batch, model: Sequential, maxSize: number, where: string): { x: Tensor; y: Int32Array | Tensor } {
  const inShape = model.inputShape!;
  if (!b || typeof b !== 'object' || !b.x || !(b.x.data instanceof Float32Array) || !Array.isArray(b.x.shape)) fail('type', 'a batch { x: Tensor, y }', where, describe(b));
  const k = b.x.shape[0];
  if (!(k >= 1 && k <= maxSize) || !sameShape(b.x.shape.slice(1), inShape) || b.x.data.length !== sizeOf(b.x.shape)) {
    fail('range', `a batch x of shape [1..${maxSize}, ${inShape.join(', ')}]`, where, `x of shape ${formatShape(b.x.shape)}`);
  }
  const out = model.outputShape!;
  if (b.y instanceof Int32Array || b.y instanceof Uint8Array) {
    const labels = checkLabels(b.y, `${where} y`, k, out[0]);
    return { x: b.x, y: labels instanceof Int32Array ? labels : Int32Array.from(labels) };
  }
  const t = b.y as Tensor;
  if (!t || !(t.data instanceof Float32Array) || !Array.isArray(t.shape) || t.shape[0] !== k || !sameShape(t.shape.slice(1), out)) {
    fail('range', `y of ${k} class indices or a target tensor of shape [${k}, ${out.join(', ')}]`, where, t && Array.isArray(t.shape) ? `y of shape ${formatShape(t.shape)}` : describe(b.y));
  }
  return { x: b.x, y: t };
}

/** Loss and accuracy over a validation source, in evaluation mode. */
async function evaluateSource(model: Sequential, src: DataSource, c: FitConfig, batchSize: number): Promise<{ loss: number; accuracy?: number }> {
  const wasTraining = model.training;
  model.eval();
  let lossSum = 0, correct = 0, seen = 0, s = 0;
  try {
    const { next } = epochBatches(src, { ...c, shuffle: false, dropLast: false }, new Generator(0), batchSize, model.inputShape!, undefined, 'validation');
    for (let b = await next(); b; b = await next()) {
      const { x, y } = checkBatch(b, model, Number.MAX_SAFE_INTEGER, `validation batch ${s++}`);
      const out = model.forward(x);
      lossSum += c.loss.forward(out, y) * x.shape[0];
      if (c.accuracy) correct += countCorrect(out, y as Int32Array);
      seen += x.shape[0];
      await nextTick();
    }
  } finally {
    model.train(wasTraining);
  }
  if (seen === 0) fail('range', 'a validation source with at least one batch', 'validationData', 'none');
  return c.accuracy ? { loss: lossSum / seen, accuracy: correct / seen } : { loss: lossSum / seen };
}

interface Run {
  step: TrainStep;
  rng: Generator;
  /** A dataset's training indices (its length when the run began), or undefined for an iterable. */
  order: Int32Array | undefined;
  length: number;
  batchSize: number;
  progress: Progress;
  globalStep: number;
}

async function runEpoch(model: Sequential, src: DataSource, c: FitConfig, run: Run, epoch: number): Promise<Logs> {
  const { step, batchSize, progress } = run;
  if (isDataset(src) && src.length !== run.length) fail('range', `a dataset of a fixed length (${run.length})`, 'dataset.length', describe(src.length));
  const { next, steps } = epochBatches(src, c, run.rng, batchSize, model.inputShape!, run.order, `epoch ${epoch + 1}`);
  let lossSum = 0, correct = 0, seen = 0, s = 0;
  let pending = next();
  for (;;) {
    const raw = await pending;
    if (!raw) break;
    const where = `batch ${s} of epoch ${epoch + 1}`;
    const { x, y } = checkBatch(raw, model, batchSize, where);
    const m = x.shape[0];
    checkTrainingBatch(model, m);
    if (c.accuracy && !(y instanceof Int32Array)) fail('range', 'class labels for the accuracy metric', `${where} y`, 'a target tensor');
    pending = next(); // prefetch while the step runs
    pending.catch(() => undefined); // a failure surfaces at the await above, not as an unhandled rejection
    for (const cb of c.callbacks) await cb.onBatchBegin?.(s, { size: m });
    const r = step(x, y, { epoch, step: s, globalStep: run.globalStep++ });
    lossSum += r.loss * m;
    correct += r.correct;
    seen += m;
    for (const cb of c.callbacks) await cb.onBatchEnd?.(s, { loss: r.loss, size: m });
    if (steps > 0) progress.batch(s + 1, lossSum / seen, c.accuracy ? correct / seen : undefined, seen);
    s++;
    await nextTick();
  }
  if (seen === 0) fail('range', 'a source with at least one batch per epoch', 'dataset', `none in epoch ${epoch + 1}`);
  step.verify({ epoch, step: s - 1, globalStep: run.globalStep - 1 });
  const logs: Logs = { loss: lossSum / seen };
  if (c.accuracy) logs.accuracy = correct / seen;
  return logs;
}

/** What a streamed fit runs over: the training order, the validation source, where a resume starts. */
interface SourcePlan {
  order: Int32Array | undefined;
  val: DataSource | null;
  splitIdx: Int32Array | null;
  epochsBefore: number;
}

/**
 * A Dataset's training indices and validation rows as fit takes them from arrays (one seeded
 * shuffle, the last fraction held out; a resume state continues its order); an iterable's
 * validation source. Everything is checked before anything changes.
 */
function planSource(model: Sequential, src: DataSource, c: FitConfig, rng: Generator): SourcePlan {
  let val: DataSource | null = null;
  if (c.validationData) {
    const [vx, vy] = c.validationData as [unknown, unknown];
    val = vy === undefined && isDataSourceLike(vx) ? (vx as DataSource) : new ArrayDataset(vx as Tensor, vy as Int32Array | Tensor);
  }
  if (!isDataset(src)) {
    if (c.split > 0) fail('range', 'validationData (a dataset, an iterable or [x, y]) with an iterable source: validationSplit needs a Dataset (length with get or batch)', 'validationSplit', describe(c.split));
    let epochsBefore = 0;
    if (c.resume !== undefined) {
      // an iterable's state is its epoch count and shuffle generator (no sample order of its own)
      const held = (c.resume as { trainIndex?: unknown } | null)?.trainIndex;
      if (held instanceof Int32Array && held.length > 0) fail('range', 'a state saved by a fit over an iterable (a Dataset\'s state continues that Dataset)', 'resume', `the sample order of ${held.length} samples`);
      epochsBefore = applyResume(c.resume, rng, c.seed, 0, false).epochs;
    }
    return { order: undefined, val, splitIdx: null, epochsBefore };
  }
  if (c.shuffleBuffer > 0) fail('range', 'an iterable source for shuffleBuffer (a Dataset is shuffled by a full seeded permutation)', 'shuffleBuffer', describe(c.shuffleBuffer));
  const n = checkInt(src.length, 'dataset.length', 1);
  let order = range(n);
  let splitIdx: Int32Array | null = null;
  const split = !c.validationData && c.split > 0;
  if (split) {
    rng.shuffle(order);
    const nVal = Math.floor(n * c.split);
    if (nVal < 1 || nVal >= n) fail('range', `a split leaving at least one sample on each side of ${n}`, 'validationSplit', describe(c.split));
    splitIdx = order.slice(n - nVal);
    order = order.slice(0, n - nVal);
  }
  let epochsBefore = 0;
  if (c.resume !== undefined) {
    const r = applyResume(c.resume, rng, c.seed, n, split);
    order = r.trainIndex;
    if (split) splitIdx = r.valIndex;
    epochsBefore = r.epochs;
  }
  if (splitIdx) val = subset(src, splitIdx, model.inputShape!);
  return { order, val, splitIdx, epochsBefore };
}

/** fit(model, source, options): trains from a Dataset or an iterable of batches or samples. */
export async function fitSource(model: Sequential, src: DataSource, options: FitOptions): Promise<History> {
  const c = parseFitOptions(options);
  if (!model.built) fail('range', 'a built model (give inputShape) to train from a dataset', 'model', 'an unbuilt Sequential');
  const rng = new Generator(c.seed);
  const plan = planSource(model, src, c, rng);
  const nTrain = plan.order ? plan.order.length : Infinity;
  const batchSize = checkInt(c.batchSize ?? Math.min(32, nTrain), 'batchSize', 1);
  model.train();
  checkTrainingBatch(model, batchSize);
  const step = createTrainStep({ model, loss: c.loss, optimizer: c.optimizer, accuracy: c.accuracy });
  const history = { epoch: [], history: { loss: [] } } as unknown as History;
  const steps = plan.order ? (c.dropLast ? Math.floor(nTrain / batchSize) : Math.ceil(nTrain / batchSize)) : 0;
  const progress = new Progress(c.output, c.verbose, c.epochs, steps);
  const run: Run = { step, rng, order: plan.order, length: isDataset(src) ? src.length : 0, batchSize, progress, globalStep: 0 };
  let epochsDone = 0;
  const stateNow = () => trainerState(plan.epochsBefore + epochsDone, c.seed, rng, plan.order ?? new Int32Array(0), plan.splitIdx);
  for (const cb of c.callbacks) await cb.onTrainBegin?.({ model, optimizer: c.optimizer, trainerState: stateNow });
  let lastLogs: Logs | null = null;
  for (let epoch = 0; epoch < c.epochs; epoch++) {
    for (const cb of c.callbacks) await cb.onEpochBegin?.(epoch);
    model.train();
    progress.epochBegin();
    const logs = await runEpoch(model, src, c, run, epoch);
    epochsDone++;
    if (plan.val) {
      const v = await evaluateSource(model, plan.val, c, batchSize);
      logs.valLoss = v.loss;
      if (v.accuracy !== undefined) logs.valAccuracy = v.accuracy;
    }
    lastLogs = logs;
    if (await endEpoch(history, epoch, logs, progress, c.callbacks)) break;
  }
  model.train();
  history.trainerState = stateNow();
  for (const cb of c.callbacks) await cb.onTrainEnd?.(lastLogs);
  return history;
}

/** The BatchNorm single-value rule for a batch of n (every layer asked, as fit does for arrays). */
function checkTrainingBatch(model: Sequential, n: number): void {
  for (const l of model.layers) l.checkTrainingBatch(n);
}

function isDataSourceLike(v: unknown): boolean {
  return isDataset(v) || typeof v === 'function' || (v !== null && typeof v === 'object' && !ArrayBuffer.isView(v) && !Array.isArray(v) && !('data' in (v as object)) && (Symbol.asyncIterator in (v as object) || Symbol.iterator in (v as object)));
}
