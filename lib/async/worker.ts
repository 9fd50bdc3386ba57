/**
 * The entry of a library worker thread. It holds replicas of models (bound to their shared
 * memory) and answers requests from the main thread:
 *   fit       runs the library's own fit on a replica; callbacks, progress and the stop decision
 *             travel to the main thread and back as events, at the same points of the loop
 *   load      builds a replica for inference; drop forgets it
 *   predict   a forward pass in evaluation mode over the input it is sent
 *   run       a forward pass over a pool slot's shared input buffer into its shared output buffer,
 *             in chunks of bucket sizes (runSlot)
 *   snapshot  copies the parameters and buffers of the model being trained, between two steps
 * Messages are handled between steps (fit yields to the event loop after each one), so a
 * snapshot or a reply never sees a half-updated model.
 */
import * as os from 'os';
import { parentPort } from 'worker_threads';
import { setBackend, getBackend } from '../backend/index';
import type { BackendName } from '../backend/types';
import type { Sequential } from '../model';
import { fit, Callback, FitOptions, TrainContext } from '../train';
import { Tensor } from '../tensor';
import { buildLoss, buildOptimizer, buildReplica, buildScheduler, rngStates, schedulerState, LossSpec, ModelSpec, OptimizerSpec, SchedulerSpec } from './spec';
import { errorInfo } from './host';

const port = parentPort!;
const replicas = new Map<number, Sequential>();
/** Pool slots: their shared buffers (sent once), and a replica per batch-size bucket. */
const slot: { input: Float32Array | null; output: Float32Array | null } = { input: null, output: null };
const specs = new Map<number, ModelSpec>();
const bucketed = new Map<string, Sequential>();
const waiting = new Map<number, (r: Reply) => void>();
let training: Sequential | null = null;

interface Reply {
  lr: number;
  stop: boolean;
  abort: boolean;
}

/** What a fit request carries (see lib/async/fit.ts). */
export interface FitRequest {
  id: number;
  model: ModelSpec;
  loss: LossSpec;
  optimizer: OptimizerSpec;
  scheduler?: SchedulerSpec;
  x: Tensor;
  y: unknown;
  validationData?: [Tensor, unknown];
  options: Omit<FitOptions, 'loss' | 'optimizer' | 'callbacks' | 'output' | 'validationData' | 'scheduler'>;
  hooks: string[];
  output: { isTTY: boolean; columns?: number } | null;
  /** The caller's current backend (what a loss without a backend option runs on). */
  backend: BackendName;
  threads: number | null;
  /** The process's inference pressure (state.ts): training gives way to inference pools. */
  pressure?: Int32Array;
}

class Aborted extends Error {}

/*
 * Training beside inference. While an InferencePool is open in the process when fit starts, the
 * training thread runs as background work: (1) on Linux it lowers its own scheduling priority
 * (nice +10; Linux applies this to the calling thread alone, and the OpenMP threads it starts
 * afterwards inherit it), so the event loop and the inference threads win the cores whenever they
 * want them and training still gets every idle cycle; (2) it uses at most cores − 1 kernel
 * threads; (3) between two steps it waits while samples are queued or computed in a pool, up to
 * GIVE_WAY_MS a step, so that it never starts a step into a burst of requests and still advances
 * under a steady load. A lower priority yields to every other process too: on a machine shared
 * with other work, background training gets what they leave. A fit that started before the pool
 * opened keeps its priority and threads.
 */
const BACKGROUND_NICE = 10;
const GIVE_WAY_MS = 5;

function lowerPriority(): void {
  if (process.platform !== 'linux') return; // elsewhere it would apply to the whole process
  try {
    os.setPriority(Math.min(19, os.getPriority() + BACKGROUND_NICE));
  } catch {
    // not permitted here: training runs at the normal priority
  }
}

function backgroundThreads(threads: number): number {
  return Math.max(1, Math.min(threads, os.cpus().length - 1));
}

