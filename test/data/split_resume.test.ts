// validationSplit and exact resume over a random-access Dataset: the same split, run and trainer
// state as arrays; 2 epochs + save + load + 2 epochs = 4 epochs straight, bit for bit; an iterable
// source is refused validationSplit (and a Dataset's state) with a message that says what to pass.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, it, expect } from 'vitest';
import { randn } from '../helpers';
import {
  Adam, ArrayDataset, BatchNorm1d, CrossEntropyLoss, Dropout, Linear, ModelCheckpoint, ReLU, Sequential, fit, loadCheckpoint, saveModel, tensor,
} from '../../lib/index';
import type { Dataset } from '../../lib/index';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minibatch-ds-resume-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function data(n: number) {
  const x = tensor(randn(n * 5, 21), [n, 5]);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = (x.data[i * 5] + x.data[i * 5 + 1] > 0 ? 1 : 0) + (x.data[i * 5 + 2] > 0.5 ? 1 : 0);
  return { x, y };
}
const net = () => new Sequential([
  new Linear({ inFeatures: 5, outFeatures: 12 }), new BatchNorm1d({ numFeatures: 12 }), new ReLU(), new Dropout({ p: 0.2 }), new Linear({ inFeatures: 12, outFeatures: 3 }),
], { inputShape: [5], seed: 2 });
const base = { batchSize: 16, seed: 7, verbose: 0 as const, loss: new CrossEntropyLoss(), metrics: ['accuracy' as const] };
const bySample = (x: { data: Float32Array }, y: Int32Array): Dataset => ({ length: y.length, get: async (i) => ({ x: x.data.slice(i * 5, i * 5 + 5), y: y[i] }) });

describe('validationSplit over a Dataset', () => {
  it('holds out the same rows as arrays do: the same run, batch and get paths', async () => {
    const { x, y } = data(90);
    const a = net();
    const ha = await fit(a, x, y, { ...base, epochs: 3, validationSplit: 0.2, optimizer: new Adam(a.parameters(), { lr: 0.01 }) });
    for (const ds of [new ArrayDataset(x, y), bySample(x, y)]) {
      const b = net();
      const hb = await fit(b, ds, { ...base, epochs: 3, validationSplit: 0.2, optimizer: new Adam(b.parameters(), { lr: 0.01 }) });
      expect(hb.history.loss).toEqual(ha.history.loss);
      expect(hb.history.accuracy).toEqual(ha.history.accuracy);
      expect(hb.history.valAccuracy).toEqual(ha.history.valAccuracy);
      hb.history.valLoss!.forEach((v, i) => expect(v).toBeCloseTo(ha.history.valLoss![i], 6));
      expect(Array.from(b.parameters().data)).toEqual(Array.from(a.parameters().data));
      expect(hb.trainerState.valIndex).toEqual(ha.trainerState.valIndex);
      expect(hb.trainerState.valIndex!.length).toBe(18);
    }
  });

  it('a split that leaves a side empty, and an iterable source, are refused before anything changes', async () => {
    const { x, y } = data(4);
    const m = net();
    const before = Float32Array.from(m.parameters().data);
    const o = { ...base, batchSize: 2, optimizer: new Adam(m.parameters()) };
    await expect(fit(m, new ArrayDataset(x, y), { ...o, validationSplit: 0.1 })).rejects.toThrow(/^Expected a split leaving at least one sample on each side of 4 for validationSplit but received 0\.1/);
    const batches = [new ArrayDataset(x, y).batch(Int32Array.from([0, 1, 2, 3]))];
    await expect(fit(m, batches, { ...o, validationSplit: 0.5 })).rejects.toThrow(/with an iterable source: validationSplit needs a Dataset/);
    await expect(fit(m, batches, { ...o, resume: {} as never })).rejects.toThrow(TypeError);
    const dsState = (await fit(net(), new ArrayDataset(x, y), { ...base, batchSize: 2, optimizer: new Adam(net().parameters()) })).trainerState;
    await expect(fit(m, batches, { ...o, resume: dsState })).rejects.toThrow(
      /^Expected a state saved by a fit over an iterable \(a Dataset's state continues that Dataset\) for resume but received the sample order of 4 samples$/,
    );
    expect(Array.from(m.parameters().data)).toEqual(Array.from(before));
  });
});

describe('exact resume over a Dataset', () => {
  for (const split of [0, 0.25]) {
    it(`2 epochs + save + load + 2 epochs = 4 epochs straight, bit for bit (validationSplit ${split})`, async () => {
      const { x, y } = data(100);
      const ds = bySample(x, y);
      const straight = net();
      const optS = new Adam(straight.parameters(), { lr: 0.01 });
      const hs = await fit(straight, ds, { ...base, epochs: 4, validationSplit: split, optimizer: optS });
      expect(hs.trainerState.epochs).toBe(4);

      const first = net();
      const opt = new Adam(first.parameters(), { lr: 0.01 });
      const every = new ModelCheckpoint({ path: path.join(dir, `mid-${split}.safetensors`), every: 2 });
      await fit(first, ds, { ...base, epochs: 2, validationSplit: split, optimizer: opt, callbacks: [every] });
      const ck = loadCheckpoint(every.saved[0]);
      expect(ck.trainer!.epochs).toBe(2);
      const h2 = await fit(ck.model, ds, { ...base, epochs: 2, validationSplit: split, optimizer: ck.optimizer!, resume: ck.trainer });
      expect(h2.history.loss).toEqual(hs.history.loss.slice(2));
      expect(h2.trainerState.epochs).toBe(4);
      expect(Array.from(ck.model.parameters().data)).toEqual(Array.from(straight.parameters().data));
      expect(ck.model.stateDict()).toEqual(straight.stateDict());
      expect(ck.optimizer!.stateDict()).toEqual(optS.stateDict());
      expect(h2.trainerState.rng).toEqual(hs.trainerState.rng);
      // an array fit's state continues over the same data as a Dataset, and the other way round
      const c = net();
      const optC = new Adam(c.parameters(), { lr: 0.01 });
      const hc = await fit(c, x, y, { ...base, epochs: 2, validationSplit: split, optimizer: optC });
      const file = path.join(dir, `arrays-${split}.safetensors`);
      saveModel(c, file, { optimizer: optC, trainer: hc.trainerState });
      const ck2 = loadCheckpoint(file);
      await fit(ck2.model, new ArrayDataset(x, y), { ...base, epochs: 2, validationSplit: split, optimizer: ck2.optimizer!, resume: ck2.trainer });
      expect(Array.from(ck2.model.parameters().data)).toEqual(Array.from(straight.parameters().data));
    });
  }

  it('a state of other data or another seed is refused', async () => {
    const { x, y } = data(40);
    const m = net();
    const opt = new Adam(m.parameters());
    const h = await fit(m, new ArrayDataset(x, y), { ...base, epochs: 1, optimizer: opt });
    const small = data(30);
    await expect(fit(m, new ArrayDataset(small.x, small.y), { ...base, optimizer: opt, resume: h.trainerState })).rejects.toThrow(/^Expected the sample order of 30 samples/);
    await expect(fit(m, new ArrayDataset(x, y), { ...base, seed: 8, optimizer: opt, resume: h.trainerState })).rejects.toThrow(/^Expected the seed of the run it continues \(7\) for seed/);
  });
});
