// fit's NaN/Inf guard with the stock losses and BatchNorm: a diverging run stops with
// NonFiniteLossError naming epoch and step, and the weights, every buffer (running statistics,
// num_batches_tracked) and the optimizer's state are back at the last good step; targets the loss
// cannot take are refused before any state changes.
import { describe, it, expect } from 'vitest';
import {
  Sequential, Linear, ReLU, BatchNorm1d, CrossEntropyLoss, MSELoss, BCEWithLogitsLoss, MultiMarginLoss,
  SGD, Adam, AdamW, RMSProp, fit, predict, NonFiniteLossError, tensor,
} from '../lib/index';
import type { Optimizer } from '../lib/optim';
import type { Backend } from '../lib/backend/types';
import { rng, backends } from './helpers';

function data(n: number, seed: number) {
  const r = rng(seed);
  const x = new Float32Array(n * 6);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let j = 0; j < 6; j++) x[i * 6 + j] = (j % 3 === y[i] ? 2 : 0) + (r() - 0.5);
  }
  return { x: tensor(x, [n, 6]), y };
}

const model = (out = 3) =>
  new Sequential([new Linear({ inFeatures: 6, outFeatures: 8 }), new BatchNorm1d({ numFeatures: 8 }), new ReLU(), new Linear({ inFeatures: 8, outFeatures: out })], { inputShape: [6], seed: 3 });

/** Everything a step changes, copied: parameters, buffers, optimizer state. */
function state(m: Sequential, opt: Optimizer) {
  return {
    params: Array.from(m.parameters().data),
    buffers: m.layers.flatMap((l) => l.buffers().map((b) => Array.from(b.data))),
    opt: JSON.stringify(opt.stateDict()),
  };
}

const cases: [string, (o: number) => any, (y: Int32Array) => any][] = [
  ['CrossEntropyLoss', () => new CrossEntropyLoss(), (y) => y],
  ['MultiMarginLoss', () => new MultiMarginLoss(), (y) => y],
  ['MSELoss', () => new MSELoss(), (y) => tensor(Float32Array.from({ length: y.length * 3 }, (_, i) => (i % 3 === y[Math.floor(i / 3)] ? 1 : 0)), [y.length, 3])],
  ['BCEWithLogitsLoss', () => new BCEWithLogitsLoss(), (y) => tensor(Float32Array.from({ length: y.length * 3 }, (_, i) => (i % 3 === y[Math.floor(i / 3)] ? 1 : 0)), [y.length, 3])],
];

