/**
 * Convolution (im2col + the packed GEMM of gemm.ts) in plain TypeScript.
 *
 * Legend: N batch, Ci input channels, H×W input, Co output channels, KH×KW kernel, OH×OW output,
 * K = Ci·KH·KW (reduction size), P = OH·OW (pixels of one output plane).
 *
 *   forward    Y_n[Co, P]  = W[Co, K] · cols_n[K, P] + bias
 *   backward   dW[Co, K]  += dY_n[Co, P] · cols_nᵀ[P, K]     db[Co] += Σ dY
 *              dX_n        = col2im(Wᵀ[K, Co] · dY_n[Co, P])
 *
 * A 1×1 stride-1 unpadded convolution uses x_n as cols_n directly. The exports are typed as the
 * Backend contract says (Float32Array), but nothing in them depends on the element type: given
 * Float64Array buffers they compute in double precision, which the tests' finite-difference checks use.
 */
import type { Conv2dParams } from '../types';
import { gemm } from './gemm';

type FloatArray = Float32Array | Float64Array;

function isPointwise(p: Conv2dParams): boolean {
  return p.kH === 1 && p.kW === 1 && p.strideH === 1 && p.strideW === 1 && p.padH === 0 && p.padW === 0;
}

// ----------------------------------------------------------------------------- matrix products

/**
 * C[m, n] = alpha·op(A)·op(B) + beta·C on row-major views (the backend's GEMM). gemm is typed for
 * float32 but is generic in the element type (its panels hold doubles), so Float64Array views keep
 * double precision end to end.
 */
function mm(
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  a: FloatArray, b: FloatArray, beta: number, c: FloatArray,
): void {
  gemm(transA, transB, m, n, k, 1, a as Float32Array, b as Float32Array, beta, c as Float32Array);
}

// ----------------------------------------------------------------------------------- im2col

/** The output columns whose input column ow·stride + off lies in [0, w): [lo, hi). */
function validRange(off: number, stride: number, w: number, ow: number): [number, number] {
  let lo = off >= 0 ? 0 : Math.floor((-off + stride - 1) / stride);
  let hi = w - 1 - off < 0 ? 0 : Math.floor((w - 1 - off) / stride) + 1;
  lo = Math.min(lo, ow);
  hi = Math.min(hi, ow);
  return [lo, Math.max(lo, hi)];
}

function im2colAt(cols: FloatArray, x: FloatArray, xOff: number, p: Conv2dParams): void {
  const { cIn, h, w, kH, kW, strideH: sh, strideW: sw, padH, padW, dilationH: dh, dilationW: dw, outH, outW } = p;
  const P = outH * outW;
  for (let c = 0; c < cIn; c++) {
    const xc = xOff + c * h * w;
    for (let ki = 0; ki < kH; ki++) {
      for (let kj = 0; kj < kW; kj++) {
        const row = ((c * kH + ki) * kW + kj) * P;
        const off = kj * dw - padW;
        const [lo, hi] = validRange(off, sw, w, outW);
        for (let oh = 0; oh < outH; oh++) {
          const r = row + oh * outW;
          const ih = oh * sh - padH + ki * dh;
          if (ih < 0 || ih >= h) {
            cols.fill(0, r, r + outW);
            continue;
          }
          cols.fill(0, r, r + lo);
          const src = xc + ih * w + off;
          if (sw === 1) {
            for (let o = lo; o < hi; o++) cols[r + o] = x[src + o];
          } else {
            for (let o = lo, s = src + lo * sw; o < hi; o++, s += sw) cols[r + o] = x[s];
          }
          cols.fill(0, r + hi, r + outW);
        }
      }
    }
  }
}

function col2imAt(dx: FloatArray, dxOff: number, cols: FloatArray, p: Conv2dParams): void {
  const { cIn, h, w, kH, kW, strideH: sh, strideW: sw, padH, padW, dilationH: dh, dilationW: dw, outH, outW } = p;
  const P = outH * outW;
  dx.fill(0, dxOff, dxOff + cIn * h * w);
  for (let c = 0; c < cIn; c++) {
    const xc = dxOff + c * h * w;
    for (let ki = 0; ki < kH; ki++) {
      for (let kj = 0; kj < kW; kj++) {
        const row = ((c * kH + ki) * kW + kj) * P;
        const off = kj * dw - padW;
        const [lo, hi] = validRange(off, sw, w, outW);
        if (hi <= lo) continue;
        for (let oh = 0; oh < outH; oh++) {
          const ih = oh * sh - padH + ki * dh;
          if (ih < 0 || ih >= h) continue;
          const r = row + oh * outW;
          const dst = xc + ih * w + off;
          if (sw === 1) {
            for (let o = lo; o < hi; o++) dx[dst + o] += cols[r + o];
          } else {
            for (let o = lo, d = dst + lo * sw; o < hi; o++, d += sw) dx[d] += cols[r + o];
          }
        }
      }
    }
  }
}

