/**
 * Tensor: a Float32Array with a row-major shape (NCHW for images). Plain nested number arrays are
 * accepted at the public entry and converted once.
 */
import { checkInt, describe, fail, formatShape, isDetached } from './validate';

export interface Tensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

export type TensorLike = Tensor | Float32Array | NestedArray;
export type NestedArray = number[] | NestedArray[];

/** Number of elements of a shape (1 for []); each dimension must be an integer >= 0. */
export function sizeOf(shape: readonly number[]): number {
  if (!Array.isArray(shape)) fail('type', 'array of integers', 'shape', describe(shape));
  let s = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (!Number.isInteger(d) || d < 0) checkInt(d, `shape[${i}]`, 0);
    s *= d;
  }
  return s;
}

/** Whether two shapes are equal, dimension by dimension. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function checkShapeArg(shape: unknown, name: string): number[] {
  if (!Array.isArray(shape) || shape.length === 0) fail('type', 'non-empty array of positive integers', name, describe(shape));
  return (shape as unknown[]).map((d, i) => checkInt(d, `${name}[${i}]`, 1));
}

/** A tensor's own shape: a non-empty array of integers >= 1 (checked without allocating). */
function checkTensorShape(shape: unknown, name: string): readonly number[] {
  if (!Array.isArray(shape) || shape.length === 0) fail('type', 'non-empty array of positive integers', `${name}.shape`, describe(shape));
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (!Number.isInteger(d) || d < 1) checkInt(d, `${name}.shape[${i}]`, 1);
  }
  return shape;
}

function inferShape(a: NestedArray, name: string): number[] {
  const shape: number[] = [];
  let cur: unknown = a;
  while (Array.isArray(cur)) {
    if (cur.length === 0) fail('range', 'non-empty nested arrays', name, 'an empty array');
    shape.push(cur.length);
    cur = cur[0];
  }
  return shape;
}

function flatten(a: NestedArray, shape: number[], name: string): Float32Array {
  const out = new Float32Array(sizeOf(shape));
  let k = 0;
  const walk = (v: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof v !== 'number') fail('type', 'number', `${name}${path}`, describe(v));
      out[k++] = v;
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      fail('range', `array of length ${shape[depth]} (ragged input; shape ${formatShape(shape)})`, `${name}${path}`, describe(v));
    }
    for (let i = 0; i < v.length; i++) walk(v[i], depth + 1, `${path}[${i}]`);
  };
  walk(a, 0, '');
  return out;
}

/**
 * Makes a tensor from a Float32Array (shape required, the data is used without copying) or from
 * nested number arrays (shape inferred, or checked when given).
 */
export function tensor(data: Float32Array | NestedArray, shape?: readonly number[], name = 'data'): Tensor {
  if (typeof name !== 'string') fail('type', 'string', 'name', describe(name));
  if (data instanceof Float32Array) {
    if (isDetached(data)) fail('range', 'an attached Float32Array', name, 'a detached buffer');
    const s = shape === undefined ? [data.length] : checkShapeArg(shape, 'shape');
    if (sizeOf(s) !== data.length) {
      fail('range', `${sizeOf(s)} values for shape ${formatShape(s)}`, name, describe(data));
    }
    return { data, shape: Object.freeze(s) };
  }
  if (Array.isArray(data)) {
    const inferred = inferShape(data, name);
    const flat = flatten(data, inferred, name);
    if (shape !== undefined) {
      const s = checkShapeArg(shape, 'shape');
      if (sizeOf(s) !== flat.length) fail('range', `${sizeOf(s)} values for shape ${formatShape(s)}`, name, `${flat.length} values of shape ${formatShape(inferred)}`);
      return { data: flat, shape: Object.freeze(s) };
    }
    return { data: flat, shape: Object.freeze(inferred) };
  }
  return fail('type', 'Float32Array or nested number arrays', name, describe(data));
}

/** Accepts a Tensor or anything `tensor()` accepts; checks the data matches the shape. */
export function toTensor(x: unknown, name: string): Tensor {
  if (x && typeof x === 'object' && !Array.isArray(x) && !ArrayBuffer.isView(x)) {
    const t = x as Tensor;
    if (!(t.data instanceof Float32Array)) fail('type', 'tensor with Float32Array data', name, describe(t.data));
    if (isDetached(t.data)) fail('range', 'an attached Float32Array', name, 'a detached buffer');
    checkTensorShape(t.shape, name);
    if (sizeOf(t.shape) !== t.data.length) fail('range', `${sizeOf(t.shape)} values for shape ${formatShape(t.shape)}`, name, describe(t.data));
    return t;
  }
  if (x instanceof Float32Array) return tensor(x, undefined, name);
  if (Array.isArray(x)) return tensor(x as NestedArray, undefined, name);
  return fail('type', 'tensor, Float32Array or nested number arrays', name, describe(x));
}

/** Throws if any value is NaN or infinite, naming the first offending index. */
export function checkFiniteData(t: Tensor, name: string): void {
  const d = t.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i])) {
      const row = t.shape.length > 1 ? Math.floor(i / (d.length / t.shape[0])) : i;
      fail('range', 'finite values', `${name} (row ${row}, index ${i})`, describe(d[i]));
    }
  }
}