describe('the NaN guard with the stock losses and BatchNorm', () => {
  for (const [name, mkLoss, targets] of cases) {
    for (const Opt of [SGD, Adam]) {
      it(`${name}, ${Opt.name} with lr 1e30: NonFiniteLossError, everything back at the last good step`, async () => {
        const { x, y } = data(40, 5);
        const m = model();
        const opt = Opt === SGD ? new SGD(m.parameters(), { lr: 1e30, momentum: 0.9 }) : new Adam(m.parameters(), { lr: 1e30 });
        // states[k]: after k steps (states[0] before training)
        const states = [state(m, opt)];
        const err = await fit(m, x, targets(y), {
          epochs: 20, batchSize: 10, loss: mkLoss(3), optimizer: opt, verbose: 0, shuffle: false,
          callbacks: [{ onBatchEnd: () => void states.push(state(m, opt)) }],
        }).catch((e) => e);
        expect(err).toBeInstanceOf(NonFiniteLossError);
        const g = Number(/global step (\d+)/.exec(err.message)![1]);
        expect(err.message).toMatch(new RegExp(`^Training stopped: .* at epoch ${err.epoch + 1}, step ${err.step + 1} \\(global step ${g}\\)`));
        expect(err.epoch * 4 + err.step + 1).toBe(g);
        // the failing step g found the update of step g - 1 diverged: back to before step g - 1
        const want = states[Math.max(0, g - 2)];
        const got = state(m, opt);
        expect(got.params).toEqual(want.params);
        expect(got.buffers).toEqual(want.buffers);
        expect(got.opt).toEqual(want.opt);
        expect(got.params.every(Number.isFinite) && got.buffers.flat().every(Number.isFinite)).toBe(true);
        // the model still predicts finite values, and its own state dict reloads
        const p = await predict(m, x);
        expect(p.data.every(Number.isFinite)).toBe(true);
        const again = model();
        again.loadStateDict(m.stateDict());
        expect(Array.from(again.parameters().data)).toEqual(got.params);
      });
    }
  }

  it('a non-finite parameter after the last step of an epoch is caught and rolled back too', async () => {
    const { x, y } = data(10, 6);
    const m = model();
    const opt = new SGD(m.parameters(), { lr: 0.1 });
    const before = state(m, opt);
    // an optimizer whose one and only update writes NaN (no later forward would see it)
    const nanOpt = { step: () => void m.parameters().data.fill(NaN), zeroGrad: () => {} };
    const err = await fit(m, x, y, { epochs: 1, batchSize: 10, loss: new CrossEntropyLoss(), optimizer: nanOpt, verbose: 0 }).catch((e) => e);
    expect(err).toBeInstanceOf(NonFiniteLossError);
    expect(err.message).toMatch(/a parameter became NaN or infinite at epoch 1, step 1 \(global step 1\)/);
    expect(state(m, opt).params).toEqual(before.params);
    expect(state(m, opt).buffers).toEqual(before.buffers);
  });

  it('an update that writes an infinity in the middle of an epoch is undone at that step', async () => {
    const { x, y } = data(40, 8);
    const m = model();
    class Faulty extends SGD {
      override step(): void {
        super.step();
        if (this.steps === 3) this.params[0].data[5] = Infinity; // a finite loss would not show it yet
      }
    }
    const opt = new Faulty(m.parameters(), { lr: 0.05, momentum: 0.9 });
    const states = [state(m, opt)];
    const err = await fit(m, x, y, {
      epochs: 2, batchSize: 10, loss: new CrossEntropyLoss(), optimizer: opt, verbose: 0, shuffle: false,
      callbacks: [{ onBatchEnd: () => void states.push(state(m, opt)) }],
    }).catch((e) => e);
    expect(err).toBeInstanceOf(NonFiniteLossError);
    expect(err.message).toMatch(/^Training stopped: a parameter became NaN or infinite at epoch 1, step 3 \(global step 3\)/);
    expect([err.epoch, err.step]).toEqual([0, 2]);
    expect(states.length).toBe(3); // the third step never reached onBatchEnd
    expect(state(m, opt)).toEqual(states[2]); // before the faulty update: weights, BatchNorm statistics, momentum, step count
    expect(opt.steps).toBe(2);
  });

  it('a step whose backward throws is undone to its start (the forward already moved the statistics)', async () => {
    const { x, y } = data(40, 9);
    const m = model();
    const opt = new SGD(m.parameters(), { lr: 0.1, momentum: 0.9 });
    const ce = new CrossEntropyLoss();
    let calls = 0;
    const flaky = {
      forward: (out: any, t: any) => ce.forward(out, t),
      backward: () => {
        if (++calls === 2) throw new RangeError('Expected a gradient for backward but received none');
        return ce.backward();
      },
    };
    const states = [state(m, opt)];
    const err = await fit(m, x, y, {
      epochs: 1, batchSize: 10, loss: flaky, optimizer: opt, verbose: 0, shuffle: false,
      callbacks: [{ onBatchEnd: () => void states.push(state(m, opt)) }],
    }).catch((e) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect(states.length).toBe(2);
    expect(state(m, opt)).toEqual(states[1]);
    expect(state(m, opt).buffers).not.toEqual(states[0].buffers); // the first step did move them
  });
});

describe('targets the loss cannot take are refused before any state changes', () => {
  const { x, y } = data(20, 7);
  const runs: [string, () => Promise<unknown>, string][] = [
    ['class labels for MSELoss', () => fit(m0, x, y, opts(new MSELoss())), "Expected a target tensor with rows of shape [3] (the model's output) for this loss for y but received class indices"],
    ['targets of another shape for MSELoss', () => fit(m0, x, tensor(new Float32Array(40), [20, 2]), opts(new MSELoss())), "Expected rows of shape [3] (the model's output) for y but received rows of shape [2]"],
    ['a target tensor of another shape for CrossEntropyLoss', () => fit(m0, x, tensor(new Float32Array(40), [20, 2]), opts(new CrossEntropyLoss())), "Expected class indices or probability rows of shape [3] (the model's output) for y but received rows of shape [2]"],
  ];
  const m0 = model();
  const o0 = new SGD(m0.parameters(), { lr: 0.1 });
  function opts(loss: any) {
    return { loss, optimizer: o0, verbose: 0 as const, batchSize: 10 };
  }
  for (const [what, run, message] of runs) {
    it(what, async () => {
      const before = state(m0, o0);
      const err: any = await run().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err.message).toBe(message);
      expect(state(m0, o0)).toEqual(before);
    });
  }

  it('a custom loss that throws on its target: the step is undone before the error propagates', async () => {
    const m = model();
    const opt = new SGD(m.parameters(), { lr: 0.1, momentum: 0.9 });
    const before = state(m, opt);
    const picky = { forward: () => { throw new RangeError('Expected something else for target but received this'); }, backward: () => tensor([[0]]) };
    const err = await fit(m, x, y, { loss: picky, optimizer: opt, verbose: 0, batchSize: 10 }).catch((e) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect(err.message).toBe('Expected something else for target but received this');
    expect(state(m, opt)).toEqual(before); // BatchNorm statistics and num_batches_tracked included
  });
});

/** A backend that counts the calls of each kernel of `base`. */
function counting(base: Backend): { backend: Backend; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const b: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(base)) {
    b[k] = typeof v === 'function' ? (...a: unknown[]) => ((calls[k] = (calls[k] ?? 0) + 1), (v as (...x: unknown[]) => unknown)(...a)) : v;
  }
  return { backend: b as unknown as Backend, calls };
}

