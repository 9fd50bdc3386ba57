// Preprocessing and the symmetric eigensolver against numpy references (test/fixtures/make_preprocess.py).
import { describe, it, expect } from 'vitest';
import * as fs from 'fs';
import * as path from 'path';
import { native } from './helpers';
import type { Backend } from '../lib/backend/types';
import { symmetricEigen } from '../lib/linalg';
import { ChannelNormalizer, MeanCenter, PCA, StandardScaler, ZCA } from '../lib/preprocess';
import type { Tensor } from '../lib/tensor';

// The native backend (its GEMM is checked against js and a reference in test/kernels).
const backend: Backend = native;

const fx = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'preprocess.json'), 'utf8'));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, atol: number, what: string): void {
  const d = maxAbsDiff(a, b);
  expect(d, `${what}: maxdiff ${d}`).toBeLessThanOrEqual(atol);
}

/** Covariance (N−1 divisor) of an [n, d] row-major array, in double precision. */
function covariance(x: ArrayLike<number>, n: number, d: number): Float64Array {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j] / n;
  const c = new Float64Array(d * d);
  for (let i = 0; i < n; i++)
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) c[a * d + b] += ((x[i * d + a] - mean[a]) * (x[i * d + b] - mean[b])) / (n - 1);
  return c;
}

function identity(d: number): Float64Array {
  const e = new Float64Array(d * d);
  for (let i = 0; i < d; i++) e[i * d + i] = 1;
  return e;
}

function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
}

/** max |A·v_j − λ_j·v_j| and max |VᵀV − I| for eigenvectors as rows. */
function residuals(a: ArrayLike<number>, n: number, values: Float64Array, vectors: Float64Array): { res: number; orth: number } {
  let res = 0;
  let orth = 0;
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k] * vectors[j * n + k];
      res = Math.max(res, Math.abs(s - values[j] * vectors[j * n + i]));
    }
    for (let l = 0; l < n; l++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += vectors[j * n + k] * vectors[l * n + k];
      orth = Math.max(orth, Math.abs(s - (j === l ? 1 : 0)));
    }
  }
  return { res, orth };
}

/** Projector Σ v vᵀ over rows [from, to) of the eigenvector matrix. */
function projector(vectors: ArrayLike<number>, n: number, from: number, to: number): Float64Array {
  const p = new Float64Array(n * n);
  for (let r = from; r < to; r++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) p[i * n + j] += vectors[r * n + i] * vectors[r * n + j];
  return p;
}

