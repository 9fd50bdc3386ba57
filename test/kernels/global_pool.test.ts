// Global average pooling's own kernel: the dispatched SIMD path (whatever MINIBATCH_SIMD chose:
// avx512, avx2 or scalar) against the scalar reference behind the same checks, for plane sizes 1
// to past two vector widths and large planes over several threads; the js twin equals the scalar
// reference bit for bit; the layers on both backends agree with the average-pooling kernel over
// one whole-plane window; the same errors on js and native.
import { afterEach, describe, expect, it } from 'vitest';
import { expectClose, js, native, randn } from '../helpers';
import type { Backend } from '../../lib/backend/types';
import { loadAddon } from '../../lib/backend/native';
import { AdaptiveAvgPool2d, GlobalAvgPool2d, Sequential } from '../../lib/index';
import { gradCheck } from '../gradcheck';

const addon = loadAddon();
const ref = addon.globalPoolReference as Pick<Backend, 'globalAvgPoolForward' | 'globalAvgPoolBackward'>;
const simd = native.capabilities().simd;
afterEach(() => native.setNumThreads(2));

/** y and dx of every path for x [n, c, hw] and dy [n, c]. */
function run(be: Pick<Backend, 'globalAvgPoolForward' | 'globalAvgPoolBackward'>, x: Float32Array, dy: Float32Array, n: number, c: number, hw: number) {
  const y = new Float32Array(n * c).fill(NaN);
  be.globalAvgPoolForward(y, x, n, c, hw);
  const dx = new Float32Array(n * c * hw).fill(NaN);
  be.globalAvgPoolBackward(dx, dy, n, c, hw);
  return { y, dx };
}

describe(`global average pooling kernel (${simd})`, () => {
  const sizes = [...Array.from({ length: 40 }, (_, i) => i + 1), 47, 63, 64, 65, 100, 257, 1000];
  it('matches the scalar reference for planes of 1 to 1000 values; js equals the reference bit for bit', () => {
    for (const hw of sizes) {
      const n = 2, c = 3;
      const x = randn(n * c * hw, hw, -3, 5);
      const dy = randn(n * c, hw + 1000);
      const got = run(native, x, dy, n, c, hw);
      const want = run(ref, x, dy, n, c, hw);
      const twin = run(js, x, dy, n, c, hw);
      expectClose(got.y, want.y, 1e-6, 1e-7, `y hw ${hw}`);
      if (simd === 'scalar') expect(Array.from(got.y)).toEqual(Array.from(want.y));
      expect(Array.from(got.dx), `dx hw ${hw}`).toEqual(Array.from(want.dx));
      expect(Array.from(twin.y), `js y hw ${hw}`).toEqual(Array.from(want.y));
      expect(Array.from(twin.dx), `js dx hw ${hw}`).toEqual(Array.from(want.dx));
      // the reference is the mean: check it against a sum in double
      for (let pl = 0; pl < n * c; pl++) {
        let s = 0;
        for (let i = 0; i < hw; i++) s += x[pl * hw + i];
        expect(want.y[pl]).toBe(Math.fround(s / hw));
        expect(want.dx[pl * hw + hw - 1]).toBe(Math.fround(dy[pl] / hw));
      }
    }
  });

  it('is exact on planes of equal values (no drift from the summation order) and keeps NaN and Infinity', () => {
    for (const hw of [7, 16, 33, 4096]) {
      const x = new Float32Array(2 * hw).fill(0.1);
      x.fill(-2.5, hw);
      const y = new Float32Array(2);
      native.globalAvgPoolForward(y, x, 1, 2, hw);
      expect(Array.from(y)).toEqual([Math.fround(0.1), -2.5]);
    }
    const x = randn(3 * 20, 3);
    x[5] = NaN;
    x[20 + 19] = Infinity;
    const y = new Float32Array(3);
    native.globalAvgPoolForward(y, x, 3, 1, 20);
    expect(y[0]).toBeNaN();
    expect(y[1]).toBe(Infinity);
    expect(Number.isFinite(y[2])).toBe(true);
  });

  for (const threads of [1, 2]) {
    it(`large planes over ${threads} thread(s) match the reference`, () => {
      native.setNumThreads(threads);
      const n = 4, c = 8, hw = 56 * 56;
      const x = randn(n * c * hw, 77);
      const dy = randn(n * c, 78);
      const got = run(native, x, dy, n, c, hw);
      const want = run(ref, x, dy, n, c, hw);
      expectClose(got.y, want.y, 1e-6, 1e-7, 'large y');
      expect(Array.from(got.dx)).toEqual(Array.from(want.dx));
    });
  }

  it('short buffers and bad sizes fail the same way on js and native, before anything is written', () => {
    const y = new Float32Array(6).fill(7);
    const x = new Float32Array(6 * 4);
    const both = (f: (be: Backend) => void) => {
      let msgs: string[] = [];
      for (const be of [native, js]) {
        try {
          f(be);
          msgs.push('returned');
        } catch (e) {
          msgs.push(`${(e as Error).constructor.name}: ${(e as Error).message}`);
        }
      }
      expect(msgs[1]).toBe(msgs[0]);
      return msgs[0];
    };
    expect(both((be) => be.globalAvgPoolForward(y, x, 2, 3, 5))).toBe('RangeError: Expected Float32Array of length >= 30 for x but received Float32Array of length 24');
    expect(both((be) => be.globalAvgPoolForward(new Float32Array(5), x, 2, 3, 4))).toBe('RangeError: Expected Float32Array of length >= 6 for y but received Float32Array of length 5');
    expect(both((be) => be.globalAvgPoolBackward(x, y, 2, 3, 0))).toBe('RangeError: Expected integer >= 1 for hw but received 0 of type number');
    expect(both((be) => be.globalAvgPoolBackward(x, new Int32Array(6) as never, 2, 3, 4))).toBe('TypeError: Expected Float32Array for dy but received Int32Array of length 6');
    expect(both((be) => be.globalAvgPoolForward(y, x, 65536, 65536, 2))).toBe('RangeError: Expected at most 2^32 elements for n x c x hw but received 65536 x 65536 x 2');
    expect(Array.from(y)).toEqual(Array(6).fill(7));
  });
});