// ------------------------------------------------------------------------------ convolution

export function conv2dWorkspaceSize(p: Conv2dParams): number {
  return isPointwise(p) ? 0 : p.cIn * p.kH * p.kW * p.outH * p.outW;
}

export function im2col(cols: Float32Array, x: Float32Array, p: Conv2dParams): void {
  im2colAt(cols, x, 0, p);
}

export function col2im(dx: Float32Array, cols: Float32Array, p: Conv2dParams): void {
  col2imAt(dx, 0, cols, p);
}

export function conv2dForward(
  y: Float32Array, x: Float32Array, w: Float32Array, bias: Float32Array | null, workspace: Float32Array, p: Conv2dParams,
  relu = false, pool = false,
): void {
  const K = p.cIn * p.kH * p.kW, P = p.outH * p.outW, xs = p.cIn * p.h * p.w, ys = p.cOut * P;
  const pointwise = isPointwise(p);
  if (pool) {
    // the whole output, then MaxPool2d(2, 2) (floor; a NaN wins) into y
    const full = new Float32Array(p.n * ys);
    conv2dForward(full, x, w, bias, workspace, p, relu);
    const ph = Math.floor(p.outH / 2), pw = Math.floor(p.outW / 2);
    for (let q = 0; q < p.n * p.cOut; q++)
      for (let i = 0; i < ph; i++)
        for (let j = 0; j < pw; j++) {
          const r0 = (q * p.outH + 2 * i) * p.outW + 2 * j, r1 = r0 + p.outW;
          let m = full[r0];
          for (const v of [full[r0 + 1], full[r1], full[r1 + 1]]) if (v > m || v !== v) m = v;
          y[(q * ph + i) * pw + j] = m;
        }
    return;
  }
  if (relu) {
    conv2dForward(y, x, w, bias, workspace, p);
    for (let i = 0, len = p.n * ys; i < len; i++) if (y[i] < 0) y[i] = 0;
    return;
  }
  for (let s = 0; s < p.n; s++) {
    const yOff = s * ys;
    for (let co = 0; co < p.cOut; co++) y.fill(bias ? bias[co] : 0, yOff + co * P, yOff + (co + 1) * P);
    let cols: FloatArray = workspace;
    if (pointwise) cols = x.subarray(s * xs, s * xs + K * P);
    else im2colAt(workspace, x, s * xs, p);
    mm(false, false, p.cOut, P, K, w, cols, 1, y.subarray(yOff, yOff + ys));
  }
}

export function conv2dBackward(
  dx: Float32Array | null, dw: Float32Array, db: Float32Array | null,
  x: Float32Array, w: Float32Array, dy: Float32Array, workspace: Float32Array, p: Conv2dParams,
): void {
  const K = p.cIn * p.kH * p.kW, P = p.outH * p.outW, xs = p.cIn * p.h * p.w, ys = p.cOut * P;
  const pointwise = isPointwise(p);
  if (db) {
    for (let co = 0; co < p.cOut; co++) {
      let acc = 0;
      for (let s = 0; s < p.n; s++) {
        const r = s * ys + co * P;
        for (let i = 0; i < P; i++) acc += dy[r + i];
      }
      db[co] += acc;
    }
  }
  for (let s = 0; s < p.n; s++) {
    const dys = dy.subarray(s * ys, (s + 1) * ys);
    // dW += dY_n · cols_nᵀ
    let cols: FloatArray = workspace;
    if (pointwise) cols = x.subarray(s * xs, s * xs + K * P);
    else im2colAt(workspace, x, s * xs, p);
    mm(false, true, p.cOut, K, P, dys, cols, 1, dw);
    if (!dx) continue;
    // dX_n = col2im(Wᵀ · dY_n)
    if (pointwise) {
      mm(true, false, K, P, p.cOut, w, dys, 0, dx.subarray(s * xs, (s + 1) * xs));
    } else {
      mm(true, false, K, P, p.cOut, w, dys, 0, workspace);
      col2imAt(dx, s * xs, workspace, p);
    }
  }
}
