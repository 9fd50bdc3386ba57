/**
 * InferencePool: replicas of one model on N worker threads, with dynamic batching (as Triton and
 * TorchServe do it): concurrent requests wait in one queue and go to a free worker as one forward
 * pass of up to `maxBatchSize` samples: at once when that many wait, else at the end of the
 * event-loop turn in which the first arrived (longer only while requests keep arriving and nothing
 * runs, up to `maxDelayMs`). A worker that finishes takes what has queued meanwhile at once, so
 * under load batches fill by themselves and at low load a request does not wait for company.
 *
 * Memory: the pool's weights are one shared copy (taken from a live model, or loaded from a
 * checkpoint) that every replica reads in place; each worker has a fixed shared input and output
 * buffer of maxBatchSize samples, handed over once, so a batch moves no tensor and no buffer
 * through a message. A worker runs a batch as chunks of a few fixed sizes (1, 2, 3, 4, 6, 8, 12,
 * ...) and keeps a replica per size, so no layer reallocates its buffers as batch sizes vary and
 * nothing is computed for padding. `swap()` loads new weights into every worker and switches all
 * later batches at once; a batch never mixes weights.
 */
import { Sequential } from '../model';
import { Tensor, sizeOf, toTensor } from '../tensor';
import { checkInt, checkNumber, checkOptions, describe, fail, formatShape, StateError } from '../validate';
import { getBackend } from '../backend/index';
import { loadModel } from '../io/checkpoint';
import { Channel } from './host';
import { ModelSpec, modelSpec } from './spec';
import { addPressure, pressure } from './state';

export interface InferencePoolOptions {
  /** The model to serve: its weights are copied once (training it later does not change the pool). */
  model?: Sequential;
  /** Or a checkpoint written by saveModel (the architecture comes from the file). */
  checkpoint?: string;
  /** Worker threads, each with a replica. Default 1. */
  workers?: number;
  /** Native kernel threads per worker. Default 1. */
  threadsPerWorker?: number;
  /** Most samples in one forward pass (and in one request). Default 32. */
  maxBatchSize?: number;
  /**
   * A batch leaves at the end of the event-loop turn in which its first request arrived (or at
   * once when it is full); while nothing runs and requests keep arriving, it waits up to this
   * long for more, in ms (0: never beyond the turn). Default 1.
   */
  maxDelayMs?: number;
  /** Most samples waiting; a request beyond it is refused (back-pressure). Default 4096. */
  maxQueue?: number;
  /**
   * While this pool is open, `fit({ offThread: true })` calls started in the process train as
   * background work: a lower scheduling priority (Linux), at most cores − 1 kernel threads, and a
   * pause of up to 5 ms between steps while requests wait (lib/async/worker.ts). Default true.
   */
  backgroundTraining?: boolean;
}

export interface PoolStats {
  /** Samples waiting for a worker. */
  queueLength: number;
  /** Batches being computed now. */
  inFlight: number;
  requests: number;
  samples: number;
  batches: number;
  meanBatchSize: number;
  /** Request latency (queue + forward + copy), over the last 4096 requests, in ms. */
  latencyMs: { p50: number; p90: number; p99: number; max: number };
}

interface Request {
  x: Float32Array;
  n: number;
  t0: number;
  resolve(t: Tensor): void;
  reject(e: Error): void;
}

interface Slot {
  channel: Channel;
  input: Float32Array;
  output: Float32Array;
  busy: boolean;
}

const RING = 4096;

export class InferencePool {
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly maxBatchSize: number;
  readonly maxDelayMs: number;
  private readonly inSize: number;
  private readonly outSize: number;
  private readonly maxQueue: number;
  private readonly threads: number;
  private slots: Slot[] = [];
  private queue: Request[] = [];
  private queued = 0;
  private rid = 0;
  private spec!: ModelSpec;
  private flush: NodeJS.Immediate | null = null;
  /** Samples queued at the last end-of-turn check. */
  private seen = 0;
  private closed = false;
  private ended = false;
  private background = false;
  private lat = new Float64Array(RING);
  private nLat = 0;
  private counts = { requests: 0, samples: 0, batches: 0 };
  private idleWaiters: (() => void)[] = [];

