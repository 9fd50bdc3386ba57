/**
 * Data preprocessing in the CS231n sense: statistics are fitted on the training data once, then the
 * same transform is applied to every split. Every transform here
 * - takes a Tensor of shape [N, D] (or [N, C, H, W], flattened to D = C·H·W) or number[][];
 * - returns a new Tensor (the input is never modified);
 * - validates the width against what it was fitted on, and names both shapes when they differ;
 * - serializes with `toJSON()` and comes back with the static `fromJSON()`.
 *
 * Statistics (means, variances) are accumulated in double precision. PCA and ZCA form the covariance
 * XᵀX/(N−1) of the centered data with the backend's float32 GEMM (centering first keeps the float32
 * sums well conditioned), then decompose it in double precision with lib/linalg.ts.
 */
import type { Backend, BackendName } from './backend/types';
import { checkBackend, getBackend } from './backend/index';
import { symmetricEigen } from './linalg';
import { checkFiniteData, sizeOf, toTensor, type NestedArray, type Tensor } from './tensor';
import { checkBool, checkInt, checkNumber, checkOptions, describe, fail, formatShape } from './validate';

/** What every transform accepts: a Tensor [N, D] / [N, C, H, W], or nested number arrays. */
export type DataInput = Tensor | NestedArray;

// ------------------------------------------------------------------ shared helpers

interface Rows {
  t: Tensor;
  n: number;
  d: number;
}

function toRows(x: unknown, name: string): Rows {
  const t = toTensor(x, name);
  if (t.shape.length < 2) fail('range', 'data of shape [N, D] or [N, C, H, W]', name, `shape ${formatShape(t.shape)}`);
  checkFiniteData(t, name);
  return { t, n: t.shape[0], d: t.data.length / t.shape[0] };
}

/** Rows whose feature count must equal the fitted one; the error prints both shapes. */
function toFittedRows(x: unknown, name: string, featureShape: readonly number[], who: string): Rows {
  const r = toRows(x, name);
  const d = sizeOf(featureShape);
  if (r.d !== d) {
    fail('range', `data of shape [N, ${featureShape.join(', ')}] (${d} features, as fitted by ${who})`, name, `shape ${formatShape(r.t.shape)}`);
  }
  return r;
}

function notFitted(who: string, method: string): never {
  throw new Error(`Expected a fitted ${who} for ${who}.${method}() but received an unfitted one (call fit() first)`);
}

/** Per-column mean and population variance, in double precision (two passes). */
function columnStats(x: Float32Array, n: number, d: number): { mean: Float64Array; variance: Float64Array } {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const row = i * d;
    for (let j = 0; j < d; j++) mean[j] += x[row + j];
  }
  for (let j = 0; j < d; j++) mean[j] /= n;
  const variance = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const row = i * d;
    for (let j = 0; j < d; j++) {
      const c = x[row + j] - mean[j];
      variance[j] += c * c;
    }
  }
  for (let j = 0; j < d; j++) variance[j] /= n;
  return { mean, variance };
}

/** out[i, j] = (x[i, j] − shift[j]) · mul[j]  (mul null: 1). */
function affineColumns(out: Float32Array, x: Float32Array, n: number, d: number, shift: ArrayLike<number>, mul: ArrayLike<number> | null): void {
  for (let i = 0; i < n; i++) {
    const row = i * d;
    if (mul) for (let j = 0; j < d; j++) out[row + j] = (x[row + j] - shift[j]) * mul[j];
    else for (let j = 0; j < d; j++) out[row + j] = x[row + j] - shift[j];
  }
}

/** out[i, j] = x[i, j] · mul[j] + shift[j]  (mul null: 1). */
function unaffineColumns(out: Float32Array, x: Float32Array, n: number, d: number, shift: ArrayLike<number>, mul: ArrayLike<number> | null): void {
  for (let i = 0; i < n; i++) {
    const row = i * d;
    if (mul) for (let j = 0; j < d; j++) out[row + j] = x[row + j] * mul[j] + shift[j];
    else for (let j = 0; j < d; j++) out[row + j] = x[row + j] + shift[j];
  }
}

