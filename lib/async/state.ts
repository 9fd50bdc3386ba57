/**
 * Which models are being trained off the main thread, and by which worker: predictAsync refuses
 * a model whose weights a worker is changing, and snapshot() asks that worker for a copy taken
 * between two steps.
 */
import type { Sequential, StateDict } from '../model';
import { describe, fail, StateError } from '../validate';

/** What snapshot() needs of a worker's channel (host.ts's Channel; kept structural so the
 * published declarations do not reach worker_threads' types). */
interface TrainingChannel {
  request<T>(msg: Record<string, unknown>): Promise<T>;
}

const busy = new WeakSet<Sequential>();
const channels = new WeakMap<Sequential, TrainingChannel>();

export function markBusy(model: Sequential): void {
  if (busy.has(model)) throw new StateError('minibatch: this model is already being trained off the main thread; await that fit first');
  busy.add(model);
}
export function unmarkBusy(model: Sequential): void {
  busy.delete(model);
}
export function isBusy(model: Sequential): boolean {
  return busy.has(model);
}
export function setTrainingChannel(model: Sequential, c: TrainingChannel | null): void {
  if (c) channels.set(model, c);
  else channels.delete(model);
}

/**
 * A consistent copy of the model's parameters and buffers (a state dict). While the model trains
 * off the main thread, the copy is taken by the worker between two steps; otherwise it is
 * model.stateDict().
 */
export async function snapshot(model: Sequential): Promise<StateDict> {
  if (!model || typeof (model as { stateDict?: unknown }).stateDict !== 'function') fail('type', 'Sequential model', 'model', describe(model));
  const c = channels.get(model);
  if (!c) return model.stateDict();
  const r = await c.request<{ state: StateDict }>({ type: 'snapshot' });
  return r.state;
}

/**
 * Inference pressure, one shared word pair for every thread of the process: [0] samples queued or
 * being computed in inference pools, [1] pools open. Off-thread training reads it to give way to
 * inference (lib/async/worker.ts); pools notify waiters on [0] when it drops to zero.
 */
export const pressure = new Int32Array(new SharedArrayBuffer(8));

export function addPressure(samples: number): void {
  if (Atomics.add(pressure, 0, samples) + samples === 0) Atomics.notify(pressure, 0);
}
