/**
 * The mini-batch trainer's loop: fit.
 *
 * batchSize 1 is plain SGD, batchSize = N is full-batch gradient descent, anything between is
 * mini-batch SGD. fit is async: it yields to the event loop after every mini-batch, so a server
 * keeps answering while a model trains (no stretch of blocking longer than one step). Three pieces:
 * option parsing (options.ts), data preparation (prepare below, over data.ts), and the step
 * (step.ts: createTrainStep, the one function every runner shares, with the NaN/Inf guard).
 */
import { Sequential } from '../model';
import { Generator } from '../random';
import { sameShape, toTensor, type TensorLike } from '../tensor';
import { checkBool, checkInt, describe, fail, formatShape, StateError } from '../validate';
import { fitOffThread } from '../async/fit';
import { isBusy } from '../async/state';
import { endEpoch } from './callbacks';
import { Batcher, checkTargets, range, toDataset, type Dataset } from './data';
import { checkModel, evaluateRows, nextTick } from './evaluate';
import { given, parseFitOptions, type FitConfig } from './options';
import { Progress } from './progress';
import { makeTrainStep, type GuardBuffers, type TrainStep } from './step';
import type { FitOptions, History, Logs, Targets } from './types';
import { applyResume, trainerState } from '../io/resume';
import { isDataSource, type DataSource } from '../data/dataset';
import { fitSource } from './stream';

/** What the loop runs over: the data, the training and validation rows, the batch geometry. */
interface Plan {
  all: Dataset;
  trainIdx: Int32Array;
  valDs: Dataset | null;
  valIdx: Int32Array | null;
  batchSize: number;
  stepsPerEpoch: number;
  rng: Generator;
  /** Epochs trained before this fit (a resumed run), and the validation rows a split holds out. */
  epochsBefore: number;
  splitIdx: Int32Array | null;
}

function buildFor(model: Sequential, x: TensorLike): void {
  const xt = toTensor(x, 'x');
  if (model.built) return;
  if (xt.shape.length < 2) fail('range', 'a batch of samples [N, ...]', 'x', `tensor of shape ${formatShape(xt.shape)}`);
  model.build(xt.shape.slice(1));
}

function validationRows(model: Sequential, c: FitConfig, all: Dataset, order: Int32Array, rng: Generator) {
  if (c.validationData) {
    const valDs = toDataset(c.validationData[0], c.validationData[1], 'validation', model);
    if (!sameShape(valDs.rowShape, model.inputShape!)) fail('range', `samples of shape ${formatShape(model.inputShape!)}`, 'validationData x', `rows of shape ${formatShape(valDs.rowShape)}`);
    checkTargets(valDs, model, c.loss, 'validationData y');
    return { trainIdx: order, valDs, valIdx: range(valDs.n) };
  }
  if (c.split === 0) return { trainIdx: order, valDs: null, valIdx: null };
  rng.shuffle(order);
  const nVal = Math.floor(all.n * c.split);
  if (nVal < 1 || nVal >= all.n) fail('range', `a split leaving at least one sample on each side of ${all.n}`, 'validationSplit', describe(c.split));
  return { trainIdx: order.slice(0, all.n - nVal), valDs: all, valIdx: order.slice(all.n - nVal) };
}

/** The BatchNorm single-value rule, checked up front for every batch size that will occur. */
function checkBatchSizes(model: Sequential, batchSize: number, rest: number, dropLast: boolean): void {
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
}