// ---------------------------------------------------------------- JSON checks

function checkJSON(json: unknown, kind: string): Record<string, unknown> {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) fail('type', `object from ${kind}.toJSON()`, 'json', describe(json));
  const o = json as Record<string, unknown>;
  if (o.kind !== kind) fail('range', `kind '${kind}'`, 'json.kind', describe(o.kind));
  return o;
}

function jsonNumbers(o: Record<string, unknown>, key: string, length: number): Float32Array {
  const v = o[key];
  if (!Array.isArray(v)) fail('type', 'array of numbers', `json.${key}`, describe(v));
  if (v.length !== length) fail('range', `${length} numbers`, `json.${key}`, describe(v));
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    if (typeof v[i] !== 'number' || !Number.isFinite(v[i])) fail('range', 'finite number', `json.${key}[${i}]`, describe(v[i]));
    out[i] = v[i];
  }
  return out;
}

function jsonShape(o: Record<string, unknown>, key: string): number[] {
  const v = o[key];
  if (!Array.isArray(v) || v.length === 0) fail('type', 'non-empty array of positive integers', `json.${key}`, describe(v));
  return v.map((x, i) => checkInt(x, `json.${key}[${i}]`, 1));
}

// ------------------------------------------------------------ StandardScaler

/**
 * Z-score per feature: (x − mean) / std with the population std (ddof 0, like sklearn's
 * StandardScaler). A feature with zero variance keeps scale 1, so it maps to 0 (never NaN).
 */
export class StandardScaler {
  /** Feature means [D] (null until fitted). */
  mean: Float32Array | null = null;
  /** Per-feature std [D] used as divisor (1 where the variance is 0). */
  scale: Float32Array | null = null;
  /** Population variance per feature [D]. */
  variance: Float32Array | null = null;
  private featureShape: number[] = [];
  private invScale: Float32Array | null = null;

  fit(x: DataInput): this {
    const { t, n, d } = toRows(x, 'x');
    const { mean, variance } = columnStats(t.data, n, d);
    this.setState(t.shape.slice(1), Float32Array.from(mean), Float32Array.from(variance));
    return this;
  }

  transform(x: DataInput): Tensor {
    if (!this.mean || !this.invScale) return notFitted('StandardScaler', 'transform');
    const { t, n, d } = toFittedRows(x, 'x', this.featureShape, 'StandardScaler');
    const out = new Float32Array(t.data.length);
    affineColumns(out, t.data, n, d, this.mean, this.invScale);
    return { data: out, shape: t.shape.slice() };
  }

  fitTransform(x: DataInput): Tensor {
    return this.fit(x).transform(x);
  }

  inverseTransform(x: DataInput): Tensor {
    if (!this.mean || !this.scale) return notFitted('StandardScaler', 'inverseTransform');
    const { t, n, d } = toFittedRows(x, 'x', this.featureShape, 'StandardScaler');
    const out = new Float32Array(t.data.length);
    unaffineColumns(out, t.data, n, d, this.mean, this.scale);
    return { data: out, shape: t.shape.slice() };
  }

  toJSON(): { kind: 'StandardScaler'; featureShape: number[]; mean: number[]; variance: number[] } {
    if (!this.mean || !this.variance) return notFitted('StandardScaler', 'toJSON');
    return { kind: 'StandardScaler', featureShape: this.featureShape.slice(), mean: Array.from(this.mean), variance: Array.from(this.variance) };
  }

  static fromJSON(json: unknown): StandardScaler {
    const o = checkJSON(json, 'StandardScaler');
    const fs = jsonShape(o, 'featureShape');
    const d = sizeOf(fs);
    const s = new StandardScaler();
    const variance = jsonNumbers(o, 'variance', d);
    variance.forEach((v, i) => {
      if (v < 0) fail('range', 'non-negative variance', `json.variance[${i}]`, describe(v));
    });
    s.setState(fs, jsonNumbers(o, 'mean', d), variance);
    return s;
  }

