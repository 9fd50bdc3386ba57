import { describe, it, expect, afterEach } from 'vitest';
import { backends, native, js, randn, rng, expectClose, fixture } from '../helpers';
import * as jspoolTyped from '../../lib/backend/js/pool';

// The js kernels are typed Float32Array (the contract) but run in double precision on Float64Array.
const jspool = jspoolTyped as any;
import type { Pool2dParams } from '../../lib/backend/types';
import { centralDifference } from '../gradcheck';

interface PoolCase {
  p: Pool2dParams;
  x: number[]; dy: number[];
  maxY: number[]; argmax: number[]; maxDx: number[]; avgY: number[]; avgDx: number[];
}
const cases = fixture<{ cases: PoolCase[] }>('pool.json').cases;

function geom(n: number, c: number, h: number, w: number, k: [number, number], s: [number, number], pad: [number, number]): Pool2dParams {
  return {
    n, c, h, w, kH: k[0], kW: k[1], strideH: s[0], strideW: s[1], padH: pad[0], padW: pad[1],
    outH: Math.floor((h + 2 * pad[0] - k[0]) / s[0]) + 1, outW: Math.floor((w + 2 * pad[1] - k[1]) / s[1]) + 1,
  };
}
const nIn = (p: Pool2dParams) => p.n * p.c * p.h * p.w;
const nOut = (p: Pool2dParams) => p.n * p.c * p.outH * p.outW;
const desc = (p: Pool2dParams) => `n${p.n} c${p.c} ${p.h}x${p.w} k${p.kH}x${p.kW} s${p.strideH},${p.strideW} p${p.padH},${p.padW}`;

afterEach(() => native.setNumThreads(2));

describe('pooling against PyTorch (integer inputs: ties)', () => {
  it('covers every axis value', () => {
    const ks = new Set(cases.map((c) => `${c.p.kH}x${c.p.kW}`));
    for (const k of ['2x2', '3x3', '3x2']) expect(ks.has(k)).toBe(true);
    for (const s of [1, 2]) expect(cases.some((c) => c.p.strideH === s || c.p.strideW === s)).toBe(true);
    for (const pd of [0, 1]) expect(cases.some((c) => c.p.padH === pd || c.p.padW === pd)).toBe(true);
    // ties really occur: some window holds its maximum twice
    expect(cases.some((c) => new Set(c.x).size < c.x.length / 4)).toBe(true);
  });

  for (const threads of [1, 2]) {
    for (const [name, be] of backends) {
      it(`${name} max and avg pooling match (threads ${threads})`, () => {
        be.setNumThreads(threads);
        for (const c of cases) {
          const p = c.p;
          const x = Float32Array.from(c.x), dy = Float32Array.from(c.dy);
          const y = new Float32Array(nOut(p)).fill(NaN), am = new Int32Array(nOut(p)).fill(-7);
          be.maxPool2dForward(y, am, x, p);
          expect(Array.from(y), `max y ${desc(p)}`).toEqual(c.maxY);
          expect(Array.from(am), `argmax ${desc(p)}`).toEqual(c.argmax);
          const dx = new Float32Array(nIn(p)).fill(NaN);
          be.maxPool2dBackward(dx, am, dy, p);
          expectClose(dx, c.maxDx, 1e-6, 1e-6, `max dx ${desc(p)}`);
          const ya = new Float32Array(nOut(p)).fill(NaN);
          be.avgPool2dForward(ya, x, p);
          expectClose(ya, c.avgY, 1e-6, 1e-6, `avg y ${desc(p)}`);
          const dxa = new Float32Array(nIn(p)).fill(NaN);
          be.avgPool2dBackward(dxa, dy, p);
          expectClose(dxa, c.avgDx, 1e-5, 1e-6, `avg dx ${desc(p)}`);
        }
      });
    }
  }
});

