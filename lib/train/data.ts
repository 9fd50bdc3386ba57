/**
 * Training data in one flat layout, and the batches cut from it: the rows of x and either class
 * labels or regression targets, checked once (finite values, labels in range, targets of the loss's
 * kind and the model's output shape) before the first step, then copied into reusable batch
 * buffers with bulk copies.
 */
import type { Sequential } from '../model';
import { Tensor, sameShape, sizeOf, toTensor, checkFiniteData } from '../tensor';
import { describe, fail, formatShape, isDetached } from '../validate';
import type { LossFn } from './types';
import type { Backend } from '../backend/types';
import { getBackend } from '../backend/index';

export interface Dataset {
  x: Float32Array;
  rowShape: number[];
  rowSize: number;
  n: number;
  labels: Int32Array | null;
  targets: Float32Array | null;
  targetShape: number[];
}

function isLabelArray(y: unknown): boolean {
  return y instanceof Int32Array || y instanceof Uint8Array || (Array.isArray(y) && (y.length === 0 || typeof y[0] === 'number'));
}

/**
 * Whether every value of a is finite: one pass of the backend's paramStats (Σ a² in double, which
 * no float32 value can overflow), SIMD in the native backend.
 */
export function allFinite(backend: Backend, a: Float32Array, scratch = new Float64Array(3)): boolean {
  // chunks of 2^30 values: the kernel's sizes are int32
  for (let from = 0; from < a.length; from += CHUNK) {
    const part = from === 0 && a.length <= CHUNK ? a : a.subarray(from, Math.min(a.length, from + CHUNK));
    backend.paramStats(scratch, part, null, null, part.length);
    if (!Number.isFinite(scratch[0])) return false;
  }
  return true;
}
const CHUNK = 2 ** 30;

/** Fails naming the first non-finite value's row and index (the fast pass first, the scan only then). */
function checkFiniteRows(backend: Backend, x: Float32Array, rowSize: number, name: string): void {
  if (allFinite(backend, x)) return;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      fail('range', 'finite values', `${name} (row ${Math.floor(i / rowSize)}, index ${i % rowSize})`, describe(x[i]));
    }
  }
}

function toLabels(yIn: unknown, yName: string, n: number, model: Sequential): Int32Array {
  if (ArrayBuffer.isView(yIn) && isDetached(yIn)) fail('range', 'an attached buffer', yName, 'a detached buffer');
  const arr = yIn as ArrayLike<number>;
  if (arr.length !== n) fail('range', `${n} labels (one per row of x)`, yName, describe(yIn));
  const labels = new Int32Array(n);
  const classes = model.outputShape ? model.outputShape[model.outputShape.length - 1] : Infinity;
  for (let i = 0; i < n; i++) {
    const v = arr[i];
    if (!Number.isInteger(v) || v < 0 || v >= classes) {
      fail('range', `class index between 0 and ${classes - 1}`, `${yName}[${i}]`, describe(v));
    }
    labels[i] = v;
  }
  return labels;
}

/**
 * Checks and flattens (x, y); `name` is 'training', 'validation' or 'evaluation'. Messages name the
 * caller's argument: x and y, or validationData x and y.
 */
export function toDataset(xIn: unknown, yIn: unknown, name: string, model: Sequential): Dataset {
  const prefix = name === 'validation' ? 'validationData ' : '';
  const x = toTensor(xIn, `${prefix}x`);
  if (x.shape.length < 2) fail('range', 'a batch of samples [N, ...]', `${prefix}x`, `tensor of shape ${formatShape(x.shape)}`);
  const n = x.shape[0];
  const rowShape = x.shape.slice(1);
  const rowSize = sizeOf(rowShape);
  const backend = model.backend ?? getBackend();
  checkFiniteRows(backend, x.data, rowSize, `${prefix}x`);
  const yName = `${prefix}y`;
  if (isLabelArray(yIn)) {
    return { x: x.data, rowShape, rowSize, n, labels: toLabels(yIn, yName, n, model), targets: null, targetShape: [] };
  }
  const t = toTensor(yIn, yName);
  if (t.shape[0] !== n) fail('range', `${n} rows (one per row of x)`, yName, `tensor of shape ${formatShape(t.shape)}`);
  if (!allFinite(backend, t.data)) checkFiniteData(t, yName);
  return { x: x.data, rowShape, rowSize, n, labels: null, targets: t.data, targetShape: t.shape.slice(1) };
}