function giveWay(p: Int32Array): void {
  const until = performance.now() + GIVE_WAY_MS;
  for (let v = Atomics.load(p, 0); v > 0; v = Atomics.load(p, 0)) {
    const left = until - performance.now();
    if (left <= 0) return;
    Atomics.wait(p, 0, v, left);
  }
}

function useBackend(name: BackendName, threads: number | null): void {
  setBackend(name);
  if (threads !== null && name === 'native') getBackend().setNumThreads(threads);
}

async function runFit(m: FitRequest): Promise<void> {
  const background = m.pressure !== undefined && Atomics.load(m.pressure, 1) > 0;
  if (background) lowerPriority();
  useBackend(m.backend, background && m.threads !== null ? backgroundThreads(m.threads) : m.threads);
  const model = buildReplica(m.model);
  const loss = buildLoss(m.loss);
  const opt = buildOptimizer(m.optimizer, model);
  const sched = m.scheduler && buildScheduler(m.scheduler, opt);
  const schedState = () => (sched ? { scheduler: schedulerState(sched) } : {});
  let seq = 0;
  let ctx: TrainContext | null = null;
  // At the start, after each epoch and at the end the caller's optimizer and trainer state are
  // brought up to date too (a checkpoint callback saves them).
  const state = (hook: string) => (hook === 'onTrainBegin' || hook === 'onEpochEnd' || hook === 'onTrainEnd' ? { optimizer: opt.stateDict(), ...schedState(), trainer: ctx!.trainerState() } : { lr: opt.lr });
  const ask = (hook: string, args: unknown[]): Promise<Reply> =>
    new Promise<Reply>((resolve) => {
      const s = ++seq;
      waiting.set(s, resolve);
      port.postMessage({ type: 'event', id: m.id, seq: s, hook, args, ...state(hook) });
    }).then((r) => {
      if (r.abort) throw new Aborted('stopped by a callback error on the main thread');
      opt.lr = r.lr;
      return r;
    });
  const proxy: Callback = {};
  const has = (h: string) => m.hooks.includes(h);
  proxy.onTrainBegin = async (c) => {
    ctx = c;
    if (has('onTrainBegin')) await ask('onTrainBegin', []);
  };
  if (has('onEpochBegin')) proxy.onEpochBegin = async (e) => void (await ask('onEpochBegin', [e]));
  if (has('onBatchBegin')) proxy.onBatchBegin = async (b, l) => void (await ask('onBatchBegin', [b, l]));
  const p = m.pressure;
  if (has('onBatchEnd') || background) {
    proxy.onBatchEnd = async (b, logs) => {
      if (background) giveWay(p!);
      if (has('onBatchEnd')) await ask('onBatchEnd', [b, logs]);
    };
  }
  // The stop decision is taken on the main thread after every epoch, so this one always travels.
  proxy.onEpochEnd = async (e, logs) => {
    const r = await ask('onEpochEnd', [e, logs]);
    proxy.stopTraining = r.stop;
  };
  if (has('onTrainEnd')) proxy.onTrainEnd = async (logs) => void (await ask('onTrainEnd', [logs]));
  const output = m.output && {
    isTTY: m.output.isTTY,
    columns: m.output.columns,
    write(s: string): boolean {
      port.postMessage({ type: 'write', id: m.id, text: s });
      return true;
    },
  };
  training = model;
  try {
    const history = await fit(model, m.x, m.y as never, {
      ...m.options,
      ...(m.validationData ? { validationData: m.validationData as [unknown, never] } : {}),
      loss,
      optimizer: opt,
      ...(sched ? { scheduler: sched } : {}),
      callbacks: [proxy],
      ...(output ? { output: output as unknown as NodeJS.WritableStream } : { verbose: 0 }),
    });
    // a worker whose priority was lowered cannot raise it again: it is not kept for another fit
    port.postMessage({ type: 'done', id: m.id, history, optimizer: opt.stateDict(), ...schedState(), rng: rngStates(model), reusable: !background });
  } catch (e) {
    // the optimizer as the NaN guard left it, so the caller's one ends the same way
    port.postMessage({ type: 'error', id: m.id, error: errorInfo(e), optimizer: opt.stateDict(), ...schedState(), rng: rngStates(model) });
  } finally {
    training = null;
  }
}