describe('pooling on random data', () => {
  const geoms = [
    geom(4, 3, 17, 15, [2, 2], [2, 2], [0, 0]),
    geom(2, 5, 13, 12, [3, 3], [2, 2], [1, 1]),
    geom(3, 2, 9, 14, [3, 2], [1, 2], [1, 1]),
    geom(1, 1, 6, 5, [5, 4], [3, 1], [2, 2]),
  ];
  for (const p of geoms) {
    it(`native == js: ${desc(p)}`, () => {
      const x = randn(nIn(p), 31), dy = randn(nOut(p), 32);
      const res = [js, native].map((be) => {
        const y = new Float32Array(nOut(p)), am = new Int32Array(nOut(p)), dx = new Float32Array(nIn(p));
        be.maxPool2dForward(y, am, x, p);
        be.maxPool2dBackward(dx, am, dy, p);
        const ya = new Float32Array(nOut(p)), dxa = new Float32Array(nIn(p));
        be.avgPool2dForward(ya, x, p);
        be.avgPool2dBackward(dxa, dy, p);
        return { y, am, dx, ya, dxa };
      });
      expect(res[1].y).toEqual(res[0].y);
      expect(res[1].am).toEqual(res[0].am);
      expectClose(res[1].dx, res[0].dx, 1e-6, 1e-6, 'max dx');
      expectClose(res[1].ya, res[0].ya, 1e-5, 1e-6, 'avg y');
      expectClose(res[1].dxa, res[0].dxa, 1e-5, 1e-6, 'avg dx');
    });
  }

  it('NaN wins the window (the last NaN, as PyTorch), -inf padding never wins', () => {
    const p = geom(1, 1, 3, 4, [2, 2], [2, 2], [1, 1]); // output 2x3
    const x = Float32Array.from([-5, -6, NaN, -1, -9, NaN, NaN, -2, -3, -4, -8, -7]);
    for (const [name, be] of backends) {
      const y = new Float32Array(nOut(p)), am = new Int32Array(nOut(p));
      be.maxPool2dForward(y, am, x, p);
      expect(Array.from(y), name).toEqual([-5, NaN, -1, -3, NaN, -2]);
      expect(Array.from(am), name).toEqual([0, 2, 3, 8, 6, 7]);
    }
  });
});

