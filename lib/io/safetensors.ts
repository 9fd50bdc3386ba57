/**
 * The safetensors format, read and written to the letter of its specification:
 *   8 bytes   N, an unsigned little-endian 64-bit header length (at most 100,000,000, as the
 *             reference implementation caps it)
 *   N bytes   a UTF-8 JSON object (first byte '{', padded at the end with spaces only):
 *             { "<name>": { "dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end] }, ...,
 *               "__metadata__": { "<key>": "<string value>", ... } }   (the metadata is optional)
 *   the rest  the byte buffer: little-endian, row-major tensors at data_offsets relative to it,
 *             covering it exactly, without gaps or overlaps.
 * Duplicate keys at any depth are refused (JSON.parse would keep the last one silently), every size
 * is checked before anything is allocated, and data is copied in bulk. Written by hand: the format is
 * a dozen lines of specification, and no npm reader checks all of the above.
 */
import { describe, fail, isDetached } from '../validate';

/** The reference implementation's header cap. */
export const MAX_HEADER = 100_000_000;

/** Element sizes of the dtypes this library reads and writes. */
const DTYPE_SIZE: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4 };
/** Every dtype of the specification (a file with one of the others is well-formed but not readable here). */
const SPEC_DTYPES = new Set(['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64']);

export type RawDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32';
/** A tensor as stored: its dtype, shape and its bytes (a view into the buffer parsed). */
export interface RawTensor {
  dtype: RawDtype;
  shape: number[];
  bytes: Uint8Array;
}
/** A tensor to write: float32, float64, int64 or int32 values. */
export interface WritableTensor {
  shape: readonly number[];
  data: Float32Array | Float64Array | BigInt64Array | Int32Array;
}

const isLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A null-prototype record: keys such as '__proto__' stay ordinary keys. */
export function record<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

// ============================================================================================ write

function dtypeOf(data: unknown, name: string): RawDtype {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof BigInt64Array) return 'I64';
  if (data instanceof Int32Array) return 'I32';
  return fail('type', 'Float32Array, Float64Array, BigInt64Array or Int32Array', `${name}.data`, describe(data));
}

function checkWriteShape(shape: unknown, length: number, name: string): number[] {
  if (!Array.isArray(shape)) fail('type', 'array of non-negative integers', `${name}.shape`, describe(shape));
  let count = 1;
  shape.forEach((d, i) => {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) fail('range', 'non-negative integer', `${name}.shape[${i}]`, describe(d));
    count *= d;
  });
  if (count !== length) fail('range', `${count} values for shape [${shape.join(', ')}]`, name, `${length} values`);
  return [...shape];
}

/**
 * Encodes tensors (and string metadata) as safetensors bytes. Tensors are laid out in the order of
 * their keys; the header is padded with spaces so the data starts on an 8-byte boundary.
 */
