import { describe, it, expect } from 'vitest';
import { backends, js, native, randn, rng, expectClose, fixture } from '../helpers';
import type { Backend } from '../../lib/backend/types';
import { loadAddon } from '../../lib/backend/native';
// the unchecked kernels: the checked js backend takes Float32Array only, these run in float64
import * as jsNorm from '../../lib/backend/js/norm';
import { centralDifference } from '../gradcheck';

const fx = fixture('norm.json');
const addon = loadAddon();
const ref = addon.normReference as Pick<
  Backend,
  'batchNormForward' | 'batchNormBackward' | 'groupNormForward' | 'groupNormBackward'
>;

const f32 = (a: number[] | undefined): Float32Array | null => (a ? Float32Array.from(a) : null);
const filled = (n: number, v: number): Float32Array => new Float32Array(n).fill(v);
const plus = (a: ArrayLike<number>, v: number): Float32Array => Float32Array.from(a, (t) => t + v);

/** Runs batchNormForward + backward, dgamma/dbeta pre-filled with 0.5 to check that they accumulate. */
function runBatchNorm(b: Backend, x: Float32Array, dy: Float32Array, gamma: Float32Array | null,
  beta: Float32Array | null, n: number, c: number, inner: number, eps: number, grads = true) {
  const y = new Float32Array(x.length);
  const mean = new Float32Array(c);
  const variance = new Float32Array(c);
  const rstd = new Float32Array(c);
  b.batchNormForward(y, mean, variance, rstd, x, gamma, beta, n, c, inner, eps);
  const dx = filled(x.length, NaN); // overwritten
  const dgamma = grads ? filled(c, 0.5) : null;
  const dbeta = grads ? filled(c, 0.5) : null;
  b.batchNormBackward(dx, dgamma, dbeta, dy, x, mean, rstd, gamma, n, c, inner);
  return { y, mean, variance, rstd, dx, dgamma, dbeta };
}

function runGroupNorm(b: Backend, x: Float32Array, dy: Float32Array, gamma: Float32Array | null,
  beta: Float32Array | null, n: number, c: number, inner: number, groups: number, eps: number, grads = true) {
  const y = new Float32Array(x.length);
  const mean = new Float32Array(n * groups);
  const rstd = new Float32Array(n * groups);
  b.groupNormForward(y, mean, rstd, x, gamma, beta, n, c, inner, groups, eps);
  const dx = filled(x.length, NaN);
  const dgamma = grads ? filled(c, 0.5) : null;
  const dbeta = grads ? filled(c, 0.5) : null;
  b.groupNormBackward(dx, dgamma, dbeta, dy, x, mean, rstd, gamma, n, c, inner, groups);
  return { y, mean, rstd, dx, dgamma, dbeta };
}

describe.each(backends)('%s backend vs PyTorch', (name, b) => {
  for (const t of fx.batchNorm) {
    it(`batch norm ${t.name}`, () => {
      const x = Float32Array.from(t.x);
      const gamma = f32(t.gamma);
      const beta = f32(t.beta);
      const r = runBatchNorm(b, x, Float32Array.from(t.dy), gamma, beta, t.n, t.c, t.inner, t.eps);
      expectClose(r.y, t.y, 1e-4, 2e-5, `${name} y`);
      expectClose(r.mean, t.mean, 1e-5, 1e-6, `${name} mean`);
      expectClose(r.variance, t.variance, 1e-5, 1e-6, `${name} variance`);
      expectClose(r.rstd, t.rstd, 1e-5, 1e-6, `${name} rstd`);
      expectClose(r.dx, t.dx, 1e-4, 2e-5, `${name} dx`);
      if (t.affine) {
        expectClose(r.dgamma!, plus(t.dgamma, 0.5), 1e-4, 2e-5, `${name} dgamma`);
        expectClose(r.dbeta!, plus(t.dbeta, 0.5), 1e-4, 2e-5, `${name} dbeta`);
      }
      const yEval = new Float32Array(x.length);
      b.batchNormInference(yEval, x, Float32Array.from(t.runningMean), Float32Array.from(t.runningVar), gamma, beta,
        t.n, t.c, t.inner, t.eps);
      expectClose(yEval, t.yEval, 1e-5, 1e-5, `${name} eval y`);
    });
  }
  for (const t of fx.groupNorm) {
    it(`${t.kind} norm ${t.name}`, () => {
      const r = runGroupNorm(b, Float32Array.from(t.x), Float32Array.from(t.dy), f32(t.gamma), f32(t.beta),
        t.n, t.c, t.inner, t.groups, t.eps);
      expectClose(r.y, t.y, 1e-4, 2e-5, `${name} y`);
      expectClose(r.mean, t.mean, 1e-5, 1e-6, `${name} mean`);
      expectClose(r.rstd, t.rstd, 1e-5, 1e-6, `${name} rstd`);
      expectClose(r.dx, t.dx, 1e-4, 2e-5, `${name} dx`);
      if (t.affine) {
        expectClose(r.dgamma!, plus(t.dgamma, 0.5), 1e-4, 2e-5, `${name} dgamma`);
        expectClose(r.dbeta!, plus(t.dbeta, 0.5), 1e-4, 2e-5, `${name} dbeta`);
      }
    });
  }
});

