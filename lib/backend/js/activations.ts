/**
 * Elementwise activations, maxout and bias add in plain TypeScript (double-precision math, float32
 * storage). Same semantics as the native kernels (see ../types.ts):
 *
 *   relu        y = x > 0 ? x : 0 (NaN stays NaN)   dx = dy · (x > 0)
 *   leaky_relu  y = x > 0 ? x : alpha·x              dx = dy · (x > 0 ? 1 : alpha)
 *   elu         y = x > 0 ? x : alpha·expm1(x)       dx = dy · (x > 0 ? 1 : y + alpha)
 *   sigmoid     y = 1 / (1 + exp(-x))                dx = dy · y·(1 - y)
 *   tanh        y = tanh(x)                          dx = dy · (1 - y²)
 */
import type { ActivationKind } from '../types';

export function activation(kind: ActivationKind, y: Float32Array, x: Float32Array, n: number, alpha: number): void {
  switch (kind) {
    case 'relu':
      for (let i = 0; i < n; i++) {
        const v = x[i];
        y[i] = v < 0 ? 0 : v;
      }
      return;
    case 'leaky_relu':
      for (let i = 0; i < n; i++) {
        const v = x[i];
        y[i] = v > 0 ? v : alpha * v;
      }
      return;
    case 'elu':
      for (let i = 0; i < n; i++) {
        const v = x[i];
        y[i] = v > 0 ? v : alpha * Math.expm1(v);
      }
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) {
        const v = x[i];
        // e / (1 + e) on the negative side: no overflow, and tiny results keep their precision.
        if (v >= 0) y[i] = 1 / (1 + Math.exp(-v));
        else {
          const e = Math.exp(v);
          y[i] = e / (1 + e);
        }
      }
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) y[i] = Math.tanh(x[i]);
      return;
    default:
      throw new TypeError(`Expected one of 'relu', 'leaky_relu', 'elu', 'sigmoid', 'tanh' for kind but received '${String(kind)}'`);
  }
}

export function activationBackward(
  kind: ActivationKind, dx: Float32Array, x: Float32Array, y: Float32Array, dy: Float32Array,
  n: number, alpha: number,
): void {
  switch (kind) {
    case 'relu':
      for (let i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : 0;
      return;
    case 'leaky_relu':
      for (let i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : alpha * dy[i];
      return;
    case 'elu':
      for (let i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : dy[i] * (y[i] + alpha);
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) {
        const s = y[i];
        dx[i] = dy[i] * s * (1 - s);
      }
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) {
        const t = y[i];
        dx[i] = dy[i] * (1 - t * t);
      }
      return;
    default:
      throw new TypeError(`Expected one of 'relu', 'leaky_relu', 'elu', 'sigmoid', 'tanh' for kind but received '${String(kind)}'`);
  }
}

/** y[r, u] = max_p z[r, u, p], argmax = first p reaching it (a NaN piece wins, as in torch.max). */
export function maxoutForward(
  y: Float32Array, argmax: Int32Array, z: Float32Array, rows: number, units: number, pieces: number,
): void {
  const m = rows * units;
  for (let j = 0, base = 0; j < m; j++, base += pieces) {
    let best = z[base];
    let arg = 0;
    for (let p = 1; p < pieces; p++) {
      const v = z[base + p];
      if (v > best || (v !== v && best === best)) {
        best = v;
        arg = p;
      }
    }
    y[j] = best;
    argmax[j] = arg;
  }
}

/** dz[r, u, p] = dy[r, u] at p = argmax[r, u], else 0 (overwrites dz). */
export function maxoutBackward(
  dz: Float32Array, argmax: Int32Array, dy: Float32Array, rows: number, units: number, pieces: number,
): void {
  const m = rows * units;
  dz.fill(0, 0, m * pieces);
  for (let j = 0; j < m; j++) {
    const a = argmax[j];
    if (a >= 0 && a < pieces) dz[j * pieces + a] = dy[j];
  }
}

/** y[o, c, i] += bias[c] for y [outer, channels, inner]. */
export function biasAdd(y: Float32Array, bias: Float32Array, outer: number, channels: number, inner: number): void {
  if (inner === 1) {
    for (let o = 0, base = 0; o < outer; o++, base += channels) {
      for (let c = 0; c < channels; c++) y[base + c] += bias[c];
    }
    return;
  }
  for (let o = 0, base = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++, base += inner) {
      const b = bias[c];
      const end = base + inner;
      for (let i = base; i < end; i++) y[i] += b;
    }
  }
}

/** db[c] += sum over o, i of dy[o, c, i] (double accumulation). */
export function biasBackward(db: Float32Array, dy: Float32Array, outer: number, channels: number, inner: number): void {
  const acc = new Float64Array(channels);
  if (inner === 1) {
    for (let o = 0, base = 0; o < outer; o++, base += channels) {
      for (let c = 0; c < channels; c++) acc[c] += dy[base + c];
    }
  } else {
    for (let o = 0, base = 0; o < outer; o++) {
      for (let c = 0; c < channels; c++, base += inner) {
        let s = 0;
        const end = base + inner;
        for (let i = base; i < end; i++) s += dy[i];
        acc[c] += s;
      }
    }
  }
  for (let c = 0; c < channels; c++) db[c] += acc[c];
}
