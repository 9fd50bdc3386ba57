// Losses against PyTorch (test/fixtures/make_losses.py), numerical gradients, buffer reuse, bad input.
import { describe, it, expect } from 'vitest';
import * as fs from 'fs';
import * as path from 'path';
import { native } from './helpers';
import type { Backend } from '../lib/backend/types';
import { BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, MultiMarginLoss } from '../lib/losses';
import type { Tensor } from '../lib/tensor';

// The native backend (its softmax cross-entropy is checked against js and PyTorch in test/kernels).
const backend: Backend = native;

interface Case {
  shape: number[];
  input: number[];
  target: number[];
  loss: number;
  grad: number[];
  labelSmoothing?: number;
  margin?: number;
  p?: 1 | 2;
}
const fx: { cases: Record<string, Case> } = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'losses.json'), 'utf8'));

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  expect(a.length, `${what} length`).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const excess = Math.abs(a[i] - b[i]) - (atol + rtol * Math.abs(b[i]));
    if (!(excess <= 0)) expect.fail(`${what} mismatch at ${i}: got ${a[i]}, expected ${b[i]}`);
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
  }
}

const tensorOf = (c: Case): Tensor => ({ data: Float32Array.from(c.input), shape: c.shape });
const targetTensor = (c: Case): Tensor => ({ data: Float32Array.from(c.target), shape: c.shape });