/** Builds the model if needed and checks every input, before anything changes. */
function prepare(model: Sequential, x: TensorLike, y: Targets, c: FitConfig): Plan {
  buildFor(model, x);
  const arenas = (c.optimizer as { params?: unknown }).params;
  if (Array.isArray(arenas) && !arenas.includes(model.parameters())) {
    fail('range', "an optimizer over this model's parameters (e.g. new SGD(model.parameters(), { lr }))", 'optimizer', 'an optimizer over other parameters');
  }
  const all = toDataset(x, y, 'training', model);
  if (!sameShape(all.rowShape, model.inputShape!)) {
    const first = model.layers[0];
    fail('range', `samples of shape ${formatShape(model.inputShape!)} (the model's input, first layer ${first.className} '${first.name}')`, 'x', `tensor of shape ${formatShape([all.n, ...all.rowShape])}`);
  }
  checkTargets(all, model, c.loss, 'y');
  if (c.accuracy && !all.labels) fail('range', 'class labels for the accuracy metric', 'y', 'a target tensor');
  // one seeded shuffle before the split, so the validation set is a random sample
  const rng = new Generator(c.seed);
  const rows = validationRows(model, c, all, range(all.n), rng);
  const valDs = rows.valDs;
  let { trainIdx, valIdx } = rows;
  const split = !c.validationData && c.split > 0;
  let epochsBefore = 0;
  if (c.resume !== undefined) {
    const r = applyResume(c.resume, rng, c.seed, all.n, split);
    trainIdx = r.trainIndex;
    if (split) valIdx = r.valIndex;
    epochsBefore = r.epochs;
  }
  const nTrain = trainIdx.length;
  const batchSize = checkInt(given(c.batchSize, Math.min(32, nTrain)), 'batchSize', 1);
  if (batchSize > nTrain) fail('range', `integer between 1 and ${nTrain} (the training samples)`, 'batchSize', describe(batchSize));
  const rest = nTrain % batchSize;
  checkBatchSizes(model, batchSize, rest, c.dropLast);
  const stepsPerEpoch = Math.floor(nTrain / batchSize) + (rest > 0 && !c.dropLast ? 1 : 0);
  return { all, trainIdx, valDs, valIdx, batchSize, stepsPerEpoch, rng, epochsBefore, splitIdx: split ? valIdx : null };
}

function newHistory(c: FitConfig, withValidation: boolean): History {
  const history = { epoch: [], history: { loss: [] } } as unknown as History;
  if (c.accuracy) history.history.accuracy = [];
  if (withValidation) {
    history.history.valLoss = [];
    if (c.accuracy) history.history.valAccuracy = [];
  }
  return history;
}

/** One epoch of steps; returns its logs (validation included). */
async function runEpoch(model: Sequential, c: FitConfig, p: Plan, step: TrainStep, batcher: Batcher, progress: Progress, epoch: number, firstStep: number): Promise<Logs> {
  const nTrain = p.trainIdx.length;
  let lossSum = 0;
  let seen = 0;
  let correct = 0;
  // the callbacks that have batch hooks, found once; a hook's promise is awaited, nothing else is
  const begin = c.callbacks.filter((cb) => cb.onBatchBegin);
  const end = c.callbacks.filter((cb) => cb.onBatchEnd);
  for (let s = 0; s < p.stepsPerEpoch; s++) {
    const from = s * p.batchSize;
    const to = Math.min(from + p.batchSize, nTrain);
    const m = to - from;
    for (const cb of begin) await cb.onBatchBegin!(s, { size: m });
    const { x: bx, y: by } = batcher.batch(p.trainIdx, from, to);
    const r = step(bx, by, { epoch, step: s, globalStep: firstStep + s });
    lossSum += r.loss * m;
    correct += r.correct;
    seen += m;
    for (const cb of end) await cb.onBatchEnd!(s, { loss: r.loss, size: m });
    progress.batch(s + 1, lossSum / seen, c.accuracy ? correct / seen : undefined, seen);
    await nextTick();
  }
  const last = p.stepsPerEpoch - 1;
  step.verify({ epoch, step: last, globalStep: firstStep + last });
  const logs: Logs = { loss: lossSum / seen };
  if (c.accuracy) logs.accuracy = correct / seen;
  if (p.valDs && p.valIdx) {
    const v = await evaluateRows(model, p.valDs, p.valIdx, c.loss, p.batchSize, c.metrics);
    logs.valLoss = v.loss;
    if (v.accuracy !== undefined) logs.valAccuracy = v.accuracy;
  }
  return logs;
}

/** fit's options object (in the place of y when fit streams from a source). */
function isOptions(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v) && ('loss' in (v as object) || 'optimizer' in (v as object));
}

