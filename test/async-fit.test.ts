// fit with offThread: true gives bit for bit the in-thread results, on both backends, with callbacks,
// schedules, early stopping and the NaN guard acting as in-thread; nothing outlives the call but one idle, unreferenced worker kept for the next fit.
import { describe, it, expect } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { monitorEventLoopDelay } from 'perf_hooks';
import {
  Sequential, Conv2d, BatchNorm2d, BatchNorm1d, ReLU, MaxPool2d, Flatten, Linear, Dropout, CrossEntropyLoss, MSELoss,
  SGD, Adam, StepLR, OneCycleLR, ReduceLROnPlateau, fit, EarlyStopping, NonFiniteLossError, ModelCheckpoint, loadCheckpoint,
} from '../lib/index';
import { snapshot } from '../lib/async/state';
import { endSpareWorker, spareWorkerId } from '../lib/async/fit';
import type { BackendName } from '../lib/backend/types';
import { randn } from './helpers';

function cnn(backend: BackendName, seed = 3): Sequential {
  return new Sequential(
    [
      new Conv2d({ inChannels: 1, outChannels: 4, kernelSize: 3, padding: 1 }),
      new BatchNorm2d({ numFeatures: 4 }),
      new ReLU(),
      new MaxPool2d({ kernelSize: 2 }),
      new Flatten(),
      new Dropout({ p: 0.2 }),
      new Linear({ inFeatures: 4 * 4 * 4, outFeatures: 3 }),
    ],
    { inputShape: [1, 8, 8], seed, backend },
  );
}

const N = 60;
const x = { data: randn(N * 64, 11), shape: [N, 1, 8, 8] };
const y = Int32Array.from({ length: N }, (_, i) => (i * 7) % 3);

interface Run {
  params: Float32Array;
  buffers: number[];
  history: unknown;
  events: string[];
  lrs: number[];
  optState: unknown;
  out: string;
}

async function train(backend: BackendName, offThread: boolean, epochs = 3): Promise<Run> {
  const model = cnn(backend);
  const opt = new Adam(model.parameters(), { lr: 0.01 });
  const sched = new StepLR(opt, { stepSize: 2, gamma: 0.5 });
  const events: string[] = [];
  const lrs: number[] = [];
  let text = '';
  const output = { write: (s: string) => ((text += s), true) } as unknown as NodeJS.WritableStream;
  const history = await fit(model, x, y, {
    epochs, batchSize: 16, validationSplit: 0.2, loss: new CrossEntropyLoss(), optimizer: opt, metrics: ['accuracy'],
    seed: 5, verbose: 2, output, offThread,
    callbacks: [
      {
        onTrainBegin: () => void events.push('begin'),
        onEpochBegin: (e) => void events.push(`e${e}`),
        onBatchBegin: (b, l) => void events.push(`bb${b}:${l.size}:${opt.lr}`),
        onBatchEnd: (b, l) => {
          events.push(`b${b}:${l.size}:${l.loss}`);
          sched.step();
          lrs.push(opt.lr);
        },
        onEpochEnd: (e, l) => void events.push(`end${e}:${l.loss}:${l.valLoss}`),
        onTrainEnd: () => void events.push('done'),
      },
    ],
  });
  const buffers = model.layers.flatMap((l) => l.buffers().flatMap((b) => Array.from(b.data)));
  return { params: Float32Array.from(model.parameters().data), buffers, history, events, lrs, optState: opt.stateDict(), out: text.replace(/\d+\.\ds/g, 'T') };
}

