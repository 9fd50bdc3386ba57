// OneCycleLR's momentum cycling (SGD and RMSProp momentum, Adam and AdamW beta1) against
// torch.optim.lr_scheduler.OneCycleLR 1.13: lr and momentum of every step and the parameters after
// each seeded gradient; its state through a checkpoint (the next steps bit for bit) and through fit
// with ModelCheckpoint (2 + 2 epochs = 4 epochs, per batch and per epoch); bad options.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { backends, expectClose, fixture, randn } from './helpers';
import type { ParamArena } from '../lib/params';
import { Adam, AdamW, LinearWarmup, OneCycleLR, Optimizer, RMSProp, SequentialLR, SGD } from '../lib/optim';
import { CrossEntropyLoss, Dropout, Linear, ModelCheckpoint, ReLU, Sequential, StepLR, fit, loadCheckpoint, saveModel, tensor } from '../lib/index';
import type { LRScheduler } from '../lib/index';

const fx = fixture('optim.json');
const KINDS: Record<string, new (p: ParamArena, o: any) => Optimizer> = { SGD, Adam, AdamW, RMSProp };

function arena(values: number[]): ParamArena {
  return { data: Float32Array.from(values), grad: new Float32Array(values.length), views: [{ name: 'w', shape: [values.length], offset: 0, size: values.length }] };
}

describe('OneCycleLR cycles the momentum as torch', () => {
  for (const [bname, backend] of backends) {
    for (const c of fx.onecycleMomentum) {
      it(`${bname} ${c.name} ${JSON.stringify(c.options)}`, () => {
        const a = arena(fx.param0);
        const opt = new KINDS[c.kind](a, { ...c.optimizer, backend });
        const s = new OneCycleLR(opt, c.options);
        const lrs = [opt.lr], momenta = [opt.momentum!];
        fx.grads.forEach((g: number[], t: number) => {
          a.grad.set(g);
          opt.step();
          expectClose(a.data, c.after[t], 2e-6, 2e-7, `${c.name} step ${t + 1}`);
          if (t < fx.grads.length - 1) {
            s.step();
            lrs.push(opt.lr);
            momenta.push(opt.momentum!);
          }
        });
        expectClose(lrs, c.lrs, 1e-12, 1e-15, `${c.name} lrs`);
        expectClose(momenta, c.momenta, 1e-12, 1e-15, `${c.name} momenta`);
        expect(new Set(momenta).size).toBeGreaterThan(1);
        // the closed form agrees with what step() set
        expect(s.momentumAt(1)).toBe(momenta[1]);
      });
    }
  }

  it('inside SequentialLR after a warm-up: the momentum of its own steps, as torch', () => {
    const c = fx.sequentialOnecycle;
    const opt = new SGD(arena([0]), { lr: 0.1, momentum: c.momentum });
    const warm = new LinearWarmup(opt, c.warmup);
    const cycle = new OneCycleLR(opt, c.onecycle);
    const seq = new SequentialLR(opt, { schedulers: [warm, cycle], milestones: c.milestones });
    const momenta = [opt.momentum!];
    for (let i = 1; i < c.momenta.length; i++) (seq.step(), momenta.push(opt.momentum!));
    expectClose(momenta, c.momenta, 1e-12, 1e-15, 'sequential momenta');
    expect(new Set(momenta).size).toBeGreaterThan(3);
  });

  it('cycleMomentum: false leaves the momentum alone; Adam keeps its beta2', () => {
    const opt = new SGD(arena([0, 0]), { lr: 0.1, momentum: 0.3 });
    const s = new OneCycleLR(opt, { maxLr: 1, totalSteps: 5, cycleMomentum: false });
    s.step();
    expect(opt.momentum).toBe(0.3);
    const adam = new Adam(arena([0, 0]), { betas: [0.5, 0.77] });
    new OneCycleLR(adam, { maxLr: 1, totalSteps: 5 }).step();
    expect(adam.options.betas[1]).toBe(0.77);
    expect(adam.options.betas[0]).not.toBe(0.5);
  });

  it('bad momentum options are refused before anything changes', () => {
    const opt = new SGD(arena([0, 0]), { lr: 0.1, momentum: 0.3 });
    expect(() => new OneCycleLR(opt, { maxLr: 1, totalSteps: 5, baseMomentum: 0.99 })).toThrow(/^Expected a number at most maxMomentum \(0\.95\) for baseMomentum but received 0\.99/);
    expect(() => new OneCycleLR(opt, { maxLr: 1, totalSteps: 5, maxMomentum: 1 })).toThrow(/^Expected number in \[0, 1\) for maxMomentum/);
    expect(() => new OneCycleLR(opt, { maxLr: 1, totalSteps: 5, cycleMomentum: 'yes' as any })).toThrow(TypeError);
    expect(opt.lr).toBe(0.1);
    expect(opt.momentum).toBe(0.3);
    // nesterov needs a momentum > 0: the setter keeps SGD's rule
    const nest = new SGD(arena([0, 0]), { lr: 0.1, momentum: 0.5, nesterov: true });
    expect(() => { nest.momentum = 0; }).toThrow(/^Expected momentum > 0 and dampening 0 for nesterov/);
    expect(nest.momentum).toBe(0.5);
  });
});

