// Dropout: the mask, its scale and seed, eval mode, and its option checks.
import { describe, it, expect } from 'vitest';
import { Dropout, tensor, Generator } from '../../lib/index';
import { randn } from '../helpers';

describe('Dropout', () => {
  it('zeroes about p of the values, scales survivors by 1/(1-p), and is seeded', () => {
    const mk = () => {
      const d = new Dropout({ p: 0.3 });
      d.build([1000], new Generator(4));
      return d;
    };
    const x = tensor(new Float32Array(100_000).fill(2), [100, 1000]);
    const a = mk();
    const y = Float32Array.from(a.forward(x).data);
    const zeros = y.filter((v) => v === 0).length / y.length;
    expect(zeros).toBeGreaterThan(0.29);
    expect(zeros).toBeLessThan(0.31);
    expect(y.every((v) => v === 0 || Math.abs(v - 2 / 0.7) < 1e-6)).toBe(true);
    expect(Array.from(mk().forward(x).data)).toEqual(Array.from(y));
    // backward uses the same mask
    const dx = a.backward(tensor(new Float32Array(100_000).fill(1), [100, 1000]));
    for (let i = 0; i < 1000; i++) expect(dx.data[i]).toBeCloseTo(y[i] / 2, 6);
  });
  it('is the identity in eval mode and with p = 0', () => {
    const d = new Dropout({ p: 0.5 });
    const x = tensor(randn(40, 1), [4, 10]);
    d.eval();
    expect(Array.from(d.forward(x).data)).toEqual(Array.from(x.data));
    expect(Array.from(d.backward(tensor(new Float32Array(40).fill(3), [4, 10])).data)).toEqual(new Array(40).fill(3));
    const z = new Dropout({ p: 0 });
    expect(Array.from(z.forward(x).data)).toEqual(Array.from(x.data));
  });
  it('rejects p outside [0, 1)', () => {
    expect(() => new Dropout({ p: 1 })).toThrow(new RangeError('Expected number in [0, 1) for p but received 1 of type number'));
    expect(() => new Dropout({ p: -0.1 })).toThrow(RangeError);
  });
});

describe('option names from other libraries get a hint', () => {
  it('Dropout({ rate }) suggests p; Linear({ units }), Conv2d({ filters }), BatchNorm1d({ num_features }) theirs', async () => {
    const { Linear, Conv2d, BatchNorm1d } = await import('../../lib/index');
    expect(() => new Dropout({ rate: 0.5 } as any)).toThrow(
      new TypeError("Expected one of 'p', 'name', 'backend' for an option of Dropout but received 'rate' (did you mean 'p'?)"),
    );
    expect(() => new Linear({ inFeatures: 2, units: 3 } as any)).toThrow(/received 'units' \(did you mean 'outFeatures'\?\)/);
    expect(() => new Conv2d({ inChannels: 1, filters: 3, kernelSize: 3 } as any)).toThrow(/received 'filters' \(did you mean 'outChannels'\?\)/);
    expect(() => new BatchNorm1d({ num_features: 3 } as any)).toThrow(/received 'num_features' \(did you mean 'numFeatures'\?\)/);
  });
});