  private setState(featureShape: number[], mean: Float32Array, variance: Float32Array): void {
    const d = mean.length;
    this.featureShape = featureShape;
    this.mean = mean;
    this.variance = variance;
    this.scale = new Float32Array(d);
    this.invScale = new Float32Array(d);
    for (let j = 0; j < d; j++) {
      const sd = Math.sqrt(variance[j]);
      const s = sd > 0 ? sd : 1;
      this.scale[j] = s;
      this.invScale[j] = 1 / s;
    }
  }
}

// ----------------------------------------------------------------- MeanCenter

/** Mean subtraction per feature (CS231n's "zero-centering"). */
export class MeanCenter {
  /** Feature means [D] (null until fitted). */
  mean: Float32Array | null = null;
  private featureShape: number[] = [];

  fit(x: DataInput): this {
    const { t, n, d } = toRows(x, 'x');
    const mean = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += t.data[i * d + j];
    for (let j = 0; j < d; j++) mean[j] /= n;
    this.mean = Float32Array.from(mean);
    this.featureShape = t.shape.slice(1);
    return this;
  }

  transform(x: DataInput): Tensor {
    if (!this.mean) return notFitted('MeanCenter', 'transform');
    const { t, n, d } = toFittedRows(x, 'x', this.featureShape, 'MeanCenter');
    const out = new Float32Array(t.data.length);
    affineColumns(out, t.data, n, d, this.mean, null);
    return { data: out, shape: t.shape.slice() };
  }

  fitTransform(x: DataInput): Tensor {
    return this.fit(x).transform(x);
  }

  inverseTransform(x: DataInput): Tensor {
    if (!this.mean) return notFitted('MeanCenter', 'inverseTransform');
    const { t, n, d } = toFittedRows(x, 'x', this.featureShape, 'MeanCenter');
    const out = new Float32Array(t.data.length);
    unaffineColumns(out, t.data, n, d, this.mean, null);
    return { data: out, shape: t.shape.slice() };
  }

  toJSON(): { kind: 'MeanCenter'; featureShape: number[]; mean: number[] } {
    if (!this.mean) return notFitted('MeanCenter', 'toJSON');
    return { kind: 'MeanCenter', featureShape: this.featureShape.slice(), mean: Array.from(this.mean) };
  }

  static fromJSON(json: unknown): MeanCenter {
    const o = checkJSON(json, 'MeanCenter');
    const fs = jsonShape(o, 'featureShape');
    const m = new MeanCenter();
    m.featureShape = fs;
    m.mean = jsonNumbers(o, 'mean', sizeOf(fs));
    return m;
  }
}

// ---------------------------------------------------------- ChannelNormalizer

export interface ChannelNormalizerArgs {
  /** Per-channel means; with `std`, the normalizer is ready without fit (like torchvision's Normalize). */
  mean?: number[] | Float32Array;
  /** Per-channel standard deviations (each > 0); given together with `mean`. */
  std?: number[] | Float32Array;
}

/**
 * Per-channel normalization of images [N, C, H, W] (any rank >= 2: [N, C, ...]): (x − mean[c]) / std[c].
 * `fit` computes each channel's mean and population std over N, H and W (a constant channel keeps
 * std 1, so it maps to 0); or pass `{ mean, std }` to use known values.
 */
export class ChannelNormalizer {
  /** Per-channel means [C] (null until fitted or given). */
  mean: Float32Array | null = null;
  /** Per-channel divisors [C]. */
  std: Float32Array | null = null;

  constructor(args: ChannelNormalizerArgs = {}) {
    checkOptions(args, ['mean', 'std'], 'ChannelNormalizer');
    if ((args.mean === undefined) !== (args.std === undefined)) {
      fail('type', 'both mean and std, or neither', 'ChannelNormalizer options', args.mean === undefined ? 'only std' : 'only mean');
    }
    if (args.mean !== undefined && args.std !== undefined) {
      const mean = channelList(args.mean, 'mean', false);
      const std = channelList(args.std, 'std', true);
      if (std.length !== mean.length) fail('range', `${mean.length} values (one per channel of mean)`, 'std', describe(args.std));
      this.mean = mean;
      this.std = std;
    }
  }

