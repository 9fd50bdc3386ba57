/**
 * Max and average pooling in plain TypeScript (NCHW; padding is implicit -inf for max, 0 for avg,
 * and average pooling counts the padding unless countIncludePad is false, as PyTorch's
 * count_include_pad). outH/outW may be ceil-mode sizes: windows are clipped to the input.
 */
import type { Pool2dParams } from '../types';

// Window (oh, ow) covers rows oh·sh - padH ... + kH - 1 and columns ow·sw - padW ... + kW - 1, clipped.

/** A window's input plane offset, output index, unclipped start (hs, ws) and clipped rows/columns. */
type WindowVisit = (xp: number, o: number, hs: number, ws: number, h0: number, h1: number, w0: number, w1: number) => void;

/** Calls visit for every output element, plane by plane, row by row. */
function eachWindow(p: Pool2dParams, visit: WindowVisit): void {
  const { n, c, h, w, kH, kW, strideH: sh, strideW: sw, padH, padW, outH, outW } = p;
  const inPlane = h * w, outPlane = outH * outW;
  for (let pl = 0; pl < n * c; pl++) {
    const xp = pl * inPlane, yp = pl * outPlane;
    for (let oh = 0; oh < outH; oh++) {
      const hs = oh * sh - padH, h0 = Math.max(hs, 0), h1 = Math.min(hs + kH, h);
      for (let ow = 0; ow < outW; ow++) {
        const ws = ow * sw - padW, w0 = Math.max(ws, 0), w1 = Math.min(ws + kW, w);
        visit(xp, yp + oh * outW + ow, hs, ws, h0, h1, w0, w1);
      }
    }
  }
}

export function maxPool2dForward(y: Float32Array, argmax: Int32Array, x: Float32Array, p: Pool2dParams): void {
  const w = p.w;
  eachWindow(p, (xp, o, _hs, _ws, h0, h1, w0, w1) => {
    let best = -Infinity;
    let idx = h0 * w + w0;
    for (let ih = h0; ih < h1; ih++) {
      const r = xp + ih * w;
      for (let iw = w0; iw < w1; iw++) {
        const v = x[r + iw];
        // PyTorch's rule: a strictly larger value or a NaN takes the place.
        if (v > best || v !== v) {
          best = v;
          idx = ih * w + iw;
        }
      }
    }
    y[o] = best;
    argmax[o] = idx;
  });
}

export function maxPool2dBackward(dx: Float32Array, argmax: Int32Array, dy: Float32Array, p: Pool2dParams): void {
  const inPlane = p.h * p.w, outPlane = p.outH * p.outW;
  dx.fill(0, 0, p.n * p.c * inPlane);
  for (let pl = 0; pl < p.n * p.c; pl++) {
    const xp = pl * inPlane, yp = pl * outPlane;
    for (let i = 0; i < outPlane; i++) dx[xp + argmax[yp + i]] += dy[yp + i];
  }
}

/** The divisor of one average-pooling window (countIncludePad: padding inside the window counts). */
function divisor(p: Pool2dParams, hs: number, ws: number, h0: number, h1: number, w0: number, w1: number): number {
  if (p.countIncludePad === false) return (h1 - h0) * (w1 - w0);
  return (Math.min(hs + p.kH, p.h + p.padH) - hs) * (Math.min(ws + p.kW, p.w + p.padW) - ws);
}

export function avgPool2dForward(y: Float32Array, x: Float32Array, p: Pool2dParams): void {
  const w = p.w;
  eachWindow(p, (xp, o, hs, ws, h0, h1, w0, w1) => {
    let s = 0;
    for (let ih = h0; ih < h1; ih++) {
      const r = xp + ih * w;
      for (let iw = w0; iw < w1; iw++) s += x[r + iw];
    }
    y[o] = s / divisor(p, hs, ws, h0, h1, w0, w1);
  });
}

export function avgPool2dBackward(dx: Float32Array, dy: Float32Array, p: Pool2dParams): void {
  const w = p.w;
  dx.fill(0, 0, p.n * p.c * p.h * w);
  eachWindow(p, (xp, o, hs, ws, h0, h1, w0, w1) => {
    const g = dy[o] / divisor(p, hs, ws, h0, h1, w0, w1);
    for (let ih = h0; ih < h1; ih++) {
      const r = xp + ih * w;
      for (let iw = w0; iw < w1; iw++) dx[r + iw] += g;
    }
  });
}
