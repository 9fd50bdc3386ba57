// The direct convolution kernels (native/kernels/conv_direct*): the SIMD tiles against the scalar
// reference tile and a float64 direct convolution, over every output width from 1 to past two
// vectors of the widest tile and channel counts around its row block; the input gradient against a
// float64 transposed convolution; thread-count independence; that conv2dForward / conv2dBackward
// route the shapes the rules accept through these kernels. The suite reruns this file under
// MINIBATCH_SIMD=avx2 and =scalar.
import { describe, it, expect, afterEach } from 'vitest';
import { native, randn, expectClose, convReference } from '../helpers';
import { nativeAddon } from '../../lib/testing';
import type { Conv2dParams } from '../../lib/backend/types';

const addon = nativeAddon();
afterEach(() => native.setNumThreads(2));

function geom(
  n: number, cIn: number, h: number, w: number, cOut: number, k: [number, number],
  sH = 1, pad: [number, number] = [0, 0], d: [number, number] = [1, 1],
): Conv2dParams {
  const outH = Math.floor((h + 2 * pad[0] - d[0] * (k[0] - 1) - 1) / sH) + 1;
  const outW = Math.floor((w + 2 * pad[1] - d[1] * (k[1] - 1) - 1) / 1) + 1;
  return {
    n, cIn, h, w, cOut, kH: k[0], kW: k[1], strideH: sH, strideW: 1, padH: pad[0], padW: pad[1],
    dilationH: d[0], dilationW: d[1], outH, outW,
  };
}

/** dx of y = conv(x, w) (stride 1) in float64: every dy spread back over its window. */
function oracleDx(w: Float32Array, dy: Float32Array, p: Conv2dParams): Float64Array {
  const dx = new Float64Array(p.n * p.cIn * p.h * p.w);
  for (let n = 0; n < p.n; n++)
    for (let co = 0; co < p.cOut; co++)
      for (let oh = 0; oh < p.outH; oh++)
        for (let ow = 0; ow < p.outW; ow++) {
          const g = dy[((n * p.cOut + co) * p.outH + oh) * p.outW + ow];
          for (let ci = 0; ci < p.cIn; ci++)
            for (let ki = 0; ki < p.kH; ki++)
              for (let kj = 0; kj < p.kW; kj++) {
                const ih = oh - p.padH + ki * p.dilationH, iw = ow - p.padW + kj * p.dilationW;
                if (ih < 0 || ih >= p.h || iw < 0 || iw >= p.w) continue;
                dx[((n * p.cIn + ci) * p.h + ih) * p.w + iw] += g * w[((co * p.cIn + ci) * p.kH + ki) * p.kW + kj];
              }
        }
  return dx;
}

const desc = (p: Conv2dParams) =>
  `n${p.n} ci${p.cIn} ${p.h}x${p.w} co${p.cOut} k${p.kH}x${p.kW} sh${p.strideH} p${p.padH},${p.padW} d${p.dilationH},${p.dilationW}`;

function forwardCase(p: Conv2dParams, seed: number, relu: boolean, bias: boolean): void {
  const x = randn(p.n * p.cIn * p.h * p.w, seed);
  const w = randn(p.cOut * p.cIn * p.kH * p.kW, seed + 1);
  const b = bias ? randn(p.cOut, seed + 2) : null;
  const len = p.n * p.cOut * p.outH * p.outW;
  const fast = new Float32Array(len).fill(NaN), ref = new Float32Array(len).fill(NaN);
  addon.conv2dDirect(fast, x, w, b, p, relu, false);
  addon.conv2dDirect(ref, x, w, b, p, relu, true);
  const want = convReference(x, w, b, p, relu);
  const k = p.cIn * p.kH * p.kW;
  expectClose(ref, want, 1e-5, 2e-6 * k, `ref ${desc(p)}`);
  expectClose(fast, ref, 1e-5, 2e-6 * k, `simd ${desc(p)}`);
}