  fit(x: DataInput): this {
    const { t, n } = toRows(x, 'x');
    const c = t.shape[1];
    const inner = t.data.length / (n * c);
    const count = n * inner;
    const mean = new Float64Array(c);
    const sq = new Float64Array(c);
    for (let i = 0; i < n; i++) {
      for (let ch = 0; ch < c; ch++) {
        const base = (i * c + ch) * inner;
        let s = 0;
        for (let k = 0; k < inner; k++) s += t.data[base + k];
        mean[ch] += s;
      }
    }
    for (let ch = 0; ch < c; ch++) mean[ch] /= count;
    for (let i = 0; i < n; i++) {
      for (let ch = 0; ch < c; ch++) {
        const base = (i * c + ch) * inner;
        const m = mean[ch];
        let s = 0;
        for (let k = 0; k < inner; k++) {
          const v = t.data[base + k] - m;
          s += v * v;
        }
        sq[ch] += s;
      }
    }
    this.mean = Float32Array.from(mean);
    this.std = new Float32Array(c);
    for (let ch = 0; ch < c; ch++) {
      const sd = Math.sqrt(sq[ch] / count);
      this.std[ch] = sd > 0 ? sd : 1;
    }
    return this;
  }

  transform(x: DataInput): Tensor {
    return this.apply(x, 'transform', false);
  }

  fitTransform(x: DataInput): Tensor {
    return this.fit(x).transform(x);
  }

  inverseTransform(x: DataInput): Tensor {
    return this.apply(x, 'inverseTransform', true);
  }

  toJSON(): { kind: 'ChannelNormalizer'; mean: number[]; std: number[] } {
    if (!this.mean || !this.std) return notFitted('ChannelNormalizer', 'toJSON');
    return { kind: 'ChannelNormalizer', mean: Array.from(this.mean), std: Array.from(this.std) };
  }

  static fromJSON(json: unknown): ChannelNormalizer {
    const o = checkJSON(json, 'ChannelNormalizer');
    if (!Array.isArray(o.mean)) fail('type', 'array of numbers', 'json.mean', describe(o.mean));
    return new ChannelNormalizer({ mean: jsonNumbers(o, 'mean', o.mean.length), std: jsonNumbers(o, 'std', o.mean.length) });
  }

  private apply(x: DataInput, method: string, inverse: boolean): Tensor {
    if (!this.mean || !this.std) return notFitted('ChannelNormalizer', method);
    const { t, n } = toRows(x, 'x');
    const c = this.mean.length;
    if (t.shape[1] !== c) fail('range', `data of shape [N, ${c}, ...] (${c} channels, as fitted)`, 'x', `shape ${formatShape(t.shape)}`);
    const inner = t.data.length / (n * c);
    const out = new Float32Array(t.data.length);
    for (let i = 0; i < n; i++) {
      for (let ch = 0; ch < c; ch++) {
        const base = (i * c + ch) * inner;
        const m = this.mean[ch];
        const s = this.std[ch];
        if (inverse) for (let k = 0; k < inner; k++) out[base + k] = t.data[base + k] * s + m;
        else {
          const r = 1 / s;
          for (let k = 0; k < inner; k++) out[base + k] = (t.data[base + k] - m) * r;
        }
      }
    }
    return { data: out, shape: t.shape.slice() };
  }
}

function channelList(v: unknown, name: string, positive: boolean): Float32Array {
  if (!(Array.isArray(v) || v instanceof Float32Array) || v.length === 0) fail('type', 'non-empty array of numbers', name, describe(v));
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    out[i] = positive ? checkNumber(v[i], `${name}[${i}]`, 0, Infinity, 'finite number > 0') : checkNumber(v[i], `${name}[${i}]`);
    if (positive && !(out[i] > 0)) fail('range', 'finite number > 0', `${name}[${i}]`, describe(v[i]));
  }
  return out;
}