describe('symmetricEigen', () => {
  for (const name of ['random6', 'diagonal4', 'one1', 'two2', 'random40']) {
    it(`matches numpy.linalg.eigh on ${name} (distinct eigenvalues, same sign convention)`, () => {
      const c = fx.eigen[name];
      const { values, vectors } = symmetricEigen(Float64Array.from(c.a), c.n);
      expectClose(values, c.values, 1e-12, 'values');
      expectClose(vectors, c.vectors, 1e-10, 'vectors');
      const { res, orth } = residuals(c.a, c.n, values, vectors);
      expect(res).toBeLessThan(1e-12);
      expect(orth).toBeLessThan(1e-12);
    });
  }

  it('repeated eigenvalues: values match, eigenspaces match as projectors', () => {
    const c = fx.eigen.repeated8;
    const { values, vectors } = symmetricEigen(Float64Array.from(c.a), c.n);
    expectClose(values, [3, 3, 3, 1, 1, 0.5, 0.5, -2], 1e-12, 'values');
    expectClose(values, c.values, 1e-12, 'values vs numpy');
    for (const [from, to] of [[0, 3], [3, 5], [5, 7], [7, 8]]) {
      expectClose(projector(vectors, 8, from, to), projector(c.vectors, 8, from, to), 1e-12, `eigenspace ${from}..${to}`);
    }
    const { res, orth } = residuals(c.a, c.n, values, vectors);
    expect(res).toBeLessThan(1e-12);
    expect(orth).toBeLessThan(1e-12);
  });

  it('rank-deficient 10×10 of rank 3: three positive values, seven zeros', () => {
    const c = fx.eigen.rank3_10;
    const { values, vectors } = symmetricEigen(Float64Array.from(c.a), c.n);
    expectClose(values, c.values, 1e-12, 'values');
    expectClose(vectors.subarray(0, 30), c.vectors.slice(0, 30), 1e-10, 'leading vectors');
    expectClose(projector(vectors, 10, 3, 10), projector(c.vectors, 10, 3, 10), 1e-12, 'null space');
  });

  it('reads the lower triangle only and leaves the input alone', () => {
    const a = Float64Array.from([2, 99, 1, 3]); // upper (99) ignored: [[2, 1], [1, 3]]
    const copy = a.slice();
    const { values } = symmetricEigen(a, 2);
    expectClose(values, [(5 + Math.sqrt(5)) / 2, (5 - Math.sqrt(5)) / 2], 1e-14, 'values');
    expect(Array.from(a)).toEqual(Array.from(copy));
  });

  it('200×200 random: A·V = V·Λ and VᵀV = I to 1e-6, sorted descending, sign convention holds', () => {
    const n = 200;
    const r = seeded(5);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j <= i; j++) {
        const v = r();
        a[i * n + j] = v;
        a[j * n + i] = v;
      }
    const { values, vectors } = symmetricEigen(a, n);
    const { res, orth } = residuals(a, n, values, vectors);
    expect(res).toBeLessThan(1e-6);
    expect(orth).toBeLessThan(1e-6);
    let trace = 0;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      trace += a[i * n + i];
      sum += values[i];
      if (i > 0) expect(values[i]).toBeLessThanOrEqual(values[i - 1]);
      let big = 0;
      for (let k = 0; k < n; k++) if (Math.abs(vectors[i * n + k]) > Math.abs(big)) big = vectors[i * n + k];
      expect(big).toBeGreaterThan(0);
    }
    expect(Math.abs(trace - sum)).toBeLessThan(1e-10);
  });

  it('1-D Laplacian tridiag(−1, 2, −1): eigenvalues 2 − 2cos(kπ/(n+1))', () => {
    const n = 50;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      a[i * n + i] = 2;
      if (i > 0) a[i * n + i - 1] = a[(i - 1) * n + i] = -1;
    }
    const { values, vectors } = symmetricEigen(a, n);
    const expected = Array.from({ length: n }, (_, j) => 2 - 2 * Math.cos(((n - j) * Math.PI) / (n + 1)));
    expectClose(values, expected, 1e-13, 'values');
    const { res, orth } = residuals(a, n, values, vectors);
    expect(res).toBeLessThan(1e-13);
    expect(orth).toBeLessThan(1e-13);
  });

  it('matrices near the ends of the double range (1e-300, 1e300) and Wilkinson W21+', () => {
    for (const mag of [1e-300, 1e300]) {
      const a = Float64Array.from([2, 1, 0, 1, 2, 1, 0, 1, 2], (v) => v * mag);
      const { values } = symmetricEigen(a, 3);
      expectClose(Array.from(values, (v) => v / mag), [2 + Math.SQRT2, 2, 2 - Math.SQRT2], 1e-14, `scale ${mag}`);
    }
    const n = 21;
    const w = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      w[i * n + i] = Math.abs(10 - i);
      if (i > 0) w[i * n + i - 1] = w[(i - 1) * n + i] = 1;
    }
    const { values, vectors } = symmetricEigen(w, n);
    // The two largest eigenvalues of W21+ agree to about 1e-14 (a classic hard case).
    expect(values[0]).toBeCloseTo(10.746194182903393, 12);
    expect(values[1]).toBeCloseTo(10.746194182903322, 12);
    const { res, orth } = residuals(w, n, values, vectors);
    expect(res).toBeLessThan(1e-13);
    expect(orth).toBeLessThan(1e-13);
  });

  it('the zero matrix: zero eigenvalues, identity eigenvectors', () => {
    const z = symmetricEigen(new Float64Array(9), 3);
    expect(Array.from(z.values)).toEqual([0, 0, 0]);
    expectClose(z.vectors, identity(3), 0, 'identity vectors');
  });

  it('rejects bad arguments', () => {
    expect(() => symmetricEigen(new Float64Array(5), 2)).toThrow('Expected 4 values (an 2×2 matrix) for a but received Float64Array of length 5');
    expect(() => symmetricEigen(Float64Array.from([1, NaN, NaN, 1]), 2)).toThrow('Expected finite values for a (index 1) but received NaN of type number');
  });
});

