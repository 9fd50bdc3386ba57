// ReduceLROnPlateau and OneCycleLR against torch.optim.lr_scheduler; fit's scheduler option (per
// epoch, per batch, on a plateau) and the onBatchBegin / onTrainBegin callbacks; bad options.
import { describe, it, expect } from 'vitest';
import { fixture, expectClose, randn } from './helpers';
import {
  SGD, Adam, ReduceLROnPlateau, OneCycleLR, StepLR, Sequential, Linear, ReLU, CrossEntropyLoss, fit, tensor,
} from '../lib/index';
import type { ParamArena } from '../lib/params';

const fx = fixture('optim.json');
const arena = (): ParamArena => ({ data: new Float32Array(4), grad: new Float32Array(4), views: [{ name: 'w', shape: [4], offset: 0, size: 4 }] });

describe('schedules vs torch.optim.lr_scheduler', () => {
  for (const c of fx.plateau) {
    it(`${c.name} ${JSON.stringify(c.options)}`, () => {
      const opt = new SGD(arena(), { lr: 0.1 });
      const s = new ReduceLROnPlateau(opt, c.options);
      const got = c.metrics.map((m: number) => (s.step(m), opt.lr));
      expectClose(got, c.lrs, 1e-12, 1e-15, c.name);
      expect(new Set(got).size).toBeGreaterThan(1);
    });
  }
  for (const c of fx.onecycle) {
    it(`${c.name} ${JSON.stringify(c.options)}`, () => {
      const opt = new SGD(arena(), { lr: 0.1 });
      const s = new OneCycleLR(opt, c.options);
      const got = [opt.lr];
      for (let i = 1; i < c.lrs.length; i++) {
        s.step();
        got.push(opt.lr);
      }
      expectClose(got, c.lrs, 1e-9, 1e-15, c.name);
    });
  }
  it('OneCycleLR refuses steps past the cycle; bad options', () => {
    const s = new OneCycleLR(new SGD(arena(), { lr: 0.1 }), { maxLr: 1, totalSteps: 3 });
    s.step();
    s.step();
    s.step();
    expect(() => s.step()).toThrow(RangeError);
    expect(() => new OneCycleLR(new SGD(arena(), { lr: 0.1 }), { maxLr: 1, totalSteps: 10, pctStart: 1 })).toThrow(/^Expected number in \(0, 1\) for pctStart/);
    expect(() => new ReduceLROnPlateau(new SGD(arena(), { lr: 0.1 }), { mode: 'up' as any })).toThrow(/^Expected 'min' or 'max' for mode/);
    expect(() => new ReduceLROnPlateau(new SGD(arena(), { lr: 0.1 }), { patiense: 2 } as any)).toThrow(TypeError);
    expect(() => new ReduceLROnPlateau(new SGD(arena(), { lr: 0.1 })).step(NaN)).toThrow(RangeError);
  });
});

function data(n: number) {
  const x = tensor(randn(n * 6, 4), [n, 6]);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = x.data[i * 6] > 0 ? 1 : 0;
  return { x, y };
}
const net = () => new Sequential([new Linear({ inFeatures: 6, outFeatures: 8 }), new ReLU(), new Linear({ inFeatures: 8, outFeatures: 2 })], { inputShape: [6], seed: 1 });

describe('fit: scheduler option and callbacks', () => {
  it('steps a schedule per epoch or per batch, and a plateau schedule with its metric', async () => {
    const { x, y } = data(40);
    const m1 = net();
    const o1 = new SGD(m1.parameters(), { lr: 0.1 });
    const lrs: number[] = [];
    await fit(m1, x, y, { epochs: 4, batchSize: 10, loss: new CrossEntropyLoss(), optimizer: o1, scheduler: new StepLR(o1, { stepSize: 1, gamma: 0.5 }), verbose: 0,
      callbacks: [{ onEpochBegin: () => void lrs.push(o1.lr) }] });
    expect(lrs).toEqual([0.1, 0.05, 0.025, 0.0125]);

    const m2 = net();
    const o2 = new Adam(m2.parameters(), { lr: 0.01 });
    const seen: number[] = [];
    await fit(m2, x, y, { epochs: 2, batchSize: 10, loss: new CrossEntropyLoss(), optimizer: o2, verbose: 0,
      scheduler: new OneCycleLR(o2, { maxLr: 0.05, totalSteps: 8 }), schedulerStep: 'batch',
      callbacks: [{ onBatchBegin: () => void seen.push(o2.lr) }] });
    const ref = new OneCycleLR(new SGD(arena(), { lr: 1 }), { maxLr: 0.05, totalSteps: 8 });
    const want = [ref.getLastLr()];
    for (let i = 1; i < 8; i++) (ref.step(), want.push(ref.getLastLr()));
    expectClose(seen, want, 1e-12, 1e-15, 'one-cycle lrs');

    const m3 = net();
    const o3 = new SGD(m3.parameters(), { lr: 0.1 });
    const plateau = new ReduceLROnPlateau(o3, { patience: 0, factor: 0.5, mode: 'max', monitor: 'accuracy' });
    const accs: number[] = [];
    await fit(m3, x, y, { epochs: 3, batchSize: 40, loss: new CrossEntropyLoss(), optimizer: o3, scheduler: plateau, metrics: ['accuracy'], verbose: 0,
      callbacks: [{ onEpochEnd: (_e, logs) => void accs.push(logs.accuracy!) }] });
    expect(plateau.lastEpoch).toBe(3);
    expect(plateau.best).toBe(Math.max(...accs));
  });

  it('onTrainBegin once, onBatchBegin before every step with the batch size', async () => {
    const { x, y } = data(25);
    const m = net();
    const events: string[] = [];
    await fit(m, x, y, { epochs: 2, batchSize: 10, loss: new CrossEntropyLoss(), optimizer: new SGD(m.parameters(), { lr: 0.1 }), verbose: 0,
      callbacks: [{ onTrainBegin: () => void events.push('train'), onBatchBegin: (b, l) => void events.push(`b${b}:${l.size}`), onBatchEnd: (b) => void events.push(`e${b}`) }] });
    expect(events).toEqual(['train', 'b0:10', 'e0', 'b1:10', 'e1', 'b2:5', 'e2', 'b0:10', 'e0', 'b1:10', 'e1', 'b2:5', 'e2']);
  });

  it('bad scheduler options are refused before anything changes', async () => {
    const { x, y } = data(10);
    const m = net();
    const o = new SGD(m.parameters(), { lr: 0.1 });
    const before = Float32Array.from(m.parameters().data);
    const other = new SGD(net().parameters(), { lr: 0.1 });
    const base = { epochs: 1, loss: new CrossEntropyLoss(), optimizer: o, verbose: 0 as const };
    await expect(fit(m, x, y, { ...base, scheduler: {} as any })).rejects.toThrow(/^Expected LRScheduler or ReduceLROnPlateau for scheduler/);
    await expect(fit(m, x, y, { ...base, scheduler: new StepLR(other, { stepSize: 1 }) })).rejects.toThrow(/^Expected a schedule of fit's optimizer for scheduler/);
    await expect(fit(m, x, y, { ...base, scheduler: new StepLR(o, { stepSize: 1 }), schedulerStep: 'step' as any })).rejects.toThrow(/^Expected 'epoch' or 'batch' for schedulerStep/);
    await expect(fit(m, x, y, { ...base, scheduler: new ReduceLROnPlateau(o), schedulerStep: 'batch' })).rejects.toThrow(RangeError);
    expect(Array.from(m.parameters().data)).toEqual(Array.from(before));
  });
});
