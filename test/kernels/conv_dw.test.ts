// The direct weight gradient of convolution (native/kernels/conv_direct_dw*): the SIMD tiles against
// the scalar reference tile and a float64 weight gradient, over every output width from 1 to past
// two vectors of the widest tile, channel counts around the tile's channel and reduction blocks,
// kernel sizes, row strides, dilations, paddings and batches; that dw accumulates; the same bits on
// 1, 2, 3 and 16 threads; that conv2dBackward takes this path exactly where the rule says. The suite
// reruns this file under MINIBATCH_SIMD=avx2 and =scalar.
import { describe, it, expect, afterEach } from 'vitest';
import { native, randn, expectClose, geom } from '../helpers';
import { nativeAddon } from '../../lib/testing';
import type { Conv2dParams } from '../../lib/backend/types';

const addon = nativeAddon();
afterEach(() => native.setNumThreads(2));

const desc = (p: Conv2dParams) =>
  `n${p.n} ci${p.cIn} ${p.h}x${p.w} co${p.cOut} k${p.kH}x${p.kW} s${p.strideH},${p.strideW} ` +
  `p${p.padH},${p.padW} d${p.dilationH},${p.dilationW}`;

const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer).equals(Buffer.from(b.buffer));

/** dW[co, c, ki, kj] = Σ_n Σ_{oh, ow} dy[n, co, oh, ow] · x[n, c, ih, iw] in float64 (padding reads 0). */
function oracleDw(x: Float32Array, dy: Float32Array, p: Conv2dParams): Float64Array {
  const dw = new Float64Array(p.cOut * p.cIn * p.kH * p.kW);
  for (let n = 0; n < p.n; n++)
    for (let co = 0; co < p.cOut; co++)
      for (let oh = 0; oh < p.outH; oh++)
        for (let ow = 0; ow < p.outW; ow++) {
          const g = dy[((n * p.cOut + co) * p.outH + oh) * p.outW + ow];
          for (let c = 0; c < p.cIn; c++)
            for (let ki = 0; ki < p.kH; ki++) {
              const ih = oh * p.strideH - p.padH + ki * p.dilationH;
              if (ih < 0 || ih >= p.h) continue;
              for (let kj = 0; kj < p.kW; kj++) {
                const iw = ow * p.strideW - p.padW + kj * p.dilationW;
                if (iw < 0 || iw >= p.w) continue;
                dw[((co * p.cIn + c) * p.kH + ki) * p.kW + kj] += g * x[((n * p.cIn + c) * p.h + ih) * p.w + iw];
              }
            }
        }
  return dw;
}

function data(p: Conv2dParams, seed: number) {
  return {
    x: randn(p.n * p.cIn * p.h * p.w, seed),
    dy: randn(p.n * p.cOut * p.outH * p.outW, seed + 1),
    dw0: randn(p.cOut * p.cIn * p.kH * p.kW, seed + 2),  // what dw holds before: the kernels add to it
  };
}

/** The SIMD tiles and the reference tile, each added onto dw0, against dw0 + the float64 gradient. */
function dwCase(p: Conv2dParams, seed: number): void {
  const { x, dy, dw0 } = data(p, seed);
  const fast = dw0.slice(), ref = dw0.slice();
  addon.conv2dDirectDw(fast, x, dy, p, false);
  addon.conv2dDirectDw(ref, x, dy, p, true);
  const want = oracleDw(x, dy, p).map((v, i) => v + dw0[i]);
  const terms = p.n * p.outH * p.outW;  // products summed into each element
  expectClose(ref, want, 1e-5, 2e-6 * terms, `ref ${desc(p)}`);
  expectClose(fast, ref, 1e-5, 2e-6 * terms, `simd ${desc(p)}`);
}

const CHANNELS = [1, 3, 7, 8, 9, 16, 17, 32];