describe('StandardScaler', () => {
  const c = fx.scaler;
  const x: Tensor = { data: Float32Array.from(c.x), shape: [c.n, c.d] };

  it('matches numpy z-scores; a constant column maps to 0, not NaN', () => {
    const s = new StandardScaler().fit(x);
    expectClose(s.mean!, c.mean, 1e-5, 'mean');
    expectClose(s.variance!.map(Math.sqrt), c.std, 1e-5, 'std');
    expect(s.scale![3]).toBe(1);
    const z = s.transform(x);
    expect(z.shape).toEqual([c.n, c.d]);
    expectClose(z.data, c.z, 1e-5, 'z');
    for (let i = 0; i < c.n; i++) expect(z.data[i * c.d + 3]).toBe(0);
    expectClose(s.inverseTransform(z).data, x.data, 1e-5, 'inverse');
  });

  it('accepts number[][] and round-trips through JSON', () => {
    const rows: number[][] = [];
    for (let i = 0; i < c.n; i++) rows.push(c.x.slice(i * c.d, (i + 1) * c.d));
    const s = new StandardScaler().fit(rows);
    const back = StandardScaler.fromJSON(JSON.parse(JSON.stringify(s)));
    expect(Array.from(back.transform(rows).data)).toEqual(Array.from(s.transform(x).data));
  });

  it('rejects a wrong width (naming both shapes), NaN, and use before fit', () => {
    const s = new StandardScaler();
    expect(() => s.transform(x)).toThrow('Expected a fitted StandardScaler for StandardScaler.transform() but received an unfitted one (call fit() first)');
    s.fit(x);
    expect(() => s.transform([[1, 2, 3]])).toThrow(RangeError);
    expect(() => s.transform([[1, 2, 3]])).toThrow('Expected data of shape [N, 4] (4 features, as fitted by StandardScaler) for x but received shape [1, 3]');
    expect(() => s.fit([[1, NaN]])).toThrow('Expected finite values for x (row 0, index 1) but received NaN of type number');
    expect(() => s.fit({ data: new Float32Array(4), shape: [4] })).toThrow('Expected data of shape [N, D] or [N, C, H, W] for x but received shape [4]');
    expect(() => StandardScaler.fromJSON({ kind: 'PCA' })).toThrow("Expected kind 'StandardScaler' for json.kind but received 'PCA' of type string");
  });

  it('flattens [N, C, H, W] features and keeps the shape', () => {
    const data = Float32Array.from({ length: 2 * 2 * 2 * 2 }, (_, i) => i * i);
    const z = new StandardScaler().fitTransform({ data, shape: [2, 2, 2, 2] });
    expect(z.shape).toEqual([2, 2, 2, 2]);
    for (let j = 0; j < 8; j++) {
      expect(z.data[j]).toBeCloseTo(-1, 6);
      expect(z.data[8 + j]).toBeCloseTo(1, 6);
    }
  });
});

describe('MeanCenter', () => {
  it('subtracts the feature means and round-trips', () => {
    const m = new MeanCenter().fit([[1, 10], [3, 20], [5, 60]]);
    expect(Array.from(m.mean!)).toEqual([3, 30]);
    const y = m.transform([[0, 0], [3, 30]]);
    expect(Array.from(y.data)).toEqual([-3, -30, 0, 0]);
    expect(Array.from(m.inverseTransform(y).data)).toEqual([0, 0, 3, 30]);
    const back = MeanCenter.fromJSON(JSON.parse(JSON.stringify(m.toJSON())));
    expect(Array.from(back.transform([[1, 1]]).data)).toEqual([-2, -29]);
    expect(() => new MeanCenter().transform([[1]])).toThrow('Expected a fitted MeanCenter');
  });
});

