/** PCA and ZCA over one covariance core (the backend's GEMM, then a float64 eigendecomposition). */
import type { Backend, BackendName } from '../backend/types';
import { checkBackend, getBackend } from '../backend/index';
import { symmetricEigen } from '../linalg';
import { sizeOf, type Tensor } from '../tensor';
import { checkBool, checkInt, checkNumber, checkOptions, describe, fail, formatShape } from '../validate';
import { AppliedTransform, type DataInput, type Rows, toRows, toFittedRows, notFitted, affineColumns, unaffineColumns, checkJSON, jsonNumbers, jsonShape } from './common';

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
export class ZCA extends AppliedTransform {
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
    super();
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

  protected apply(x: DataInput, method: string, inverse: boolean): Tensor {
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
