// fit over (async) iterables of single samples (batched by fit) and the seeded shuffle buffer:
// the same run as arrays without shuffling, what the buffer may reorder and what it may not,
// determinism for a seed, and the refusals.
import { describe, it, expect } from 'vitest';
import { randn } from '../helpers';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ArrayDataset, Sequential, Linear, ReLU, CrossEntropyLoss, SGD, fit, tensor, Generator, ModelCheckpoint, loadCheckpoint } from '../../lib/index';
import type { Sample } from '../../lib/index';
import { iterableBatches } from '../../lib/data/iterate';

function data(n: number, seed = 3) {
  const x = tensor(randn(n * 5, seed), [n, 5]);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = x.data[i * 5] + x.data[i * 5 + 1] > 0 ? 1 : 0;
  return { x, y };
}
const net = () => new Sequential([new Linear({ inFeatures: 5, outFeatures: 8 }), new ReLU(), new Linear({ inFeatures: 8, outFeatures: 2 })], { inputShape: [5], seed: 4 });
const opts = (m: Sequential, extra: Record<string, unknown> = {}) => ({
  epochs: 2, batchSize: 8, loss: new CrossEntropyLoss(), optimizer: new SGD(m.parameters(), { lr: 0.1, momentum: 0.9 }), metrics: ['accuracy' as const], verbose: 0 as const, seed: 5, ...extra,
});
const samplesOf = (x: { data: Float32Array }, y: Int32Array) => function* (): IterableIterator<Sample> {
  for (let i = 0; i < y.length; i++) yield { x: x.data.slice(i * 5, i * 5 + 5), y: y[i] };
};

describe('fit over an iterable of samples', () => {
  it('batches them: the run of arrays without shuffling (sync, async, dropLast, validation samples)', async () => {
    const { x, y } = data(44);
    const v = data(12, 9);
    const a = net();
    const ha = await fit(a, x, y, opts(a, { shuffle: false, validationData: [v.x, v.y] }));
    const b = net();
    const hb = await fit(b, samplesOf(x, y), opts(b, { validationData: samplesOf(v.x, v.y) }));
    expect(hb.history).toEqual(ha.history);
    expect(Array.from(b.parameters().data)).toEqual(Array.from(a.parameters().data));

    const c = net();
    const hc = await fit(c, x, y, opts(c, { shuffle: false, dropLast: true }));
    const d = net();
    const sizes: number[] = [];
    const asyncSamples = async function* () {
      for (const s of samplesOf(x, y)()) {
        await Promise.resolve();
        yield { x: tensor(s.x as Float32Array, [5]), y: s.y };
      }
    };
    const hd = await fit(d, asyncSamples, opts(d, { dropLast: true, callbacks: [{ onBatchBegin: (_b: number, l: { size: number }) => void sizes.push(l.size) }] }));
    expect(hd.history.loss).toEqual(hc.history.loss);
    expect(sizes).toEqual(Array(10).fill(8)); // 44 = 5·8 + 4 per epoch, the 4 dropped
  });

  it('a sample of the wrong size, a batch among samples and a class out of range are refused', async () => {
    const { x, y } = data(16);
    const m = net();
    const before = Float32Array.from(m.parameters().data);
    const items: unknown[] = [...samplesOf(x, y)()];
    await expect(fit(m, [...items.slice(0, 3), { x: new Float32Array(4), y: 0 }], opts(m))).rejects.toThrow(
      /^Expected a sample x of 5 values \(shape \[5\]\) for batch 0 of epoch 1 sample 3 but received/,
    );
    const batch = new ArrayDataset(x, y).batch(Int32Array.from([0, 1]));
    await expect(fit(m, [...items.slice(0, 5), batch], opts(m))).rejects.toThrow(/^Expected a sample like the first item for item 5 of epoch 1 but received a batch$/);
    await expect(fit(m, [{ x: new Float32Array(5), y: 7 }], opts(m))).rejects.toThrow(RangeError);
    expect(Array.from(m.parameters().data)).toEqual(Array.from(before));
  });
});

