/**
 * fit with `offThread: true`: the training steps run in a library worker thread, the callbacks
 * and the progress output stay on the calling thread.
 *
 * The design, and why: the worker runs the library's own fit (same data preparation, same step,
 * same kernels in the same order) on a replica of the model whose parameters, gradients and
 * running statistics are the caller's memory (SharedArrayBuffers, lib/model.ts). So the results
 * are bit for bit those of the in-thread mode, on both backends, with no weight ever copied; the
 * caller's model holds the trained weights when fit resolves. The training data is put in shared
 * memory once (not copied at all when it already is) and each batch is gathered in the worker.
 * Callbacks are events the worker waits on at the very points where the in-thread loop awaits
 * them, so onBatchEnd sees the weights after its step, a learning-rate schedule stepped in a
 * callback sets the lr of the next step, and stopTraining/EarlyStopping act after the same epoch.
 * The optimizer's state and the Dropout generators come back when fit ends, so the caller's
 * objects continue exactly as if they had trained in-thread.
 *
 * Workers: a fit call takes the spare worker when there is one, else starts one. A worker whose
 * fit succeeded is kept as the spare for SPARE_MS (unreferenced: it never keeps the process
 * alive), so a fit that follows soon runs on compiled code and a started kernel thread team
 * instead of a fresh isolate's interpreter (profiling, MNIST CNN: a fresh worker's first 60 steps ran at
 * 0.70-0.84 of the in-thread speed, a warm one 0.75-1.01). At most one worker is kept; a failed or
 * aborted fit, or one that ran as background work (its lowered priority cannot be raised), ends
 * its worker when it settles, so nothing else outlives the call.
 *
 * The one native async work item per step (the other way to leave the event loop) would need a
 * second, captured implementation of every step and does not exist for the js backend; a worker
 * serves both backends with one mechanism.
 */
import { Sequential } from '../model';
import { Tensor, toTensor } from '../tensor';
import type { Callback, FitOptions, History, Targets, TrainContext } from '../train';
import { FIT_KEYS } from '../train/options';
import type { TrainerState } from '../io/state';
import { checkOptions, describe, fail, formatShape } from '../validate';
import { getBackend } from '../backend/index';
import { Channel } from './host';
import { lossSpec, modelSpec, optimizerSpec, schedulerSpec, setRngStates, setSchedulerState, AnyScheduler } from './spec';
import type { FitRequest } from './worker';
import { markBusy, unmarkBusy, setTrainingChannel, pressure } from './state';
import type { Optimizer } from '../optim';

const HOOKS = ['onTrainBegin', 'onEpochBegin', 'onBatchBegin', 'onBatchEnd', 'onEpochEnd', 'onTrainEnd'] as const;

/** A Float32Array over shared memory with the same values (the array itself when it already is). */
export function shareFloats(a: Float32Array): Float32Array {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const s = new Float32Array(new SharedArrayBuffer(a.byteLength));
  s.set(a);
  return s;
}

function shareTensor(t: Tensor): Tensor {
  return { data: shareFloats(t.data), shape: [...t.shape] };
}

/** Labels or targets in a form that crosses to the worker without a per-batch copy. */
function shareTargets(y: unknown): unknown {
  if (y instanceof Int32Array || y instanceof Uint8Array) {
    if (y.buffer instanceof SharedArrayBuffer) return y;
    const s = new (y.constructor as Int32ArrayConstructor)(new SharedArrayBuffer(y.byteLength));
    s.set(y);
    return s;
  }
  if (y instanceof Float32Array) return shareFloats(y);
  if (y && typeof y === 'object' && !Array.isArray(y) && (y as Tensor).data instanceof Float32Array) return shareTensor(y as Tensor);
  return y;
}

/** How long a worker whose fit succeeded waits for the next off-thread fit, in ms. */
const SPARE_MS = 5000;
let spare: Channel | null = null;
let spareTimer: NodeJS.Timeout | null = null;

/** Takes the spare (and stops its idle timer); null when none is kept. */
function detachSpare(): Channel | null {
  const c = spare;
  spare = null;
  if (spareTimer) clearTimeout(spareTimer);
  spareTimer = null;
  return c;
}

/** The spare worker's channel when it is alive, else a new worker's. */
function takeChannel(): Channel {
  const c = detachSpare();
  return c?.alive && c.inFlight === 0 ? c : new Channel();
}

/** Keeps a worker for the next fit (when reusable and none is kept), else ends it. */
async function giveBack(c: Channel, reusable: boolean): Promise<void> {
  if (!reusable || spare || !c.alive || c.inFlight > 0) return c.close();
  spare = c;
  spareTimer = setTimeout(() => {
    if (spare !== c) return;
    spare = null;
    spareTimer = null;
    void c.close();
  }, SPARE_MS).unref();
}