/** Forward in evaluation mode, batch by batch, into `out`. */
function forwardInto(model: Sequential, x: Float32Array, n: number, out: Float32Array, batchSize: number): void {
  const inSize = x.length / Math.max(n, 1);
  const outSize = out.length / Math.max(n, 1);
  model.eval();
  for (let from = 0; from < n; from += batchSize) {
    const to = Math.min(from + batchSize, n);
    const y = model.forward({ data: x.subarray(from * inSize, to * inSize), shape: [to - from, ...model.inputShape!] });
    out.set(y.data, from * outSize);
  }
}

/** Batch sizes that keep a replica: 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, ... */
function bucketBelow(n: number): number {
  const p = 2 ** Math.floor(Math.log2(n));
  return n >= p * 1.5 && p >= 2 ? p * 1.5 : p;
}

/**
 * A pool batch of n samples from the slot's input into its output. It runs as a few chunks of
 * bucket sizes (13 = 12 + 1), each on a replica of its own, so that no layer reallocates its
 * buffers as batch sizes vary and no work is spent on padding: the per-sample cost is nearly flat
 * from 4 samples up, so two chunks cost less than one padded pass.
 */
function runSlot(rid: number, n: number, inSize: number, outSize: number): void {
  for (let from = 0; from < n; ) {
    const size = bucketBelow(n - from);
    const key = `${rid}:${size}`;
    let model = bucketed.get(key);
    if (!model) {
      const spec = specs.get(rid);
      if (!spec) throw new Error(`minibatch: no replica ${rid} in this worker`);
      model = buildReplica(spec).eval();
      bucketed.set(key, model);
    }
    const y = model.forward({ data: slot.input!.subarray(from * inSize, (from + size) * inSize), shape: [size, ...model.inputShape!] });
    slot.output!.set(y.data, from * outSize);
    from += size;
  }
}

function replica(rid: number): Sequential {
  const r = replicas.get(rid);
  if (!r) throw new Error(`minibatch: no replica ${rid} in this worker`);
  return r;
}

async function handle(m: any): Promise<void> {
  switch (m.type) {
    case 'reply': {
      const r = waiting.get(m.seq);
      waiting.delete(m.seq);
      r?.(m);
      return;
    }
    case 'fit':
      return runFit(m as FitRequest);
    case 'load': {
      useBackend(m.backend, m.threads ?? null);
      replicas.set(m.rid, buildReplica(m.model).eval());
      specs.set(m.rid, m.model);
      port.postMessage({ type: 'done', id: m.id });
      return;
    }
    case 'drop':
      replicas.delete(m.rid);
      specs.delete(m.rid);
      for (const k of [...bucketed.keys()]) if (k.startsWith(`${m.rid}:`)) bucketed.delete(k);
      return;
    case 'slot':
      slot.input = new Float32Array(m.input as SharedArrayBuffer);
      slot.output = new Float32Array(m.output as SharedArrayBuffer);
      port.postMessage({ type: 'done', id: m.id });
      return;
    case 'predict': {
      const model = replica(m.rid);
      const x = m.x as Float32Array;
      const out = new Float32Array(m.n * m.outSize);
      forwardInto(model, x, m.n, out, m.batchSize);
      port.postMessage({ type: 'done', id: m.id, out }, [out.buffer]);
      return;
    }
    case 'run':
      runSlot(m.rid as number, m.n as number, m.inSize as number, m.outSize as number);
      port.postMessage({ type: 'done', id: m.id });
      return;
    case 'snapshot': {
      if (!training) throw new Error('minibatch: no training in progress in this worker');
      port.postMessage({ type: 'done', id: m.id, state: training.stateDict() });
      return;
    }
    default:
      throw new Error(`minibatch worker: unknown request '${m.type}'`);
  }
}

port.on('message', (m: any) => {
  handle(m).catch((e) => {
    if (m && typeof m.id === 'number') port.postMessage({ type: 'error', id: m.id, error: errorInfo(e) });
  });
});
