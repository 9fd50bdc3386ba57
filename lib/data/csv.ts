/**
 * Numeric CSV tables, streamed: `csvBatches(path, options)` is a source fit trains from (a fresh
 * pass over the file each epoch, batches of feature rows and their labels), `readCsv` loads a
 * whole table. Parsing is csv-parse's (quoting, delimiters, BOM, line counting); this file picks
 * the columns, converts the values and says where a bad one is: `Expected a number for line 12,
 * column 3 ('width') of data.csv but received 'abc'`. A row with another number of fields than the
 * first is refused with its line.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'csv-parse';
import type { Tensor } from '../tensor';
import { checkBool, checkInt, checkOptions, describe, fail } from '../validate';
import type { Batch } from './dataset';

export interface CsvOptions {
  /** The first line names the columns. Default true. */
  header?: boolean;
  /** Field separator (one character). Default ','. */
  delimiter?: string;
  /** The label column, by name (needs the header) or 0-based index; null for none. Default: the last column. */
  label?: string | number | null;
  /** 'class': the label is a class index (integer >= 0); 'value': a number (a regression target). Default 'class'. */
  labelKind?: 'class' | 'value';
  /** Feature columns, by name or index, in this order. Default: every column but the label. */
  columns?: Array<string | number>;
  /** Rows per batch (csvBatches). Default 32. */
  batchSize?: number;
}

interface Plan {
  header: boolean;
  delimiter: string;
  label: string | number | null | undefined;
  labelKind: 'class' | 'value';
  columns: Array<string | number> | undefined;
  batchSize: number;
}

const CSV_KEYS = ['header', 'delimiter', 'label', 'labelKind', 'columns', 'batchSize'];

function parseOptions(o: CsvOptions): Plan {
  checkOptions(o, CSV_KEYS, 'CSV options');
  const delimiter = o.delimiter ?? ',';
  if (typeof delimiter !== 'string' || delimiter.length !== 1) fail('type', 'a one-character string', 'delimiter', describe(delimiter));
  const labelKind = o.labelKind ?? 'class';
  if (labelKind !== 'class' && labelKind !== 'value') fail('range', "'class' or 'value'", 'labelKind', describe(labelKind));
  if (o.label !== undefined && o.label !== null && typeof o.label !== 'string') checkInt(o.label, 'label', 0);
  if (o.columns !== undefined && (!Array.isArray(o.columns) || o.columns.length === 0)) fail('type', 'non-empty array of column names or indices', 'columns', describe(o.columns));
  return {
    header: o.header === undefined ? true : checkBool(o.header, 'header'),
    delimiter, labelKind, label: o.label, columns: o.columns,
    batchSize: checkInt(o.batchSize ?? 32, 'batchSize', 1),
  };
}

/** Resolves names and indices against the first record (and the header). */
function layout(p: Plan, width: number, names: string[] | null, file: string): { cols: number[]; label: number | null; colNames: string[] } {
  const idx = (c: string | number, what: string): number => {
    if (typeof c === 'number') {
      if (!Number.isInteger(c) || c < 0 || c >= width) fail('range', `a column index in [0, ${width - 1}]`, what, describe(c));
      return c;
    }
    if (!names) fail('range', 'column indices (the file has no header line)', what, `'${c}'`);
    const i = names.indexOf(c);
    if (i < 0) fail('range', `one of the columns ${names.map((n) => `'${n}'`).join(', ')} of ${file}`, what, `'${c}'`);
    return i;
  };
  const label = p.label === null ? null : p.label === undefined ? width - 1 : idx(p.label, 'label');
  const cols = p.columns ? p.columns.map((c, i) => idx(c, `columns[${i}]`)) : [...Array(width).keys()].filter((i) => i !== label);
  if (cols.length === 0) fail('range', 'at least one feature column', 'columns', 'none left beside the label');
  return { cols, label, colNames: cols.map((i) => (names ? names[i] : String(i))) };
}

function num(s: string, line: number, col: number, names: string[] | null, file: string): number {
  const t = s.trim();
  const v = t === '' ? NaN : Number(t);
  if (!Number.isFinite(v)) {
    fail('range', 'a number', `line ${line}, column ${col + 1}${names ? ` ('${names[col]}')` : ''} of ${file}`, `'${s}'`);
  }
  return v;
}

