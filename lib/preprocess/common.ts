/** What the preprocessing transforms share: row views, column statistics, JSON checks. */
import { checkFiniteData, sizeOf, toTensor, type NestedArray, type Tensor } from '../tensor';
import { checkInt, describe, fail, formatShape, StateError } from '../validate';

/** What every transform accepts: a Tensor [N, D] / [N, C, H, W], or nested number arrays. */
export type DataInput = Tensor | NestedArray;

// ------------------------------------------------------------------ shared helpers

export interface Rows {
  t: Tensor;
  n: number;
  d: number;
}

export function toRows(x: unknown, name: string): Rows {
  const t = toTensor(x, name);
  if (t.shape.length < 2) fail('range', 'data of shape [N, D] or [N, C, H, W]', name, `shape ${formatShape(t.shape)}`);
  checkFiniteData(t, name);
  return { t, n: t.shape[0], d: t.data.length / t.shape[0] };
}

/** Rows whose feature count must equal the fitted one; the error prints both shapes. */
export function toFittedRows(x: unknown, name: string, featureShape: readonly number[], who: string): Rows {
  const r = toRows(x, name);
  const d = sizeOf(featureShape);
  if (r.d !== d) {
    fail('range', `data of shape [N, ${featureShape.join(', ')}] (${d} features, as fitted by ${who})`, name, `shape ${formatShape(r.t.shape)}`);
  }
  return r;
}

export function notFitted(who: string, method: string): never {
  throw new StateError(`Expected a fitted ${who} for ${who}.${method}() but received an unfitted one (call fit() first)`);
}

/** Per-column mean and population variance, in double precision (two passes). */
export function columnStats(x: Float32Array, n: number, d: number): { mean: Float64Array; variance: Float64Array } {
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
export function affineColumns(out: Float32Array, x: Float32Array, n: number, d: number, shift: ArrayLike<number>, mul: ArrayLike<number> | null): void {
  for (let i = 0; i < n; i++) {
    const row = i * d;
    if (mul) for (let j = 0; j < d; j++) out[row + j] = (x[row + j] - shift[j]) * mul[j];
    else for (let j = 0; j < d; j++) out[row + j] = x[row + j] - shift[j];
  }
}

/** out[i, j] = x[i, j] · mul[j] + shift[j]  (mul null: 1). */
export function unaffineColumns(out: Float32Array, x: Float32Array, n: number, d: number, shift: ArrayLike<number>, mul: ArrayLike<number> | null): void {
  for (let i = 0; i < n; i++) {
    const row = i * d;
    if (mul) for (let j = 0; j < d; j++) out[row + j] = x[row + j] * mul[j] + shift[j];
    else for (let j = 0; j < d; j++) out[row + j] = x[row + j] + shift[j];
  }
}

// ---------------------------------------------------------------- JSON checks

export function checkJSON(json: unknown, kind: string): Record<string, unknown> {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) fail('type', `object from ${kind}.toJSON()`, 'json', describe(json));
  const o = json as Record<string, unknown>;
  if (o.kind !== kind) fail('range', `kind '${kind}'`, 'json.kind', describe(o.kind));
  return o;
}

export function jsonNumbers(o: Record<string, unknown>, key: string, length: number): Float32Array {
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

export function jsonShape(o: Record<string, unknown>, key: string): number[] {
  const v = o[key];
  if (!Array.isArray(v) || v.length === 0) fail('type', 'non-empty array of positive integers', `json.${key}`, describe(v));
  return v.map((x, i) => checkInt(x, `json.${key}[${i}]`, 1));
}

/**
 * transform, fitTransform and inverseTransform for a fitted transform whose work is one
 * apply(x, method, inverse) (method names the entry in error messages).
 */
export abstract class AppliedTransform {
  abstract fit(x: DataInput): this;

  protected abstract apply(x: DataInput, method: string, inverse: boolean): Tensor;

  transform(x: DataInput): Tensor {
    return this.apply(x, 'transform', false);
  }

  fitTransform(x: DataInput): Tensor {
    return this.fit(x).transform(x);
  }

  inverseTransform(x: DataInput): Tensor {
    return this.apply(x, 'inverseTransform', true);
  }
}