// The stock optimizers take the fused guard (Optimizer.stepGuarded: copies, update and check in one
// pass); a subclass takes the separate copies, update and check. Both must train the same bits.
describe('the fused guard', () => {
  const { x, y } = data(40, 11);
  const mk = (backend: Backend) =>
    new Sequential([new Linear({ inFeatures: 6, outFeatures: 8 }), new BatchNorm1d({ numFeatures: 8 }), new ReLU(), new Linear({ inFeatures: 8, outFeatures: 3 })], { inputShape: [6], seed: 3, backend });
  class PlainSGD extends SGD {}
  class PlainAdam extends Adam {}
  class PlainAdamW extends AdamW {}
  class PlainRMSProp extends RMSProp {}
  const kinds: [string, (m: Sequential, plain: boolean) => Optimizer, string][] = [
    ['SGD momentum nesterov', (m, p) => new (p ? PlainSGD : SGD)(m.parameters(), { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }), 'sgdStepGuarded'],
    ['SGD', (m, p) => new (p ? PlainSGD : SGD)(m.parameters(), { lr: 0.05 }), 'sgdStepGuarded'],
    ['Adam', (m, p) => new (p ? PlainAdam : Adam)(m.parameters(), { lr: 0.01, weightDecay: 1e-3 }), 'adamStepGuarded'],
    ['AdamW', (m, p) => new (p ? PlainAdamW : AdamW)(m.parameters(), { lr: 0.01 }), 'adamStepGuarded'],
    ['RMSProp momentum', (m, p) => new (p ? PlainRMSProp : RMSProp)(m.parameters(), { lr: 0.01, momentum: 0.5 }), 'rmspropStepGuarded'],
  ];
  for (const [bname, base] of backends) {
    for (const [name, make, kernel] of kinds) {
      it(`${bname} ${name}: the same weights, buffers and optimizer state as the separate copies and check`, async () => {
        const run = async (plain: boolean) => {
          const { backend, calls } = counting(base);
          const m = mk(backend);
          const opt = make(m, plain);
          // two fits: the second takes over the first's guard arrays
          for (let r = 0; r < 2; r++) {
            await fit(m, x, y, { epochs: 2, batchSize: 10, loss: new CrossEntropyLoss(), optimizer: opt, verbose: 0, seed: 5 });
          }
          return { s: state(m, opt), calls };
        };
        const fused = await run(false);
        const plain = await run(true);
        // the state dicts differ only in the kind, the subclass's name
        expect(fused.s).toEqual({ ...plain.s, opt: plain.s.opt.replace('"kind":"Plain', '"kind":"') });
        expect(fused.s.params).not.toEqual(Array.from(mk(base).parameters().data)); // it trained
        // 16 steps: all fused, but SGD's first momentum step (it creates the buffer)
        const firstPlain = name.startsWith('SGD momentum') ? 1 : 0;
        expect(fused.calls[kernel] ?? 0).toBe(16 - firstPlain);
        expect(plain.calls[kernel] ?? 0).toBe(0);
      });
    }
  }

  for (const [name, make] of kinds) {
    it(`${name}: an update that writes an infinite weight mid-run is undone to before it (weights, buffers, optimizer state)`, async () => {
      const { backend, calls } = counting(backends[1][1]);
      const m = mk(backend);
      const opt = make(m, false);
      const states = [state(m, opt)];
      const kernel = kinds.find((k) => k[0] === name)![2];
      const err = await fit(m, x, y, {
        epochs: 2, batchSize: 10, loss: new CrossEntropyLoss(), optimizer: opt, verbose: 0, shuffle: false,
        callbacks: [{
          // float32(1e39) is infinite: the update of step 3 writes infinities, which no forward has seen yet
          onBatchBegin: () => void (opt.steps === 2 && (opt.lr = 1e39)),
          onBatchEnd: () => void states.push(state(m, opt)),
        }],
      }).catch((e) => e);
      expect(err).toBeInstanceOf(NonFiniteLossError);
      expect(err.message).toMatch(/^Training stopped: a parameter became NaN or infinite at epoch 1, step 3 \(global step 3\)/);
      expect(states.length).toBe(3);
      const got = state(m, opt);
      // the lr a callback set is not the optimizer's state; everything else is back before step 3
      expect(JSON.parse(got.opt).options.lr).toBe(1e39);
      opt.lr = JSON.parse(states[2].opt).options.lr;
      expect(state(m, opt)).toEqual(states[2]);
      expect(opt.steps).toBe(2);
      expect(got.params.every(Number.isFinite)).toBe(true);
      expect(calls[kernel]).toBeGreaterThanOrEqual(2); // step 3 took the fused guard
    });
  }
});
