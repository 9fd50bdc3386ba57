/**
 * Convolution (im2col + a blocked matrix product) in plain TypeScript.
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

type FloatArray = Float32Array | Float64Array;

function isPointwise(p: Conv2dParams): boolean {
  return p.kH === 1 && p.kW === 1 && p.strideH === 1 && p.strideW === 1 && p.padH === 0 && p.padW === 0;
}

// ----------------------------------------------------------------------------- matrix products
// Private helpers on row-major matrices addressed by (array, offset).

/** Column block of the i-k-j products: C rows of this many values stay in L1 while A's column streams. */
const NB = 512;

/**
 * C[m, n] += A[m, k] · B[k, n] with A(i, p) = a[aOff + i·ars + p·acs] (so Aᵀ is ars = 1, acs = m),
 * B and C contiguous row-major. i-k-j order over a column block of C: four rows of C and two rows of
 * B per pass, so each C value is loaded and stored once for eight multiply-adds.
 */
function matmulAcc(
  c: FloatArray, cOff: number, a: FloatArray, aOff: number, ars: number, acs: number,
  b: FloatArray, bOff: number, m: number, n: number, k: number,
): void {
  for (let j0 = 0; j0 < n; j0 += NB) {
    const j1 = Math.min(n, j0 + NB);
    let i = 0;
    for (; i + 4 <= m; i += 4) {
      const c0 = cOff + i * n, c1 = c0 + n, c2 = c1 + n, c3 = c2 + n;
      const ai = aOff + i * ars;
      let p = 0;
      for (; p + 2 <= k; p += 2) {
        const ap = ai + p * acs, aq = ap + acs;
        const a0 = a[ap], a1 = a[ap + ars], a2 = a[ap + 2 * ars], a3 = a[ap + 3 * ars];
        const e0 = a[aq], e1 = a[aq + ars], e2 = a[aq + 2 * ars], e3 = a[aq + 3 * ars];
        const bp = bOff + p * n, bq = bp + n;
        for (let j = j0; j < j1; j++) {
          const u = b[bp + j], v = b[bq + j];
          c[c0 + j] += a0 * u + e0 * v;
          c[c1 + j] += a1 * u + e1 * v;
          c[c2 + j] += a2 * u + e2 * v;
          c[c3 + j] += a3 * u + e3 * v;
        }
      }
      if (p < k) {
        const ap = ai + p * acs;
        const a0 = a[ap], a1 = a[ap + ars], a2 = a[ap + 2 * ars], a3 = a[ap + 3 * ars];
        const bp = bOff + p * n;
        for (let j = j0; j < j1; j++) {
          const u = b[bp + j];
          c[c0 + j] += a0 * u;
          c[c1 + j] += a1 * u;
          c[c2 + j] += a2 * u;
          c[c3 + j] += a3 * u;
        }
      }
    }
    for (; i < m; i++) {
      const c0 = cOff + i * n;
      const ai = aOff + i * ars;
      for (let p = 0; p < k; p++) {
        const a0 = a[ai + p * acs];
        const bp = bOff + p * n;
        for (let j = j0; j < j1; j++) c[c0 + j] += a0 * b[bp + j];
      }
    }
  }
}

/**
 * C[m, n] += A[m, k] · B[n, k]ᵀ (every entry a dot product of two contiguous rows), blocked 4×2 so
 * six row loads feed eight multiply-adds.
 */
function matmulNTAcc(
  c: FloatArray, cOff: number, a: FloatArray, aOff: number, b: FloatArray, bOff: number,
  m: number, n: number, k: number,
): void {
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const a0 = aOff + i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
    const ci = cOff + i * n;
    let j = 0;
    for (; j + 2 <= n; j += 2) {
      const b0 = bOff + j * k, b1 = b0 + k;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;
      for (let p = 0; p < k; p++) {
        const x0 = b[b0 + p], x1 = b[b1 + p];
        const y0 = a[a0 + p], y1 = a[a1 + p], y2 = a[a2 + p], y3 = a[a3 + p];
        s00 += y0 * x0; s01 += y0 * x1;
        s10 += y1 * x0; s11 += y1 * x1;
        s20 += y2 * x0; s21 += y2 * x1;
        s30 += y3 * x0; s31 += y3 * x1;
      }
      c[ci + j] += s00; c[ci + j + 1] += s01;
      c[ci + n + j] += s10; c[ci + n + j + 1] += s11;
      c[ci + 2 * n + j] += s20; c[ci + 2 * n + j + 1] += s21;
      c[ci + 3 * n + j] += s30; c[ci + 3 * n + j + 1] += s31;
    }
    for (; j < n; j++) {
      const b0 = bOff + j * k;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let p = 0; p < k; p++) {
        const x0 = b[b0 + p];
        s0 += a[a0 + p] * x0; s1 += a[a1 + p] * x0; s2 += a[a2 + p] * x0; s3 += a[a3 + p] * x0;
      }
      c[ci + j] += s0; c[ci + n + j] += s1; c[ci + 2 * n + j] += s2; c[ci + 3 * n + j] += s3;
    }
  }
  for (; i < m; i++) {
    const a0 = aOff + i * k;
    for (let j = 0; j < n; j++) {
      const b0 = bOff + j * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += a[a0 + p] * b[b0 + p];
      c[cOff + i * n + j] += s;
    }
  }
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
  relu = false,
): void {
  const K = p.cIn * p.kH * p.kW, P = p.outH * p.outW, xs = p.cIn * p.h * p.w, ys = p.cOut * P;
  const pointwise = isPointwise(p);
  if (relu) {
    conv2dForward(y, x, w, bias, workspace, p);
    for (let i = 0, len = p.n * ys; i < len; i++) if (y[i] < 0) y[i] = 0;
    return;
  }
  for (let s = 0; s < p.n; s++) {
    const yOff = s * ys;
    for (let co = 0; co < p.cOut; co++) y.fill(bias ? bias[co] : 0, yOff + co * P, yOff + (co + 1) * P);
    if (pointwise) {
      matmulAcc(y, yOff, w, 0, K, 1, x, s * xs, p.cOut, P, K);
    } else {
      im2colAt(workspace, x, s * xs, p);
      matmulAcc(y, yOff, w, 0, K, 1, workspace, 0, p.cOut, P, K);
    }
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
    const dyOff = s * ys;
    // dW += dY_n · cols_nᵀ
    if (pointwise) {
      matmulNTAcc(dw, 0, dy, dyOff, x, s * xs, p.cOut, K, P);
    } else {
      im2colAt(workspace, x, s * xs, p);
      matmulNTAcc(dw, 0, dy, dyOff, workspace, 0, p.cOut, K, P);
    }
    if (!dx) continue;
    // dX_n = col2im(Wᵀ · dY_n); Wᵀ(i, q) = w[q·K + i]
    if (pointwise) {
      dx.fill(0, s * xs, (s + 1) * xs);
      matmulAcc(dx, s * xs, w, 0, 1, K, dy, dyOff, K, P, p.cOut);
    } else {
      workspace.fill(0, 0, K * P);
      matmulAcc(workspace, 0, w, 0, 1, K, dy, dyOff, K, P, p.cOut);
      col2imAt(dx, s * xs, workspace, p);
    }
  }
}