describe('ChannelNormalizer', () => {
  const c = fx.channel;
  const x: Tensor = { data: Float32Array.from(c.x), shape: c.shape };

  it('fits per-channel mean and population std over N, H, W (numpy)', () => {
    const cn = new ChannelNormalizer().fit(x);
    expectClose(cn.mean!, c.mean, 1e-6, 'mean');
    expectClose(cn.std!, c.std, 1e-6, 'std');
    const y = cn.transform(x);
    expect(y.shape).toEqual(c.shape);
    expectClose(y.data, c.y, 1e-5, 'y');
    expectClose(cn.inverseTransform(y).data, x.data, 1e-6, 'inverse');
  });

  it('uses given mean/std like torchvision Normalize, and round-trips through JSON', () => {
    const cn = new ChannelNormalizer({ mean: [0.5, 0.25], std: [0.5, 2] });
    const y = cn.transform({ data: Float32Array.from([1, 0, 0.25, 2.25]), shape: [1, 2, 1, 2] });
    expect(Array.from(y.data)).toEqual([1, -1, 0, 1]);
    const back = ChannelNormalizer.fromJSON(JSON.parse(JSON.stringify(cn)));
    expect(Array.from(back.std!)).toEqual([0.5, 2]);
  });

  it('rejects bad options and channel mismatch', () => {
    expect(() => new ChannelNormalizer({ mean: [0] })).toThrow('Expected both mean and std, or neither for ChannelNormalizer options but received only mean');
    expect(() => new ChannelNormalizer({ mean: [0, 0], std: [1, 0] })).toThrow('Expected finite number > 0 for std[1] but received 0 of type number');
    expect(() => new ChannelNormalizer({ mean: [0, 0], std: [1] })).toThrow('Expected 2 values (one per channel of mean) for std but received Array of length 1');
    const cn = new ChannelNormalizer().fit(x);
    expect(() => cn.transform({ data: new Float32Array(8), shape: [1, 2, 2, 2] })).toThrow(
      'Expected data of shape [N, 3, ...] (3 channels, as fitted) for x but received shape [1, 2, 2, 2]',
    );
  });
});