describe('direct weight gradient: SIMD tiles against the reference tile and float64', () => {
  it('every output width 1..40 over input and output channel counts 1..32 (3×3, padding 0, 1, 2; batch 1 and 5)', () => {
    let seed = 10;
    CHANNELS.forEach((ci, i) => {
      for (let ow = 1; ow <= 40; ow++) {
        const pad = ow >= 3 ? [1, 0, 2][ow % 3] : 1;
        const co = CHANNELS[(i + ow) % CHANNELS.length];
        const p = geom(ow % 2 ? 1 : 5, ci, 3 + (ow % 2), ow + 2 - 2 * pad, co, [3, 3], [1, 1], [pad, pad]);
        expect(p.outW).toBe(ow);
        dwCase(p, seed);
        seed += 3;
      }
    });
  });
  it('kernel shapes, row strides, dilations, paddings and batches', () => {
    const shapes: Conv2dParams[] = [
      geom(3, 4, 9, 21, 7, [1, 1], [1, 1], [1, 1]), geom(2, 5, 9, 17, 9, [1, 1], [2, 1]),
      geom(2, 8, 6, 13, 8, [1, 1]),  // pointwise: conv2dBackward keeps the GEMM, the kernel still works
      geom(5, 3, 11, 19, 9, [5, 5], [1, 1], [2, 2]), geom(1, 7, 12, 23, 17, [5, 5], [2, 1], [1, 0]),
      geom(2, 3, 11, 19, 16, [3, 3], [2, 1], [1, 1]), geom(1, 9, 13, 33, 3, [3, 3], [3, 1], [0, 2]),
      geom(2, 3, 12, 18, 10, [3, 3], [1, 1], [2, 2], [2, 2]), geom(5, 2, 8, 35, 24, [2, 4], [3, 1], [1, 0], [3, 1]),
      geom(2, 9, 7, 16, 3, [5, 3]), geom(1, 2, 6, 50, 33, [3, 5], [1, 1], [1, 2]),
      geom(3, 1, 28, 28, 16, [3, 3], [1, 1], [1, 1]), geom(3, 16, 14, 14, 32, [3, 3], [1, 1], [1, 1]),
      geom(2, 32, 8, 32, 64, [3, 3], [1, 1], [1, 1]),
    ];
    shapes.forEach((p, i) => dwCase(p, 700 + 3 * i));
  });
  it('a batch split into several chunks and groups (64 samples) still sums every sample once', () => {
    dwCase(geom(64, 3, 5, 9, 5, [3, 3], [1, 1], [1, 1]), 900);
    dwCase(geom(37, 2, 6, 6, 4, [3, 3], [2, 1], [1, 1]), 903);
  });
  it('dy and x values past the end of a row never reach dW (NaN beyond the last output column)', () => {
    // 3×3, no padding: input column w − 1 is read only by kj = 2, input row 0 only by ki = 0; a NaN
    // there reaches only tap (0, 2). Row stride 1 (the shifted planes) and 2 (padded rows).
    for (const sh of [1, 2]) {
      const p = geom(1, 1, 5, 20, 4, [3, 3], [sh, 1]);
      const x = randn(100, 5);
      x[19] = NaN;  // row 0, last column
      for (const ref of [false, true]) {
        const dw = new Float32Array(36);
        addon.conv2dDirectDw(dw, x, randn(4 * p.outH * p.outW, 6), p, ref);
        for (let co = 0; co < 4; co++)
          for (let t = 0; t < 9; t++)
            expect(Number.isNaN(dw[co * 9 + t]), `sh ${sh} ref ${ref} co ${co} tap ${t}`).toBe(t === 2);
      }
    }
  });
});