/**
 * Trains the model; returns the per-epoch history. `fit(model, x, y, options)` trains on arrays;
 * `fit(model, source, options)` on a Dataset or an iterable of batches (lib/data/dataset.ts).
 */
export async function fit(model: Sequential, x: TensorLike, y: Targets, options: FitOptions): Promise<History>;
export async function fit(model: Sequential, source: DataSource, options: FitOptions): Promise<History>;
export async function fit(model: Sequential, x: TensorLike | DataSource, yOrOptions: Targets | FitOptions, maybeOptions?: FitOptions): Promise<History> {
  checkModel(model);
  if (training.has(model) || isBusy(model)) {
    throw new StateError('fit: this model is already being trained by a fit that has not resolved yet; await that fit first');
  }
  if (maybeOptions === undefined && isOptions(yOrOptions)) {
    if (!isDataSource(x) && !(Array.isArray(x) && x.length === 0)) fail('type', 'a Dataset (length, batch or get) or an iterable of batches', 'source', describe(x));
    return exclusive(model, () => fitSource(model, x as DataSource, yOrOptions as FitOptions));
  }
  const y = yOrOptions as Targets;
  const options = maybeOptions as FitOptions;
  if (options !== null && typeof options === 'object' && checkBool(options.offThread ?? false, 'offThread')) return fitOffThread(model, x as TensorLike, y, options);
  return exclusive(model, () => fitArrays(model, x as TensorLike, y, options));
}

/** Models a fit on the main thread is training (off-thread ones are in ../async/state). */
const training = new WeakSet<Sequential>();
/**
 * The guard's arrays of each model's last fit, reused by the next (one fit per model at a time).
 * Held weakly: fits that follow one another reuse them, and a garbage collection in between frees
 * them (they are a copy of the weights and of the optimizer state, not worth keeping for long).
 */
const guards = new WeakMap<Sequential, WeakRef<GuardBuffers>>();

async function exclusive<T>(model: Sequential, run: () => Promise<T>): Promise<T> {
  training.add(model);
  try {
    return await run();
  } finally {
    training.delete(model);
  }
}

/** fit(model, x, y, options) on the main thread. */
async function fitArrays(model: Sequential, x: TensorLike, y: Targets, options: FitOptions): Promise<History> {
  const c = parseFitOptions(options);
  if (c.shuffleBuffer > 0) fail('range', 'an iterable source for shuffleBuffer (arrays are shuffled by a full seeded permutation)', 'shuffleBuffer', describe(c.shuffleBuffer));
  const p = prepare(model, x, y, c);
  const step = makeTrainStep({ model, loss: c.loss, optimizer: c.optimizer, accuracy: c.accuracy }, guards.get(model)?.deref() ?? null);
  guards.set(model, new WeakRef(step.guardBuffers()));
  const batcher = new Batcher(p.all);
  const history = newHistory(c, p.valDs !== null);
  const progress = new Progress(c.output, c.verbose, c.epochs, p.stepsPerEpoch);

  let epochsDone = 0;
  const stateNow = () => trainerState(p.epochsBefore + epochsDone, c.seed, p.rng, p.trainIdx, p.splitIdx);
  for (const cb of c.callbacks) await cb.onTrainBegin?.({ model, optimizer: c.optimizer, trainerState: stateNow });
  let lastLogs: Logs | null = null;
  for (let epoch = 0; epoch < c.epochs; epoch++) {
    for (const cb of c.callbacks) await cb.onEpochBegin?.(epoch);
    model.train();
    if (c.shuffle) p.rng.shuffle(p.trainIdx);
    progress.epochBegin();
    const logs = await runEpoch(model, c, p, step, batcher, progress, epoch, epoch * p.stepsPerEpoch);
    epochsDone++;
    lastLogs = logs;
    if (await endEpoch(history, epoch, logs, progress, c.callbacks)) break;
  }
  model.train();
  history.trainerState = stateNow();
  for (const cb of c.callbacks) await cb.onTrainEnd?.(lastLogs);
  return history;
}
