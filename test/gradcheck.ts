// Numerical gradient checks for layers: L = Σ y·r for a fixed random r, central differences on a
// sample of input and parameter entries, compared with backward()'s dx and accumulated gradients.
import { expect } from 'vitest';
import type { Layer } from '../lib/layers/layer';
import type { Tensor } from '../lib/tensor';
import { rng } from './helpers';

/**
 * The one central difference of the tests: (L(v + h) − L(v − h)) / 2h for v = values[i], which is
 * put back afterwards. Float64Array values give float64 differences (the js kernels accept them).
 */
export function centralDifference(loss: () => number, values: Float32Array | Float64Array, i: number, h: number): number {
  const old = values[i];
  values[i] = old + h;
  const lp = loss();
  values[i] = old - h;
  const lm = loss();
  values[i] = old;
  return (lp - lm) / (2 * h);
}

function lossOf(layer: Layer, x: Tensor, r: Float32Array): number {
  const y = layer.forward(x);
  let s = 0;
  for (let i = 0; i < y.data.length; i++) s += y.data[i] * r[i];
  return s;
}

/**
 * Checks dx and every parameter gradient of `layer` at x. h is the finite-difference step; tol the
 * allowed |numeric − analytic| / max(1, |analytic|, |numeric|).
 */
export function gradCheck(layer: Layer, x: Tensor, { h = 1e-2, tol = 2e-2, samples = 24, seed = 7 } = {}): void {
  const y0 = layer.forward(x);
  const rand = rng(seed);
  const r = new Float32Array(y0.data.length);
  for (let i = 0; i < r.length; i++) r[i] = rand() * 2 - 1;
  layer.zeroGrad();
  layer.forward(x);
  const dx = Float32Array.from(layer.backward({ data: r, shape: y0.shape }).data);
  const grads = layer.parameters().map((p) => Float32Array.from(p.grad));

  const check = (arr: Float32Array, analytic: Float32Array, what: string): void => {
    const n = arr.length;
    const count = Math.min(samples, n);
    for (let s = 0; s < count; s++) {
      const i = n <= samples ? s : Math.floor(rand() * n);
      const num = centralDifference(() => lossOf(layer, x, r), arr, i, h);
      const err = Math.abs(num - analytic[i]) / Math.max(1, Math.abs(num), Math.abs(analytic[i]));
      expect(err, `${what}[${i}]: numeric ${num} vs analytic ${analytic[i]}`).toBeLessThan(tol);
    }
  };
  check(x.data, dx, 'dx');
  layer.parameters().forEach((p, k) => check(p.data, grads[k], p.name));
}