describe('PCA', () => {
  const c = fx.pca;
  const x: Tensor = { data: Float32Array.from(c.x), shape: [c.n, c.d] };

  it('explained variance, ratio and components match the SVD reference (sklearn definition)', () => {
    const p = new PCA({ backend }).fit(x);
    expect(p.nComponents).toBe(c.d); // min(N, D)
    expectClose(p.mean!, c.mean, 1e-5, 'mean');
    // Relative to the largest variance (float32 covariance).
    const top = c.explainedVariance[0];
    expectClose(p.explainedVariance!.map((v) => v / top), c.explainedVariance.map((v: number) => v / top), 1e-5, 'explained variance');
    expectClose(p.explainedVarianceRatio!, c.explainedVarianceRatio, 1e-5, 'ratio');
    // Components with well separated variances match up to sign (same convention here, so exactly).
    expectClose(p.components!.data.subarray(0, 3 * c.d), c.components.slice(0, 3 * c.d), 1e-3, 'components');
  });

  it('projections match up to sign; whitening divides by sqrt(λ + eps)', () => {
    const p = new PCA({ components: c.k, backend }).fit(x);
    const y = p.transform(x);
    expect(y.shape).toEqual([c.n, c.k]);
    const pw = new PCA({ components: c.k, whiten: true, backend }).fit(x);
    const yw = pw.transform(x);
    for (let j = 0; j < c.k; j++) {
      const sign = Math.sign(p.components!.data[j * c.d]) * Math.sign(c.components[j * c.d]);
      const col = (t: ArrayLike<number>) => Array.from({ length: c.n }, (_, i) => sign * t[i * c.k + j]);
      const ref = (t: number[]) => Array.from({ length: c.n }, (_, i) => t[i * c.k + j]);
      const scale = Math.sqrt(c.explainedVariance[j]);
      expectClose(col(y.data).map((v) => v / scale), ref(c.projection).map((v) => v / scale), j < 3 ? 1e-4 : 5e-2, `projection ${j}`);
      if (j < 3) expectClose(col(yw.data), ref(c.whitened), 1e-4, `whitened ${j}`);
    }
  });

  it('whitened projections have identity covariance to 1e-3', () => {
    const p = new PCA({ components: 5, whiten: true, backend });
    const y = p.fitTransform(x);
    expectClose(covariance(y.data, c.n, 5), identity(5), 1e-3, 'whitened covariance');
  });

  it('varianceRetained picks the fewest components reaching the ratio', () => {
    expect(new PCA({ varianceRetained: 0.9, backend }).fit(x).nComponents).toBe(c.k90);
    expect(new PCA({ varianceRetained: 0.99, backend }).fit(x).nComponents).toBe(c.k99);
    expect(new PCA({ varianceRetained: 1, backend }).fit(x).nComponents).toBeLessThanOrEqual(c.d);
  });

  it('inverseTransform round-trips with all components, and approximates with few', () => {
    const full = new PCA({ whiten: true, backend }).fit(x);
    expectClose(full.inverseTransform(full.transform(x)).data, x.data, 1e-3, 'full round-trip');
    const three = new PCA({ components: 3, backend }).fit(x);
    const back = three.inverseTransform(three.transform(x));
    expect(back.shape).toEqual([c.n, c.d]);
    const err = maxAbsDiff(back.data, x.data);
    expect(err).toBeLessThan(1); // 0.1 noise in 7 dropped directions
    expect(err).toBeGreaterThan(1e-3);
  });

  it('flattens [N, C, H, W] images to D features; inverseTransform restores the image shape', () => {
    const imgs: Tensor = { data: x.data, shape: [c.n, 1, 2, 5] };
    const p = new PCA({ components: 3, backend }).fit(imgs);
    const flat = new PCA({ components: 3, backend }).fit(x);
    expect(Array.from(p.transform(imgs).data)).toEqual(Array.from(flat.transform(x).data));
    expect(p.inverseTransform(p.transform(imgs)).shape).toEqual([c.n, 1, 2, 5]);
    expect(() => p.transform({ data: new Float32Array(12), shape: [1, 1, 3, 4] })).toThrow(
      'Expected data of shape [N, 1, 2, 5] (10 features, as fitted by PCA) for x but received shape [1, 1, 3, 4]',
    );
  });

  it('toJSON / fromJSON round-trip gives identical transforms', () => {
    const p = new PCA({ components: 4, whiten: true, backend }).fit(x);
    const json = JSON.parse(JSON.stringify(p.toJSON()));
    expect(json.kind).toBe('PCA');
    const q = PCA.fromJSON(json, { backend });
    expect(Array.from(q.transform(x).data)).toEqual(Array.from(p.transform(x).data));
    expect(Array.from(q.explainedVarianceRatio!)).toEqual(Array.from(p.explainedVarianceRatio!));
  });

  it('rejects bad input with messages that say what and where', () => {
    expect(() => new PCA({ backend }).transform(x)).toThrow('Expected a fitted PCA for PCA.transform() but received an unfitted one (call fit() first)');
    expect(() => new PCA({ components: 11, backend }).fit(x)).toThrow('Expected integer between 1 and 10 (the number of features) for components but received 11 of type number');
    expect(() => new PCA({ components: 0 })).toThrow('Expected integer >= 1 for components but received 0 of type number');
    expect(() => new PCA({ varianceRetained: 0 })).toThrow('Expected number in (0, 1] for varianceRetained but received 0 of type number');
    expect(() => new PCA({ varianceRetained: 1.5 })).toThrow(RangeError);
    expect(() => new PCA({ components: 2, varianceRetained: 0.5 })).toThrow('Expected at most one of components and varianceRetained for PCA options but received both');
    expect(() => new PCA({ whiten: 1 as unknown as boolean })).toThrow(TypeError);
    expect(() => new PCA({ component: 3 } as never)).toThrow("(did you mean 'components'?)");
    const p = new PCA({ components: 2, backend }).fit(x);
    expect(() => p.transform({ data: new Float32Array(9), shape: [3, 3] })).toThrow(
      'Expected data of shape [N, 10] (10 features, as fitted by PCA) for x but received shape [3, 3]',
    );
    expect(() => p.inverseTransform([[1, 2, 3]])).toThrow('Expected data of shape [N, 2] (2 features, as fitted by PCA.transform) for y but received shape [1, 3]');
    expect(() => new PCA({ backend }).fit([[1, 2]])).toThrow('Expected at least 2 rows to fit PCA for x but received shape [1, 2]');
  });

  it('2000×784 random low-rank data: finishes, recovers the rank (time not asserted)', () => {
    // 2000 samples, rank 20 plus tiny noise, 784 features.
    const n = 2000;
    const d = 784;
    const r = seeded(11);
    const latent = Float32Array.from({ length: n * 20 }, r);
    const mix = Float32Array.from({ length: 20 * d }, r);
    const data = new Float32Array(n * d);
    for (let i = 0; i < n; i++)
      for (let q = 0; q < 20; q++) {
        const l = latent[i * 20 + q];
        for (let j = 0; j < d; j++) data[i * d + j] += l * mix[q * d + j];
      }
    for (let i = 0; i < data.length; i++) data[i] += 1e-3 * r();
    const t0 = Date.now();
    const p = new PCA({ varianceRetained: 0.999, backend }).fit({ data, shape: [n, d] });
    const ms = Date.now() - t0;
    expect(p.nComponents).toBeLessThanOrEqual(20);
    expect(p.nComponents).toBeGreaterThan(10);
    let retained = 0;
    for (const v of p.explainedVarianceRatio!) retained += v;
    expect(retained).toBeGreaterThanOrEqual(0.999);
    console.log(`PCA fit 2000×784 (native gemm): ${ms} ms, k = ${p.nComponents}`);
  }, 120_000);
});