describe('direct convolution forward: SIMD tiles against the reference tile and float64', () => {
  it('every output width 1..40 with 1, 5, 8, 9 and 17 output channels (3×3, padding 1)', () => {
    let seed = 10;
    for (const co of [1, 5, 8, 9, 17])
      for (let w = 1; w <= 40; w++) forwardCase(geom(2, 3, 3, w, co, [3, 3], 1, [1, 1]), seed++, w % 2 === 0, w % 3 !== 0);
  });
  it('kernel shapes, row strides, dilations and paddings', () => {
    const shapes: Conv2dParams[] = [
      geom(3, 4, 9, 21, 7, [1, 1]), geom(2, 2, 7, 17, 12, [1, 5], 1, [0, 2]), geom(2, 3, 11, 19, 9, [5, 1], 2, [2, 0]),
      geom(1, 5, 13, 33, 16, [3, 3], 2, [1, 1]), geom(2, 3, 12, 18, 10, [3, 3], 1, [2, 2], [2, 2]),
      geom(1, 2, 8, 35, 24, [2, 4], 3, [1, 0], [3, 1]), geom(4, 1, 28, 28, 16, [3, 3], 1, [1, 1]),
      geom(2, 16, 14, 14, 32, [3, 3], 1, [1, 1]), geom(1, 7, 6, 50, 33, [7, 7], 1, [3, 3]),
    ];
    shapes.forEach((p, i) => forwardCase(p, 100 + 3 * i, i % 2 === 0, i % 3 !== 1));
  });
  it('a NaN in the input stays NaN through the fused ReLU', () => {
    const p = geom(1, 1, 4, 20, 8, [3, 3], 1, [1, 1]);
    const x = randn(80, 5);
    x[27] = NaN;
    const y = new Float32Array(8 * 80);
    for (const ref of [false, true]) {
      addon.conv2dDirect(y, x, randn(72, 6), null, p, true, ref);
      expect(Number.isNaN(y[27]), `ref ${ref}`).toBe(true);
      expect(Number.isNaN(y[5]), `ref ${ref}`).toBe(false);
    }
  });
});

/** MaxPool2d(2, 2) (floor) of y [n, c, oh, ow]; a NaN wins. */
function pool2(y: ArrayLike<number>, n: number, c: number, oh: number, ow: number): Float64Array {
  const ph = Math.floor(oh / 2), pw = Math.floor(ow / 2), out = new Float64Array(n * c * ph * pw);
  for (let q = 0; q < n * c; q++)
    for (let i = 0; i < ph; i++)
      for (let j = 0; j < pw; j++) {
        let m = -Infinity;
        for (const [di, dj] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
          const v = y[(q * oh + 2 * i + di) * ow + 2 * j + dj];
          if (v > m || Number.isNaN(v)) m = v;
        }
        out[(q * ph + i) * pw + j] = m;
      }
  return out;
}

function poolCase(p: Conv2dParams, seed: number, relu: boolean, bias: boolean): void {
  const x = randn(p.n * p.cIn * p.h * p.w, seed), w = randn(p.cOut * p.cIn * p.kH * p.kW, seed + 1);
  const b = bias ? randn(p.cOut, seed + 2) : null;
  const len = p.n * p.cOut * Math.floor(p.outH / 2) * Math.floor(p.outW / 2);
  const fast = new Float32Array(len).fill(NaN), ref = new Float32Array(len).fill(NaN);
  addon.conv2dDirectPool(fast, x, w, b, p, relu, false);
  addon.conv2dDirectPool(ref, x, w, b, p, relu, true);
  const want = pool2(convReference(x, w, b, p, relu), p.n, p.cOut, p.outH, p.outW);
  const k = p.cIn * p.kH * p.kW;
  expectClose(ref, want, 1e-5, 2e-6 * k, `pooled ref ${desc(p)}`);
  expectClose(fast, ref, 1e-5, 2e-6 * k, `pooled simd ${desc(p)}`);
  {
    const y = new Float32Array(len).fill(NaN), ws = new Float32Array(native.conv2dWorkspaceSize(p));
    native.conv2dForward(y, x, w, b, ws, p, relu, true);
    expect(Buffer.from(y.buffer).equals(Buffer.from(fast.buffer)), `conv2dForward pool ${desc(p)}`).toBe(true);
  }
}

describe('direct convolution with 2×2 max pooling fused (inference)', () => {
  it('every output width 2..40 and odd heights with 1, 5, 8, 9 and 17 output channels', () => {
    let seed = 500;
    for (const co of [1, 5, 8, 9, 17])
      for (let w = 2; w <= 40; w++) poolCase(geom(2, 3, 2 + (w % 3), w, co, [3, 3], 1, [1, 1]), seed++, w % 2 === 0, w % 3 !== 0);
  });
  it('the MNIST shapes, a row stride and a dilation', () => {
    poolCase(geom(3, 1, 28, 28, 16, [3, 3], 1, [1, 1]), 1, true, true);
    poolCase(geom(3, 16, 14, 14, 32, [3, 3], 1, [1, 1]), 2, true, true);
    poolCase(geom(2, 4, 17, 23, 10, [3, 3], 2, [1, 1]), 3, false, true);
    poolCase(geom(2, 3, 12, 18, 12, [3, 3], 1, [2, 2], [2, 2]), 4, true, false);
  });
  it('a NaN wins its pooling window; a window of negatives pools to 0 after the ReLU', () => {
    const p = geom(1, 1, 4, 20, 8, [1, 1]);
    const x = randn(80, 5, -2, -1);
    x[21] = NaN;  // row 1, column 1: pooled window (0, 0)
    const w = new Float32Array(8).fill(1), y = new Float32Array(8 * 2 * 10);
    for (const ref of [false, true]) {
      addon.conv2dDirectPool(y, x, w, null, p, true, ref);
      expect(Number.isNaN(y[0]), `ref ${ref}`).toBe(true);
      expect(y[1], `ref ${ref}`).toBe(0);
    }
  });
});