describe('GlobalAvgPool2d and AdaptiveAvgPool2d on the kernel', () => {
  it('agree with average pooling over one whole-plane window, on both backends; the gradient checks', () => {
    const n = 3, c = 4, h = 5, w = 7;
    const x = randn(n * c * h * w, 11);
    const dy = randn(n * c, 12);
    const p = { n, c, h, w, kH: h, kW: w, strideH: h, strideW: w, padH: 0, padW: 0, outH: 1, outW: 1 };
    const yPool = new Float32Array(n * c), dxPool = new Float32Array(x.length);
    native.avgPool2dForward(yPool, x, p);
    native.avgPool2dBackward(dxPool, dy, p);
    for (const backend of ['native', 'js'] as const) {
      const g = new Sequential([new GlobalAvgPool2d()], { inputShape: [c, h, w], backend });
      const a = new Sequential([new AdaptiveAvgPool2d(1)], { inputShape: [c, h, w], backend });
      const yg = g.forward({ data: x, shape: [n, c, h, w] });
      const ya = a.forward({ data: x, shape: [n, c, h, w] });
      expect(yg.shape).toEqual([n, c]);
      expect(ya.shape).toEqual([n, c, 1, 1]);
      expectClose(yg.data, yPool, 1e-6, 1e-7, `${backend} y`);
      expect(Array.from(ya.data)).toEqual(Array.from(yg.data));
      const layer = g.layers[0];
      const dx = layer.backward({ data: dy, shape: [n, c] });
      expectClose(dx.data, dxPool, 1e-6, 1e-7, `${backend} dx`);
    }
    // dL/dx by central differences
    const layer = new Sequential([new GlobalAvgPool2d()], { inputShape: [c, h, w], backend: 'native' }).layers[0];
    gradCheck(layer, { data: x.slice(0, 2 * c * h * w), shape: [2, c, h, w] });
  });
});
