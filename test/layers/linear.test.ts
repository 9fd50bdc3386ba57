// Linear against PyTorch fixtures (both backends), numerical gradients, lifecycle and errors.
import { describe, it, expect } from 'vitest';
import { backends, expectClose, fixture, randn } from '../helpers';
import { gradCheck } from '../gradcheck';
import { Linear, ReLU, LeakyReLU, ELU, Sigmoid, Tanh, Maxout, tensor, init, Generator } from '../../lib/index';
import type { Layer } from '../../lib/layers/layer';

const { cases } = fixture<{ cases: any[] }>('dense_layers.json');
const f32 = (a: number[]) => Float32Array.from(a);

function makeAct(kind: string, args: any, backend: any): Layer {
  switch (kind) {
    case 'relu':
      return new ReLU({ backend });
    case 'leaky_relu':
      return new LeakyReLU({ alpha: args.alpha, backend });
    case 'elu':
      return new ELU({ alpha: args.alpha, backend });
    case 'sigmoid':
      return new Sigmoid({ backend });
    default:
      return new Tanh({ backend });
  }
}

for (const [bname, backend] of backends) {
  describe(`Linear vs PyTorch (${bname})`, () => {
    for (const c of cases.filter((k) => k.kind === 'linear')) {
      const title = `${c.kind} ${JSON.stringify(c.args ?? { n: c.n, in: c.inFeatures, out: c.outFeatures, pieces: c.pieces })}`;
      it(title, () => {
        let layer: Layer;
        let xShape: number[];
        if (c.kind === 'linear' || c.kind === 'maxout') {
          layer =
            c.kind === 'linear'
              ? new Linear({ inFeatures: c.inFeatures, outFeatures: c.outFeatures, bias: c.bias, backend })
              : new Maxout({ inFeatures: c.inFeatures, outFeatures: c.outFeatures, pieces: c.pieces, backend });
          xShape = [c.n, c.inFeatures];
          layer.build([c.inFeatures]);
          layer.param('weight').data.set(c.weight);
          if (c.b) layer.param('bias').data.set(c.b);
        } else {
          layer = makeAct(c.kind, c.args, backend);
          xShape = c.shape;
        }
        const y = layer.forward(tensor(f32(c.x), xShape));
        expectClose(y.data, c.y, 1e-5, 1e-5, 'y');
        const dx = layer.backward(tensor(f32(c.dy), y.shape));
        expectClose(dx.data, c.dx, 1e-5, 1e-5, 'dx');
        if (c.dweight) expectClose(layer.param('weight').grad, c.dweight, 1e-5, 1e-5, 'dweight');
        if (c.dbias) expectClose(layer.param('bias').grad, c.dbias, 1e-5, 1e-5, 'dbias');
      });
    }
  });

  describe(`Linear: numerical gradients (${bname})`, () => {
    const x = () => tensor(randn(6 * 8, 3, -2, 2), [6, 8]);
    it('Linear', () => gradCheck(new Linear({ inFeatures: 8, outFeatures: 5, backend }), x()));
  });

  describe(`Linear lifecycle (${bname})`, () => {
    it('accumulates gradients across backward calls until zeroGrad', () => {
      const lin = new Linear({ inFeatures: 3, outFeatures: 2, backend });
      const x = tensor([[1, 2, 3], [4, 5, 6]]);
      lin.forward(x);
      lin.backward(tensor([[1, 0], [0, 1]]));
      const g1 = Float32Array.from(lin.param('weight').grad);
      expect(Array.from(g1)).toEqual([1, 2, 3, 4, 5, 6]);
      lin.forward(x);
      lin.backward(tensor([[1, 0], [0, 1]]));
      expect(Array.from(lin.param('weight').grad)).toEqual([2, 4, 6, 8, 10, 12]);
      expect(Array.from(lin.param('bias').grad)).toEqual([2, 2]);
      lin.zeroGrad();
      expect(Array.from(lin.param('weight').grad)).toEqual([0, 0, 0, 0, 0, 0]);
    });

    it('initializes as PyTorch does by default: U(±1/√in)', () => {
      const lin = new Linear({ inFeatures: 400, outFeatures: 50, backend });
      lin.build([400], new Generator(1));
      const w = lin.param('weight').data;
      const bound = 1 / Math.sqrt(400);
      let max = 0;
      let sq = 0;
      for (const v of w) {
        max = Math.max(max, Math.abs(v));
        sq += v * v;
      }
      expect(max).toBeLessThanOrEqual(bound);
      expect(max).toBeGreaterThan(bound * 0.99);
      // variance of U(-b, b) is b²/3
      expect(sq / w.length).toBeCloseTo((bound * bound) / 3, 4);
    });

    it('uses a given initializer with the layer fans', () => {
      const lin = new Linear({ inFeatures: 500, outFeatures: 400, weightInit: init.kaimingNormal(), backend });
      lin.build([500], new Generator(3));
      const w = lin.param('weight').data;
      let sq = 0;
      for (const v of w) sq += v * v;
      expect(Math.sqrt(sq / w.length)).toBeCloseTo(Math.sqrt(2 / 500), 3);
    });

    it('getConfig round-trips the options', () => {
      const lin = new Linear({ inFeatures: 3, outFeatures: 2, bias: false, name: 'fc', backend });
      expect(lin.getConfig()).toMatchObject({ className: 'Linear', name: 'fc', inFeatures: 3, outFeatures: 2, bias: false });
      expect(new Maxout({ inFeatures: 3, outFeatures: 2, pieces: 4, backend }).getConfig()).toMatchObject({ pieces: 4 });
      expect(new LeakyReLU({ alpha: 0.3, backend }).getConfig()).toMatchObject({ alpha: 0.3 });
    });

    it('rejects wrong shapes and bad options with messages that name them', () => {
      const lin = new Linear({ inFeatures: 3, outFeatures: 2, name: 'fc1', backend });
      expect(() => lin.forward(tensor(new Float32Array(8), [2, 4]))).toThrow(
        new RangeError("Expected input of shape [N, 3] for Linear 'fc1' but received input shape [N, 4]"),
      );
      lin.forward(tensor(new Float32Array(6), [2, 3]));
      expect(() => lin.forward(tensor(new Float32Array(8), [2, 4]))).toThrow(
        new RangeError("Expected input of shape [N, 3] for Linear 'fc1' but received tensor of shape [2, 4]"),
      );
      expect(() => lin.backward(tensor(new Float32Array(6), [3, 2]))).toThrow(
        new RangeError("Expected gradient of shape [2, 2] (the last output's) for Linear 'fc1' but received tensor of shape [3, 2]"),
      );
      expect(() => new Linear({ inFeatures: 0, outFeatures: 2 })).toThrow(
        new RangeError('Expected integer >= 1 for inFeatures but received 0 of type number'),
      );
      expect(() => new Linear({ inFeatures: 2.5, outFeatures: 2 })).toThrow(
        new RangeError('Expected integer >= 1 for inFeatures but received 2.5 of type number'),
      );
      expect(() => new Linear({ inFeatures: NaN, outFeatures: 2 })).toThrow(
        new RangeError('Expected integer >= 1 for inFeatures but received NaN of type number'),
      );
      expect(() => new Linear({ inFeatures: '3' as any, outFeatures: 2 })).toThrow(
        new TypeError("Expected integer >= 1 for inFeatures but received '3' of type string"),
      );
      expect(() => new Linear({ inFeatures: 3, outFeatures: 2, bais: false } as any)).toThrow(
        "Expected one of 'inFeatures', 'outFeatures', 'bias', 'weightInit', 'biasInit', 'name', 'backend' for an option of Linear but received 'bais' (did you mean 'bias'?)",
      );
      expect(() => lin.forward({ data: new Float64Array(6), shape: [2, 3] } as any)).toThrow(
        new TypeError("Expected tensor with Float32Array data for input of Linear 'fc1' but received Float64Array of length 6"),
      );
      expect(() => lin.forward({ data: new Float32Array(5), shape: [2, 3] })).toThrow(
        new RangeError("Expected 6 values for shape [2, 3] for input of Linear 'fc1' but received Float32Array of length 5"),
      );
      const detached = new Float32Array(6);
      structuredClone(detached.buffer, { transfer: [detached.buffer] });
      expect(() => lin.forward({ data: detached, shape: [2, 3] })).toThrow(
        new RangeError("Expected an attached Float32Array for input of Linear 'fc1' but received a detached buffer"),
      );
      expect(() => new Maxout({ inFeatures: 3, outFeatures: 2, pieces: 0 })).toThrow(
        new RangeError('Expected integer >= 1 for pieces but received 0 of type number'),
      );
      expect(() => new LeakyReLU({ alpha: NaN })).toThrow(new RangeError('Expected finite number for alpha but received NaN of type number'));
    });
  });
}