describe('shuffleBuffer', () => {
  const ids = (n: number) => Array.from({ length: n }, (_, i) => ({ x: Float32Array.of(i), y: 0 }));
  async function order(n: number, buffer: number, seed: number, epochs = 1): Promise<number[][]> {
    const rng = new Generator(seed);
    const out: number[][] = [];
    for (let e = 0; e < epochs; e++) {
      const next = iterableBatches(ids(n), { batchSize: 4, dropLast: false, rowShape: [1], shuffleBuffer: buffer, rng, where: `epoch ${e + 1}` });
      const seen: number[] = [];
      for (let b = await next(); b; b = await next()) seen.push(...b.x.data);
      out.push(seen);
    }
    return out;
  }

  it('is a permutation that moves no item ahead by a buffer or more, seeded, and new each epoch', async () => {
    const [a, b] = await order(50, 8, 1, 2);
    expect([...a].sort((p, q) => p - q)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(a).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    // item i is in the buffer only once the first i - 7 items have left: it leaves at position > i - 8
    a.forEach((item, pos) => expect(item - pos).toBeLessThan(8));
    expect(Math.max(...a.map((item, pos) => item - pos))).toBeGreaterThan(3);
    expect(b).not.toEqual(a); // the generator goes on from epoch to epoch
    expect(await order(50, 8, 1, 2)).toEqual([a, b]); // the same seed, the same orders
    expect((await order(50, 8, 2))[0]).not.toEqual(a);
    // a buffer of 1 keeps the order; one as large as the data draws from all of it
    expect((await order(20, 1, 1))[0]).toEqual(Array.from({ length: 20 }, (_, i) => i));
    const wide = (await order(20, 64, 3))[0];
    expect(wide.slice(0, 5).some((v) => v >= 10)).toBe(true);
  });

  it('in fit: the same seed gives the same run, another seed another; shuffle: false turns it off', async () => {
    const { x, y } = data(40);
    const run = async (extra: Record<string, unknown>) => {
      const m = net();
      await fit(m, samplesOf(x, y), opts(m, extra));
      return Array.from(m.parameters().data);
    };
    const one = await run({ shuffleBuffer: 16 });
    expect(await run({ shuffleBuffer: 16 })).toEqual(one);
    expect(await run({ shuffleBuffer: 16, seed: 6 })).not.toEqual(one);
    const plain = await run({});
    expect(one).not.toEqual(plain);
    expect(await run({ shuffleBuffer: 16, shuffle: false })).toEqual(plain);
  });

  it('is refused for arrays and for a Dataset, and must be an integer >= 0', async () => {
    const { x, y } = data(16);
    const m = net();
    await expect(fit(m, x, y, opts(m, { shuffleBuffer: 8 }))).rejects.toThrow(/^Expected an iterable source for shuffleBuffer \(arrays are shuffled by a full seeded permutation\) for shuffleBuffer but received 8/);
    await expect(fit(m, new ArrayDataset(x, y), opts(m, { shuffleBuffer: 8 }))).rejects.toThrow(/^Expected an iterable source for shuffleBuffer \(a Dataset/);
    await expect(fit(m, samplesOf(x, y), opts(m, { shuffleBuffer: -1 }))).rejects.toThrow(RangeError);
    await expect(fit(m, samplesOf(x, y), opts(m, { shuffleBuffer: 2.5 }))).rejects.toThrow(/for shuffleBuffer/);
  });
});

describe('resume over an iterable', () => {
  it('continues the epoch count and the shuffle buffer: 2 epochs + ModelCheckpoint + load + 2 = 4 straight', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minibatch-iter-resume-'));
    try {
      const { x, y } = data(40);
      const o = (m: Sequential, opt: SGD, extra: Record<string, unknown>) => ({ ...opts(m, { shuffleBuffer: 12, ...extra }), optimizer: opt });
      const straight = net();
      const optS = new SGD(straight.parameters(), { lr: 0.1, momentum: 0.9 });
      const hs = await fit(straight, samplesOf(x, y), o(straight, optS, { epochs: 4 }));
      expect(hs.trainerState.epochs).toBe(4);
      expect(hs.trainerState.trainIndex.length).toBe(0);

      const first = net();
      const file = path.join(dir, 'e{epoch}.safetensors');
      const cb = new ModelCheckpoint({ path: file, every: 2 });
      await fit(first, samplesOf(x, y), o(first, new SGD(first.parameters(), { lr: 0.1, momentum: 0.9 }), { epochs: 2, callbacks: [cb] }));
      const ck = loadCheckpoint(cb.saved[0]);
      expect(ck.trainer!.epochs).toBe(2);
      const h2 = await fit(ck.model, samplesOf(x, y), o(ck.model, ck.optimizer as SGD, { epochs: 2 }));
      // without resume the buffer's generator starts again: another run
      expect(h2.history.loss).not.toEqual(hs.history.loss.slice(2));
      const again = loadCheckpoint(cb.saved[0]);
      const h3 = await fit(again.model, samplesOf(x, y), o(again.model, again.optimizer as SGD, { epochs: 2, resume: again.trainer }));
      expect(h3.history.loss).toEqual(hs.history.loss.slice(2));
      expect(h3.trainerState.epochs).toBe(4);
      expect(Array.from(again.model.parameters().data)).toEqual(Array.from(straight.parameters().data));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
