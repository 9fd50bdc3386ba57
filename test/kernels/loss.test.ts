import { describe, it, expect } from 'vitest';
import { backends, native, js, randn, rng, expectClose, fixture } from '../helpers';
import type { Backend, LabelArray } from '../../lib/backend/types';
import { centralDifference } from '../gradcheck';

const fx = fixture('activations.json');
const addon = native as unknown as Record<string, (...a: unknown[]) => unknown>;

describe.each(backends)('%s softmax cross-entropy vs PyTorch F.cross_entropy', (_name, b: Backend) => {
  for (const c of fx.softmaxCrossEntropy) {
    for (const L of [Int32Array, Uint8Array]) {
      it(`${c.name} logits, ${L.name} labels`, () => {
        const logits = new Float32Array(c.logits);
        const labels: LabelArray = new L(c.labels);
        const probs = new Float32Array(c.n * c.k);
        const loss = b.softmaxCrossEntropy(probs, logits, labels, c.n, c.k);
        expect(Number.isFinite(loss)).toBe(true);
        expect(Math.abs(loss - c.loss)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(c.loss)));
        expectClose(probs, c.probs, 1e-6, 1e-7, 'probs');
        const d = new Float32Array(c.n * c.k).fill(5);
        b.softmaxCrossEntropyBackward(d, probs, labels, c.n, c.k, 1 / c.n);
        expectClose(d, c.grad, 1e-6, 1e-7, 'dlogits');
      });
    }
  }

  it('stays finite and exact for logits of ±1e4', () => {
    const logits = new Float32Array([1e4, -1e4, 0, -1e4, -1e4, 1e4]);
    const probs = new Float32Array(6);
    const loss = b.softmaxCrossEntropy(probs, logits, new Int32Array([1, 0]), 2, 3);
    // row 0: 1e4 - (-1e4) = 2e4; row 1: logsumexp = 1e4 → 1e4 - (-1e4) = 2e4
    expect(loss).toBeCloseTo(2e4, 6);
    expect(Array.from(probs)).toEqual([1, 0, 0, 0, 0, 1]);
  });
});

describe('softmax cross-entropy native vs js, threads, numerical gradient', () => {
  it('random batch (parallel path) matches js, and the loss does not depend on the thread count', () => {
    const n = 3001, k = 13;
    const logits = randn(n * k, 21, -8, 8);
    const r = rng(22);
    const labels = new Int32Array(n).map(() => Math.floor(r() * k));
    const pj = new Float32Array(n * k), pn = new Float32Array(n * k);
    const lj = js.softmaxCrossEntropy(pj, logits, labels, n, k);
    native.setNumThreads(1);
    const l1 = native.softmaxCrossEntropy(pn, logits, labels, n, k);
    native.setNumThreads(2);
    const l2 = native.softmaxCrossEntropy(pn, logits, labels, n, k);
    expect(l2).toBe(l1);
    expect(Math.abs(l1 - lj)).toBeLessThanOrEqual(1e-6 * lj);
    expectClose(pn, pj, 2e-6, 1e-9, 'probs');
    const dn = new Float32Array(n * k), dj = new Float32Array(n * k);
    native.softmaxCrossEntropyBackward(dn, pn, labels, n, k, 0.5);
    js.softmaxCrossEntropyBackward(dj, pj, labels, n, k, 0.5);
    expectClose(dn, dj, 2e-6, 1e-9, 'dlogits');
  });

  it('gradient matches float64 central differences of the js loss', () => {
    const n = 4, k = 7;
    // logits on a 2^-10 grid, step 2^-7: x ± h is exact in float32
    const r = rng(5);
    const logits = new Float32Array(n * k).map(() => Math.round((r() * 6 - 3) * 1024) / 1024);
    const labels = new Uint8Array([3, 0, 6, 2]);
    const probs = new Float32Array(n * k);
    js.softmaxCrossEntropy(probs, logits, labels, n, k);
    const grad = new Float32Array(n * k);
    js.softmaxCrossEntropyBackward(grad, probs, labels, n, k, 1 / n);
    const h = 2 ** -7;
    const num = new Float64Array(n * k);
    const scratch = new Float32Array(n * k);
    const x = logits.slice();
    for (let i = 0; i < n * k; i++) num[i] = centralDifference(() => js.softmaxCrossEntropy(scratch, x, labels, n, k), x, i, h);
    expectClose(grad, num, 1e-3, 2e-5, 'numerical dlogits');
  });
});

describe('label and argument checks', () => {
  const probs = new Float32Array(6), logits = new Float32Array(6);
  const call = (name: string, ...args: unknown[]) => () => addon[name](...args);
  it('native glue', () => {
    expect(call('softmaxCrossEntropy', probs, logits, new Int32Array([0, 5]), 2, 3)).toThrow(
      new RangeError('Expected integer in [0, 3) for labels[1] but received 5'),
    );
    expect(call('softmaxCrossEntropy', probs, logits, new Int32Array([-1, 0]), 2, 3)).toThrow(
      new RangeError('Expected integer in [0, 3) for labels[0] but received -1'),
    );
    expect(call('softmaxCrossEntropyBackward', probs, logits, new Uint8Array([2, 200]), 2, 3, 0.5)).toThrow(
      new RangeError('Expected integer in [0, 3) for labels[1] but received 200'),
    );
    expect(call('softmaxCrossEntropy', probs, logits, new Float32Array(2), 2, 3)).toThrow(
      new TypeError('Expected Int32Array or Uint8Array for labels but received Float32Array of length 2'),
    );
    expect(call('softmaxCrossEntropy', probs, logits, [0, 1], 2, 3)).toThrow(
      new TypeError('Expected Int32Array or Uint8Array for labels but received Array of length 2'),
    );
    expect(call('softmaxCrossEntropy', probs, logits, new Int32Array(1), 2, 3)).toThrow(
      new RangeError('Expected Int32Array or Uint8Array of length >= 2 for labels but received Int32Array of length 1'),
    );
    expect(call('softmaxCrossEntropy', probs, new Float32Array(5), new Int32Array(2), 2, 3)).toThrow(
      new RangeError('Expected Float32Array of length >= 6 for logits but received Float32Array of length 5'),
    );
    expect(call('softmaxCrossEntropy', probs, logits, new Int32Array(2), 0, 3)).toThrow(
      new RangeError('Expected integer >= 1 for n but received 0 of type number'),
    );
    expect(call('softmaxCrossEntropyBackward', probs, logits, new Int32Array(2), 2, 3, Infinity)).toThrow(
      new RangeError('Expected finite number for scale but received Infinity of type number'),
    );
    const lab = new Int32Array(2);
    structuredClone(lab.buffer, { transfer: [lab.buffer] });
    expect(call('softmaxCrossEntropy', probs, logits, lab, 2, 3)).toThrow(
      new RangeError('Expected an attached Int32Array or Uint8Array for labels but received a detached buffer'),
    );
  });
  it('js backend checks labels the same way', () => {
    expect(() => js.softmaxCrossEntropy(probs, logits, new Int32Array([0, 3]), 2, 3)).toThrow(
      new RangeError('Expected integer in [0, 3) for labels[1] but received 3'),
    );
    expect(() => js.softmaxCrossEntropyBackward(probs, logits, new Uint8Array([9, 0]), 2, 3, 1)).toThrow(
      new RangeError('Expected integer in [0, 3) for labels[0] but received 9'),
    );
  });
});