// ------------------------------------------------------------- covariance core

interface CovarianceFit {
  featureShape: number[];
  mean: Float32Array;
  /** Eigenvalues of the covariance, descending; those within float32 rounding of 0 are set to 0. */
  values: Float64Array;
  /** Eigenvectors as rows [D, D] (largest-|component| positive). */
  vectors: Float64Array;
}

/** Mean, then the eigendecomposition of the covariance XcᵀXc/(N−1) (XcᵀXc by float32 GEMM). */
function fitCovariance(rows: Rows, backend: Backend, who: string): CovarianceFit {
  const { t, n, d } = rows;
  if (n < 2) fail('range', `at least 2 rows to fit ${who}`, 'x', `shape ${formatShape(t.shape)}`);
  const mean64 = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean64[j] += t.data[i * d + j];
  for (let j = 0; j < d; j++) mean64[j] /= n;
  const mean = Float32Array.from(mean64);
  const centered = new Float32Array(n * d);
  affineColumns(centered, t.data, n, d, mean64, null);
  const cov = new Float32Array(d * d);
  backend.gemm(true, false, d, d, n, 1 / (n - 1), centered, centered, 0, cov);
  const { values, vectors } = symmetricEigen(cov, d);
  // Eigenvalues below the float32 rounding of the covariance are numerically zero (rank deficiency).
  const floor = Math.max(values[0], 0) * d * 2 ** -23;
  for (let j = 0; j < d; j++) if (!(values[j] > floor)) values[j] = 0;
  return { featureShape: t.shape.slice(1), mean, values, vectors };
}

// ------------------------------------------------------------------------ PCA

export interface PCAArgs {
  /** Number of components k in [1, D]. Default: min(N, D). Not together with varianceRetained. */
  components?: number;
  /** Keep the fewest components whose explained-variance ratio sums to at least this, in (0, 1]. */
  varianceRetained?: number;
  /** Divide each projection by sqrt(eigenvalue + eps), giving unit variance. Default false. */
  whiten?: boolean;
  /** Added to the eigenvalues before whitening. Default 1e-5. */
  eps?: number;
  /** Backend for the GEMMs (default: the current backend). */
  backend?: BackendName | Backend;
}

/**
 * Principal component analysis by eigendecomposition of the covariance of the training data.
 * `transform` projects centered data onto the top k eigenvectors ([N, D] → [N, k]), optionally
 * whitened; `inverseTransform` maps back ([N, k] → [N, D]). Eigenvector signs follow a fixed
 * convention (the component of largest magnitude is positive), so results are reproducible.
 */
export class PCA {
  /** Principal axes as rows, [k, D] (null until fitted). */
  components: Tensor | null = null;
  /** Feature means [D]. */
  mean: Float32Array | null = null;
  /** Variance along each kept axis (covariance eigenvalues, unbiased), [k]. */
  explainedVariance: Float64Array | null = null;
  /** explainedVariance divided by the total variance, [k]. */
  explainedVarianceRatio: Float64Array | null = null;
  readonly whiten: boolean;
  readonly eps: number;
  private readonly requested: number | undefined;
  private readonly retained: number | undefined;
  private readonly backendOpt: Backend | undefined;
  private featureShape: number[] = [];

  constructor(args: PCAArgs = {}) {
    checkOptions(args, ['components', 'varianceRetained', 'whiten', 'eps', 'backend'], 'PCA');
    if (args.components !== undefined && args.varianceRetained !== undefined) {
      fail('type', 'at most one of components and varianceRetained', 'PCA options', 'both');
    }
    this.requested = args.components === undefined ? undefined : checkInt(args.components, 'components', 1);
    if (args.varianceRetained !== undefined) {
      const v = checkNumber(args.varianceRetained, 'varianceRetained', -Infinity, Infinity, 'number in (0, 1]');
      if (!(v > 0 && v <= 1)) fail('range', 'number in (0, 1]', 'varianceRetained', describe(v));
    }
    this.retained = args.varianceRetained;
    this.whiten = args.whiten === undefined ? false : checkBool(args.whiten, 'whiten');
    this.eps = args.eps === undefined ? 1e-5 : checkNumber(args.eps, 'eps', 0);
    this.backendOpt = checkBackend(args.backend);
  }

