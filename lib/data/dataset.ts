/**
 * Data that does not sit in one array: what `fit(model, source, options)` trains on.
 *
 *   Dataset        random access: `length` and `batch(indices)` (many samples at once: the fast
 *                  path for file-backed data) or `get(i)` (one sample); either may return a promise.
 *                  fit shuffles through a seeded permutation of the indices.
 *   BatchIterable  an (async) iterable of batches or of single samples (fit stacks batchSize of
 *                  them), or a function returning a fresh one each epoch; consumed in the order it
 *                  yields, or through fit's seeded shuffleBuffer (lib/data/iterate.ts).
 *
 * fit asks for the next batch before it runs the step on the current one (prefetch), so a source
 * must not reuse the arrays of a batch it returned for the one after.
 */
import { sizeOf, type Tensor } from '../tensor';
import { describe, fail, formatShape } from '../validate';

/** One sample: x of the model's per-sample input shape; y a class index or a target row. */
export interface Sample {
  x: Float32Array | Tensor;
  y: number | Float32Array;
}

/** A batch: x [k, ...inputShape]; y k class indices or a target tensor [k, ...outputShape]. */
export interface Batch {
  x: Tensor;
  y: Int32Array | Uint8Array | Tensor;
}

export interface Dataset {
  readonly length: number;
  batch?(indices: Int32Array): Batch | Promise<Batch>;
  get?(i: number): Sample | Promise<Sample>;
}

export type BatchIterable =
  | AsyncIterable<Batch | Sample> | Iterable<Batch | Sample>
  | (() => AsyncIterable<Batch | Sample> | Iterable<Batch | Sample>);
export type DataSource = Dataset | BatchIterable;

/** Whether v is a Dataset (length plus batch or get). */
export function isDataset(v: unknown): v is Dataset {
  if (v === null || typeof v !== 'object') return false;
  const d = v as Dataset;
  return typeof d.length === 'number' && (typeof d.batch === 'function' || typeof d.get === 'function') && !ArrayBuffer.isView(v) && !Array.isArray(v);
}

/** Whether v is a source fit streams from (a Dataset or an iterable of batches), not an array. */
export function isDataSource(v: unknown): v is DataSource {
  if (typeof v === 'function') return true;
  if (Array.isArray(v)) return v.length > 0 && v[0] !== null && typeof v[0] === 'object' && !Array.isArray(v[0]) && 'x' in v[0];
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return false;
  if (isDataset(v)) return true;
  return Symbol.asyncIterator in (v as object) || Symbol.iterator in (v as object);
}

/**
 * Stacks samples into one batch (x and y copied into fresh arrays); every x must have `rowSize`
 * values and every y be a class index or a row of `targetSize` values.
 */
export function stackSamples(samples: Sample[], rowShape: readonly number[], name: string): Batch {
  const k = samples.length;
  const rowSize = sizeOf(rowShape);
  const x = new Float32Array(k * rowSize);
  const first = samples[0].y;
  const labels = typeof first === 'number' ? new Int32Array(k) : null;
  const tSize = typeof first === 'number' ? 0 : first.length;
  const targets = labels ? null : new Float32Array(k * tSize);
  samples.forEach((s, i) => {
    const xd = s && (s.x instanceof Float32Array ? s.x : (s.x as Tensor)?.data);
    if (!(xd instanceof Float32Array) || xd.length !== rowSize) fail('range', `a sample x of ${rowSize} values (shape ${formatShape(rowShape)})`, `${name} sample ${i}`, describe(s?.x));
    x.set(xd, i * rowSize);
    if (labels) {
      if (typeof s.y !== 'number') fail('type', 'a class index like the first sample', `${name} sample ${i} y`, describe(s.y));
      labels[i] = s.y;
    } else {
      if (!(s.y instanceof Float32Array) || s.y.length !== tSize) fail('range', `a target row of ${tSize} values`, `${name} sample ${i} y`, describe(s.y));
      targets!.set(s.y, i * tSize);
    }
  });
  return { x: { data: x, shape: [k, ...rowShape] }, y: labels ?? { data: targets!, shape: [k, tSize] } };
}

/** An in-memory Dataset over x [N, ...] and labels or targets (tests, validation data, wrappers). */
export class ArrayDataset implements Dataset {
  readonly length: number;
  private readonly rowSize: number;
  constructor(readonly x: Tensor, readonly y: Int32Array | Tensor) {
    this.length = x.shape[0];
    this.rowSize = sizeOf(x.shape.slice(1));
  }
  batch(indices: Int32Array): Batch {
    const k = indices.length, r = this.rowSize;
    const x = new Float32Array(k * r);
    for (let i = 0; i < k; i++) x.set(this.x.data.subarray(indices[i] * r, (indices[i] + 1) * r), i * r);
    if (this.y instanceof Int32Array) return { x: { data: x, shape: [k, ...this.x.shape.slice(1)] }, y: Int32Array.from(indices, (j) => (this.y as Int32Array)[j]) };
    const t = this.y as Tensor, ts = sizeOf(t.shape.slice(1));
    const y = new Float32Array(k * ts);
    for (let i = 0; i < k; i++) y.set(t.data.subarray(indices[i] * ts, (indices[i] + 1) * ts), i * ts);
    return { x: { data: x, shape: [k, ...this.x.shape.slice(1)] }, y: { data: y, shape: [k, ...t.shape.slice(1)] } };
  }
}
