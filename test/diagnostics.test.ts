// StatsRecorder: the numbers it records (activation slots, histograms, dead and saturated
// fractions, gradient norms, update ratios) against direct computations on the same tensors, in
// the explicit loop and as a fit callback, on both backends; it does not change training; JSON
// round trip; bad options.
import { describe, it, expect } from 'vitest';
import { backends, randn, rng } from './helpers';
import {
  Sequential, Linear, ReLU, Tanh, Sigmoid, Conv2d, Flatten, CrossEntropyLoss, SGD, fit, StatsRecorder, init, tensor,
} from '../lib/index';
import type { StatsJSON } from '../lib/index';

function data(n: number, d: number, k: number, seed: number): { x: Float32Array; y: Int32Array } {
  const x = randn(n * d, seed);
  const r = rng(seed + 1);
  const y = Int32Array.from({ length: n }, () => Math.floor(r() * k));
  return { x, y };
}

function mlp(backend: any, seed = 3): Sequential {
  return new Sequential(
    [new Linear({ inFeatures: 12, outFeatures: 16 }), new Tanh(), new Linear({ inFeatures: 16, outFeatures: 16 }), new ReLU(), new Linear({ inFeatures: 16, outFeatures: 10 }), new Sigmoid(), new Linear({ inFeatures: 10, outFeatures: 4 })],
    { backend, seed, inputShape: [12] },
  );
}

function direct(y: Float32Array) {
  let s = 0, q = 0, mn = Infinity, mx = -Infinity, z = 0, st = 0, ss = 0;
  for (const v of y) {
    s += v; q += v * v; mn = Math.min(mn, v); mx = Math.max(mx, v); if (v === 0) z++;
    if (Math.abs(v) > Math.fround(0.99)) st++;
    if (v < Math.fround(0.01) || v > Math.fround(0.99)) ss++;
  }
  const mean = s / y.length;
  return { mean, std: Math.sqrt(q / y.length - mean * mean), min: mn, max: mx, zeros: z / y.length, satT: st / y.length, satS: ss / y.length };
}

const norm = (a: Float32Array) => Math.sqrt(a.reduce((t, v) => t + v * v, 0));