  /** Number of kept components k (0 until fitted). */
  get nComponents(): number {
    return this.components ? this.components.shape[0] : 0;
  }

  fit(x: DataInput): this {
    const backend = (this.backendOpt ?? getBackend());
    const rows = toRows(x, 'x');
    const { n, d } = rows;
    // Check the requested size against D before the O(N·D²) work.
    if (this.requested !== undefined && this.requested > d) {
      fail('range', `integer between 1 and ${d} (the number of features)`, 'components', describe(this.requested));
    }
    const f = fitCovariance(rows, backend, 'PCA');
    let total = 0;
    for (let j = 0; j < d; j++) total += f.values[j];
    const ratio = new Float64Array(d);
    for (let j = 0; j < d; j++) ratio[j] = total > 0 ? f.values[j] / total : 0;
    let k: number;
    if (this.requested !== undefined) k = this.requested;
    else if (this.retained !== undefined) {
      k = d;
      let acc = 0;
      for (let j = 0; j < d; j++) {
        acc += ratio[j];
        if (acc >= this.retained - 1e-12) {
          k = j + 1;
          break;
        }
      }
    } else k = Math.min(n, d);
    this.featureShape = f.featureShape;
    this.mean = f.mean;
    this.components = { data: Float32Array.from(f.vectors.subarray(0, k * d)), shape: [k, d] };
    this.explainedVariance = f.values.slice(0, k);
    this.explainedVarianceRatio = ratio.slice(0, k);
    return this;
  }

  /** [N, D] → [N, k]: (x − mean)·componentsᵀ, divided by sqrt(variance + eps) when whitening. */
  transform(x: DataInput): Tensor {
    if (!this.components || !this.mean || !this.explainedVariance) return notFitted('PCA', 'transform');
    const { t, n, d } = toFittedRows(x, 'x', this.featureShape, 'PCA');
    const k = this.components.shape[0];
    const centered = new Float32Array(n * d);
    affineColumns(centered, t.data, n, d, this.mean, null);
    const y = new Float32Array(n * k);
    (this.backendOpt ?? getBackend()).gemm(false, true, n, k, d, 1, centered, this.components.data, 0, y);
    if (this.whiten) {
      const inv = new Float64Array(k);
      for (let j = 0; j < k; j++) inv[j] = 1 / Math.sqrt(this.explainedVariance[j] + this.eps);
      for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) y[i * k + j] *= inv[j];
    }
    return { data: y, shape: [n, k] };
  }

  fitTransform(x: DataInput): Tensor {
    return this.fit(x).transform(x);
  }

  /** [N, k] → [N, ...fitted feature shape]: y·components (+ mean), undoing the whitening first. */
  inverseTransform(y: DataInput): Tensor {
    if (!this.components || !this.mean || !this.explainedVariance) return notFitted('PCA', 'inverseTransform');
    const k = this.components.shape[0];
    const { t, n } = toFittedRows(y, 'y', [k], 'PCA.transform');
    const d = this.mean.length;
    let src = t.data;
    if (this.whiten) {
      src = new Float32Array(n * k);
      for (let j = 0; j < k; j++) {
        const s = Math.sqrt(this.explainedVariance[j] + this.eps);
        for (let i = 0; i < n; i++) src[i * k + j] = t.data[i * k + j] * s;
      }
    }
    const out = new Float32Array(n * d);
    (this.backendOpt ?? getBackend()).gemm(false, false, n, d, k, 1, src, this.components.data, 0, out);
    unaffineColumns(out, out, n, d, this.mean, null);
    return { data: out, shape: [n, ...this.featureShape] };
  }

  toJSON(): {
    kind: 'PCA'; featureShape: number[]; whiten: boolean; eps: number; components: number[];
    mean: number[]; explainedVariance: number[]; explainedVarianceRatio: number[];
  } {
    if (!this.components || !this.mean || !this.explainedVariance || !this.explainedVarianceRatio) return notFitted('PCA', 'toJSON');
    return {
      kind: 'PCA',
      featureShape: this.featureShape.slice(),
      whiten: this.whiten,
      eps: this.eps,
      components: Array.from(this.components.data),
      mean: Array.from(this.mean),
      explainedVariance: Array.from(this.explainedVariance),
      explainedVarianceRatio: Array.from(this.explainedVarianceRatio),
    };
  }

  static fromJSON(json: unknown, options: { backend?: BackendName | Backend } = {}): PCA {
    const o = checkJSON(json, 'PCA');
    const fs = jsonShape(o, 'featureShape');
    const d = sizeOf(fs);
    if (!Array.isArray(o.explainedVariance)) fail('type', 'array of numbers', 'json.explainedVariance', describe(o.explainedVariance));
    const k = o.explainedVariance.length;
    if (k < 1 || k > d) fail('range', `between 1 and ${d} numbers`, 'json.explainedVariance', describe(o.explainedVariance));
    const p = new PCA({ whiten: o.whiten as boolean, eps: o.eps as number, backend: options.backend });
    p.featureShape = fs;
    p.mean = jsonNumbers(o, 'mean', d);
    p.components = { data: jsonNumbers(o, 'components', k * d), shape: [k, d] };
    p.explainedVariance = Float64Array.from(jsonNumbers64(o, 'explainedVariance', k));
    p.explainedVarianceRatio = Float64Array.from(jsonNumbers64(o, 'explainedVarianceRatio', k));
    return p;
  }
}

