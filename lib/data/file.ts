/**
 * FileDataset: a Dataset over a binary file of float32 rows (little-endian, back to back, after an
 * optional header of `offset` bytes), with the labels or targets in memory. batch(indices) is read
 * by a worker thread of its own (one pread per row, into a buffer handed back without a copy), so
 * while fit runs a step on the main thread the next batch is read beside it: the main thread's
 * share of a batch is one message each way. Reading the rows from the main thread with
 * fs.promises instead costs a promise round trip per row there, which the step cannot hide (the
 * step holds the main thread); hence this reader.
 *
 * The worker starts on the first batch, keeps the process alive only while a read is pending, and
 * ends with close().
 */
import * as fs from 'fs';
import { Worker } from 'worker_threads';
import { sizeOf, type Tensor } from '../tensor';
import { checkInt, checkOptions, describe, fail, formatShape } from '../validate';
import type { Batch, Dataset } from './dataset';

export interface FileDatasetOptions {
  /** The shape of one sample's x: each row holds its product of float32 values. Required. */
  shape: number[];
  /** One class index per row (Int32Array, Uint8Array) or a target tensor [rows, ...]. Required. */
  y: Int32Array | Uint8Array | Tensor;
  /** Bytes before the first row (a header). Default 0. */
  offset?: number;
}

// The reader, as plain JavaScript (it runs from the sources and from dist alike).
const READER = `
const { parentPort, workerData } = require('worker_threads');
const fs = require('fs');
const fd = fs.openSync(workerData.file, 'r');
parentPort.on('message', (m) => {
  if (m.close) { fs.closeSync(fd); process.exit(0); }
  const { id, rows, rowBytes, offset } = m;
  try {
    const buf = new ArrayBuffer(rows.length * rowBytes);
    const view = new Uint8Array(buf);
    for (let i = 0; i < rows.length; i++) {
      const pos = offset + rows[i] * rowBytes;
      let got = 0;
      while (got < rowBytes) {
        const n = fs.readSync(fd, view, i * rowBytes + got, rowBytes - got, pos + got);
        if (n === 0) throw new RangeError('Expected ' + rowBytes + ' bytes of row ' + rows[i] + ' at byte ' + pos + ' for ' + workerData.file + ' but received ' + got + ' (the file ends)');
        got += n;
      }
    }
    parentPort.postMessage({ id, buf }, [buf]);
  } catch (e) {
    parentPort.postMessage({ id, error: { name: e.name, message: e.message } });
  }
});
`;

/** The size of a regular file, with errors that name it. */
function fileSize(file: string): number {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    return fail('range', 'an existing file', 'file', `'${file}' (${(e as NodeJS.ErrnoException).code})`);
  }
  if (!st.isFile()) fail('range', 'a file', 'file', `'${file}', which is not a regular file`);
  return st.size;
}

interface Pending {
  resolve(b: ArrayBuffer): void;
  reject(e: Error): void;
}

export class FileDataset implements Dataset {
  readonly length: number;
  readonly file: string;
  readonly shape: readonly number[];
  private readonly rowBytes: number;
  private readonly offset: number;
  private readonly y: Int32Array | Uint8Array | Tensor;
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;

  constructor(file: string, options: FileDatasetOptions) {
    if (typeof file !== 'string' || file.length === 0) fail('type', 'a file path string', 'file', describe(file));
    checkOptions(options, ['shape', 'y', 'offset'], 'FileDataset');
    if (!options) fail('type', 'options object with shape and y', 'FileDataset', describe(options));
    const shape = options.shape;
    if (!Array.isArray(shape) || shape.length === 0) fail('type', 'a non-empty array of sizes', 'shape', describe(shape));
    shape.forEach((d, i) => checkInt(d, `shape[${i}]`, 1));
    const y = options.y;
    const rows = y instanceof Int32Array || y instanceof Uint8Array ? y.length : (y as Tensor)?.data instanceof Float32Array && Array.isArray((y as Tensor).shape) ? (y as Tensor).shape[0] : -1;
    if (rows < 1) fail('type', 'class indices (Int32Array, Uint8Array) or a target tensor with one row per sample', 'y', describe(y));
    this.offset = checkInt(options.offset ?? 0, 'offset', 0);
    this.rowBytes = 4 * sizeOf(shape);
    const size = fileSize(file);
    const need = this.offset + rows * this.rowBytes;
    if (size < need) fail('range', `a file of at least ${need} bytes (${rows} rows of ${formatShape(shape)} float32 after ${this.offset} bytes)`, 'file', `'${file}' of ${size} bytes`);
    this.file = file;
    this.shape = [...shape];
    this.length = rows;
    this.y = y;
  }

  private reader(): Worker {
    if (this.closed) fail('range', 'an open FileDataset', 'FileDataset', 'one that was closed');
    if (this.worker) return this.worker;
    const w = new Worker(READER, { eval: true, workerData: { file: this.file } });
    w.on('message', (m: { id: number; buf?: ArrayBuffer; error?: { name: string; message: string } }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) w.unref();
      if (m.error) p.reject(m.error.name === 'RangeError' ? new RangeError(m.error.message) : new Error(m.error.message));
      else p.resolve(m.buf!);
    });
    w.on('error', (e) => this.failAll(e));
    w.on('exit', () => {
      this.worker = null;
      this.failAll(new Error(`FileDataset: the reader of '${this.file}' stopped`));
    });
    w.unref();
    this.worker = w;
    return w;
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /** The rows `indices` (each in [0, length)), read by the worker. */
  batch(indices: Int32Array): Promise<Batch> {
    for (let i = 0; i < indices.length; i++) {
      const r = indices[i];
      if (!(r >= 0 && r < this.length)) fail('range', `row indices in [0, ${this.length})`, `indices[${i}]`, describe(r));
    }
    const w = this.reader();
    const id = this.nextId++;
    const rows = Int32Array.from(indices);
    const read = new Promise<ArrayBuffer>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    w.ref();
    w.postMessage({ id, rows, rowBytes: this.rowBytes, offset: this.offset });
    return read.then((buf) => ({ x: { data: new Float32Array(buf), shape: [rows.length, ...this.shape] }, y: this.labelsOf(rows) }));
  }

  private labelsOf(rows: Int32Array): Int32Array | Tensor {
    const y = this.y;
    if (y instanceof Int32Array || y instanceof Uint8Array) return Int32Array.from(rows, (r) => y[r]);
    const t = y as Tensor, ts = sizeOf(t.shape.slice(1));
    const out = new Float32Array(rows.length * ts);
    rows.forEach((r, i) => out.set(t.data.subarray(r * ts, (r + 1) * ts), i * ts));
    return { data: out, shape: [rows.length, ...t.shape.slice(1)] };
  }

  /** Ends the reader (pending reads reject); the dataset cannot be read afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    this.failAll(new Error(`FileDataset: '${this.file}' was closed`));
    if (!w) return;
    // the reader closes its file and exits
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.ref();
    w.postMessage({ close: true });
    await exited;
  }
}
