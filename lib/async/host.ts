/**
 * The library's worker threads, seen from the main thread: starting one (from the compiled
 * JavaScript, or from the TypeScript sources through tsx when the library itself runs from them),
 * and a channel that matches replies to requests and streams events of a long request (a fit).
 *
 * A channel keeps its worker referenced only while a request is pending, so an idle worker never
 * keeps the process alive; a worker that dies rejects everything pending with its error.
 */
import * as path from 'path';
import { Worker } from 'worker_threads';
import { packageRoot } from '../backend/native';
import { NonFiniteLossError } from '../train';
import { StateError } from '../validate';

/** Starts a library worker (worker.ts / worker.js beside this file). */
export function startWorker(): Worker {
  if (__filename.endsWith('.ts')) {
    const entry = path.join(__dirname, 'worker.ts');
    const tsx = JSON.stringify(packageRoot());
    return new Worker(`require(require.resolve('tsx/cjs/api', { paths: [${tsx}] })).register(); require(${JSON.stringify(entry)});`, { eval: true });
  }
  return new Worker(path.join(__dirname, 'worker.js'));
}

/** An error as it crosses threads. */
export interface ErrorInfo {
  name: string;
  message: string;
  stack?: string;
  epoch?: number;
  step?: number;
}

export function errorInfo(e: unknown): ErrorInfo {
  if (e instanceof Error) {
    const x = e as Error & { epoch?: number; step?: number };
    return { name: x.name, message: x.message, stack: x.stack, epoch: x.epoch, step: x.step };
  }
  return { name: 'Error', message: String(e) };
}

/** The error of the same class and message as the one thrown in the worker. */
export function rebuildError(i: ErrorInfo): Error {
  let e: Error;
  if (i.name === 'NonFiniteLossError') e = new NonFiniteLossError(i.message, i.epoch ?? 0, i.step ?? 0);
  else if (i.name === 'TypeError') e = new TypeError(i.message);
  else if (i.name === 'RangeError') e = new RangeError(i.message);
  else {
    e = new Error(i.message);
    if (i.name && i.name !== 'Error') e.name = i.name;
  }
  if (i.stack) e.stack = `${e.name}: ${e.message}\n    (in a minibatch worker thread)\n${i.stack.split('\n').slice(1).join('\n')}`;
  return e;
}

interface Pending {
  resolve(v: any): void;
  reject(e: Error): void;
  onEvent?: (m: any) => void;
}

/**
 * Requests to one worker: `request(msg)` resolves with the worker's `done` message for it; an
 * `error` message goes to onEvent too (it may carry state), then rejects.
 */
export class Channel {
  readonly worker: Worker;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private dead: Error | null = null;
  private closing = false;

  constructor(worker: Worker = startWorker()) {
    this.worker = worker;
    worker.unref();
    worker.on('message', (m: { id: number; type: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.type === 'done' || m.type === 'error') {
        this.pending.delete(m.id);
        this.refCount();
        if (m.type === 'done') p.resolve(m);
        else {
          p.onEvent?.(m);
          p.reject(rebuildError((m as unknown as { error: ErrorInfo }).error));
        }
      } else p.onEvent?.(m);
    });
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', (code) => this.fail(new Error(`minibatch: a worker thread exited (code ${code}) with work in flight`)));
  }

  get alive(): boolean {
    return this.dead === null;
  }
  get inFlight(): number {
    return this.pending.size;
  }

  /** Sends a request; events it streams go to onEvent; resolves with its `done` message. */
  request<T = any>(msg: Record<string, unknown>, onEvent?: (m: any) => void, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onEvent });
      this.refCount();
      try {
        this.worker.postMessage({ ...msg, id }, transfer);
      } catch (e) {
        this.pending.delete(id);
        this.refCount();
        reject(e as Error);
      }
    });
  }

  /** A message that expects no answer (a reply to an event, a drop). */
  post(msg: Record<string, unknown>): void {
    if (!this.dead) this.worker.postMessage(msg);
  }

  /** Ends the worker; pending requests reject. */
  async close(): Promise<void> {
    this.closing = true;
    if (!this.dead) await this.worker.terminate();
    this.fail(new StateError('minibatch: the worker thread was closed with work in flight'));
  }

  private refCount(): void {
    if (this.pending.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  private fail(e: Error): void {
    this.dead ??= e;
    for (const p of this.pending.values()) p.reject(this.closing ? new StateError('minibatch: the worker thread was closed with work in flight') : e);
    this.pending.clear();
  }
}