/**
 * Checks a dataset's targets against the model and the loss before anything changes: class labels
 * need an [N, classes] output, and a stock loss's `targets` says which kind it takes.
 */
export function checkTargets(ds: Dataset, model: Sequential, loss: LossFn, yName: string): void {
  const out = model.outputShape!;
  if (ds.labels && out.length !== 1) fail('range', 'a model with [N, classes] output for class labels', yName, `output shape [N, ${out.join(', ')}]`);
  if (loss.targets === 'classes' && !ds.labels) {
    fail('type', 'class indices (Int32Array, Uint8Array or number[]) for this loss', yName, `a target tensor with rows of shape ${formatShape(ds.targetShape)}`);
  }
  if (loss.targets === 'classesOrProbabilities' && !ds.labels && !sameShape(ds.targetShape, out)) {
    fail('range', `class indices or probability rows of shape ${formatShape(out)} (the model's output)`, yName, `rows of shape ${formatShape(ds.targetShape)}`);
  }
  if (loss.targets === 'sameShape') {
    if (ds.labels) fail('type', `a target tensor with rows of shape ${formatShape(out)} (the model's output) for this loss`, yName, 'class indices');
    if (!sameShape(ds.targetShape, out)) {
      fail('range', `rows of shape ${formatShape(out)} (the model's output)`, yName, `rows of shape ${formatShape(ds.targetShape)}`);
    }
  }
}

/**
 * dst[i] = src[idx[from + i]] for m rows of `size` values: one bulk copy per run of consecutive
 * indices (the whole batch when the data is not shuffled), no views allocated for short rows.
 */
export function gatherRows(dst: Float32Array, src: Float32Array, idx: Int32Array, from: number, m: number, size: number): void {
  let i = 0;
  while (i < m) {
    let run = 1;
    const first = idx[from + i];
    while (i + run < m && idx[from + i + run] === first + run) run++;
    const s = first * size, d = i * size, len = run * size;
    if (len >= 32) dst.set(src.subarray(s, s + len), d);
    else for (let j = 0; j < len; j++) dst[d + j] = src[s + j];
    i += run;
  }
}

/** Copies the rows idx[from..to) of a dataset into reusable batch buffers. */
export class Batcher {
  private xBuf = new Float32Array(0);
  private yBuf: Int32Array = new Int32Array(0);
  private tBuf = new Float32Array(0);
  constructor(private ds: Dataset) {}
  batch(idx: Int32Array, from: number, to: number): { x: Tensor; y: Int32Array | Tensor } {
    const ds = this.ds;
    const m = to - from;
    if (this.xBuf.length !== m * ds.rowSize) this.xBuf = new Float32Array(m * ds.rowSize);
    gatherRows(this.xBuf, ds.x, idx, from, m, ds.rowSize);
    const x: Tensor = { data: this.xBuf, shape: [m, ...ds.rowShape] };
    if (ds.labels) {
      if (this.yBuf.length !== m) this.yBuf = new Int32Array(m);
      for (let i = 0; i < m; i++) this.yBuf[i] = ds.labels[idx[from + i]];
      return { x, y: this.yBuf };
    }
    const ts = sizeOf(ds.targetShape);
    if (this.tBuf.length !== m * ts) this.tBuf = new Float32Array(m * ts);
    gatherRows(this.tBuf, ds.targets!, idx, from, m, ts);
    return { x, y: { data: this.tBuf, shape: [m, ...ds.targetShape] } };
  }
}

/** Rows whose largest score is at the label's index. */
export function countCorrect(out: Tensor, labels: Int32Array): number {
  const k = out.shape[out.shape.length - 1];
  const n = out.shape[0];
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bv = out.data[i * k];
    for (let j = 1; j < k; j++) {
      const v = out.data[i * k + j];
      if (v > bv) {
        bv = v;
        best = j;
      }
    }
    if (best === labels[i]) correct++;
  }
  return correct;
}

/** 0, 1, ..., n - 1. */
export function range(n: number): Int32Array {
  const r = new Int32Array(n);
  for (let i = 0; i < n; i++) r[i] = i;
  return r;
}