describe('StatsRecorder in the explicit loop', () => {
  for (const [bname, backend] of backends) {
    it(`${bname}: records every 3 steps what a direct computation gives`, () => {
      const model = mlp(backend);
      const arena = model.parameters();
      const opt = new SGD(arena, { lr: 0.5, momentum: 0.9 });
      const loss = new CrossEntropyLoss();
      const rec = new StatsRecorder(model, { every: 3, bins: 10, optimizer: opt });
      const { x, y } = data(32, 12, 4, 7);
      const xt = tensor(x, [32, 12]);
      for (let s = 0; s < 7; s++) {
        opt.zeroGrad();
        const l = loss.forward(model.forward(xt), y);
        model.backward(loss.backward());
        const w0 = Float32Array.from(arena.data);
        opt.step();
        const recorded = rec.step(l);
        expect(recorded).toBe(s % 3 === 0);
        if (recorded) {
          const r = rec.records[rec.records.length - 1];
          expect(r.step).toBe(s);
          expect(r.loss).toBe(l);
          expect(r.lr).toBe(0.5);
          model.layers.forEach((layer, i) => {
            const out = layer.lastOutput()!.data;
            const d = direct(out);
            const got = r.layers[i];
            expect(got.mean).toBeCloseTo(d.mean, 6);
            expect(got.std).toBeCloseTo(d.std, 5);
            expect(got.min).toBe(d.min);
            expect(got.max).toBe(d.max);
            expect(got.zeros).toBeCloseTo(d.zeros, 12);
            expect(got.hist.reduce((a, b) => a + b, 0)).toBe(out.length);
            if (layer.className === 'Tanh') expect(got.saturated).toBeCloseTo(d.satT, 12);
            if (layer.className === 'Sigmoid') expect(got.saturated).toBeCloseTo(d.satS, 12);
            if (layer.className === 'ReLU') {
              let dead = 0;
              for (let u = 0; u < 16; u++) {
                let alive = false;
                for (let b = 0; b < 32; b++) if (out[b * 16 + u] !== 0) alive = true;
                if (!alive) dead++;
              }
              expect(got.dead).toBe(dead / 16);
            } else expect(got.dead).toBeUndefined();
          });
          arena.views.forEach((v, i) => {
            const w = arena.data.subarray(v.offset, v.offset + v.size);
            const g = arena.grad.subarray(v.offset, v.offset + v.size);
            const dw = w.map((val, j) => val - w0[v.offset + j]);
            const p = r.params[i];
            expect(p.gradNorm).toBeCloseTo(norm(g), 5);
            expect(p.weightNorm).toBeCloseTo(norm(w), 5);
            expect(p.updateRatio! / (norm(dw) / norm(w))).toBeCloseTo(1, 5);
          });
          // Tanh histogram over the fixed [-1, 1] range: bin of each value
          const th = model.layers[1].lastOutput()!.data;
          const expectHist = new Array(10).fill(0);
          for (const v of th) expectHist[Math.min(9, Math.max(0, Math.floor((v + 1) * 5)))]++;
          expect(r.layers[1].hist).toEqual(expectHist);
        }
      }
      expect(rec.records.map((r) => r.step)).toEqual([0, 3, 6]);
      expect(rec.losses.length).toBe(7);
      const js = rec.toJSON();
      expect(js.layers.map((l) => l.className)).toEqual(['Linear', 'Tanh', 'Linear', 'ReLU', 'Linear', 'Sigmoid', 'Linear']);
      expect(js.layers[1].hist).toEqual({ lo: -1, hi: 1, bins: 10 });
      expect(js.layers[5].hist).toEqual({ lo: 0, hi: 1, bins: 10 });
      expect(js.params.map((p) => p.name)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias', '4.weight', '4.bias', '6.weight', '6.bias']);
      const back = JSON.parse(JSON.stringify(js)) as StatsJSON;
      expect(back).toEqual(js);
    });
  }

  it('a ReLU after a strongly negative bias is 100% dead; a conv layer counts channels', () => {
    const lin = new Linear({ inFeatures: 4, outFeatures: 6, biasInit: init.constant(-100) });
    const model = new Sequential([lin, new ReLU()], { inputShape: [4] });
    const rec = new StatsRecorder(model, { every: 1 });
    model.forward(tensor(randn(8 * 4, 2), [8, 4]));
    rec.step();
    expect(rec.records[0].layers[1].dead).toBe(1);
    expect(rec.records[0].layers[1].zeros).toBe(1);
    expect(rec.records[0].params[0].updateRatio).toBe(0); // no optimizer step: Δw = 0

    const conv = new Sequential([new Conv2d({ inChannels: 1, outChannels: 3, kernelSize: 3, biasInit: init.constant(0) }), new ReLU(), new Flatten()], { inputShape: [1, 6, 6] });
    const c0 = conv.layers[0] as Conv2d;
    c0.parameters()[0].data.fill(0);
    c0.parameters()[0].data.fill(1, 0, 9); // channel 0 sums the window, channels 1 and 2 are 0
    const r2 = new StatsRecorder(conv, { every: 1 });
    conv.forward(tensor(randn(2 * 36, 3, 0.1, 1), [2, 1, 6, 6]));
    r2.step();
    expect(r2.records[0].layers[1].dead).toBeCloseTo(2 / 3, 12);
  });
});

describe('StatsRecorder as a fit callback', () => {
  it('records every 4 steps, epochs and losses, and leaves training unchanged', async () => {
    const { x, y } = data(60, 12, 4, 11);
    const run = async (withStats: boolean) => {
      const model = mlp('native', 5);
      const opt = new SGD(model.parameters(), { lr: 0.1 });
      const rec = withStats ? new StatsRecorder(model, { every: 4, optimizer: opt }) : null;
      const h = await fit(model, tensor(x, [60, 12]), y, { epochs: 2, batchSize: 10, loss: new CrossEntropyLoss(), optimizer: opt, verbose: 0, callbacks: rec ? [rec] : [] });
      return { h, rec, w: Float32Array.from(model.parameters().data) };
    };
    const a = await run(false);
    const b = await run(true);
    expect(Array.from(b.w)).toEqual(Array.from(a.w));
    expect(b.h).toEqual(a.h);
    const rec = b.rec!;
    expect(rec.steps).toBe(12);
    expect(rec.records.map((r) => [r.step, r.epoch])).toEqual([[0, 0], [4, 0], [8, 1]]);
    expect(rec.losses.length).toBe(12);
    expect(rec.records.every((r) => r.params.every((p) => p.updateRatio !== null && p.updateRatio > 0))).toBe(true);
    // the per-step losses average to the epoch loss (equal batch sizes)
    const mean = rec.losses.slice(0, 6).reduce((s, v) => s + v, 0) / 6;
    expect(mean).toBeCloseTo(b.h.history.loss[0], 6);
  });
});

describe('StatsRecorder options', () => {
  const model = mlp('js');
  it('rejects bad options in the one message form', () => {
    expect(() => new StatsRecorder({} as any)).toThrow(new TypeError('Expected Sequential model for model but received object of type Object'));
    expect(() => new StatsRecorder(model, { every: 0 })).toThrow(new RangeError('Expected integer >= 1 for every but received 0 of type number'));
    expect(() => new StatsRecorder(model, { bins: 1.5 })).toThrow(RangeError);
    expect(() => new StatsRecorder(model, { range: [1, 1] })).toThrow(new RangeError('Expected number > range[0] = 1 for range[1] but received 1 of type number'));
    expect(() => new StatsRecorder(model, { evry: 3 } as any)).toThrow(/did you mean 'every'/);
    expect(() => new StatsRecorder(model, { optimizer: {} as any })).toThrow(TypeError);
  });
  it('step() before any forward pass says so', () => {
    const m = new Sequential([new Linear({ inFeatures: 2, outFeatures: 2 })]);
    const rec = new StatsRecorder(m);
    expect(() => rec.step()).toThrow(/not built yet/);
  });
});