/** Ends the spare worker now (tests, and a caller that wants no idle thread). */
export async function endSpareWorker(): Promise<void> {
  const c = detachSpare();
  if (c) await c.close();
}

/** The spare worker's thread id, or null when none is kept (for tests). */
export function spareWorkerId(): number | null {
  return spare?.alive ? spare.worker.threadId : null;
}

/** Runs fit's steps in a worker thread (see the file comment). */
export async function fitOffThread(model: Sequential, x: unknown, y: Targets, options: FitOptions): Promise<History> {
  if (!(model instanceof Sequential)) fail('type', 'Sequential model', 'model', describe(model));
  checkOptions(options, FIT_KEYS, 'fit');
  const { offThread: _o, callbacks = [], output, loss, optimizer, validationData, scheduler, ...rest } = options;
  if (!Array.isArray(callbacks)) fail('type', 'array of callbacks', 'callbacks', describe(callbacks));
  const xt = toTensor(x, 'x');
  if (!model.built) {
    if (xt.shape.length < 2) fail('range', 'a batch of samples [N, ...]', 'x', `tensor of shape ${formatShape(xt.shape)}`);
    model.build(xt.shape.slice(1));
  }
  const req: Omit<FitRequest, 'id'> = {
    model: modelSpec(model),
    loss: lossSpec(loss),
    optimizer: optimizerSpec(optimizer, model),
    scheduler: schedulerSpec(scheduler, optimizer),
    x: shareTensor(xt),
    y: shareTargets(y),
    options: rest,
    hooks: HOOKS.filter((h) => callbacks.some((c: Callback) => typeof c?.[h] === 'function')),
    output: null,
    backend: getBackend().name,
    threads: getBackend().name === 'native' ? getBackend().getNumThreads() : null,
    pressure,
  };
  if (validationData !== undefined) {
    if (!Array.isArray(validationData) || validationData.length !== 2) fail('type', '[x, y] pair', 'validationData', describe(validationData));
    req.validationData = [shareTensor(toTensor(validationData[0], 'validation x')), shareTargets(validationData[1])];
  }
  const out = output ?? process.stdout;
  if ((rest.verbose ?? 1) !== 0) req.output = { isTTY: !!out.isTTY, columns: out.columns };

  markBusy(model);
  const channel = takeChannel();
  let reusable = false;
  setTrainingChannel(model, channel);
  let callbackError: unknown = null;
  let trainer: TrainerState | null = null;
  const context: TrainContext = { model, optimizer, trainerState: () => trainer! };
  const opt = optimizer as Optimizer;
  const onEvent = (m: { type: string; seq: number; hook: string; args: any[]; text: string; optimizer?: any; scheduler?: Record<string, number>; lr?: number; trainer?: TrainerState; rng?: (number[] | null)[] }): void => {
    if (m.type === 'write') {
      out.write(m.text);
      return;
    }
    // the schedule first: loading it sets the lr of its epoch, which the optimizer's exact state then overrides
    if (m.scheduler) setSchedulerState(scheduler as AnyScheduler, m.scheduler);
    if (m.optimizer) opt.loadStateDict(m.optimizer);
    // a schedule stepped per batch in the worker: a callback sees (and may change) that lr
    if (m.lr !== undefined) opt.lr = m.lr;
    if (m.trainer) trainer = m.trainer;
    if (m.rng) setRngStates(model, m.rng);
    if (m.type === 'error') return;
    const args = m.hook === 'onTrainBegin' ? [context] : m.args;
    runHook(callbacks, m.hook, args).then(
      (stop) => channel.post({ type: 'reply', seq: m.seq, lr: opt.lr, stop, abort: false }),
      (e) => {
        callbackError = e;
        channel.post({ type: 'reply', seq: m.seq, lr: 0, stop: true, abort: true });
      },
    );
  };
  try {
    const done = await channel.request<{ history: History; optimizer: any; scheduler?: Record<string, number>; rng: (number[] | null)[]; reusable: boolean }>({ type: 'fit', ...req }, onEvent);
    reusable = done.reusable && callbackError === null;
    if (done.scheduler) setSchedulerState(scheduler as AnyScheduler, done.scheduler);
    opt.loadStateDict(done.optimizer);
    setRngStates(model, done.rng);
    model.train();
    return done.history;
  } catch (e) {
    if (callbackError !== null) throw callbackError;
    throw e;
  } finally {
    setTrainingChannel(model, null);
    unmarkBusy(model);
    await giveBack(channel, reusable);
  }
}

/** Calls one hook on every callback, in order; returns whether any asks to stop training. */
async function runHook(callbacks: Callback[], hook: string, args: any[]): Promise<boolean> {
  for (const cb of callbacks) {
    const f = (cb as Record<string, unknown>)[hook];
    if (typeof f === 'function') await f.apply(cb, args);
  }
  return hook === 'onEpochEnd' && callbacks.some((c) => c.stopTraining);
}