describe('2×2 stride-2 max pooling, every plane size 2..40 (vector bodies and scalar tails)', () => {
  // The SIMD paths take 16 (AVX-512) or 8 (AVX2) windows at a time; widths and heights from 2 to past
  // two vectors, odd sizes (a row or column in no window), small integers (ties: the first maximum
  // wins), NaN (the last NaN wins), -0 and +0 (the same value: the first wins), against the js kernel.
  it('forward and backward equal the js kernel bit for bit', () => {
    for (let h = 2; h <= 40; h += h < 8 ? 1 : 5)
      for (let w = 2; w <= 40; w++) {
        const p = geom(2, 1, h, w, [2, 2], [2, 2], [0, 0]);
        const r = rng(h * 100 + w);
        const x = Float32Array.from({ length: nIn(p) }, () => {
          const u = r();
          return u < 0.05 ? NaN : u < 0.1 ? -0 : u < 0.15 ? 0 : Math.floor(u * 6) - 3;
        });
        const dy = Float32Array.from({ length: nOut(p) }, (_, i) => (i % 7 === 0 ? -0 : r() - 0.5));
        const res = [js, native].map((be) => {
          const y = new Float32Array(nOut(p)), am = new Int32Array(nOut(p)), dx = new Float32Array(nIn(p)).fill(7);
          be.maxPool2dForward(y, am, x, p);
          be.maxPool2dBackward(dx, am, dy, p);
          return { y, am, dx };
        });
        const at = `${h}x${w}`;
        expect(Buffer.from(res[1].y.buffer).equals(Buffer.from(res[0].y.buffer)), `y ${at}`).toBe(true);
        expect(Array.from(res[1].am), `argmax ${at}`).toEqual(Array.from(res[0].am));
        expect(Buffer.from(res[1].dx.buffer).equals(Buffer.from(res[0].dx.buffer)), `dx ${at}`).toBe(true);
      }
  });

  // The AVX-512 forward walks each thread's chunk of planes with unmasked steps whose lanes past a
  // row read the next row and write outputs that a later step overwrites; only steps near the end
  // of the input or of the chunk are masked. Many planes, 1 and 2 threads (chunk edges), outputs in
  // the middle of larger buffers whose sentinels must stay untouched, the input at the very end of
  // its buffer (a read past it would be a read past the allocation).
  it('many planes, 1 and 2 threads: equal to js, nothing written outside y, argmax and dx', () => {
    for (const [h, w] of [[28, 28], [2, 2], [3, 7], [6, 34], [5, 33], [4, 66]]) {
      const planes = Math.ceil(120000 / (h * w * 1.25)) | 1;
      const p = geom(planes, 1, h, w, [2, 2], [2, 2], [0, 0]);
      const r = rng(h * 1000 + w);
      const x = Float32Array.from({ length: nIn(p) }, () => (r() < 0.02 ? NaN : Math.floor(r() * 9) - 4));
      const yj = new Float32Array(nOut(p)), aj = new Int32Array(nOut(p));
      js.maxPool2dForward(yj, aj, x, p);
      for (const threads of [1, 2]) {
        native.setNumThreads(threads);
        const pad = 37;
        const yBuf = new Float32Array(nOut(p) + 2 * pad).fill(-123.5), aBuf = new Int32Array(nOut(p) + 2 * pad).fill(-77);
        const y = yBuf.subarray(pad, pad + nOut(p)), am = aBuf.subarray(pad, pad + nOut(p));
        native.maxPool2dForward(y, am, x, p);
        const at = `${planes} planes ${h}x${w}, ${threads} threads`;
        expect(Buffer.from(y.buffer, y.byteOffset, y.byteLength).equals(Buffer.from(yj.buffer)), `y ${at}`).toBe(true);
        expect(Array.from(am).every((v, i) => v === aj[i]), `argmax ${at}`).toBe(true);
        for (const k of [...Array(pad).keys(), ...Array.from({ length: pad }, (_, i) => pad + nOut(p) + i)]) {
          expect(yBuf[k], `y sentinel ${k} ${at}`).toBe(-123.5);
          expect(aBuf[k], `argmax sentinel ${k} ${at}`).toBe(-77);
        }
        // backward (by plane, unmasked row pairs walked from their last step): dy at the very end of
        // its buffer, dx inside sentinels
        const dy = Float32Array.from({ length: nOut(p) }, (_, i) => (i % 5) - 2.25);
        const dxj = new Float32Array(nIn(p));
        js.maxPool2dBackward(dxj, aj, dy, p);
        const dBuf = new Float32Array(nIn(p) + 2 * pad).fill(-9.5);
        const dx = dBuf.subarray(pad, pad + nIn(p));
        native.maxPool2dBackward(dx, am, dy, p);
        expect(Buffer.from(dx.buffer, dx.byteOffset, dx.byteLength).equals(Buffer.from(dxj.buffer)), `dx ${at}`).toBe(true);
        for (let k = 0; k < pad; k++) {
          expect(dBuf[k], `dx sentinel before ${at}`).toBe(-9.5);
          expect(dBuf[pad + nIn(p) + k], `dx sentinel after ${at}`).toBe(-9.5);
        }
      }
    }
  });

  it('backward with an argmax outside its window still scatters it (the general rule)', () => {
    const p = geom(1, 1, 4, 36, [2, 2], [2, 2], [0, 0]); // 2 × 18 windows
    const am = new Int32Array(nOut(p));
    for (let i = 0; i < p.outH; i++) for (let j = 0; j < p.outW; j++) am[i * p.outW + j] = 2 * i * p.w + 2 * j;
    am[3] = 0; // window 3 points into window 0
    am[35] = 1; // the last (scalar tail) window of the second row points into the first row
    const dy = Float32Array.from({ length: nOut(p) }, (_, i) => i + 1);
    for (const [name, be] of backends) {
      const dx = new Float32Array(nIn(p)).fill(9);
      be.maxPool2dBackward(dx, am, dy, p);
      expect(dx[0], name).toBe(1 + 4);
      expect(dx[1], name).toBe(36);
      expect(dx[6], name).toBe(0);
      expect(dx[2 * p.w + 2 * 17], name).toBe(0);
      expect(dx[2 * p.w + 2 * 5], name).toBe(24); // window (1, 5) as usual
      expect(dx.reduce((a, b) => a + b, 0), name).toBe(dy.reduce((a, b) => a + b, 0));
    }
  });
});