// Shapes that cross the native code's blocks: vector widths (8, 16), column tiles (64), short-inner
// threshold (32), and the parallel threshold (2^15 elements).
const bnShapes: [number, number, number][] = [
  [2, 3, 1], [5, 1, 1], [7, 70, 1], [128, 256, 1], [3, 129, 1], [1, 3, 17], [2, 2, 2], [4, 5, 33],
  [8, 16, 64], [32, 64, 16], [3, 7, 1000],
];
const gnShapes: [number, number, number, number][] = [
  [2, 6, 1, 3], [3, 70, 1, 1], [2, 130, 1, 2], [2, 4, 7, 2], [3, 6, 31, 3], [2, 8, 32, 4], [4, 16, 64, 8],
  [16, 32, 64, 32], [1, 5, 5, 1], [8, 4, 100, 1], [3, 2100, 1, 3], [5, 1030, 1, 1],
];

describe('native vs js vs scalar reference on random data', () => {
  for (const [n, c, inner] of bnShapes) {
    it(`batch norm n=${n} c=${c} inner=${inner}`, () => {
      const x = randn(n * c * inner, 11, -3, 5);
      const dy = randn(n * c * inner, 12);
      const gamma = randn(c, 13, 0.5, 1.5);
      const beta = randn(c, 14);
      const a = runBatchNorm(native, x, dy, gamma, beta, n, c, inner, 1e-5);
      const j = runBatchNorm(js, x, dy, gamma, beta, n, c, inner, 1e-5);
      const r = runBatchNorm(ref as Backend, x, dy, gamma, beta, n, c, inner, 1e-5);
      for (const [other, what] of [[j, 'js'], [r, 'ref']] as const) {
        expectClose(a.y, other.y, 1e-4, 1e-5, `y vs ${what}`);
        expectClose(a.mean, other.mean, 1e-5, 1e-6, `mean vs ${what}`);
        expectClose(a.variance, other.variance, 1e-5, 1e-6, `var vs ${what}`);
        expectClose(a.rstd, other.rstd, 1e-5, 1e-6, `rstd vs ${what}`);
        expectClose(a.dx, other.dx, 1e-4, 1e-5, `dx vs ${what}`);
        expectClose(a.dgamma!, other.dgamma!, 1e-4, 1e-5, `dgamma vs ${what}`);
        expectClose(a.dbeta!, other.dbeta!, 1e-4, 1e-5, `dbeta vs ${what}`);
      }
      // no affine, no parameter gradients
      const a0 = runBatchNorm(native, x, dy, null, null, n, c, inner, 1e-3, false);
      const j0 = runBatchNorm(js, x, dy, null, null, n, c, inner, 1e-3, false);
      expectClose(a0.y, j0.y, 1e-4, 1e-5, 'y (no affine)');
      expectClose(a0.dx, j0.dx, 1e-4, 1e-5, 'dx (no affine)');
      // inference
      const ya = new Float32Array(x.length);
      const yj = new Float32Array(x.length);
      const rm = randn(c, 15);
      const rv = randn(c, 16, 0.2, 3);
      native.batchNormInference(ya, x, rm, rv, gamma, beta, n, c, inner, 1e-5);
      js.batchNormInference(yj, x, rm, rv, gamma, beta, n, c, inner, 1e-5);
      expectClose(ya, yj, 1e-5, 1e-5, 'inference');
    });
  }
  for (const [n, c, inner, groups] of gnShapes) {
    it(`group norm n=${n} c=${c} inner=${inner} groups=${groups}`, () => {
      const x = randn(n * c * inner, 21, -3, 5);
      const dy = randn(n * c * inner, 22);
      const gamma = randn(c, 23, 0.5, 1.5);
      const beta = randn(c, 24);
      const a = runGroupNorm(native, x, dy, gamma, beta, n, c, inner, groups, 1e-5);
      const j = runGroupNorm(js, x, dy, gamma, beta, n, c, inner, groups, 1e-5);
      const r = runGroupNorm(ref as Backend, x, dy, gamma, beta, n, c, inner, groups, 1e-5);
      for (const [other, what] of [[j, 'js'], [r, 'ref']] as const) {
        expectClose(a.y, other.y, 1e-4, 1e-5, `y vs ${what}`);
        expectClose(a.mean, other.mean, 1e-5, 1e-6, `mean vs ${what}`);
        expectClose(a.rstd, other.rstd, 1e-5, 1e-6, `rstd vs ${what}`);
        expectClose(a.dx, other.dx, 1e-4, 1e-5, `dx vs ${what}`);
        expectClose(a.dgamma!, other.dgamma!, 1e-4, 1e-5, `dgamma vs ${what}`);
        expectClose(a.dbeta!, other.dbeta!, 1e-4, 1e-5, `dbeta vs ${what}`);
      }
      const a0 = runGroupNorm(native, x, dy, null, null, n, c, inner, groups, 1e-3, false);
      const j0 = runGroupNorm(js, x, dy, null, null, n, c, inner, groups, 1e-3, false);
      expectClose(a0.y, j0.y, 1e-4, 1e-5, 'y (no affine)');
      expectClose(a0.dx, j0.dx, 1e-4, 1e-5, 'dx (no affine)');
    });
  }

  // The run primitives (moments, backward dot, the two elementwise passes) have vector forms that
  // sum a few values a lane in float before double, in blocks of up to 256 floats with 16- and
  // 32-float steps and scalar or masked tails: every run length from 1 to past one block.
  it('every run length 1..300: batch and group norm match the scalar reference', () => {
    const [n, c] = [3, 2];
    for (let inner = 1; inner <= 300; inner++) {
      const x = randn(n * c * inner, 100 + inner, -3, 5);
      const dy = randn(n * c * inner, 400 + inner);
      const gamma = randn(c, 13, 0.5, 1.5);
      const beta = randn(c, 14);
      const a = runBatchNorm(native, x, dy, gamma, beta, n, c, inner, 1e-5);
      const r = runBatchNorm(ref as Backend, x, dy, gamma, beta, n, c, inner, 1e-5);
      expectClose(a.y, r.y, 1e-4, 1e-5, `batch y, inner ${inner}`);
      expectClose(a.mean, r.mean, 1e-5, 1e-6, `batch mean, inner ${inner}`);
      expectClose(a.variance, r.variance, 1e-5, 1e-6, `batch var, inner ${inner}`);
      expectClose(a.dx, r.dx, 1e-4, 1e-5, `batch dx, inner ${inner}`);
      expectClose(a.dgamma!, r.dgamma!, 1e-4, 1e-5, `batch dgamma, inner ${inner}`);
      expectClose(a.dbeta!, r.dbeta!, 1e-4, 1e-5, `batch dbeta, inner ${inner}`);
      const g = runGroupNorm(native, x, dy, gamma, beta, n, c, inner, 1, 1e-5);
      const gr = runGroupNorm(ref as Backend, x, dy, gamma, beta, n, c, inner, 1, 1e-5);
      expectClose(g.y, gr.y, 1e-4, 1e-5, `group y, inner ${inner}`);
      expectClose(g.rstd, gr.rstd, 1e-5, 1e-6, `group rstd, inner ${inner}`);
      expectClose(g.dx, gr.dx, 1e-4, 1e-5, `group dx, inner ${inner}`);
    }
  });

  it('results do not depend on the thread count', () => {
    const [n, c, inner] = [32, 16, 256];
    const x = randn(n * c * inner, 31);
    const dy = randn(n * c * inner, 32);
    const gamma = randn(c, 33);
    const before = native.getNumThreads();
    try {
      native.setNumThreads(1);
      const one = runBatchNorm(native, x, dy, gamma, null, n, c, inner, 1e-5);
      const g1 = runGroupNorm(native, x, dy, gamma, null, n, c, inner, 2, 1e-5);
      native.setNumThreads(3);
      const three = runBatchNorm(native, x, dy, gamma, null, n, c, inner, 1e-5);
      const g3 = runGroupNorm(native, x, dy, gamma, null, n, c, inner, 2, 1e-5);
      expect(Array.from(three.y)).toEqual(Array.from(one.y));
      expect(Array.from(three.dx)).toEqual(Array.from(one.dx));
      expect(Array.from(three.dgamma!)).toEqual(Array.from(one.dgamma!));
      expect(Array.from(g3.dx)).toEqual(Array.from(g1.dx));
      expect(Array.from(g3.dgamma!)).toEqual(Array.from(g1.dgamma!));
    } finally {
      native.setNumThreads(before);
    }
  });
});

