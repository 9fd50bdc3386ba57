// Shared test utilities: both backends, seeded random data, and closeness checks that print maxdiff.
import { expect } from 'vitest';
import * as fs from 'fs';
import * as path from 'path';
import { jsBackend, nativeBackend } from '../lib/testing';
import type { Backend, Conv2dParams } from '../lib/backend/types';

export const js: Backend = jsBackend();
export const native: Backend = nativeBackend();
export const backends: [string, Backend][] = [
  ['js', js],
  ['native', native],
];

/** Small seeded generator (mulberry32) for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Float32Array of n uniform values in [lo, hi). */
export function randn(n: number, seed = 1, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Expects |a - b| <= atol + rtol·|b| elementwise; on failure reports the worst index and values. */
export function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, rtol = 1e-5, atol = 1e-6, what = ''): void {
  expect(a.length, `${what} length`).toBe(b.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    const excess = d - (atol + rtol * Math.abs(b[i]));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    expect.fail(`${what} mismatch at ${worst}: got ${a[worst]}, expected ${b[worst]}; maxdiff ${maxDiff(a, b)}`);
  }
}

/** Reads a JSON fixture from test/fixtures. */
export function fixture<T = any>(name: string): T {
  return JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', name), 'utf8')) as T;
}

/** y = conv(x, w) + b in float64 (then ReLU when asked): the oracle for convolution kernels. */
export function convReference(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | null, p: Conv2dParams, relu = false): Float64Array {
  const y = new Float64Array(p.n * p.cOut * p.outH * p.outW);
  for (let n = 0; n < p.n; n++)
    for (let co = 0; co < p.cOut; co++)
      for (let oh = 0; oh < p.outH; oh++)
        for (let ow = 0; ow < p.outW; ow++) {
          let s = b ? b[co] : 0;
          for (let ci = 0; ci < p.cIn; ci++)
            for (let ki = 0; ki < p.kH; ki++)
              for (let kj = 0; kj < p.kW; kj++) {
                const ih = oh * p.strideH - p.padH + ki * p.dilationH;
                const iw = ow * p.strideW - p.padW + kj * p.dilationW;
                if (ih < 0 || ih >= p.h || iw < 0 || iw >= p.w) continue;
                s += x[((n * p.cIn + ci) * p.h + ih) * p.w + iw] * w[((co * p.cIn + ci) * p.kH + ki) * p.kW + kj];
              }
          y[((n * p.cOut + co) * p.outH + oh) * p.outW + ow] = relu ? Math.max(s, 0) : s;
        }
  return y;
}

/** Convolution geometry (PyTorch's output size) from input [n, cIn, h, w], cOut, kernel, stride, padding, dilation. */
export function geom(
  n: number, cIn: number, h: number, w: number, cOut: number, k: [number, number],
  s: [number, number] = [1, 1], pad: [number, number] = [0, 0], d: [number, number] = [1, 1],
): Conv2dParams {
  const outH = Math.floor((h + 2 * pad[0] - d[0] * (k[0] - 1) - 1) / s[0]) + 1;
  const outW = Math.floor((w + 2 * pad[1] - d[1] * (k[1] - 1) - 1) / s[1]) + 1;
  return {
    n, cIn, h, w, cOut, kH: k[0], kW: k[1], strideH: s[0], strideW: s[1], padH: pad[0], padW: pad[1],
    dilationH: d[0], dilationW: d[1], outH, outW,
  };
}
