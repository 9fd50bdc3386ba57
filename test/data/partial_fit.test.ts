// StandardScaler.partialFit and MeanCenter.partialFit: batch by batch equals one fit over all rows
// (also for data far from zero), fit() starts over, a batch of another width is refused unchanged.
import { describe, it, expect } from 'vitest';
import { randn, expectClose } from '../helpers';
import { StandardScaler, MeanCenter, tensor } from '../../lib/index';

function rows(n: number, d: number, offset: number, seed: number) {
  const x = randn(n * d, seed);
  for (let i = 0; i < x.length; i++) x[i] = offset + x[i] * (1 + (i % d));
  return tensor(x, [n, d]);
}
const chunk = (t: { data: Float32Array; shape: readonly number[] }, from: number, to: number) => {
  const d = t.shape[1];
  return tensor(t.data.slice(from * d, to * d), [to - from, d]);
};

describe('partialFit', () => {
  for (const offset of [0, 1e4]) {
    it(`equals fit over all rows (offset ${offset})`, () => {
      const all = rows(103, 4, offset, 11);
      const whole = new StandardScaler().fit(all);
      const s = new StandardScaler();
      const m = new MeanCenter();
      for (const [a, b] of [[0, 1], [1, 40], [40, 41], [41, 103]]) {
        s.partialFit(chunk(all, a, b));
        m.partialFit(chunk(all, a, b));
      }
      expect(s.samplesSeen).toBe(103);
      expectClose(s.mean!, whole.mean!, 1e-7, 1e-6, 'mean');
      expectClose(s.variance!, whole.variance!, 1e-5, 1e-6, 'variance');
      expectClose(m.mean!, whole.mean!, 1e-7, 1e-6, 'MeanCenter mean');
      expectClose(s.transform(all).data, whole.transform(all).data, 1e-4, 1e-5, 'transform');
      expect(StandardScaler.fromJSON(JSON.parse(JSON.stringify(s.toJSON()))).mean).toEqual(s.mean);
    });
  }

  it('fit() starts over; a batch of another width is refused and changes nothing', () => {
    const s = new StandardScaler();
    s.partialFit(rows(10, 3, 0, 1));
    const before = Float32Array.from(s.mean!);
    expect(() => s.partialFit(rows(5, 4, 0, 2))).toThrow(/^Expected data of shape \[N, 3\] \(3 features, as fitted by StandardScaler\) for x but received shape \[5, 4\]$/);
    expect(s.mean).toEqual(before);
    expect(s.samplesSeen).toBe(10);
    s.fit(rows(6, 2, 0, 3));
    expect(s.samplesSeen).toBe(0);
    s.partialFit(rows(4, 5, 0, 4));
    expect(s.mean!.length).toBe(5);
    expect(() => new MeanCenter().partialFit('x' as any)).toThrow(TypeError);
  });
});