describe('numerics', () => {
  /** std and mean of y per channel (BatchNorm layout). */
  function channelStats(y: Float32Array, n: number, c: number, inner: number, ch: number): [number, number] {
    let s = 0;
    let q = 0;
    for (let i = 0; i < n; i++) for (let k = 0; k < inner; k++) s += y[(i * c + ch) * inner + k];
    const m = s / (n * inner);
    for (let i = 0; i < n; i++) for (let k = 0; k < inner; k++) q += (y[(i * c + ch) * inner + k] - m) ** 2;
    return [m, Math.sqrt(q / (n * inner))];
  }

  for (const [name, b] of backends) {
    for (const inner of [1, 64]) {
      it(`${name}: mean 1e4, std 1e-2 normalizes to std 1 (inner ${inner})`, () => {
        const [n, c] = [64, 3];
        const r = rng(5);
        const x = new Float32Array(n * c * inner);
        // Box-Muller normal values around 1e4 with std 1e-2
        for (let i = 0; i < x.length; i++) {
          x[i] = 1e4 + 1e-2 * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
        }
        const dy = randn(x.length, 6);
        const out = runBatchNorm(b, x, dy, null, null, n, c, inner, 1e-9);
        for (let ch = 0; ch < c; ch++) {
          const [m, s] = channelStats(out.y, n, c, inner, ch);
          expect(Math.abs(s - 1), `channel ${ch} std ${s}`).toBeLessThan(1e-3);
          expect(Math.abs(m), `channel ${ch} mean ${m}`).toBeLessThan(1e-3);
          expect(Math.abs(out.mean[ch] - 1e4)).toBeLessThan(1e-2);
          expect(out.variance[ch]).toBeGreaterThan(0.5e-4);
          expect(out.variance[ch]).toBeLessThan(2e-4);
          // the input gradient is orthogonal to 1 and to x̂: Σdx = 0, Σdx·x̂ = 0 (relative to Σ|dx|·|x̂|)
          let sdx = 0;
          let sdxh = 0;
          let mag = 0;
          for (let i = 0; i < n; i++) {
            for (let k = 0; k < inner; k++) {
              const o = (i * c + ch) * inner + k;
              sdx += out.dx[o];
              sdxh += out.dx[o] * out.y[o];
              mag += Math.abs(out.dx[o]);
            }
          }
          expect(Math.abs(sdx) / mag).toBeLessThan(1e-4);
          expect(Math.abs(sdxh) / mag).toBeLessThan(1e-3);
        }
        // the same data through GroupNorm (one group per sample would mix channels; use InstanceNorm-like
        // groups = c over the whole batch arranged as one sample per channel)
        const g = runGroupNorm(b, x, dy, null, null, n, c, inner, c, 1e-9);
        if (inner > 1) {
          for (let i = 0; i < 3; i++) {
            let s = 0;
            let q = 0;
            for (let k = 0; k < inner; k++) s += g.y[i * inner + k];
            for (let k = 0; k < inner; k++) q += (g.y[i * inner + k] - s / inner) ** 2;
            expect(Math.abs(Math.sqrt(q / inner) - 1)).toBeLessThan(1e-3);
          }
        }
      });
    }
  }

  /** Float64 central differences of L = Σ w·y through the js kernels (the raw ones accept Float64Array). */
  function gradCheck(kind: 'batch' | 'group', n: number, c: number, inner: number, groups: number) {
    const size = n * c * inner;
    const x = Float64Array.from(randn(size, 41, -2, 2));
    const w = Float64Array.from(randn(size, 42));
    const gamma = Float64Array.from(randn(c, 43, 0.5, 1.5));
    const beta = Float64Array.from(randn(c, 44));
    const eps = 1e-3;
    const F = (a: Float64Array) => a as unknown as Float32Array;
    const loss = (xx: Float64Array, gg: Float64Array, bb: Float64Array): number => {
      const y = new Float64Array(size);
      if (kind === 'batch') {
        jsNorm.batchNormForward(F(y), F(new Float64Array(c)), F(new Float64Array(c)), F(new Float64Array(c)), F(xx),
          F(gg), F(bb), n, c, inner, eps);
      } else {
        jsNorm.groupNormForward(F(y), F(new Float64Array(n * groups)), F(new Float64Array(n * groups)), F(xx), F(gg),
          F(bb), n, c, inner, groups, eps);
      }
      let s = 0;
      for (let i = 0; i < size; i++) s += w[i] * y[i];
      return s;
    };
    // analytic
    const y = new Float64Array(size);
    const dx = new Float64Array(size);
    const dgamma = new Float64Array(c);
    const dbeta = new Float64Array(c);
    if (kind === 'batch') {
      const mean = new Float64Array(c);
      const rstd = new Float64Array(c);
      jsNorm.batchNormForward(F(y), F(mean), F(new Float64Array(c)), F(rstd), F(x), F(gamma), F(beta), n, c, inner, eps);
      jsNorm.batchNormBackward(F(dx), F(dgamma), F(dbeta), F(w), F(x), F(mean), F(rstd), F(gamma), n, c, inner);
    } else {
      const mean = new Float64Array(n * groups);
      const rstd = new Float64Array(n * groups);
      jsNorm.groupNormForward(F(y), F(mean), F(rstd), F(x), F(gamma), F(beta), n, c, inner, groups, eps);
      jsNorm.groupNormBackward(F(dx), F(dgamma), F(dbeta), F(w), F(x), F(mean), F(rstd), F(gamma), n, c, inner, groups);
    }
    const h = 1e-6;
    const numeric = (arr: Float64Array, i: number): number => centralDifference(() => loss(x, gamma, beta), arr, i, h);
    const nx = Float64Array.from(x, (_, i) => numeric(x, i));
    const ng = Float64Array.from(gamma, (_, i) => numeric(gamma, i));
    const nb = Float64Array.from(beta, (_, i) => numeric(beta, i));
    expectClose(dx, nx, 1e-5, 1e-6, 'dx');
    expectClose(dgamma, ng, 1e-5, 1e-6, 'dgamma');
    expectClose(dbeta, nb, 1e-5, 1e-6, 'dbeta');
  }

  it('gradient check: batch norm conv (3, 4, 5)', () => gradCheck('batch', 3, 4, 5, 1));
  it('gradient check: batch norm dense (6, 5)', () => gradCheck('batch', 6, 5, 1, 1));
  it('gradient check: group norm (2, 6, 3) G=3', () => gradCheck('group', 2, 6, 3, 3));
  it('gradient check: layer norm (3, 7)', () => gradCheck('group', 3, 7, 1, 1));
  it('gradient check: instance norm (2, 3, 4)', () => gradCheck('group', 2, 3, 4, 3));
});