/** Parsed records of a file with their line numbers; csv-parse's errors become RangeErrors with the line. */
async function* records(file: string, p: Plan): AsyncGenerator<{ record: string[]; line: number }> {
  const input = fs.createReadStream(file);
  const parser = input.pipe(parse({ delimiter: p.delimiter, bom: true, skip_empty_lines: true, info: true, relax_quotes: false }));
  input.on('error', (e) => parser.destroy(e)); // a missing or unreadable file rejects the pass
  try {
    for await (const r of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) yield { record: r.record, line: r.info.lines };
  } catch (e) {
    const err = e as Error & { code?: string; lines?: number; record?: string[] };
    if (err.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH' || err.code === 'CSV_RECORD_DONT_MATCH_COLUMNS_LENGTH') {
      fail('range', 'a row with as many fields as the first', `line ${err.lines} of ${path.basename(file)}`, `${err.record?.length ?? 'another number of'} fields`);
    }
    if (err.code && err.code.startsWith('CSV_')) fail('range', 'well-formed CSV', `line ${err.lines} of ${path.basename(file)}`, err.message);
    throw e;
  }
}

/** A pass over the file in batches of plan.batchSize rows. */
async function* batches(file: string, p: Plan): AsyncGenerator<Batch & { columns: string[] }> {
  const name = path.basename(file);
  let names: string[] | null = null;
  let lay: ReturnType<typeof layout> | null = null;
  let xs: number[] = [];
  let ys: number[] = [];
  const flush = (): Batch & { columns: string[] } => {
    const k = ys.length || xs.length / lay!.cols.length;
    const x: Tensor = { data: Float32Array.from(xs), shape: [k, lay!.cols.length] };
    const y = lay!.label === null ? { data: new Float32Array(0), shape: [k, 0] } : p.labelKind === 'class' ? Int32Array.from(ys) : { data: Float32Array.from(ys), shape: [k, 1] };
    xs = [];
    ys = [];
    return { x, y, columns: lay!.colNames };
  };
  for await (const { record, line } of records(file, p)) {
    if (p.header && names === null) {
      names = record.map((s) => s.trim());
      continue;
    }
    lay ??= layout(p, record.length, names, name);
    for (const c of lay.cols) xs.push(num(record[c], line, c, names, name));
    if (lay.label !== null) {
      const v = num(record[lay.label], line, lay.label, names, name);
      if (p.labelKind === 'class' && !(Number.isInteger(v) && v >= 0)) {
        fail('range', 'a class index (an integer >= 0)', `line ${line}, column ${lay.label + 1}${names ? ` ('${names[lay.label]}')` : ''} of ${name}`, `'${record[lay.label]}'`);
      }
      ys.push(v);
    }
    if (xs.length === p.batchSize * lay.cols.length) yield flush();
  }
  if (lay && xs.length > 0) yield flush();
}

/**
 * A source for fit: each call starts a new pass over the file and yields batches { x [k, F], y }
 * (y the class indices, or [k, 1] values with labelKind 'value').
 */
export function csvBatches(file: string, options: CsvOptions = {}): () => AsyncIterable<Batch> {
  if (typeof file !== 'string' || file.length === 0) fail('type', 'a file path', 'file', describe(file));
  const p = parseOptions(options);
  return () => batches(file, p);
}

/** The whole table in memory: x [N, F], y (labels or [N, 1] values; null without a label), column names. */
export async function readCsv(file: string, options: Omit<CsvOptions, 'batchSize'> = {}): Promise<{ x: Tensor; y: Int32Array | Tensor | null; columns: string[] }> {
  if (typeof file !== 'string' || file.length === 0) fail('type', 'a file path', 'file', describe(file));
  const p = parseOptions({ ...options, batchSize: 65536 });
  const xs: Float32Array[] = [];
  const ys: (Int32Array | Float32Array)[] = [];
  let columns: string[] = [];
  let n = 0;
  for await (const b of batches(file, p)) {
    xs.push(b.x.data);
    if (p.label !== null) ys.push(b.y instanceof Int32Array ? b.y : (b.y as Tensor).data);
    columns = b.columns;
    n += b.x.shape[0];
  }
  const f = columns.length;
  const x = new Float32Array(n * f);
  let off = 0;
  for (const a of xs) (x.set(a, off), (off += a.length));
  if (p.label === null) return { x: { data: x, shape: [n, f] }, y: null, columns };
  const y = p.labelKind === 'class' ? new Int32Array(n) : new Float32Array(n);
  off = 0;
  for (const a of ys) (y.set(a, off), (off += a.length));
  return { x: { data: x, shape: [n, f] }, y: y instanceof Int32Array ? y : { data: y, shape: [n, 1] }, columns };
}