  private constructor(model: Sequential, o: Required<Omit<InferencePoolOptions, 'model' | 'checkpoint'>>) {
    this.inputShape = model.inputShape!;
    this.outputShape = model.outputShape!;
    this.inSize = sizeOf(this.inputShape);
    this.outSize = sizeOf(this.outputShape);
    this.maxBatchSize = o.maxBatchSize;
    this.maxDelayMs = o.maxDelayMs;
    this.maxQueue = o.maxQueue;
    this.threads = o.threadsPerWorker;
  }

  /** Starts the workers and loads the replicas. */
  static async create(options: InferencePoolOptions): Promise<InferencePool> {
    checkOptions(options, ['model', 'checkpoint', 'workers', 'threadsPerWorker', 'maxBatchSize', 'maxDelayMs', 'maxQueue', 'backgroundTraining'], 'InferencePool');
    if (!options) fail('type', 'options object with model or checkpoint', 'InferencePool options', describe(options));
    const o = {
      workers: checkInt(options.workers ?? 1, 'workers', 1, 64),
      threadsPerWorker: checkInt(options.threadsPerWorker ?? 1, 'threadsPerWorker', 1, 1024),
      maxBatchSize: checkInt(options.maxBatchSize ?? 32, 'maxBatchSize', 1, 65536),
      maxDelayMs: checkNumber(options.maxDelayMs ?? 1, 'maxDelayMs', 0, 10_000),
      maxQueue: checkInt(options.maxQueue ?? 4096, 'maxQueue', 1),
      backgroundTraining: options.backgroundTraining ?? true,
    };
    if (typeof o.backgroundTraining !== 'boolean') fail('type', 'boolean', 'backgroundTraining', describe(o.backgroundTraining));
    const model = sourceModel(options.model, options.checkpoint);
    const pool = new InferencePool(model, o);
    pool.background = o.backgroundTraining;
    if (pool.background) Atomics.add(pressure, 1, 1);
    pool.spec = frozenSpec(model);
    pool.rid = 1;
    for (let i = 0; i < o.workers; i++) pool.slots.push(pool.newSlot());
    try {
      await Promise.all(pool.slots.map((s) => pool.start(s)));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  private newSlot(): Slot {
    return {
      channel: new Channel(),
      input: new Float32Array(new SharedArrayBuffer(this.maxBatchSize * this.inSize * 4)),
      output: new Float32Array(new SharedArrayBuffer(this.maxBatchSize * this.outSize * 4)),
      busy: false,
    };
  }

  /** Hands a slot's worker its shared buffers (once), then the current weights. */
  private async start(s: Slot): Promise<void> {
    await s.channel.request({ type: 'slot', input: s.input.buffer, output: s.output.buffer });
    await this.load(s, this.rid, this.spec);
  }

  private load(s: Slot, rid: number, spec: ModelSpec): Promise<unknown> {
    // layers without a backend of their own run on the caller's current one
    const backend = spec.backend ?? getBackend().name;
    return s.channel.request({ type: 'load', rid, model: spec, backend, threads: backend === 'native' ? this.threads : null });
  }

  /**
   * Outputs for one sample (shape inputShape, or its flat values) or a batch [N, ...inputShape] of
   * at most maxBatchSize samples: a new tensor [N, ...outputShape]. The input is copied before
   * this returns, so it may be reused at once.
   */
  predict(x: unknown): Promise<Tensor> {
    if (this.closed) return Promise.reject(new StateError('minibatch: the inference pool is closed'));
    let data: Float32Array;
    let n: number;
    try {
      [data, n] = this.samples(x);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.queued + n > this.maxQueue) {
      return Promise.reject(new RangeError(`Expected at most ${this.maxQueue} queued samples for the inference pool but received ${this.queued + n} (the pool is overloaded; retry later)`));
    }
    return new Promise<Tensor>((resolve, reject) => {
      this.queue.push({ x: data.slice(), n, t0: performance.now(), resolve, reject });
      this.queued += n;
      addPressure(n);
      this.counts.requests++;
      this.counts.samples += n;
      this.arrived();
    });
  }

  /** The flat values and sample count of a request, checked (no string is built unless it fails). */
  private samples(x: unknown): [Float32Array, number] {
    if (x instanceof Float32Array) {
      if (x.length === 0 || x.length % this.inSize !== 0) fail('range', `a multiple of ${this.inSize} values (samples of shape ${formatShape(this.inputShape)})`, 'x', describe(x));
      const n = x.length / this.inSize;
      if (n > this.maxBatchSize) fail('range', `at most ${this.maxBatchSize} samples (maxBatchSize)`, 'x', `${n} samples`);
      checkFinite(x);
      return [x, n];
    }
    const t = toTensor(x, 'x');
    const one = sameShape(t.shape, 0, this.inputShape);
    if (!one && !sameShape(t.shape, 1, this.inputShape)) fail('range', `a sample of shape ${formatShape(this.inputShape)} or a batch [N, ${this.inputShape.join(', ')}]`, 'x', `tensor of shape ${formatShape(t.shape)}`);
    const n = one ? 1 : t.shape[0];
    if (n < 1 || n > this.maxBatchSize) fail('range', `between 1 and ${this.maxBatchSize} samples (maxBatchSize)`, 'x', `${n} samples`);
    checkFinite(t.data);
    return [t.data, n];
  }

  /**
   * A request has queued. A full batch leaves at once; otherwise the batch leaves at the end of
   * this event-loop turn (setImmediate), so every request read from the sockets in the same turn
   * joins it and a lone request does not wait for a timer. With maxDelayMs > 0 and nothing
   * running, the batch waits turn after turn while the queue still grows, up to maxDelayMs.
   */
  private arrived(): void {
    if (this.queued >= this.maxBatchSize) this.pump();
    if (this.queue.length > 0 && !this.flush) {
      this.seen = this.queued;
      this.flush = setImmediate(() => this.endOfTurn());
    }
  }

  private endOfTurn(): void {
    this.flush = null;
    if (this.queue.length === 0) return;
    const growing = this.queued > this.seen && this.queued < this.maxBatchSize;
    if (growing && this.maxDelayMs > 0 && !this.closed && !this.slots.some((s) => s.busy) && performance.now() - this.queue[0].t0 < this.maxDelayMs) {
      this.seen = this.queued;
      this.flush = setImmediate(() => this.endOfTurn());
      return;
    }
    this.pump();
  }

  /** Sends what waits to free workers (a worker that has just finished takes what queued at once). */
  private pump(): void {
    while (this.queue.length > 0) {
      const slot = this.slots.find((s) => !s.busy && s.channel.alive);
      if (!slot) return;
      this.dispatch(slot);
    }
  }

  private dispatch(slot: Slot): void {
    const batch: Request[] = [];
    let n = 0;
    while (this.queue.length > 0 && n + this.queue[0].n <= this.maxBatchSize) {
      const r = this.queue.shift()!;
      slot.input.set(r.x, n * this.inSize);
      n += r.n;
      batch.push(r);
    }
    this.queued -= n;
    slot.busy = true;
    this.counts.batches++;
    const msg = { type: 'run', rid: this.rid, n, inSize: this.inSize, outSize: this.outSize };
    slot.channel.request(msg).then(
      () => {
        let off = 0;
        const now = performance.now();
        for (const r of batch) {
          const out = slot.output.slice(off * this.outSize, (off + r.n) * this.outSize);
          off += r.n;
          this.lat[this.nLat++ % RING] = now - r.t0;
          r.resolve({ data: out, shape: [r.n, ...this.outputShape] });
        }
        addPressure(-n);
        this.release(slot);
      },
      (e: Error) => {
        for (const r of batch) r.reject(e);
        addPressure(-n);
        // a dead worker is replaced by a fresh one with the current weights
        if (!slot.channel.alive && !this.closed) {
          const i = this.slots.indexOf(slot);
          const fresh = this.newSlot();
          fresh.busy = true;
          this.slots[i] = fresh;
          this.start(fresh).then(() => this.release(fresh), () => this.release(fresh));
        } else this.release(slot);
      },
    );
  }

  private release(slot: Slot): void {
    slot.busy = false;
    this.pump();
    if (this.queue.length === 0 && !this.slots.some((s) => s.busy)) for (const w of this.idleWaiters.splice(0)) w();
  }

  /**
   * Serves new weights from now on: a live model of the same architecture (copied) or a checkpoint
   * path. Resolves once every worker has them; batches already running finish with the old ones.
   */
  async swap(source: Sequential | string): Promise<void> {
    const model = typeof source === 'string' ? sourceModel(undefined, source) : sourceModel(source, undefined);
    if (formatShape(model.inputShape!) !== formatShape(this.inputShape) || formatShape(model.outputShape!) !== formatShape(this.outputShape)) {
      fail('range', `a model from ${formatShape(this.inputShape)} to ${formatShape(this.outputShape)}`, 'swap source', `a model from ${formatShape(model.inputShape!)} to ${formatShape(model.outputShape!)}`);
    }
    const spec = frozenSpec(model);
    const rid = this.rid + 1;
    await Promise.all(this.slots.map((s) => this.load(s, rid, spec)));
    const old = this.rid;
    this.rid = rid;
    this.spec = spec;
    for (const s of this.slots) s.channel.post({ type: 'drop', rid: old });
  }

  stats(): PoolStats {
    const k = Math.min(this.nLat, RING);
    const sorted = Array.from(this.lat.subarray(0, k)).sort((a, b) => a - b);
    const q = (p: number) => (k === 0 ? 0 : sorted[Math.min(k - 1, Math.floor(p * k))]);
    return {
      queueLength: this.queued,
      inFlight: this.slots.filter((s) => s.busy).length,
      ...this.counts,
      meanBatchSize: this.counts.batches ? (this.counts.samples - this.queued) / this.counts.batches : 0,
      latencyMs: { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: k ? sorted[k - 1] : 0 },
    };
  }

  /** Refuses new requests, lets the queued and running ones finish, then ends the workers. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.flush) {
      clearImmediate(this.flush);
      this.flush = null;
    }
    if (this.queue.length > 0 || this.slots.some((s) => s.busy)) {
      await new Promise<void>((r) => {
        this.idleWaiters.push(r);
        this.pump();
      });
    }
    await Promise.all(this.slots.map((s) => s.channel.close()));
    if (!this.ended && this.background) Atomics.sub(pressure, 1, 1);
    this.ended = true;
  }
}

/** Whether shape[from..] equals want. */
function sameShape(shape: readonly number[], from: number, want: readonly number[]): boolean {
  if (shape.length - from !== want.length) return false;
  for (let i = 0; i < want.length; i++) if (shape[from + i] !== want[i]) return false;
  return true;
}

function checkFinite(a: Float32Array): void {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) fail('range', 'finite values', `x[${i}]`, describe(a[i]));
}

function sourceModel(model: unknown, checkpoint: unknown): Sequential {
  if ((model === undefined) === (checkpoint === undefined)) fail('type', 'either model or checkpoint', 'InferencePool source', model === undefined ? 'neither' : 'both');
  if (checkpoint !== undefined) return loadModel(checkpoint as string);
  if (!(model instanceof Sequential)) fail('type', 'Sequential model', 'model', describe(model));
  if (!model.built) fail('range', 'a built model', 'model', 'a model that is not built');
  return model;
}

/** A spec over a private copy of the model's memory, in evaluation mode. */
function frozenSpec(model: Sequential): ModelSpec {
  const spec = modelSpec(model);
  const copy = (b: SharedArrayBuffer) => {
    const c = new SharedArrayBuffer(b.byteLength);
    new Uint8Array(c).set(new Uint8Array(b));
    return c;
  };
  return { ...spec, training: false, shared: { data: copy(spec.shared.data), grad: new SharedArrayBuffer(spec.shared.grad.byteLength), buffers: copy(spec.shared.buffers) } };
}
