/**
 * Inference over a dataset: evaluate (loss and metrics) and predict (outputs), both in evaluation
 * mode, batched, yielding to the event loop between batches.
 */
import { Sequential } from '../model';
import { getBackend } from '../backend/index';
import { checkFiniteData, sameShape, sizeOf, toTensor, type Tensor, type TensorLike } from '../tensor';
import { checkBool, checkInt, checkOptions, describe, fail, formatShape } from '../validate';
import { allFinite, Batcher, checkTargets, countCorrect, range, toDataset, type Dataset } from './data';
import { checkLoss, checkMetrics, given } from './options';
import type { EvaluateOptions, LossFn, Metric, PredictOptions, Targets } from './types';

export const nextTick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** evaluate's result for the metrics asked for: the loss, and each metric by name. */
export type Evaluation<M extends Metric = never> = { loss: number } & { [K in M]: number };

export function checkModel(model: unknown): Sequential {
  if (!(model instanceof Sequential)) fail('type', 'Sequential model', 'model', describe(model));
  return model;
}

/** Loss (and accuracy) over the rows idx of ds, in evaluation mode. */
export async function evaluateRows(model: Sequential, ds: Dataset, idx: Int32Array, loss: LossFn, batchSize: number, metrics: readonly Metric[]): Promise<{ loss: number; accuracy?: number }> {
  const wasTraining = model.training;
  model.eval();
  const batcher = new Batcher(ds);
  const withAccuracy = metrics.includes('accuracy');
  let lossSum = 0;
  let correct = 0;
  try {
    for (let from = 0; from < idx.length; from += batchSize) {
      const to = Math.min(from + batchSize, idx.length);
      const { x, y } = batcher.batch(idx, from, to);
      const out = model.forward(x, { checkFinite: false }); // the dataset was checked once
      lossSum += loss.forward(out, y) * (to - from);
      if (withAccuracy) correct += countCorrect(out, y as Int32Array);
      await nextTick();
    }
  } finally {
    model.train(wasTraining);
  }
  const r: { loss: number; accuracy?: number } = { loss: lossSum / idx.length };
  if (withAccuracy) r.accuracy = correct / idx.length;
  return r;
}

/** Loss (and metrics) over a dataset, in evaluation mode, batched. */
export async function evaluate<M extends Metric = never>(
  model: Sequential, x: TensorLike, y: Targets, options: EvaluateOptions & { metrics?: M[] },
): Promise<Evaluation<M>> {
  checkModel(model);
  if (options === null || typeof options !== 'object') fail('type', 'options object with loss', 'evaluate options', describe(options));
  checkOptions(options, ['loss', 'batchSize', 'metrics'], 'evaluate');
  const loss = checkLoss(options.loss);
  const metrics = checkMetrics(options.metrics);
  if (!model.built) fail('range', 'a built model (train it or call build(inputShape) first)', 'model', 'an unbuilt Sequential');
  const ds = toDataset(x, y, 'evaluation', model);
  if (!sameShape(ds.rowShape, model.inputShape!)) fail('range', `samples of shape ${formatShape(model.inputShape!)}`, 'x', `rows of shape ${formatShape(ds.rowShape)}`);
  checkTargets(ds, model, loss, 'y');
  if (metrics.includes('accuracy') && !ds.labels) fail('range', 'class labels for the accuracy metric', 'y', 'a target tensor');
  const bs = checkInt(given(options.batchSize, 256), 'batchSize', 1);
  return (await evaluateRows(model, ds, range(ds.n), loss, bs, metrics)) as Evaluation<M>;
}

/** Model outputs for x, in evaluation mode, batched; returns a new tensor [N, ...outputShape]. */
export async function predict(model: Sequential, x: TensorLike, options: PredictOptions = {}): Promise<Tensor> {
  checkModel(model);
  checkOptions(options, ['batchSize', 'checkFinite'], 'predict');
  const batchSize = checkInt(given(options.batchSize, 256), 'batchSize', 1);
  const checkFinite = checkBool(given(options.checkFinite, true), 'checkFinite');
  const xt = toTensor(x, 'x');
  if (xt.shape.length < 2) fail('range', 'a batch of samples [N, ...]', 'x', `tensor of shape ${formatShape(xt.shape)}`);
  if (checkFinite && !allFinite(model.backend ?? getBackend(), xt.data)) checkFiniteData(xt, 'x');  // the scan names the row
  if (!model.built) model.build(xt.shape.slice(1));
  if (!sameShape(xt.shape.slice(1), model.inputShape!)) fail('range', `samples of shape ${formatShape(model.inputShape!)}`, 'x', `tensor of shape ${formatShape(xt.shape)}`);
  const n = xt.shape[0];
  const rowSize = xt.data.length / n;
  const outSize = sizeOf(model.outputShape!);
  const result = new Float32Array(n * outSize);
  const wasTraining = model.training;
  model.eval();
  try {
    for (let from = 0; from < n; from += batchSize) {
      const to = Math.min(from + batchSize, n);
      const out = model.forward({ data: xt.data.subarray(from * rowSize, to * rowSize), shape: [to - from, ...model.inputShape!] }, { checkFinite: false });
      result.set(out.data, from * outSize);
      await nextTick();
    }
  } finally {
    model.train(wasTraining);
  }
  return { data: result, shape: [n, ...model.outputShape!] };
}