/** Central differences of forward() in double steps on a float32 input (loss in float64 sums). */
function numericGrad(forward: (x: Tensor) => number, x: Tensor, h = 1e-2): Float64Array {
  const g = new Float64Array(x.data.length);
  for (let i = 0; i < x.data.length; i++) {
    const d = x.data.slice();
    d[i] = x.data[i] + h;
    const up = forward({ data: d, shape: x.shape });
    d[i] = x.data[i] - h;
    const down = forward({ data: d, shape: x.shape });
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

describe('CrossEntropyLoss', () => {
  for (const name of ['ce_small', 'ce_large', 'ce_smooth']) {
    it(`matches torch.nn.CrossEntropyLoss on ${name}`, () => {
      const c = fx.cases[name];
      const loss = new CrossEntropyLoss({ backend, labelSmoothing: c.labelSmoothing });
      const value = loss.forward(tensorOf(c), Int32Array.from(c.target));
      expect(Number.isFinite(value)).toBe(true);
      expectClose([value], [c.loss], 1e-5, 1e-6, 'loss');
      const g = loss.backward();
      expect(g.shape).toEqual(c.shape);
      expectClose(g.data, c.grad, 1e-5, 1e-7, 'grad');
    });
  }

  it('the large-logit fixture is far into exp() overflow territory', () => {
    const c = fx.cases.ce_large;
    expect(c.loss).toBeGreaterThan(1000); // the fixture really exercises overflow territory
  });

  it('accepts Uint8Array and number[] labels; gradient matches central differences', () => {
    const c = fx.cases.ce_small;
    const x = tensorOf(c);
    const loss = new CrossEntropyLoss({ backend, labelSmoothing: 0.2 });
    const a = loss.forward(x, Uint8Array.from(c.target));
    const b = loss.forward(x, c.target);
    expect(a).toBe(b);
    const g = Float32Array.from(loss.backward().data);
    const num = numericGrad((t) => new CrossEntropyLoss({ backend, labelSmoothing: 0.2 }).forward(t, c.target), x, 1e-3);
    expectClose(g, num, 1e-2, 2e-4, 'numeric grad');
  });

  it('reuses its buffers while the shape stays the same', () => {
    const c = fx.cases.ce_small;
    const loss = new CrossEntropyLoss({ backend });
    loss.forward(tensorOf(c), c.target);
    const g1 = loss.backward();
    loss.forward(tensorOf(c), c.target);
    const g2 = loss.backward();
    expect(g2.data).toBe(g1.data);
    loss.forward({ data: new Float32Array(6), shape: [2, 3] }, [0, 1]);
    expect(loss.backward().data).not.toBe(g1.data);
  });

  it('rejects bad input with exact messages', () => {
    const loss = new CrossEntropyLoss({ backend });
    expect(() => loss.backward()).toThrow('Expected a forward() call before CrossEntropyLoss.backward() but received none');
    const x: Tensor = { data: new Float32Array(6), shape: [2, 3] };
    expect(() => loss.forward(x, [0, 3])).toThrow('Expected class index between 0 and 2 for target[1] but received 3 of type number');
    expect(() => loss.forward(x, [0, -1])).toThrow(RangeError);
    expect(() => loss.forward(x, [0])).toThrow('Expected 2 labels (one per row) for target but received Int32Array of length 1');
    expect(() => loss.forward(x, [0, 1.5])).toThrow('Expected integer class index for target[1] but received 1.5 of type number');
    expect(() => loss.forward({ data: new Float32Array(6), shape: [6] }, [0])).toThrow(
      'Expected input of shape [N, C] for CrossEntropyLoss for input but received shape [6]',
    );
    const bad = new Float32Array(6);
    bad[4] = NaN;
    expect(() => loss.forward({ data: bad, shape: [2, 3] }, [0, 1])).toThrow('Expected finite values for input (row 1, index 4) but received NaN of type number');
    expect(() => new CrossEntropyLoss({ labelSmoothing: 1 })).toThrow('Expected number in [0, 1) for labelSmoothing but received 1 of type number');
    expect(() => new CrossEntropyLoss({ backend: 'cuda' as never })).toThrow(TypeError);
  });
});

describe('MSELoss', () => {
  for (const name of ['mse', 'mse_4d']) {
    it(`matches torch.nn.MSELoss on ${name}`, () => {
      const c = fx.cases[name];
      const loss = new MSELoss();
      expectClose([loss.forward(tensorOf(c), targetTensor(c))], [c.loss], 1e-6, 1e-7, 'loss');
      const g = loss.backward();
      expect(g.shape).toEqual(c.shape);
      expectClose(g.data, c.grad, 1e-6, 1e-8, 'grad');
    });
  }

  it('accepts nested arrays and rejects shape mismatch', () => {
    const loss = new MSELoss();
    expect(loss.forward([[1, 2]], [[0, 0]])).toBe(2.5);
    expect(Array.from(loss.backward().data)).toEqual([1, 2]);
    expect(() => loss.forward([[1, 2]], [[1], [2]])).toThrow("Expected target of shape [1, 2] (the input's shape) for target but received shape [2, 1]");
    expect(() => loss.forward([[1, NaN]], [[1, 2]])).toThrow('Expected finite values for input (row 0, index 1) but received NaN of type number');
  });
});

describe('BCEWithLogitsLoss', () => {
  for (const name of ['bce', 'bce_large']) {
    it(`matches torch.nn.BCEWithLogitsLoss on ${name}`, () => {
      const c = fx.cases[name];
      const loss = new BCEWithLogitsLoss();
      const value = loss.forward(tensorOf(c), targetTensor(c));
      expectClose([value], [c.loss], 1e-6, 1e-6, 'loss');
      expectClose(loss.backward().data, c.grad, 1e-5, 1e-9, 'grad');
    });
  }

  it('gradient matches central differences', () => {
    const c = fx.cases.bce;
    const x = tensorOf(c);
    const loss = new BCEWithLogitsLoss();
    loss.forward(x, targetTensor(c));
    const g = Float32Array.from(loss.backward().data);
    const num = numericGrad((t) => new BCEWithLogitsLoss().forward(t, targetTensor(c)), x, 1e-3);
    expectClose(g, num, 1e-3, 1e-6, 'numeric grad');
  });
});

describe('MultiMarginLoss', () => {
  for (const name of ['mm_p1', 'mm_p2', 'mm_large']) {
    it(`matches torch.nn.MultiMarginLoss on ${name}`, () => {
      const c = fx.cases[name];
      const loss = new MultiMarginLoss({ margin: c.margin, p: c.p });
      expectClose([loss.forward(tensorOf(c), c.target)], [c.loss], 1e-5, 1e-6, 'loss');
      expectClose(loss.backward().data, c.grad, 1e-5, 1e-8, 'grad');
    });
  }

  it('squared hinge gradient matches central differences', () => {
    const c = fx.cases.mm_p2;
    const x = tensorOf(c);
    const loss = new MultiMarginLoss({ p: 2, margin: 0.5 });
    loss.forward(x, c.target);
    const g = Float32Array.from(loss.backward().data);
    const num = numericGrad((t) => new MultiMarginLoss({ p: 2, margin: 0.5 }).forward(t, c.target), x, 1e-3);
    expectClose(g, num, 1e-2, 1e-5, 'numeric grad');
  });

  it('CS231n example: scores [3.2, 5.1, -1.7], class 0, margin 1 → (2.9 + 0) / 3', () => {
    const loss = new MultiMarginLoss();
    expect(loss.forward([[3.2, 5.1, -1.7]], [0])).toBeCloseTo(2.9 / 3, 6);
    const g = loss.backward();
    expect(Array.from(g.data)).toEqual([Math.fround(-1 / 3), Math.fround(1 / 3), 0]);
  });

  it('rejects bad options', () => {
    expect(() => new MultiMarginLoss({ p: 3 as never })).toThrow('Expected 1 or 2 for p but received 3 of type number');
    expect(() => new MultiMarginLoss({ margin: NaN })).toThrow('Expected finite number for margin but received NaN of type number');
    expect(() => new MultiMarginLoss({ marginn: 1 } as never)).toThrow("(did you mean 'margin'?)");
    expect(() => new MultiMarginLoss().forward([[1, 2]], [2])).toThrow('Expected class index between 0 and 1 for target[0] but received 2 of type number');
  });
});
