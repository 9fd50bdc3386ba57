/** StandardScaler, MeanCenter and ChannelNormalizer: per-column and per-channel statistics. */
import { sizeOf, type Tensor } from '../tensor';
import { checkNumber, checkOptions, describe, fail, formatShape } from '../validate';
import { RunningMoments } from '../data/running';
import { AppliedTransform, type DataInput, toRows, toFittedRows, notFitted, columnStats, affineColumns, unaffineColumns, checkJSON, jsonNumbers, jsonShape } from './common';

// ------------------------------------------------------------ StandardScaler

/** Rows of a partialFit batch; after the first, the feature shape must match the earlier batches'. */
function partialRows(x: DataInput, shape: number[] | null, who: string): { t: Tensor; n: number; d: number } {
  return shape ? toFittedRows(x, 'x', shape, who) : toRows(x, 'x');
}

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
  private running: RunningMoments | null = null;

  fit(x: DataInput): this {
    const { t, n, d } = toRows(x, 'x');
    const { mean, variance } = columnStats(t.data, n, d);
    this.running = null;
    this.setState(t.shape.slice(1), Float32Array.from(mean), Float32Array.from(variance));
    return this;
  }

  /**
   * Learns from one more batch (a stream of batches standardizes data that does not fit in memory):
   * the statistics are those of every row seen since the last fit(), exactly as one fit over all.
   */
  partialFit(x: DataInput): this {
    const { t, n, d } = partialRows(x, this.running ? this.featureShape : null, 'StandardScaler');
    this.running ??= new RunningMoments(d);
    this.running.add(t.data, n);
    this.setState(t.shape.slice(1), Float32Array.from(this.running.mean), Float32Array.from(this.running.variance()));
    return this;
  }

  /** Rows seen by partialFit since the last fit() (0 after fit). */
  get samplesSeen(): number {
    return this.running?.count ?? 0;
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
  private running: RunningMoments | null = null;

  fit(x: DataInput): this {
    const { t, n, d } = toRows(x, 'x');
    const mean = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += t.data[i * d + j];
    for (let j = 0; j < d; j++) mean[j] /= n;
    this.mean = Float32Array.from(mean);
    this.featureShape = t.shape.slice(1);
    this.running = null;
    return this;
  }

  /** Learns from one more batch: the mean of every row seen since the last fit(). */
  partialFit(x: DataInput): this {
    const { t, n, d } = partialRows(x, this.running ? this.featureShape : null, 'MeanCenter');
    this.running ??= new RunningMoments(d);
    this.running.add(t.data, n);
    this.mean = Float32Array.from(this.running.mean);
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
export class ChannelNormalizer extends AppliedTransform {
  /** Per-channel means [C] (null until fitted or given). */
  mean: Float32Array | null = null;
  /** Per-channel divisors [C]. */
  std: Float32Array | null = null;

  constructor(args: ChannelNormalizerArgs = {}) {
    super();
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

  toJSON(): { kind: 'ChannelNormalizer'; mean: number[]; std: number[] } {
    if (!this.mean || !this.std) return notFitted('ChannelNormalizer', 'toJSON');
    return { kind: 'ChannelNormalizer', mean: Array.from(this.mean), std: Array.from(this.std) };
  }

  static fromJSON(json: unknown): ChannelNormalizer {
    const o = checkJSON(json, 'ChannelNormalizer');
    if (!Array.isArray(o.mean)) fail('type', 'array of numbers', 'json.mean', describe(o.mean));
    return new ChannelNormalizer({ mean: jsonNumbers(o, 'mean', o.mean.length), std: jsonNumbers(o, 'std', o.mean.length) });
  }

  protected apply(x: DataInput, method: string, inverse: boolean): Tensor {
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