export function encodeSafetensors(tensors: Record<string, WritableTensor>, metadata: Record<string, string> = {}): Buffer {
  if (tensors === null || typeof tensors !== 'object' || Array.isArray(tensors)) fail('type', 'object of tensors { name: { shape, data } }', 'tensors', describe(tensors));
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) fail('type', 'object of string values', 'metadata', describe(metadata));
  const metaKeys = Object.keys(metadata);
  for (const k of metaKeys) {
    if (typeof metadata[k] !== 'string') fail('type', 'string (safetensors metadata holds strings only)', `metadata['${k}']`, describe(metadata[k]));
  }
  const parts: string[] = [];
  if (metaKeys.length) parts.push(`"__metadata__":{${metaKeys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
  const keys = Object.keys(tensors);
  const datas: Uint8Array[] = [];
  let offset = 0;
  for (const k of keys) {
    const name = `tensors['${k}']`;
    if (k === '__metadata__') fail('range', "a tensor name other than '__metadata__' (reserved for the metadata)", 'tensors', `a tensor named '__metadata__'`);
    const e = tensors[k];
    if (e === null || typeof e !== 'object') fail('type', 'tensor { shape, data }', name, describe(e));
    const dtype = dtypeOf(e.data, name);
    if (isDetached(e.data)) fail('range', 'an attached buffer', `${name}.data`, 'a detached buffer');
    const shape = checkWriteShape(e.shape, e.data.length, name);
    const bytes = new Uint8Array(e.data.buffer, e.data.byteOffset, e.data.byteLength);
    parts.push(`${JSON.stringify(k)}:{"dtype":"${dtype}","shape":[${shape.join(',')}],"data_offsets":[${offset},${offset + bytes.length}]}`);
    datas.push(isLittleEndian ? bytes : swapped(bytes, DTYPE_SIZE[dtype]));
    offset += bytes.length;
  }
  let json = `{${parts.join(',')}}`;
  const pad = (8 - ((8 + Buffer.byteLength(json)) % 8)) % 8;
  json += ' '.repeat(pad);
  const hlen = Buffer.byteLength(json);
  if (hlen > MAX_HEADER) fail('range', `a header of at most ${MAX_HEADER} bytes`, 'tensors', `${hlen} bytes of header`);
  const buf = Buffer.allocUnsafe(8 + hlen + offset);
  buf.writeBigUInt64LE(BigInt(hlen), 0);
  buf.write(json, 8, 'utf8');
  let pos = 8 + hlen;
  for (const d of datas) {
    buf.set(d, pos);
    pos += d.length;
  }
  return buf;
}

/** A byte-swapped copy (big-endian hosts only). */
function swapped(bytes: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += size) for (let j = 0; j < size; j++) out[i + j] = bytes[i + size - 1 - j];
  return out;
}

// ============================================================================================= read

function bytesOf(buf: unknown, name: string): Uint8Array {
  if (buf instanceof ArrayBuffer) {
    if ((buf as ArrayBuffer & { detached?: boolean }).detached) fail('range', 'an attached buffer', name, 'a detached ArrayBuffer');
    return new Uint8Array(buf);
  }
  if (!(buf instanceof Uint8Array)) return fail('type', 'Uint8Array, Buffer or ArrayBuffer of safetensors bytes', name, describe(buf));
  if (isDetached(buf)) fail('range', 'an attached buffer', name, 'a detached buffer');
  return buf;
}

/**
 * Walks a JSON text that JSON.parse accepted and throws on the first key that appears twice in
 * one object (at any depth).
 */
function checkDuplicateKeys(text: string, name: string): void {
  const stack: { keys: Set<string> | null; expectKey: boolean }[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top && top.keys && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) fail('range', 'a header without duplicate keys', name, `the key '${key}' twice`);
        top.keys.add(key);
        top.expectKey = false;
      }
      i = j;
    } else if (ch === 0x7b /* { */) stack.push({ keys: new Set(), expectKey: true });
    else if (ch === 0x5b /* [ */) stack.push({ keys: null, expectKey: false });
    else if (ch === 0x7d || ch === 0x5d) stack.pop();
    else if (ch === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top && top.keys) top.expectKey = true;
    }
  }
}

function parseHeader(b: Uint8Array, name: string): { header: Record<string, unknown>; dataStart: number } {
  if (b.length < 8) fail('range', 'a safetensors file of at least 8 bytes', name, `${b.length} bytes`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const hlenBig = dv.getBigUint64(0, true);
  const limit = Math.min(MAX_HEADER, b.length - 8);
  if (hlenBig > BigInt(limit)) fail('range', `a header length of at most ${limit} bytes (the file has ${b.length})`, name, `${hlenBig}`);
  const hlen = Number(hlenBig);
  if (hlen < 2 || b[8] !== 0x7b) fail('range', "a JSON header that starts with '{'", name, hlen < 1 ? 'an empty header' : `a header starting with byte ${b[8]}`);
  let end = 8 + hlen;
  while (end > 9 && b[end - 1] === 0x20) end--; // trailing space padding
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(8, end));
  } catch {
    return fail('range', 'a UTF-8 header', name, 'bytes that are not UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail('range', 'a JSON header', name, `unparsable text (${(e as Error).message})`);
  }
  if (text.charCodeAt(text.length - 1) !== 0x7d) fail('range', "a header that ends with '}' (and optional spaces)", name, 'other trailing characters');
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('range', 'a JSON object header', name, 'another JSON value');
  checkDuplicateKeys(text, name);
  return { header: header as Record<string, unknown>, dataStart: 8 + hlen };
}

function checkMetadata(v: unknown, name: string): Record<string, string> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return fail('range', 'a __metadata__ object of strings', name, describe(v));
  const out = record<string>();
  for (const [k, s] of Object.entries(v)) {
    if (typeof s !== 'string') fail('range', 'a string value', `${name} __metadata__['${k}']`, describe(s));
    out[k] = s;
  }
  return out;
}

interface Entry {
  key: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

function checkEntry(k: string, v: unknown, name: string, dataLen: number): Entry {
  const where = `${name}['${k}']`;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail('range', 'a tensor entry { dtype, shape, data_offsets }', where, describe(v));
  const { dtype, shape, data_offsets: offs, ...extra } = v as Record<string, unknown>;
  const unknownKeys = Object.keys(extra);
  if (unknownKeys.length) fail('range', 'only dtype, shape and data_offsets', where, `the key '${unknownKeys[0]}'`);
  if (typeof dtype !== 'string' || !SPEC_DTYPES.has(dtype)) fail('range', 'a safetensors dtype (F32, F16, BF16, F64, I64, ...)', `dtype of ${where}`, describe(dtype));
  if (!Array.isArray(shape)) fail('range', 'a shape array', where, describe(shape));
  let count = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) fail('range', 'a shape of non-negative integers', where, `shape ${JSON.stringify(shape)}`);
    count *= d;
    if (count > dataLen) fail('range', `a shape within the ${dataLen} data bytes`, where, `shape [${shape.join(', ')}]`);
  }
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)) {
    fail('range', 'data_offsets [begin, end] of non-negative integers', where, JSON.stringify(offs) ?? 'undefined');
  }
  const [begin, end] = offs as [number, number];
  if (end < begin || end > dataLen) fail('range', `data_offsets within the ${dataLen} data bytes`, where, `[${begin}, ${end}]`);
  const size = DTYPE_SIZE[dtype];
  if (size !== undefined && end - begin !== count * size) fail('range', `${count * size} bytes for ${dtype} shape [${shape.join(', ')}]`, where, `${end - begin} bytes`);
  return { key: k, dtype, shape: shape as number[], begin, end };
}

/**
 * Parses and checks a whole safetensors buffer; returns every tensor (a view of its bytes), and
 * the metadata. Throws, naming the file, for anything the specification does not allow and for the
 * dtypes this library cannot convert (BOOL, U8, I8, I16, U16, U32, U64, F8_*).
 */
export function parseSafetensors(buf: unknown, name = 'checkpoint'): { tensors: Record<string, RawTensor>; metadata: Record<string, string> } {
  const b = bytesOf(buf, name);
  const { header, dataStart } = parseHeader(b, name);
  const dataLen = b.length - dataStart;
  let metadata = record<string>();
  const entries: Entry[] = [];
  for (const [k, v] of Object.entries(header)) {
    if (k === '__metadata__') metadata = checkMetadata(v, name);
    else entries.push(checkEntry(k, v, name, dataLen));
  }
  // The byte buffer is covered exactly: sorted by offsets, each tensor starts where the last ended.
  const sorted = [...entries].sort((a, c) => a.begin - c.begin || a.end - c.end);
  let pos = 0;
  for (const e of sorted) {
    if (e.begin !== pos) {
      const what = e.begin < pos ? 'overlaps the tensor before it' : `leaves a gap of ${e.begin - pos} bytes before it`;
      fail('range', `data_offsets starting at byte ${pos} (tensors cover the data without gaps or overlaps)`, `${name}['${e.key}']`, `[${e.begin}, ${e.end}], which ${what}`);
    }
    pos = e.end;
  }
  if (pos !== dataLen) fail('range', `tensors covering all ${dataLen} data bytes`, name, `${dataLen - pos} bytes not covered by any tensor`);
  const tensors = record<RawTensor>();
  for (const e of entries) {
    if (DTYPE_SIZE[e.dtype] === undefined) fail('range', 'dtype F32, F16, BF16, F64, I64 or I32', `${name}['${e.key}']`, `dtype ${e.dtype}`);
    tensors[e.key] = { dtype: e.dtype as RawDtype, shape: e.shape, bytes: b.subarray(dataStart + e.begin, dataStart + e.end) };
  }
  return { tensors, metadata };
}

// ====================================================================================== conversion

/** The bytes as a new buffer of host-order elements of `size` bytes (one copy; swapped on big-endian hosts). */
function aligned(bytes: Uint8Array, size: number): ArrayBuffer {
  if (!isLittleEndian) return swapped(bytes, size).buffer as ArrayBuffer;
  const out = new Uint8Array(bytes.length); // not bytes.slice(): Buffer#slice is a view
  out.set(bytes);
  return out.buffer;
}

const f16Table = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    t[h] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return t;
})();

/** float32 values of a floating-point tensor (F32 copied, F64 rounded, F16 and BF16 widened exactly). */
export function toFloat32(t: RawTensor): Float32Array {
  const n = t.bytes.length / DTYPE_SIZE[t.dtype];
  switch (t.dtype) {
    case 'F32':
      return new Float32Array(aligned(t.bytes, 4), 0, n);
    case 'F64':
      return Float32Array.from(new Float64Array(aligned(t.bytes, 8), 0, n));
    case 'F16': {
      const h = new Uint16Array(aligned(t.bytes, 2), 0, n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = f16Table[h[i]];
      return out;
    }
    case 'BF16': {
      const h = new Uint16Array(aligned(t.bytes, 2), 0, n);
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = h[i] << 16;
      return new Float32Array(bits.buffer);
    }
    default:
      throw new RangeError(`Expected a floating-point dtype (F32, F16, BF16, F64) but received ${t.dtype}`);
  }
}

/** float64 values of an F64 or F32 tensor (exact). */
export function toFloat64(t: RawTensor): Float64Array {
  if (t.dtype === 'F64') return new Float64Array(aligned(t.bytes, 8), 0, t.bytes.length / 8);
  return Float64Array.from(toFloat32(t));
}

/** Integer values of an I64 or I32 tensor; I64 values must be exact in a double (|v| <= 2^53). */
export function toIntegers(t: RawTensor, name: string): Float64Array {
  if (t.dtype === 'I32') return Float64Array.from(new Int32Array(aligned(t.bytes, 4), 0, t.bytes.length / 4));
  if (t.dtype !== 'I64') return fail('range', 'dtype I64 or I32', name, `dtype ${t.dtype}`);
  const v = new BigInt64Array(aligned(t.bytes, 8), 0, t.bytes.length / 8);
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    if (v[i] > 2n ** 53n || v[i] < -(2n ** 53n)) fail('range', 'integers of at most 2^53 in magnitude', `${name}[${i}]`, String(v[i]));
    out[i] = Number(v[i]);
  }
  return out;
}

/** A state-dict entry as decoded: float32 values. */
export interface DecodedTensor {
  shape: number[];
  data: Float32Array;
}

/**
 * Decodes safetensors bytes into float32 tensors: F32, F16, BF16 and F64 are converted; int64 is
 * read for `num_batches_tracked` buffers only (non-negative integers); any other dtype is an error
 * naming the key and the dtype. Keys are kept as they are (a null-prototype record).
 */
export function decodeSafetensors(buf: Uint8Array | ArrayBuffer, name = 'checkpoint'): { tensors: Record<string, DecodedTensor>; metadata: Record<string, string> } {
  if (typeof name !== 'string') fail('type', 'string', 'name', describe(name));
  const raw = parseSafetensors(buf, name);
  const tensors = record<DecodedTensor>();
  for (const [k, t] of Object.entries(raw.tensors)) tensors[k] = { shape: t.shape, data: stateValues(k, t, name) };
  return { tensors, metadata: raw.metadata };
}

function stateValues(k: string, t: RawTensor, name: string): Float32Array {
  const where = `${name}['${k}']`;
  if (t.dtype === 'I64' || t.dtype === 'I32') {
    if (!k.endsWith('num_batches_tracked')) fail('range', 'dtype F32, F16, BF16 or F64 (integers only for num_batches_tracked)', where, `dtype ${t.dtype}`);
    const v = toIntegers(t, where);
    for (let i = 0; i < v.length; i++) if (v[i] < 0) fail('range', 'a non-negative count', `${where}[${i}]`, String(v[i]));
    return Float32Array.from(v);
  }
  return toFloat32(t);
}