describe('ZCA', () => {
  const c = fx.zca;
  const x: Tensor = { data: Float32Array.from(c.x), shape: [c.n, c.d] };

  it('W and the whitened data match numpy; whitened covariance is the identity to 1e-3', () => {
    const z = new ZCA({ eps: c.eps, backend }).fit(x);
    expectClose(z.mean!, c.mean, 1e-5, 'mean');
    const w = z.matrix;
    expect(w.shape).toEqual([c.d, c.d]);
    const wmax = Math.max(...c.w.map(Math.abs));
    expectClose(Array.from(w.data, (v) => v / wmax), c.w.map((v: number) => v / wmax), 1e-4, 'W');
    const y = z.transform(x);
    expect(y.shape).toEqual([c.n, c.d]);
    expectClose(y.data, c.whitened, 1e-3, 'whitened');
    expectClose(covariance(y.data, c.n, c.d), identity(c.d), 1e-3, 'covariance');
  });

  it('inverseTransform round-trips, JSON round-trips, bad input is rejected', () => {
    const z = new ZCA({ backend }).fit(x);
    expectClose(z.inverseTransform(z.transform(x)).data, x.data, 1e-3, 'round-trip');
    const back = ZCA.fromJSON(JSON.parse(JSON.stringify(z)), { backend });
    expect(Array.from(back.transform(x).data)).toEqual(Array.from(z.transform(x).data));
    expect(() => z.transform([[1, 2]])).toThrow('Expected data of shape [N, 6] (6 features, as fitted by ZCA) for x but received shape [1, 2]');
    expect(() => new ZCA({ backend }).inverseTransform(x)).toThrow('Expected a fitted ZCA for ZCA.inverseTransform()');
    expect(() => new ZCA({ eps: -1 })).toThrow('Expected finite number >= 0 for eps but received -1 of type number');
    expect(() => new ZCA({ backend: 'gpu' as never })).toThrow("Expected 'js', 'native' or a Backend object for backend but received 'gpu' of type string");
  });

  it('a singular covariance with eps = 0 is an error, not Infinity', () => {
    const z = new ZCA({ eps: 0, backend }).fit([[1, 1], [2, 2], [3, 3]]);
    expect(() => z.transform([[1, 1]])).toThrow('Expected eps > 0 when the covariance is singular for ZCA eps but received 0 of type number');
  });
});