function jsonNumbers64(o: Record<string, unknown>, key: string, length: number): number[] {
  const v = o[key];
  if (!Array.isArray(v) || v.length !== length) fail('range', `${length} numbers`, `json.${key}`, describe(v));
  return v.map((x, i) => checkNumber(x, `json.${key}[${i}]`, 0));
}

// ------------------------------------------------------------------------ ZCA

export interface ZCAArgs {
  /** Added to the eigenvalues: W = U·diag(1/sqrt(λ + eps))·Uᵀ. Default 1e-5. */
  eps?: number;
  /** Backend for the GEMMs (default: the current backend). */
  backend?: BackendName | Backend;
}

/**
 * ZCA whitening: (x − mean)·W with W = U·diag(1/sqrt(λ + eps))·Uᵀ from the covariance's
 * eigendecomposition. The output keeps the input's shape and, unlike PCA whitening, stays as close
 * as possible to the original data (for images it still looks like an image).
 */
export class ZCA {
  /** Feature means [D] (null until fitted). */
  mean: Float32Array | null = null;
  /** Covariance eigenvalues, descending, [D]. */
  eigenvalues: Float64Array | null = null;
  /** Covariance eigenvectors as rows, [D, D]. */
  eigenvectors: Tensor | null = null;
  readonly eps: number;
  private readonly backendOpt: Backend | undefined;
  private featureShape: number[] = [];
  private w: Float32Array | null = null;
  private wInv: Float32Array | null = null;

  constructor(args: ZCAArgs = {}) {
    checkOptions(args, ['eps', 'backend'], 'ZCA');
    this.eps = args.eps === undefined ? 1e-5 : checkNumber(args.eps, 'eps', 0);
    this.backendOpt = checkBackend(args.backend);
  }

  fit(x: DataInput): this {
    const f = fitCovariance(toRows(x, 'x'), (this.backendOpt ?? getBackend()), 'ZCA');
    const d = f.values.length;
    this.featureShape = f.featureShape;
    this.mean = f.mean;
    this.eigenvalues = f.values;
    this.eigenvectors = { data: Float32Array.from(f.vectors), shape: [d, d] };
    this.w = null;
    this.wInv = null;
    return this;
  }