describe('fit off the main thread', () => {
  for (const backend of ['native', 'js'] as BackendName[]) {
    it(`${backend}: bit-identical to in-thread (weights, running stats, history, callbacks, lr schedule, optimizer state)`, async () => {
      const a = await train(backend, false);
      const b = await train(backend, true);
      expect(Array.from(b.params)).toEqual(Array.from(a.params));
      expect(b.buffers).toEqual(a.buffers);
      expect(b.history).toEqual(a.history);
      expect(b.events).toEqual(a.events);
      expect(b.lrs).toEqual(a.lrs);
      expect(b.optState).toEqual(a.optState);
      expect(b.out).toEqual(a.out);
      expect(a.events.length).toBe(3 * 3 * 2 + 3 * 2 + 2);
    });
  }

  it("fit's scheduler option (per epoch, per batch with a batch callback, on plateau) trains as in-thread and leaves the caller's schedule where it ended", async () => {
    type Make = (opt: SGD) => { sched: StepLR | OneCycleLR | ReduceLROnPlateau; step?: 'batch' };
    const cases: [string, Make][] = [
      ['StepLR per epoch', (opt) => ({ sched: new StepLR(opt, { stepSize: 1, gamma: 0.5 }) })],
      ['OneCycleLR per batch', (opt) => ({ sched: new OneCycleLR(opt, { maxLr: 0.2, totalSteps: 12 }), step: 'batch' })],
      ['ReduceLROnPlateau', (opt) => ({ sched: new ReduceLROnPlateau(opt, { patience: 0, factor: 0.5, threshold: 10 }) })],
    ];
    for (const [name, make] of cases) {
      const run = async (offThread: boolean) => {
        const model = cnn('native');
        const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
        const { sched, step } = make(opt);
        const seen: number[] = [];
        await fit(model, x, y, {
          epochs: 3, batchSize: 16, loss: new CrossEntropyLoss(), optimizer: opt, seed: 2, verbose: 0, offThread,
          scheduler: sched, ...(step ? { schedulerStep: step } : {}),
          callbacks: [{ onBatchEnd: () => void seen.push(opt.lr), onEpochEnd: () => void seen.push(-opt.lr) }],
        });
        return { params: Array.from(model.parameters().data), seen, opt: opt.stateDict(), sched: sched.stateDict(), lr: opt.lr };
      };
      const a = await run(false);
      const b = await run(true);
      expect(b.seen, name).toEqual(a.seen);
      expect(b.params, name).toEqual(a.params);
      expect(b.opt, name).toEqual(a.opt);
      expect(b.sched, name).toEqual(a.sched);
      expect(b.lr, name).toBe(a.lr);
      // the schedule did act: the lr moved during training
      expect(new Set(a.seen.map(Math.abs)).size, name).toBeGreaterThan(1);
    }
  });

  it('a second fit after an off-thread one continues exactly as in-thread', async () => {
    const runTwice = async (offThread: boolean) => {
      const model = cnn('native', 9);
      const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
      const o = { epochs: 1, batchSize: 20, loss: new CrossEntropyLoss(), optimizer: opt, verbose: 0 as const, seed: 1 };
      await fit(model, x, y, { ...o, offThread });
      await fit(model, x, y, o);
      return Array.from(model.parameters().data);
    };
    expect(await runTwice(true)).toEqual(await runTwice(false));
  });

  it('a checkpoint callback on the calling thread saves the same weights, optimizer and trainer state', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-async-ck-'));
    const go = async (offThread: boolean) => {
      const model = cnn('native', 8);
      const file = path.join(dir, `${offThread}-{epoch}.safetensors`);
      await fit(model, x, y, { epochs: 2, batchSize: 16, loss: new CrossEntropyLoss(), optimizer: new Adam(model.parameters(), { lr: 0.01 }), verbose: 0, seed: 2, callbacks: [new ModelCheckpoint({ path: file })], offThread });
      const ck = loadCheckpoint(file.replace('{epoch}', '1'));
      return { w: Array.from(ck.model.parameters().data), opt: ck.optimizer!.stateDict(), trainer: ck.trainer };
    };
    const a = await go(false);
    const b = await go(true);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(a.opt.step).toBe(4);
    expect(b).toEqual(a);
  });

  it('early stopping with restoreBestWeights acts after the same epoch', async () => {
    const go = async (offThread: boolean) => {
      const model = cnn('native', 4);
      const es = new EarlyStopping(model, { monitor: 'loss', patience: 0, minDelta: 10, restoreBestWeights: true });
      const h = await fit(model, x, y, { epochs: 5, batchSize: 30, loss: new CrossEntropyLoss(), optimizer: new SGD(model.parameters(), { lr: 0.1 }), verbose: 0, callbacks: [es], offThread });
      return { epochs: h.epoch, stopped: es.stoppedEpoch, w: Array.from(model.parameters().data) };
    };
    const a = await go(false);
    const b = await go(true);
    expect(a.epochs).toEqual([0, 1]);
    expect(b).toEqual(a);
  });

  it('a diverging run fails with the same error and the same weights', async () => {
    const go = async (offThread: boolean) => {
      const model = new Sequential([new Flatten(), new Linear({ inFeatures: 64, outFeatures: 1 })], { inputShape: [1, 8, 8], seed: 2 });
      const t = { data: new Float32Array(N).fill(1e3), shape: [N, 1] };
      const err = await fit(model, x, t, { epochs: 3, batchSize: 10, loss: new MSELoss(), optimizer: new SGD(model.parameters(), { lr: 500 }), verbose: 0, offThread }).catch((e) => e);
      return { err, w: Array.from(model.parameters().data) };
    };
    const a = await go(false);
    const b = await go(true);
    expect(a.err).toBeInstanceOf(Error);
    expect(b.err.constructor).toBe(a.err.constructor);
    expect(b.err.message).toBe(a.err.message);
    if (a.err instanceof NonFiniteLossError) expect([b.err.epoch, b.err.step]).toEqual([a.err.epoch, a.err.step]);
    expect(b.w).toEqual(a.w);
  });

  it('rejects with the same validation errors, a callback error, and objects it cannot move', async () => {
    const model = cnn('native');
    const opt = new SGD(model.parameters(), { lr: 0.1 });
    const loss = new CrossEntropyLoss();
    const bad = { data: new Float32Array(10 * 63), shape: [10, 63] };
    const inThread = await fit(model, bad, y.subarray(0, 10), { loss, optimizer: opt, verbose: 0 }).catch((e) => e);
    const off = await fit(model, bad, y.subarray(0, 10), { loss, optimizer: opt, verbose: 0, offThread: true }).catch((e) => e);
    expect(off).toBeInstanceOf(RangeError);
    expect(off.message).toBe(inThread.message);
    await expect(fit(model, x, y, { loss, optimizer: opt, verbose: 0, offThread: 'yes' as never })).rejects.toThrow(
      'Expected boolean for offThread but received',
    );
    await expect(fit(model, x, y, { loss, optimizer: { step() {}, zeroGrad() {} }, verbose: 0, offThread: true })).rejects.toThrow(
      'Expected an optimizer of minibatch (SGD, Adam, AdamW, RMSProp) off the main thread for optimizer',
    );
    const boom = new Error('callback failed');
    await expect(fit(model, x, y, { loss, optimizer: opt, verbose: 0, offThread: true, callbacks: [{ onBatchEnd: () => { throw boom; } }] })).rejects.toBe(boom);
  });

  it('snapshot() during training gives a consistent copy; the event loop stays free', async () => {
    const model = new Sequential([new Flatten(), new Linear({ inFeatures: 64, outFeatures: 32 }), new BatchNorm1d({ numFeatures: 32 }), new ReLU(), new Linear({ inFeatures: 32, outFeatures: 3 })], { inputShape: [1, 8, 8], seed: 1 });
    const snaps: number[] = [];
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const p = fit(model, x, y, { epochs: 40, batchSize: 4, loss: new CrossEntropyLoss(), optimizer: new SGD(model.parameters(), { lr: 0.01 }), verbose: 0, offThread: true });
    for (let i = 0; i < 3; i++) {
      const s = await snapshot(model);
      snaps.push(s['2.num_batches_tracked'].data[0]);
    }
    await p;
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(5);
    expect(snaps.every((v) => Number.isInteger(v) && v >= 0 && v <= 40 * 15)).toBe(true);
    expect(model.layers[2].buffers()[2].data[0]).toBe(40 * 15);
  });

  it('a worker whose fit succeeded serves the next fit; a failed fit ends its worker', async () => {
    await endSpareWorker();
    const model = cnn('native', 13);
    const o = { epochs: 1, batchSize: 30, loss: new CrossEntropyLoss(), optimizer: new SGD(model.parameters(), { lr: 0.01 }), verbose: 0 as const, offThread: true };
    expect(spareWorkerId()).toBeNull();
    await fit(model, x, y, o);
    const first = spareWorkerId();
    expect(first).toEqual(expect.any(Number));
    // the next fit runs on that worker (the spare is taken, then kept again)
    const during = fit(model, x, y, o);
    expect(spareWorkerId()).toBeNull();
    await during;
    expect(spareWorkerId()).toBe(first);
    // and trains exactly as a fresh worker does
    const a = cnn('native', 14), b = cnn('native', 14);
    await fit(a, x, y, { ...o, optimizer: new SGD(a.parameters(), { lr: 0.01 }) });
    await endSpareWorker();
    await fit(b, x, y, { ...o, optimizer: new SGD(b.parameters(), { lr: 0.01 }) });
    expect(Array.from(a.parameters().data)).toEqual(Array.from(b.parameters().data));
    const boom = new Error('boom');
    await expect(fit(model, x, y, { ...o, callbacks: [{ onBatchEnd: () => { throw boom; } }] })).rejects.toBe(boom);
    expect(spareWorkerId()).toBeNull();
    await fit(model, x, y, o);
    expect(spareWorkerId()).not.toBe(first);
    await endSpareWorker();
    expect(spareWorkerId()).toBeNull();
  });

  it('many off-thread fits leave no thread, handle or memory behind', async () => {
    const model = cnn('native', 12);
    const opt = new SGD(model.parameters(), { lr: 0.01 });
    const once = () => fit(model, x, y, { epochs: 1, batchSize: 30, loss: new CrossEntropyLoss(), optimizer: opt, verbose: 0, offThread: true });
    for (let i = 0; i < 2; i++) await once();
    await new Promise((r) => setTimeout(r, 100));
    const threads0 = fs.readdirSync('/proc/self/task').length;
    const rss0 = process.memoryUsage().rss;
    for (let i = 0; i < 6; i++) await once();
    await new Promise((r) => setTimeout(r, 300));
    expect(fs.readdirSync('/proc/self/task').length).toBeLessThanOrEqual(threads0);
    expect(process.getActiveResourcesInfo().filter((r) => /Worker|MessagePort/.test(r))).toEqual([]);
    const grown = (process.memoryUsage().rss - rss0) / 2 ** 20;
    expect(grown, `RSS grew by ${grown.toFixed(1)} MiB over 6 fits`).toBeLessThan(24);
  });

  it('the event loop stays responsive while a CNN trains off the main thread (p99 delay < 50 ms)', async () => {
    const model = new Sequential(
      [new Conv2d({ inChannels: 1, outChannels: 16, kernelSize: 3, padding: 1 }), new ReLU(), new MaxPool2d({ kernelSize: 2 }), new Flatten(), new Linear({ inFeatures: 16 * 14 * 14, outFeatures: 10 })],
      { inputShape: [1, 28, 28], seed: 1 },
    );
    const n = 24 * 32; // 24 steps of 32 images, one epoch
    const data = { data: randn(n * 784, 4, 0, 1), shape: [n, 1, 28, 28] };
    const labels = Int32Array.from({ length: n }, (_, i) => i % 10);
    const h = monitorEventLoopDelay({ resolution: 2 });
    let steps = 0;
    await fit(model, data, labels, {
      batchSize: 32, loss: new CrossEntropyLoss(), optimizer: new SGD(model.parameters(), { lr: 0.01 }), verbose: 0, offThread: true,
      // measured over the steps themselves
      callbacks: [{ onTrainBegin: () => void h.enable(), onBatchEnd: () => void steps++, onTrainEnd: () => void h.disable() }],
    });
    expect(steps).toBe(24);
    const p99 = h.percentile(99) / 1e6;
    expect(p99, `event-loop delay p99 ${p99.toFixed(1)} ms (max ${(h.max / 1e6).toFixed(1)} ms)`).toBeLessThan(50);
  });
});
