// Average pooling's vector kernels (native/kernels/pool_avg_impl.h, AVX2 and AVX-512) against the
// plain window loops (poolReference) over every plane width 1..40 (past two 16-float vectors),
// common and odd windows, strides, paddings, ceil mode and both divisor rules, forward and backward;
// and thread-count independence. Under MINIBATCH_SIMD=scalar the native kernels are the reference
// itself and the comparisons are exact.
import { describe, it, expect, afterEach } from 'vitest';
import { native, randn, expectClose } from '../helpers';
import { nativeAddon } from '../../lib/testing';
import type { Pool2dParams } from '../../lib/backend/types';

const ref = nativeAddon().poolReference;
afterEach(() => native.setNumThreads(2));

function out(size: number, k: number, s: number, pad: number, ceil: boolean): number {
  const num = size + 2 * pad - k;
  let o = Math.floor((num + (ceil ? s - 1 : 0)) / s) + 1;
  if (ceil && (o - 1) * s >= size + pad) o--;
  return o;
}
function geom(n: number, c: number, h: number, w: number, k: [number, number], s: [number, number], pad: [number, number],
  ceilMode = false, countIncludePad = true): Pool2dParams {
  return {
    n, c, h, w, kH: k[0], kW: k[1], strideH: s[0], strideW: s[1], padH: pad[0], padW: pad[1], ceilMode, countIncludePad,
    outH: out(h, k[0], s[0], pad[0], ceilMode), outW: out(w, k[1], s[1], pad[1], ceilMode),
  };
}
const desc = (p: Pool2dParams) =>
  `n${p.n} c${p.c} ${p.h}x${p.w} k${p.kH}x${p.kW} s${p.strideH},${p.strideW} p${p.padH},${p.padW}` +
  `${p.ceilMode ? ' ceil' : ''}${p.countIncludePad === false ? ' exclude-pad' : ''}`;

function check(p: Pool2dParams, seed: number): void {
  const nIn = p.n * p.c * p.h * p.w, nOut = p.n * p.c * p.outH * p.outW;
  const x = randn(nIn, seed), dy = randn(nOut, seed + 1);
  const y = new Float32Array(nOut).fill(NaN), yRef = new Float32Array(nOut).fill(NaN);
  const dx = new Float32Array(nIn).fill(NaN), dxRef = new Float32Array(nIn).fill(NaN);
  native.avgPool2dForward(y, x, p);
  ref.avgPool2dForward(yRef, x, p);
  native.avgPool2dBackward(dx, dy, p);
  ref.avgPool2dBackward(dxRef, dy, p);
  expectClose(y, yRef, 1e-5, 1e-6, `y ${desc(p)}`);
  expectClose(dx, dxRef, 1e-5, 1e-6, `dx ${desc(p)}`);
}

describe('average pooling: vector kernels against the reference', () => {
  it('2×2 / 2, 3×3 / 1 padding 1 and 3×3 / 2 padding 1 over every width 1..40', () => {
    let seed = 1;
    for (let w = 1; w <= 40; w++) {
      if (w >= 2) check(geom(2, 3, 4, w, [2, 2], [2, 2], [0, 0]), seed++);
      check(geom(2, 3, 5, w, [3, 3], [1, 1], [1, 1]), seed++);
      check(geom(1, 2, 6, w, [3, 3], [2, 2], [1, 1], w % 2 === 0, w % 3 === 0), seed++);
    }
  });
  it('odd windows, strides, paddings, ceil mode and the exclude-padding divisor', () => {
    const shapes = [
      geom(2, 3, 17, 15, [2, 2], [2, 2], [0, 0], true), geom(2, 5, 13, 12, [3, 3], [2, 2], [1, 1], false, false),
      geom(3, 2, 9, 14, [3, 2], [1, 2], [1, 1]), geom(1, 1, 6, 5, [5, 4], [3, 1], [2, 2], true, false),
      geom(2, 4, 33, 35, [4, 4], [4, 4], [2, 1]), geom(1, 3, 20, 37, [7, 3], [1, 3], [3, 1], true),
      geom(2, 8, 32, 32, [2, 2], [2, 2], [0, 0]),
    ];
    shapes.forEach((p, i) => check(p, 100 + 2 * i));
  });
  it('gives the same bits on 1 and 2 threads', () => {
    const p = geom(4, 16, 28, 28, [3, 3], [2, 2], [1, 1]);
    const x = randn(p.n * p.c * p.h * p.w, 9), dy = randn(p.n * p.c * p.outH * p.outW, 10);
    const run = (nt: number) => {
      native.setNumThreads(nt);
      const y = new Float32Array(dy.length), dx = new Float32Array(x.length);
      native.avgPool2dForward(y, x, p);
      native.avgPool2dBackward(dx, dy, p);
      return Buffer.concat([Buffer.from(y.buffer), Buffer.from(dx.buffer)]);
    };
    expect(run(2).equals(run(1))).toBe(true);
  });
});