describe('pooling numerical gradient (float64 through the js kernels)', () => {
  for (const p of [geom(2, 2, 6, 7, [3, 2], [2, 1], [1, 1]), geom(1, 2, 5, 5, [3, 3], [1, 1], [1, 0])]) {
    it(`max and avg dx match central differences (${desc(p)})`, () => {
      // distinct values (a permutation) so that no maximum is tied and the max is differentiable
      const x = new Float64Array(nIn(p));
      const r = randn(nIn(p), 41);
      const order = Array.from(r.keys()).sort((a, b) => r[a] - r[b]);
      order.forEach((idx, rank) => (x[idx] = rank * 0.01));
      const g = Float64Array.from(randn(nOut(p), 42));
      const y = new Float64Array(nOut(p)), am = new Int32Array(nOut(p));
      const lossMax = () => {
        jspool.maxPool2dForward(y, am, x, p);
        return y.reduce((s, v, i) => s + v * g[i], 0);
      };
      const lossAvg = () => {
        jspool.avgPool2dForward(y, x, p);
        return y.reduce((s, v, i) => s + v * g[i], 0);
      };
      lossMax();
      const dxMax = new Float64Array(nIn(p)), dxAvg = new Float64Array(nIn(p));
      jspool.maxPool2dBackward(dxMax, am, g, p);
      jspool.avgPool2dBackward(dxAvg, g, p);
      const eps = 1e-4; // below half the gap between distinct values
      for (const [loss, grad, what] of [[lossMax, dxMax, 'max'], [lossAvg, dxAvg, 'avg']] as const) {
        for (let i = 0; i < x.length; i++) {
          expect(Math.abs(centralDifference(loss, x, i, eps) - grad[i]), `${what} dx[${i}]`).toBeLessThan(1e-8);
        }
      }
    });
  }
});

describe('pooling bad input (native glue)', () => {
  const p = geom(2, 3, 7, 9, [3, 3], [2, 2], [1, 1]);
  const y = () => new Float32Array(nOut(p)), x = () => new Float32Array(nIn(p));
  it('pins the messages', () => {
    expect(() => native.maxPool2dForward(y(), new Int32Array(nOut(p)), x(), { ...p, padH: 2 })).toThrow(
      new RangeError('Expected padH <= kH / 2 (kH 3) for padH but received 2'),
    );
    expect(() => native.avgPool2dForward(y(), x(), { ...p, outW: 4 })).toThrow(
      new RangeError(
        'Expected outW 5 (input [2, 3, 7, 9] with window [3, 3], stride [2, 2], padding [1, 1]) for outW but received 4',
      ),
    );
    expect(() => native.avgPool2dForward(y(), x(), { ...p, h: 1, padH: 0, outH: 0 })).toThrow(
      new RangeError(
        'Expected a non-empty pooling output for p but received input [2, 3, 1, 9] with window [3, 3], stride [2, 2], padding [0, 1]',
      ),
    );
    expect(() => (native as any).maxPool2dForward(y(), new Float32Array(nOut(p)), x(), p)).toThrow(
      new TypeError(`Expected Int32Array for argmax but received Float32Array of length ${nOut(p)}`),
    );
    expect(() => native.avgPool2dBackward(new Float32Array(5), y(), p)).toThrow(
      new RangeError(`Expected Float32Array of length >= ${nIn(p)} for dx but received Float32Array of length 5`),
    );
    expect(() => (native as any).avgPool2dBackward(x(), y(), null)).toThrow(
      new TypeError('Expected Pool2dParams object for p but received null'),
    );
    const am = new Int32Array(nOut(p));
    am[3] = 63;
    expect(() => native.maxPool2dBackward(x(), am, y(), p)).toThrow(
      new RangeError('Expected argmax entries in [0, 63) for argmax but received an entry outside that range'),
    );
    am[3] = -1;
    expect(() => native.maxPool2dBackward(x(), am, y(), p)).toThrow(RangeError);
  });
});
