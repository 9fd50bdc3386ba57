/**
 * fit over a Dataset or an iterable of batches (lib/data/dataset.ts): the same step (NaN guard
 * included), callbacks, progress, metrics and schedules as for arrays. The next batch is asked for
 * before the current step runs, so an asynchronous source (file reads) works while the step
 * computes. Every batch is checked (shape, labels) before its step; a source that throws rejects
 * fit with its error, and the model keeps the weights of the last step that completed.
 */
import type { Sequential } from '../model';
import { Generator } from '../random';
import { sameShape, sizeOf, type Tensor } from '../tensor';
import { checkInt, checkLabels, describe, fail, formatShape } from '../validate';
import { ArrayDataset, isDataset, stackSamples, type Batch, type DataSource, type Dataset } from '../data/dataset';
import { countCorrect, range } from './data';
import { nextTick } from './evaluate';
import { parseFitOptions, type FitConfig } from './options';
import { Progress } from './progress';
import { createTrainStep, type TrainStep } from './step';
import type { FitOptions, History, Logs } from './types';

type Fetch = () => Promise<Batch | null>;

/** A fetcher per epoch: batches of a seeded permutation of a Dataset, or the iterable's items. */
function epochBatches(src: DataSource, c: FitConfig, rng: Generator, batchSize: number, rowShape: readonly number[], order?: Int32Array): { next: Fetch; steps: number } {
  if (isDataset(src)) {
    // one permutation reshuffled in place every epoch, as fit does for arrays (same seed, same order)
    const idx = order ?? range(src.length);
    if (idx.length !== src.length) fail('range', `a dataset of a fixed length (${idx.length})`, 'dataset.length', describe(src.length));
    if (c.shuffle) rng.shuffle(idx);
    const steps = c.dropLast ? Math.floor(src.length / batchSize) : Math.ceil(src.length / batchSize);
    let s = 0;
    return { steps, next: async () => (s < steps ? fetchIndices(src, idx.subarray(s * batchSize, Math.min(++s * batchSize, src.length)), rowShape) : null) };
  }
  const it = (typeof src === 'function' ? src() : src) as AsyncIterable<Batch> | Iterable<Batch>;
  const iter = Symbol.asyncIterator in it ? (it as AsyncIterable<Batch>)[Symbol.asyncIterator]() : (it as Iterable<Batch>)[Symbol.iterator]();
  return { steps: 0, next: async () => {
    const r = await iter.next();
    return r.done ? null : r.value;
  } };
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
    const { next } = epochBatches(src, { ...c, shuffle: false, dropLast: false }, new Generator(0), batchSize, model.inputShape!);
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
  order: Int32Array | undefined;
  batchSize: number;
  progress: Progress;
  globalStep: number;
}

async function runEpoch(model: Sequential, src: DataSource, c: FitConfig, run: Run, epoch: number): Promise<Logs> {
  const { step, batchSize, progress } = run;
  const { next, steps } = epochBatches(src, c, run.rng, batchSize, model.inputShape!, run.order);
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

/** fit(model, source, options): trains from a Dataset or an iterable of batches. */
export async function fitSource(model: Sequential, src: DataSource, options: FitOptions): Promise<History> {
  const c = parseFitOptions(options);
  if (!model.built) fail('range', 'a built model (give inputShape) to train from a dataset', 'model', 'an unbuilt Sequential');
  if (c.split > 0) fail('range', 'validationData (a dataset) instead of validationSplit with a streamed source', 'validationSplit', describe(c.split));
  if (c.resume !== undefined) fail('range', 'no resume with a streamed source', 'resume', describe(c.resume));
  const batchSize = checkInt(c.batchSize ?? 32, 'batchSize', 1);
  model.train();
  checkTrainingBatch(model, batchSize);
  let val: DataSource | null = null;
  if (c.validationData) {
    const [vx, vy] = c.validationData as [unknown, unknown];
    val = vy === undefined && isDataSourceLike(vx) ? (vx as DataSource) : new ArrayDataset(vx as Tensor, vy as Int32Array | Tensor);
  }
  const rng = new Generator(c.seed);
  const step = createTrainStep({ model, loss: c.loss, optimizer: c.optimizer, accuracy: c.accuracy });
  const history = { epoch: [], history: { loss: [] } } as unknown as History;
  const steps = isDataset(src) ? (c.dropLast ? Math.floor(src.length / batchSize) : Math.ceil(src.length / batchSize)) : 0;
  const progress = new Progress(c.output, c.verbose, c.epochs, steps);
  const run: Run = { step, rng, order: isDataset(src) ? range(src.length) : undefined, batchSize, progress, globalStep: 0 };
  for (const cb of c.callbacks) await cb.onTrainBegin?.({ model, optimizer: c.optimizer, trainerState: () => fail('range', 'an array-backed fit for a trainer state', 'trainerState', 'a streamed source') });
  let lastLogs: Logs | null = null;
  for (let epoch = 0; epoch < c.epochs; epoch++) {
    for (const cb of c.callbacks) await cb.onEpochBegin?.(epoch);
    model.train();
    progress.epochBegin();
    const logs = await runEpoch(model, src, c, run, epoch);
    if (val) {
      const v = await evaluateSource(model, val, c, batchSize);
      logs.valLoss = v.loss;
      if (v.accuracy !== undefined) logs.valAccuracy = v.accuracy;
    }
    history.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) ((history.history as Record<string, number[]>)[k] ??= []).push(v!);
    progress.epochEnd(epoch, logs);
    lastLogs = logs;
    for (const cb of c.callbacks) await cb.onEpochEnd?.(epoch, logs);
    if (c.callbacks.some((cb) => cb.stopTraining)) break;
  }
  model.train();
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
