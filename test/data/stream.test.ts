// fit over a Dataset or an iterable of batches: the same run as over arrays (same seed, same
// order), get(i) and batch(indices) alike, prefetch order, validation sources, and a source that
// yields a wrong batch or throws midway (fit rejects, the model keeps the last good weights).
import { describe, it, expect } from 'vitest';
import { randn } from '../helpers';
import { ArrayDataset, Sequential, Linear, ReLU, BatchNorm1d, CrossEntropyLoss, SGD, fit, evaluate, tensor } from '../../lib/index';
import type { Batch, Dataset } from '../../lib/index';

function data(n: number, seed = 3) {
  const x = tensor(randn(n * 5, seed), [n, 5]);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = x.data[i * 5] + x.data[i * 5 + 1] > 0 ? 1 : 0;
  return { x, y };
}
const net = () => new Sequential([new Linear({ inFeatures: 5, outFeatures: 8 }), new BatchNorm1d({ numFeatures: 8 }), new ReLU(), new Linear({ inFeatures: 8, outFeatures: 2 })], { inputShape: [5], seed: 4 });
const opts = (m: Sequential, extra: Record<string, unknown> = {}) => ({
  epochs: 3, batchSize: 8, loss: new CrossEntropyLoss(), optimizer: new SGD(m.parameters(), { lr: 0.1, momentum: 0.9 }), metrics: ['accuracy' as const], verbose: 0 as const, seed: 5, ...extra,
});

describe('fit over a dataset', () => {
  it('equals fit over the same arrays (batch and get paths), validation included', async () => {
    const { x, y } = data(44);
    const v = data(12, 9);
    const a = net();
    const ha = await fit(a, x, y, opts(a, { validationData: [v.x, v.y] }));
    const b = net();
    const hb = await fit(b, new ArrayDataset(x, y), opts(b, { validationData: new ArrayDataset(v.x, v.y) }));
    expect(hb.history).toEqual(ha.history);
    expect(Array.from(b.parameters().data)).toEqual(Array.from(a.parameters().data));
    const inner = new ArrayDataset(x, y);
    const bySample: Dataset = { length: 44, get: async (i) => ({ x: x.data.slice(i * 5, i * 5 + 5), y: y[i] }) };
    const c = net();
    const hc = await fit(c, bySample, opts(c, { validationData: [v.x, v.y] }));
    expect(hc.history).toEqual(ha.history);
    expect(Array.from(c.parameters().data)).toEqual(Array.from(a.parameters().data));
    expect(inner.length).toBe(44);
    const ev = await evaluate(a, v.x, v.y, { loss: new CrossEntropyLoss(), metrics: ['accuracy'] });
    expect(ha.history.valLoss!.at(-1)).toBeCloseTo(ev.loss, 6);
  });

  it('an async iterable of batches, restarted each epoch, with the next batch asked for before each step', async () => {
    const { x, y } = data(32);
    const ds = new ArrayDataset(x, y);
    const events: string[] = [];
    let made = 0;
    const source = async function* () {
      for (let s = 0; s < 4; s++) {
        events.push(`fetch ${s}`);
        await new Promise((r) => setTimeout(r, 1));
        made++;
        yield ds.batch(Int32Array.from({ length: 8 }, (_, i) => s * 8 + i));
      }
    };
    const m = net();
    const h = await fit(m, source, opts(m, { epochs: 2, callbacks: [{ onBatchBegin: (s: number) => void events.push(`step ${s}`) }] }));
    expect(made).toBe(8);
    expect(h.history.loss.length).toBe(2);
    expect(events.slice(0, 5)).toEqual(['fetch 0', 'fetch 1', 'step 0', 'fetch 2', 'step 1']);
    // the same batches in the same order as arrays without shuffling
    const a = net();
    const ha = await fit(a, x, y, opts(a, { epochs: 2, shuffle: false }));
    expect(h.history.loss).toEqual(ha.history.loss);
  });

  it('a wrong-sized batch or a source that throws midway: fit rejects, the weights are those of the last good step', async () => {
    const { x, y } = data(24);
    const ds = new ArrayDataset(x, y);
    const good = (s: number) => ds.batch(Int32Array.from({ length: 8 }, (_, i) => s * 8 + i));
    const ref = net();
    await fit(ref, [good(0), good(1)], opts(ref, { epochs: 1 }));
    const bad: Batch = { x: tensor(new Float32Array(8 * 4), [8, 4]), y: good(2).y };
    const m1 = net();
    await expect(fit(m1, [good(0), good(1), bad], opts(m1, { epochs: 1 }))).rejects.toThrow(/^Expected a batch x of shape \[1\.\.8, 5\] for batch 2 of epoch 1 but received x of shape \[8, 4\]$/);
    expect(Array.from(m1.parameters().data)).toEqual(Array.from(ref.parameters().data));
    const m2 = net();
    const boom = new Error('disk went away');
    const failing = function* () {
      yield good(0);
      yield good(1);
      throw boom;
    };
    await expect(fit(m2, failing, opts(m2, { epochs: 1 }))).rejects.toBe(boom);
    expect(Array.from(m2.parameters().data)).toEqual(Array.from(ref.parameters().data));
    const m3 = net();
    const labels: Batch = { x: good(2).x, y: Int32Array.from([0, 1, 2, 0, 1, 0, 1, 0]) };
    await expect(fit(m3, [good(0), labels], opts(m3, { epochs: 1 }))).rejects.toThrow(RangeError);
    await expect(fit(m3, [], opts(m3, { epochs: 1 }))).rejects.toThrow(/at least one batch per epoch/);
    await expect(fit(m3, [good(0)], opts(m3, { validationSplit: 0.2 }))).rejects.toThrow(
      /^Expected validationData \(a dataset, an iterable or \[x, y\]\) with an iterable source: validationSplit needs a Dataset \(length with get or batch\) for validationSplit but received 0\.2/,
    );
  });
});
