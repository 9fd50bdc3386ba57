// Statistics kernels: js, native and the native scalar reference against numpy fixtures (slots,
// histogram, per-unit nonzero counts, with NaN and infinities mixed in), native against js on
// random data, and the glue's error messages.
import { describe, it, expect } from 'vitest';
import { backends, native, fixture, randn } from '../helpers';
import type { Backend } from '../../lib/backend/types';
import { nativeAddon } from '../../lib/testing';

interface TCase {
  outer: number; units: number; inner: number; lo: number; hi: number; bins: number;
  x: number[]; nonfinite: number[]; out: (number | null)[]; hist: number[]; unitNonzero: number[];
}
interface PCase { n: number; w: number[]; prev: number[]; g: number[]; out: number[] }
const fx = fixture<{ tensor: TCase[]; param: PCase[] }>('stats.json');
const ref = nativeAddon().statsReference as unknown as Pick<Backend, 'tensorStats' | 'paramStats'>;
const all: [string, Pick<Backend, 'tensorStats' | 'paramStats'>][] = [...backends, ['native reference', ref]];

function input(c: TCase): Float32Array {
  const x = Float32Array.from(c.x);
  const specials = [NaN, Infinity, -Infinity];
  c.nonfinite.forEach((i, j) => (x[i] = specials[j % 3]));
  return x;
}

describe('tensorStats vs numpy', () => {
  for (const [name, b] of all) {
    fx.tensor.forEach((c, ci) => {
      it(`${name} case ${ci} [${c.outer}, ${c.units}, ${c.inner}] bins ${c.bins}`, () => {
        const out = new Float64Array(8).fill(-7);
        const hist = c.bins ? new Float64Array(c.bins).fill(-7) : null;
        const nz = new Int32Array(c.units).fill(-7);
        b.tensorStats(out, hist, nz, input(c), c.outer, c.units, c.inner, c.lo, c.hi, c.bins);
        expect(out[0]).toBeCloseTo(c.out[0]!, 9);
        expect(out[1] / c.out[1]! - 1).toBeLessThan(1e-12);
        expect(out[2]).toBe(c.out[2]);
        expect(out[3]).toBe(c.out[3]);
        expect(Array.from(out.subarray(4))).toEqual(c.out.slice(4));
        if (hist) expect(Array.from(hist)).toEqual(c.hist);
        expect(Array.from(nz)).toEqual(c.unitNonzero);
        if (c.units > 2) expect(nz[2]).toBe(0); // the dead unit
      });
    });
  }
});

describe('paramStats vs numpy', () => {
  for (const [name, b] of all) {
    for (const c of fx.param) {
      it(`${name} n = ${c.n}`, () => {
        const out = new Float64Array(3).fill(-7);
        const w = Float32Array.from(c.w);
        b.paramStats(out, w, Float32Array.from(c.prev), Float32Array.from(c.g), c.n);
        for (let k = 0; k < 3; k++) expect(Math.abs(out[k] / c.out[k] - 1), `slot ${k}`).toBeLessThan(1e-12);
        b.paramStats(out, w, null, null, c.n);
        expect(out[1]).toBe(0);
        expect(out[2]).toBe(0);
      });
    }
  }
});

describe('native against js on random data', () => {
  it('tensorStats agrees on [64, 32, 196] with a given range', () => {
    const [outer, units, inner, bins] = [64, 32, 196, 64];
    const x = randn(outer * units * inner, 5, -2, 2);
    for (let i = 0; i < x.length; i += 3) x[i] = Math.max(0, x[i]);
    const res = [0, 1].map((k) => {
      const b = backends[k][1];
      const out = new Float64Array(8);
      const hist = new Float64Array(bins);
      const nz = new Int32Array(units);
      b.tensorStats(out, hist, nz, x, outer, units, inner, -1.5, 1.5, bins);
      return { out, hist, nz };
    });
    expect(Math.abs(res[0].out[0] - res[1].out[0])).toBeLessThan(1e-6);
    expect(Math.abs(res[0].out[1] / res[1].out[1] - 1)).toBeLessThan(1e-12);
    expect(Array.from(res[1].out.subarray(2))).toEqual(Array.from(res[0].out.subarray(2)));
    expect(Array.from(res[1].hist)).toEqual(Array.from(res[0].hist));
    expect(res[1].hist.reduce((a, b) => a + b, 0)).toBe(x.length);
    expect(Array.from(res[1].nz)).toEqual(Array.from(res[0].nz));
  });
  it('dense rows with NaN inside full vectors, and more than 1024 bins, agree too', () => {
    const [outer, units] = [9, 45];
    const x = randn(outer * units, 8, -1, 1);
    for (let i = 0; i < x.length; i += 5) x[i] = 0;
    x[17] = NaN;
    x[100] = -Infinity;
    for (const bins of [16, 2000]) {
      const res = [0, 1].map((k) => {
        const out = new Float64Array(8);
        const hist = new Float64Array(bins);
        const nz = new Int32Array(units);
        backends[k][1].tensorStats(out, hist, nz, x, outer, units, 1, -1, 1, bins);
        return [Array.from(out.subarray(2)), Array.from(hist), Array.from(nz), out[0]] as const;
      });
      expect(res[1].slice(0, 3)).toEqual(res[0].slice(0, 3));
      expect(Math.abs((res[1][3] as number) - (res[0][3] as number))).toBeLessThan(1e-9);
      expect(res[1][0][3]).toBe(2); // non-finite
    }
  });
  it('an empty batch gives zero counts and infinite bounds', () => {
    const out = new Float64Array(8);
    native.tensorStats(out, new Float64Array(4), null, new Float32Array(0), 0, 3, 1, 0, 1, 4);
    expect(Array.from(out)).toEqual([0, 0, Infinity, -Infinity, 0, 0, 0, 0]);
  });
});

describe('native glue errors', () => {
  const x = new Float32Array(12);
  it('names the argument and the value', () => {
    expect(() => native.tensorStats(new Float64Array(7), null, null, x, 3, 4, 1, 0, 1, 0)).toThrow(
      new RangeError('Expected Float64Array of length >= 8 for out but received Float64Array of length 7'),
    );
    expect(() => native.tensorStats(new Float64Array(8), null, null, x, 3, 4, 1, 0, 1, 5)).toThrow(
      new TypeError('Expected Float64Array when bins > 0 for hist but received null'),
    );
    expect(() => native.tensorStats(new Float64Array(8), new Float64Array(5), null, x, 3, 4, 1, 1, 1, 5)).toThrow(
      new RangeError('Expected hi > lo = 1 of type number for hi but received 1 of type number'),
    );
    expect(() => native.tensorStats(new Float64Array(8), null, null, x, 4, 4, 1, 0, 1, 0)).toThrow(
      new RangeError('Expected Float32Array of length >= 16 for x but received Float32Array of length 12'),
    );
    expect(() => native.tensorStats(new Float64Array(8), null, new Int32Array(2), x, 3, 4, 1, 0, 1, 0)).toThrow(RangeError);
    expect(() => native.paramStats(new Float64Array(3), x, new Float32Array(3), null, 12)).toThrow(
      new RangeError('Expected Float32Array of length >= 12 for prev but received Float32Array of length 3'),
    );
    expect(() => native.paramStats(new Float32Array(3) as unknown as Float64Array, x, null, null, 12)).toThrow(TypeError);
  });
});
