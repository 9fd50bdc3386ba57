// End to end on real digits (the `mnist` package): standardize, train an MLP with BatchNorm for two
// epochs, and reach a test accuracy a broken kernel could not reach.
import { describe, it, expect } from 'vitest';
import { Writable } from 'stream';
import {
  Sequential, Flatten, Linear, BatchNorm1d, ReLU, CrossEntropyLoss, Adam, fit, evaluate, ChannelNormalizer, PCA, tensor,
} from '../lib/index';
import { loadMnist } from '../examples/mnist-data';

function sink(tty: boolean) {
  const chunks: string[] = [];
  const s = new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } }) as Writable & { isTTY?: boolean; columns?: number };
  s.isTTY = tty;
  s.columns = 120;
  return { s, text: () => chunks.join('') };
}

describe('MNIST end to end', () => {
  const data = loadMnist({ nTrain: 8000 });
  const norm = new ChannelNormalizer().fit(tensor(data.xTrain, [data.nTrain, 1, 28, 28]));
  const xTrain = norm.transform(tensor(data.xTrain, [data.nTrain, 1, 28, 28]));
  const xTest = norm.transform(tensor(data.xTest, [data.nTest, 1, 28, 28]));

  it('the split is 8,000 / 2,000 real digits of all ten classes', () => {
    expect(data.nTrain).toBe(8000);
    expect(data.nTest).toBe(2000);
    const counts = new Array(10).fill(0);
    for (const v of data.yTest) counts[v]++;
    expect(Math.min(...counts)).toBeGreaterThan(150);
  });

  it('an MLP with BatchNorm reaches > 93% test accuracy in two epochs, with progress lines', async () => {
    const model = new Sequential(
      [new Flatten(), new Linear({ inFeatures: 784, outFeatures: 128 }), new BatchNorm1d({ numFeatures: 128 }), new ReLU(), new Linear({ inFeatures: 128, outFeatures: 10 })],
      { inputShape: [1, 28, 28], seed: 1 },
    );
    const out = sink(false);
    const loss = new CrossEntropyLoss();
    const h = await fit(model, xTrain, data.yTrain, {
      epochs: 2, batchSize: 64, loss, optimizer: new Adam(model.parameters(), { lr: 2e-3 }), metrics: ['accuracy'], validationSplit: 0.1, output: out.s, verbose: 1,
    });
    const lines = out.text().trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^epoch 2\/2 - loss \d\.\d{4} - accuracy \d\.\d{4} - valLoss \d\.\d{4} - valAccuracy \d\.\d{4} - [\d.]+s$/);
    expect(h.history.valAccuracy![1]).toBeGreaterThan(0.9);
    const r = await evaluate(model, xTest, data.yTest, { loss, metrics: ['accuracy'] });
    expect(r.accuracy!).toBeGreaterThan(0.93);
  });

  it('a terminal gets a live bar with loss, samples/s and ETA; verbose 0 prints nothing', async () => {
    const mk = () => new Sequential([new Flatten(), new Linear({ inFeatures: 784, outFeatures: 10 })], { inputShape: [1, 28, 28] });
    const small = { data: xTrain.data.subarray(0, 2000 * 784), shape: [2000, 1, 28, 28] };
    const y = data.yTrain.subarray(0, 2000);
    const tty = sink(true);
    const m1 = mk();
    await fit(m1, small, y, { epochs: 1, batchSize: 32, loss: new CrossEntropyLoss(), optimizer: new Adam(m1.parameters()), output: tty.s });
    expect(tty.text()).toMatch(/\r█*░* \d+\/63 loss \d\.\d{4} \d+ samples\/s ETA [\d.]+s/);
    expect(tty.text()).toContain('epoch 1/1');
    const quiet = sink(true);
    const m2 = mk();
    await fit(m2, small, y, { epochs: 1, batchSize: 32, loss: new CrossEntropyLoss(), optimizer: new Adam(m2.parameters()), output: quiet.s, verbose: 0 });
    expect(quiet.text()).toBe('');
  });

  it('PCA of the 8,000 training digits: variance retained and whitened covariance', () => {
    const flat = { data: xTrain.data, shape: [8000, 784] };
    const pca = new PCA({ varianceRetained: 0.9, whiten: true }).fit(flat);
    expect(pca.nComponents).toBeGreaterThan(40);
    expect(pca.nComponents).toBeLessThan(120);
    const ratio = pca.explainedVarianceRatio!;
    const kept = Array.from(ratio).reduce((a, b) => a + b, 0);
    expect(kept).toBeGreaterThanOrEqual(0.9);
    const z = pca.transform(flat);
    const k = pca.nComponents;
    // covariance of the whitened training data is the identity
    for (const [i, j] of [[0, 0], [1, 1], [k - 1, k - 1], [0, 1], [3, 7]]) {
      let s = 0;
      for (let r = 0; r < 8000; r++) s += z.data[r * k + i] * z.data[r * k + j];
      expect(s / 7999).toBeCloseTo(i === j ? 1 : 0, 2);
    }
  });
});