describe('direct weight gradient: threads and routing', () => {
  const shapes = [
    geom(64, 16, 14, 14, 32, [3, 3], [1, 1], [1, 1]), geom(64, 1, 28, 28, 16, [3, 3], [1, 1], [1, 1]),
    geom(1, 32, 12, 12, 64, [3, 3], [1, 1], [1, 1]), geom(5, 3, 9, 20, 7, [3, 3], [2, 1], [1, 1]),
    geom(20, 8, 10, 10, 12, [5, 5], [1, 1], [2, 2]),
  ];
  it('gives the same bits on 1, 2, 3 and 16 threads (groups over threads, and tiles over threads)', () => {
    shapes.forEach((p, i) => {
      const { x, dy, dw0 } = data(p, 40 + i);
      const run = (nt: number) => {
        native.setNumThreads(nt);
        const dw = dw0.slice();
        addon.conv2dDirectDw(dw, x, dy, p, false);
        return dw;
      };
      const one = run(1);
      for (const nt of [2, 3, 16]) expect(same(run(nt), one), `${desc(p)} threads ${nt}`).toBe(true);
    });
  });
  it('conv2dBackward computes dW with it where the rule says so, and the same bits on every thread count', () => {
    for (const p of shapes) {
      if (!addon.conv2dDirectDwFits(p)) continue;
      const { x, dy, dw0 } = data(p, 60);
      const w = randn(dw0.length, 61), db0 = randn(p.cOut, 62);
      const want = dw0.slice();
      addon.conv2dDirectDw(want, x, dy, p, false);
      for (const nt of [1, 2, 3, 16]) {
        native.setNumThreads(nt);
        const ws = new Float32Array(native.conv2dWorkspaceSize(p));
        const dw = dw0.slice(), db = db0.slice();
        native.conv2dBackward(null, dw, db, x, w, dy, ws, p);
        expect(same(dw, want), `${desc(p)} threads ${nt}`).toBe(true);
        // with dx wanted too: dW stays direct when dx runs direct (MNIST conv2), else the whole
        // backward stays im2col + GEMM
        const dx = new Float32Array(x.length), dw2 = dw0.slice(), dxWant = new Float32Array(x.length);
        native.conv2dBackward(dx, dw2, null, x, w, dy, ws, p);
        if (p.strideH === 1) addon.conv2dDirectDx(dxWant, w, dy, p);
        const dxDirect = p.strideH === 1 && same(dx, dxWant);
        if (p.cIn === 16 && p.h === 14) expect(dxDirect, `${desc(p)} dx direct`).toBe(true);
        if (dxDirect) {
          expect(same(dw2, want), `${desc(p)} with dx, threads ${nt}`).toBe(true);
        } else {
          const terms = p.n * p.outH * p.outW;
          expectClose(dw2, oracleDw(x, dy, p).map((v, i) => v + dw0[i]), 1e-5, 2e-6 * terms, `${desc(p)} gemm`);
        }
      }
    }
  });
  it('the rule: stride 1, not pointwise, Co·K <= 8192', () => {
    const fits = (p: Conv2dParams) => addon.conv2dDirectDwFits(p);
    expect(fits(geom(64, 1, 28, 28, 16, [3, 3], [1, 1], [1, 1]))).toBe(true);  // MNIST conv1
    expect(fits(geom(64, 16, 14, 14, 32, [3, 3], [1, 1], [1, 1]))).toBe(true);  // MNIST conv2
    expect(fits(geom(1, 16, 14, 14, 32, [3, 3], [1, 1], [1, 1]))).toBe(true);  // batch 1
    expect(fits(geom(8, 3, 20, 20, 32, [5, 5], [1, 1], [2, 2]))).toBe(true);
    expect(fits(geom(2, 32, 8, 8, 32, [2, 4], [1, 1], [1, 1]))).toBe(true);  // Co·K = 8192
    expect(fits(geom(2, 32, 8, 8, 32, [3, 3], [1, 1], [1, 1]))).toBe(false);  // Co·K = 9216
    expect(fits(geom(32, 32, 32, 32, 64, [3, 3], [1, 1], [1, 1]))).toBe(false);  // the GEMM's size: it keeps it
    expect(fits(geom(8, 16, 14, 14, 32, [3, 3], [2, 1], [1, 1]))).toBe(false);  // row stride 2
    expect(fits(geom(8, 16, 14, 14, 32, [3, 3], [1, 2], [1, 1]))).toBe(false);  // column stride 2
    expect(fits(geom(8, 16, 14, 14, 32, [1, 1]))).toBe(false);  // pointwise: the GEMM reads x and dy in place
    expect(fits(geom(8, 16, 14, 14, 32, [1, 1], [1, 1], [1, 1]))).toBe(true);  // 1×1 with padding
  });
});