describe('direct convolution input gradient against float64', () => {
  it('every input width 1..40 with 1, 5, 8, 9 and 17 input channels (3×3, padding 1 and 0)', () => {
    let seed = 300;
    for (const ci of [1, 5, 8, 9, 17])
      for (let w = 1; w <= 40; w++) {
        const p = geom(2, ci, 3, w + 2, 6, [3, 3], 1, w % 2 ? [1, 1] : [0, 1]);
        const wt = randn(p.cOut * ci * 9, seed++), dy = randn(p.n * p.cOut * p.outH * p.outW, seed++);
        const dx = new Float32Array(p.n * ci * p.h * p.w).fill(NaN);
        addon.conv2dDirectDx(dx, wt, dy, p);
        expectClose(dx, oracleDx(wt, dy, p), 1e-5, 2e-6 * 54, desc(p));
      }
  });
  it('dilations and non-square kernels', () => {
    for (const p of [geom(2, 4, 12, 19, 5, [3, 3], 1, [2, 2], [2, 2]), geom(1, 3, 9, 30, 11, [1, 5], 1, [0, 1]), geom(2, 9, 7, 16, 3, [5, 3])]) {
      const wt = randn(p.cOut * p.cIn * p.kH * p.kW, 7), dy = randn(p.n * p.cOut * p.outH * p.outW, 8);
      const dx = new Float32Array(p.n * p.cIn * p.h * p.w);
      addon.conv2dDirectDx(dx, wt, dy, p);
      expectClose(dx, oracleDx(wt, dy, p), 1e-5, 1e-4, desc(p));
    }
  });
});

describe('direct convolution: threads and routing', () => {
  const shapes = [geom(5, 16, 14, 14, 32, [3, 3], 1, [1, 1]), geom(1, 8, 20, 20, 24, [3, 3], 1, [1, 1])];
  it('gives the same bits on 1 and 2 threads (batch split and tile split)', () => {
    for (const p of shapes) {
      const x = randn(p.n * p.cIn * p.h * p.w, 1), w = randn(p.cOut * p.cIn * 9, 2), b = randn(p.cOut, 3);
      const dy = randn(p.n * p.cOut * p.outH * p.outW, 4);
      const out = (nt: number) => {
        native.setNumThreads(nt);
        const y = new Float32Array(dy.length), dx = new Float32Array(x.length);
        addon.conv2dDirect(y, x, w, b, p, true, false);
        addon.conv2dDirectDx(dx, w, dy, p);
        return [y, dx];
      };
      const [y1, dx1] = out(1), [y2, dx2] = out(2);
      expect(Buffer.from(y2.buffer).equals(Buffer.from(y1.buffer)), desc(p)).toBe(true);
      expect(Buffer.from(dx2.buffer).equals(Buffer.from(dx1.buffer)), desc(p)).toBe(true);
    }
  });
  it('conv2dForward and conv2dBackward run these kernels for the MNIST shapes', () => {
    for (const p of [geom(4, 16, 14, 14, 32, [3, 3], 1, [1, 1]), geom(3, 16, 28, 28, 16, [3, 3], 1, [1, 1])]) {
      const x = randn(p.n * p.cIn * p.h * p.w, 1), w = randn(p.cOut * p.cIn * 9, 2), b = randn(p.cOut, 3);
      const dy = randn(p.n * p.cOut * p.outH * p.outW, 4);
      const ws = new Float32Array(native.conv2dWorkspaceSize(p));
      const y = new Float32Array(dy.length), want = new Float32Array(dy.length);
      native.conv2dForward(y, x, w, b, ws, p, true);
      addon.conv2dDirect(want, x, w, b, p, true, false);
      expect(Buffer.from(y.buffer).equals(Buffer.from(want.buffer)), desc(p)).toBe(true);
      const dx = new Float32Array(x.length), dxWant = new Float32Array(x.length), dw = new Float32Array(w.length);
      native.conv2dBackward(dx, dw, null, x, w, dy, ws, p);
      addon.conv2dDirectDx(dxWant, w, dy, p);
      expect(Buffer.from(dx.buffer).equals(Buffer.from(dxWant.buffer)), desc(p)).toBe(true);
    }
  });
});