  /** The whitening matrix W [D, D] (symmetric). */
  get matrix(): Tensor {
    if (!this.eigenvalues) return notFitted('ZCA', 'matrix');
    const d = this.eigenvalues.length;
    return { data: this.whitening(false), shape: [d, d] };
  }

  transform(x: DataInput): Tensor {
    return this.apply(x, 'transform', false);
  }

  fitTransform(x: DataInput): Tensor {
    return this.fit(x).transform(x);
  }

  inverseTransform(x: DataInput): Tensor {
    return this.apply(x, 'inverseTransform', true);
  }

  toJSON(): { kind: 'ZCA'; featureShape: number[]; eps: number; mean: number[]; eigenvalues: number[]; eigenvectors: number[] } {
    if (!this.mean || !this.eigenvalues || !this.eigenvectors) return notFitted('ZCA', 'toJSON');
    return {
      kind: 'ZCA',
      featureShape: this.featureShape.slice(),
      eps: this.eps,
      mean: Array.from(this.mean),
      eigenvalues: Array.from(this.eigenvalues),
      eigenvectors: Array.from(this.eigenvectors.data),
    };
  }

  static fromJSON(json: unknown, options: { backend?: BackendName | Backend } = {}): ZCA {
    const o = checkJSON(json, 'ZCA');
    const fs = jsonShape(o, 'featureShape');
    const d = sizeOf(fs);
    const z = new ZCA({ eps: o.eps as number, backend: options.backend });
    z.featureShape = fs;
    z.mean = jsonNumbers(o, 'mean', d);
    z.eigenvalues = Float64Array.from(jsonNumbers64(o, 'eigenvalues', d));
    z.eigenvectors = { data: jsonNumbers(o, 'eigenvectors', d * d), shape: [d, d] };
    return z;
  }

  /**
   * W = Σ_k v_k·v_kᵀ / sqrt(λ_k + eps) = Bᵀ·B with B's rows v_k·(λ_k + eps)^(−1/4); the inverse uses
   * the exponent +1/4. Built once, on first use.
   */
  private whitening(inverse: boolean): Float32Array {
    const cached = inverse ? this.wInv : this.w;
    if (cached) return cached;
    const values = this.eigenvalues!;
    const vectors = this.eigenvectors!.data;
    const d = values.length;
    const b = new Float32Array(d * d);
    for (let k = 0; k < d; k++) {
      const s = Math.pow(values[k] + this.eps, inverse ? 0.25 : -0.25);
      if (!Number.isFinite(s)) {
        fail('range', 'eps > 0 when the covariance is singular', 'ZCA eps', describe(this.eps));
      }
      for (let j = 0; j < d; j++) b[k * d + j] = vectors[k * d + j] * s;
    }
    const m = new Float32Array(d * d);
    (this.backendOpt ?? getBackend()).gemm(true, false, d, d, d, 1, b, b, 0, m);
    if (inverse) this.wInv = m;
    else this.w = m;
    return m;
  }

  private apply(x: DataInput, method: string, inverse: boolean): Tensor {
    if (!this.mean || !this.eigenvalues) return notFitted('ZCA', method);
    const { t, n, d } = toFittedRows(x, 'x', this.featureShape, 'ZCA');
    const m = this.whitening(inverse);
    const backend = (this.backendOpt ?? getBackend());
    const out = new Float32Array(n * d);
    if (inverse) {
      backend.gemm(false, false, n, d, d, 1, t.data, m, 0, out);
      unaffineColumns(out, out, n, d, this.mean, null);
    } else {
      const centered = new Float32Array(n * d);
      affineColumns(centered, t.data, n, d, this.mean, null);
      backend.gemm(false, false, n, d, d, 1, centered, m, 0, out);
    }
    return { data: out, shape: t.shape.slice() };
  }
}