describe('bad input', () => {
  const c = 3;
  const x = new Float32Array(24);
  const s = () => new Float32Array(c);
  const err = (f: () => void, kind: typeof TypeError | typeof RangeError, msg: string) => {
    expect(f).toThrow(kind);
    expect(f).toThrow(msg);
  };

  it('a single value per channel in training mode is a RangeError (native and js)', () => {
    const msg = 'Expected more than 1 value per channel in training mode for n·inner but received 1';
    for (const [, b] of backends) {
      err(() => b.batchNormForward(new Float32Array(3), s(), s(), s(), new Float32Array(3), null, null, 1, 3, 1, 1e-5),
        RangeError, msg);
      err(() => b.batchNormBackward(new Float32Array(3), null, null, new Float32Array(3), new Float32Array(3), s(), s(),
        null, 1, 3, 1), RangeError, msg);
    }
  });

  it('eps must be > 0 (native and js)', () => {
    for (const [, b] of backends) {
      err(() => b.batchNormForward(new Float32Array(24), s(), s(), s(), x, null, null, 2, 3, 4, 0), RangeError,
        'Expected number > 0 for eps but received 0 of type number');
      err(() => b.batchNormInference(new Float32Array(24), x, s(), s(), null, null, 2, 3, 4, -1), RangeError,
        'Expected number > 0 for eps but received -1 of type number');
      err(() => b.groupNormForward(new Float32Array(24), new Float32Array(2), new Float32Array(2), x, null, null, 2, 3, 4,
        1, 0), RangeError, 'Expected number > 0 for eps but received 0 of type number');
    }
  });

  it('native glue messages', () => {
    const b = native;
    err(() => b.batchNormForward(new Float32Array(23), s(), s(), s(), x, null, null, 2, 3, 4, 1e-5), RangeError,
      'Expected Float32Array of length >= 24 for y but received Float32Array of length 23');
    err(() => b.batchNormForward(new Float32Array(24), s(), s(), s(), x, new Float64Array(3) as any, null, 2, 3, 4, 1e-5),
      TypeError, 'Expected Float32Array for gamma but received Float64Array of length 3');
    err(() => b.batchNormForward(new Float32Array(24), s(), new Float32Array(2), s(), x, null, null, 2, 3, 4, 1e-5),
      RangeError, 'Expected Float32Array of length >= 3 for variance but received Float32Array of length 2');
    err(() => b.batchNormForward(new Float32Array(24), s(), s(), s(), x, null, null, 2, 0, 4, 1e-5), RangeError,
      'Expected integer >= 1 for c but received 0 of type number');
    err(() => b.batchNormForward(new Float32Array(24), s(), s(), s(), x, null, null, 2, 3, 4, NaN), RangeError,
      'Expected finite number for eps but received NaN of type number');
    err(() => b.batchNormInference(new Float32Array(24), x, s(), s(), null, null, 2.5, 3, 4, 1e-5), RangeError,
      'Expected integer >= 1 for n but received 2.5 of type number');
    err(() => b.batchNormBackward(new Float32Array(24), null, null, new Float32Array(24), x, new Float32Array(1), s(),
      null, 2, 3, 4), RangeError, 'Expected Float32Array of length >= 3 for mean but received Float32Array of length 1');
    err(() => b.batchNormBackward(new Float32Array(24), [] as any, null, new Float32Array(24), x, s(), s(), null, 2, 3,
      4), TypeError, 'Expected Float32Array for dgamma but received Array of length 0');
    err(() => b.groupNormForward(new Float32Array(24), new Float32Array(4), new Float32Array(4), x, null, null, 2, 3, 4,
      2, 1e-5), RangeError, 'Expected a divisor of c = 3 for groups but received 2 of type number');
    err(() => b.groupNormForward(new Float32Array(24), new Float32Array(3), new Float32Array(6), x, null, null, 2, 3, 4,
      3, 1e-5), RangeError, 'Expected Float32Array of length >= 6 for mean but received Float32Array of length 3');
    err(() => b.groupNormBackward(new Float32Array(24), null, null, new Float32Array(20), x, new Float32Array(2),
      new Float32Array(2), null, 2, 3, 4, 1), RangeError,
    'Expected Float32Array of length >= 24 for dy but received Float32Array of length 20');
    err(() => b.groupNormBackward(new Float32Array(24), null, null, new Float32Array(24), x, new Float32Array(2),
      new Float32Array(2), null, 2, 3, 4, 'x' as any), TypeError, 'Expected integer >= 1 for groups but received string');
  });

  it('js checks groups too', () => {
    err(() => js.groupNormForward(new Float32Array(24), new Float32Array(4), new Float32Array(4), x, null, null, 2, 3, 4,
      2, 1e-5), RangeError, 'Expected a divisor of c = 3 for groups but received 2 of type number');
  });
});
