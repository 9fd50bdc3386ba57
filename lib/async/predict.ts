/**
 * predictAsync: the forward pass of `predict`, run in a library worker thread so the event loop
 * stays free. One shared worker holds a replica of every model it has been asked about, bound to
 * the model's own shared memory (no weights copied, and later changes to the weights are seen);
 * any number of calls may be in flight, they run one after another in that worker. The worker is
 * started on first use, keeps the process alive only while a call is pending, and drops a
 * replica when its model is garbage collected.
 *
 * Input: a Float32Array over a SharedArrayBuffer is read in place, so it must not be modified
 * until the promise settles (a change to its first or last values is detected and rejects);
 * any other input is copied once into shared memory, and may then be reused at once.
 */
import { Sequential } from '../model';
import { Tensor, sizeOf, toTensor } from '../tensor';
import { checkInt, checkOptions, describe, fail, formatShape, StateError } from '../validate';
import { getBackend } from '../backend/index';
import { Channel } from './host';
import { modelSpec } from './spec';
import { isBusy } from './state';
import { shareFloats } from './fit';

let channel: Channel | null = null;
const replicas = new WeakMap<Sequential, { channel: Channel; rid: Promise<number> }>();
let nextRid = 1;
const dropper = new FinalizationRegistry<number>((rid) => channel?.post({ type: 'drop', rid }));

function inferenceChannel(): Channel {
  if (!channel || !channel.alive) channel = new Channel();
  return channel;
}

/** Where a model's replica lives in the inference worker (loaded on first use). */
function replicaOf(model: Sequential, c: Channel): Promise<number> {
  const known = replicas.get(model);
  if (known && known.channel === c) return known.rid;
  const id = nextRid++;
  const b = getBackend();
  const rid = c.request({ type: 'load', rid: id, model: modelSpec(model), backend: b.name, threads: b.name === 'native' ? b.getNumThreads() : null }).then(() => id);
  rid.catch(() => replicas.delete(model));
  replicas.set(model, { channel: c, rid });
  dropper.register(model, id);
  return rid;
}

/** A cheap fingerprint of an input read in place: its first and last values. */
function edges(a: Float32Array): number[] {
  const k = Math.min(8, a.length);
  return [...a.subarray(0, k), ...a.subarray(a.length - k)];
}

/**
 * Model outputs for x in evaluation mode, computed in a worker thread: resolves with a new tensor
 * [N, ...outputShape]. Same results as predict(). Throws for a model that is being trained off
 * the main thread (take a snapshot() instead).
 */
export async function predictAsync(model: Sequential, x: unknown, options: { batchSize?: number } = {}): Promise<Tensor> {
  if (!(model instanceof Sequential)) fail('type', 'Sequential model', 'model', describe(model));
  checkOptions(options, ['batchSize'], 'predictAsync');
  const batchSize = checkInt(options.batchSize ?? 256, 'batchSize', 1);
  const xt = toTensor(x, 'x');
  if (!model.built) {
    if (xt.shape.length < 2) fail('range', 'a batch of samples [N, ...]', 'x', `tensor of shape ${formatShape(xt.shape)}`);
    model.build(xt.shape.slice(1));
  }
  if (xt.shape.length < 1 || formatShape(xt.shape.slice(1)) !== formatShape(model.inputShape!)) {
    fail('range', `samples of shape ${formatShape(model.inputShape!)}`, 'x', `tensor of shape ${formatShape(xt.shape)}`);
  }
  if (isBusy(model)) throw new StateError('minibatch: predictAsync on a model that is being trained off the main thread; predict from a copy (snapshot(model)) or after fit resolves');
  const n = xt.shape[0];
  const outSize = sizeOf(model.outputShape!);
  if (n === 0) return { data: new Float32Array(0), shape: [0, ...model.outputShape!] };
  const inPlace = xt.data.buffer instanceof SharedArrayBuffer;
  const before = inPlace ? edges(xt.data) : null;
  const data = shareFloats(xt.data);
  const c = inferenceChannel();
  const rid = await replicaOf(model, c);
  const r = await c.request<{ out: Float32Array }>({ type: 'predict', rid, x: data, n, outSize, batchSize });
  if (before && edges(xt.data).some((v, i) => !Object.is(v, before[i]))) {
    throw new StateError('minibatch: the input of predictAsync was modified before the call resolved; its result is unreliable (copy the input, or wait for the promise)');
  }
  return { data: r.out, shape: [n, ...model.outputShape!] };
}

/** Ends the shared inference worker (it is restarted on the next call). */
export async function closeInferenceWorker(): Promise<void> {
  const c = channel;
  channel = null;
  if (c) await c.close();
}