describe('OneCycleLR through a checkpoint', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onecycle-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const xb = tensor(randn(32, 5), [8, 4]);
  const yb = new Int32Array([0, 1, 2, 0, 1, 2, 0, 1]);
  const loss = new CrossEntropyLoss();
  function step(m: Sequential, opt: Optimizer): void {
    opt.zeroGrad();
    loss.forward(m.train().forward(xb), yb);
    m.backward(loss.backward());
    opt.step();
  }
  for (const kind of ['SGD', 'Adam'] as const) {
    it(`${kind}: the saved cycle resumes with the same lr, momentum and parameters`, () => {
      const m = new Sequential([new Linear({ inFeatures: 4, outFeatures: 6 }), new ReLU(), new Linear({ inFeatures: 6, outFeatures: 3 })], { inputShape: [4], seed: 3 });
      const opt = kind === 'SGD' ? new SGD(m.parameters(), { lr: 0.1, momentum: 0.9 }) : new Adam(m.parameters(), { lr: 0.01 });
      const sched = new OneCycleLR(opt, { maxLr: 0.2, totalSteps: 10, threePhase: kind === 'Adam', annealStrategy: kind === 'SGD' ? 'linear' : 'cos' });
      for (let i = 0; i < 3; i++) (step(m, opt), sched.step());
      const file = path.join(dir, `${kind}.safetensors`);
      saveModel(m, file, { optimizer: opt, scheduler: sched });
      const ck = loadCheckpoint(file);
      expect(ck.scheduler).toBeInstanceOf(OneCycleLR);
      expect(ck.scheduler!.lastEpoch).toBe(3);
      expect(ck.optimizer!.stateDict()).toEqual(opt.stateDict());
      expect(ck.optimizer!.momentum).toBe(opt.momentum);
      expect(opt.momentum).not.toBe(0.95);
      for (let i = 0; i < 6; i++) {
        step(m, opt);
        sched.step();
        step(ck.model, ck.optimizer!);
        ck.scheduler!.step();
        expect(ck.optimizer!.lr).toBe(opt.lr);
        expect(ck.optimizer!.momentum).toBe(opt.momentum);
      }
      expect(Array.from(ck.model.parameters().data)).toEqual(Array.from(m.parameters().data));
    });
  }
});

describe('fit with a schedule: 2 epochs + ModelCheckpoint + load + 2 epochs = 4 epochs straight', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onecycle-fit-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const n = 48;
  const x = tensor(randn(n * 4, 8), [n, 4]);
  const y = Int32Array.from({ length: n }, (_, i) => (x.data[i * 4] + x.data[i * 4 + 1] > 0 ? 1 : 0));
  const model = () => new Sequential([new Linear({ inFeatures: 4, outFeatures: 8 }), new ReLU(), new Dropout({ p: 0.2 }), new Linear({ inFeatures: 8, outFeatures: 2 })], { inputShape: [4], seed: 6 });
  const base = { batchSize: 8, seed: 2, verbose: 0 as const, loss: new CrossEntropyLoss() };
  const cases: [string, (o: Optimizer) => LRScheduler, 'batch' | 'epoch'][] = [
    ['OneCycleLR per batch (SGD momentum cycled)', (o) => new OneCycleLR(o, { maxLr: 0.3, totalSteps: 24 }), 'batch'],
    ['StepLR per epoch', (o) => new StepLR(o, { stepSize: 1, gamma: 0.5 }), 'epoch'],
  ];
  for (const [name, make, every] of cases) {
    it(name, async () => {
      const straight = model();
      const optS = new SGD(straight.parameters(), { lr: 0.1, momentum: 0.9 });
      await fit(straight, x, y, { ...base, epochs: 4, optimizer: optS, scheduler: make(optS), schedulerStep: every });

      const first = model();
      const opt = new SGD(first.parameters(), { lr: 0.1, momentum: 0.9 });
      const sched = make(opt);
      const file = path.join(dir, `${every}.safetensors`);
      await fit(first, x, y, { ...base, epochs: 2, optimizer: opt, scheduler: sched, schedulerStep: every, callbacks: [new ModelCheckpoint({ path: file, every: 2, scheduler: sched })] });
      const ck = loadCheckpoint(file);
      expect(ck.scheduler!.lastEpoch).toBe(every === 'batch' ? 12 : 2);
      await fit(ck.model, x, y, { ...base, epochs: 2, optimizer: ck.optimizer!, scheduler: ck.scheduler!, schedulerStep: every, resume: ck.trainer });
      expect(ck.optimizer!.lr).toBe(optS.lr);
      expect(ck.optimizer!.momentum).toBe(optS.momentum);
      expect(Array.from(ck.model.parameters().data)).toEqual(Array.from(straight.parameters().data));
    });
  }
  it('a schedule of another optimizer, or not a schedule, is refused', async () => {
    const m = model();
    const opt = new SGD(m.parameters(), { lr: 0.1 });
    const other = new StepLR(new SGD(model().parameters(), { lr: 0.1 }), { stepSize: 1 });
    await expect(fit(m, x, y, { ...base, optimizer: opt, callbacks: [new ModelCheckpoint({ path: path.join(dir, 'x.safetensors'), scheduler: other })] })).rejects.toThrow(/^Expected a schedule of fit's optimizer for scheduler/);
    expect(() => new ModelCheckpoint({ path: 'a', scheduler: {} as never })).toThrow(/^Expected LRScheduler \(StepLR, OneCycleLR, \.\.\.\) for scheduler/);
  });
});
