// CrossEntropyLoss with per-class weights and probability targets (and label smoothing) against
// torch.nn.CrossEntropyLoss; fit with soft labels; bad weights and targets.
import { describe, it, expect } from 'vitest';
import { fixture, expectClose, randn } from './helpers';
import { CrossEntropyLoss, Sequential, Linear, SGD, fit, tensor } from '../lib/index';

const fx = fixture('cross_entropy.json');

describe('CrossEntropyLoss weight and probability targets vs torch', () => {
  for (const c of fx.cases) {
    it(c.name, () => {
      const loss = new CrossEntropyLoss({ ...(c.weight ? { weight: c.weight } : {}), labelSmoothing: c.labelSmoothing });
      const x = tensor(Float32Array.from(c.x), [fx.n, fx.c]);
      const target = c.kind === 'probs' ? tensor(Float32Array.from(c.target), [fx.n, fx.c]) : Int32Array.from(c.target);
      expect(loss.forward(x, target)).toBeCloseTo(c.loss, 5);
      expectClose(loss.backward().data, c.dx, 1e-5, 1e-7, c.name);
    });
  }

  it('probability targets that are one-hot rows equal class indices', () => {
    const x = tensor(randn(12, 3), [4, 3]);
    const labels = Int32Array.from([0, 2, 1, 2]);
    const onehot = tensor(Float32Array.from([1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1]), [4, 3]);
    const a = new CrossEntropyLoss();
    const la = a.forward(x, labels);
    const ga = Float32Array.from(a.backward().data);
    const b = new CrossEntropyLoss();
    expect(b.forward(x, onehot)).toBeCloseTo(la, 6);
    expectClose(b.backward().data, ga, 1e-6, 1e-7, 'grad');
  });

  it('fit trains on soft labels', async () => {
    const n = 32;
    const x = tensor(randn(n * 4, 2), [n, 4]);
    const y = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      const p = x.data[i * 4] > 0 ? 0.9 : 0.1;
      y[i * 2] = p;
      y[i * 2 + 1] = 1 - p;
    }
    const model = new Sequential([new Linear({ inFeatures: 4, outFeatures: 2 })], { inputShape: [4], seed: 2 });
    const h = await fit(model, x, tensor(y, [n, 2]), { epochs: 40, batchSize: 8, loss: new CrossEntropyLoss(), optimizer: new SGD(model.parameters(), { lr: 0.5 }), verbose: 0 });
    expect(h.history.loss.at(-1)!).toBeLessThan(h.history.loss[0] - 0.1);
    await expect(fit(model, x, tensor(new Float32Array(n * 3), [n, 3]), { loss: new CrossEntropyLoss(), optimizer: new SGD(model.parameters(), { lr: 0.5 }), verbose: 0 }))
      .rejects.toThrow(/^Expected class indices or probability rows of shape \[2\] \(the model's output\) for y but received rows of shape \[3\]$/);
  });

  it('bad weights and targets', () => {
    expect(() => new CrossEntropyLoss({ weight: 'x' as any })).toThrow(TypeError);
    expect(() => new CrossEntropyLoss({ weight: [1, -1] })).toThrow(/^Expected finite weights >= 0 for weight\[1\] but received -1 of type number$/);
    const l = new CrossEntropyLoss({ weight: [1, 2] });
    expect(() => l.forward(tensor(randn(6, 3), [2, 3]), Int32Array.from([0, 1]))).toThrow(RangeError);
    expect(() => new CrossEntropyLoss().forward(tensor(randn(6, 3), [2, 3]), tensor(new Float32Array(4), [2, 2]))).toThrow(/^Expected probability targets of shape \[2, 3\]/);
  });
});
