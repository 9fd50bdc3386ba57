/**
 * Checkpoints in the safetensors format (an 8-byte little-endian header length, a JSON header of
 * dtype/shape/offsets per tensor, then the raw little-endian data) — readable by PyTorch's
 * `safetensors.torch.load_file`. A save writes a temporary file and renames it over the target, so
 * a failed save never destroys the previous checkpoint; a load checks every size and offset before
 * it trusts a byte.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Sequential, StateDict } from './model';
import { sizeOf } from './tensor';
import { describe, fail } from './validate';

const MAX_HEADER = 100 * 1024 * 1024;

/** Encodes a state dict (F32 tensors) as safetensors bytes. */
export function encodeSafetensors(sd: StateDict, metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  const keys = Object.keys(sd);
  for (const k of keys) {
    const e = sd[k];
    if (!(e.data instanceof Float32Array)) fail('type', 'Float32Array', `stateDict['${k}'].data`, describe(e.data));
    if (sizeOf(e.shape) !== e.data.length) fail('range', `${sizeOf(e.shape)} values for shape [${e.shape.join(', ')}]`, `stateDict['${k}']`, describe(e.data));
    header[k] = { dtype: 'F32', shape: e.shape, data_offsets: [offset, offset + e.data.byteLength] };
    offset += e.data.byteLength;
  }
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' '; // align the data to 8 bytes
  const hlen = Buffer.byteLength(json);
  const buf = Buffer.alloc(8 + hlen + offset);
  buf.writeBigUInt64LE(BigInt(hlen), 0);
  buf.write(json, 8, 'utf8');
  let pos = 8 + hlen;
  for (const k of keys) {
    const d = sd[k].data;
    const bytes = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
    if (isLittleEndian) bytes.copy(buf, pos);
    else for (let i = 0; i < d.length; i++) buf.writeFloatLE(d[i], pos + 4 * i);
    pos += d.byteLength;
  }
  return buf;
}

const isLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Decodes safetensors bytes (F32 only), validating the header against the file size. */
export function decodeSafetensors(buf: Uint8Array, name = 'checkpoint'): { tensors: StateDict; metadata: Record<string, string> } {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 8) fail('range', 'a safetensors file of at least 8 bytes', name, `${b.length} bytes`);
  const hlenBig = b.readBigUInt64LE(0);
  if (hlenBig > BigInt(Math.min(MAX_HEADER, b.length - 8))) fail('range', `a header length <= ${Math.min(MAX_HEADER, b.length - 8)}`, name, `${hlenBig}`);
  const hlen = Number(hlenBig);
  let header: Record<string, any>;
  try {
    header = JSON.parse(b.toString('utf8', 8, 8 + hlen));
  } catch (e) {
    throw new RangeError(`Expected a JSON safetensors header for ${name} but received unparsable text (${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) fail('range', 'a JSON object header', name, 'another JSON value');
  const dataStart = 8 + hlen;
  const dataLen = b.length - dataStart;
  const tensors: StateDict = {};
  const metadata: Record<string, string> = header.__metadata__ ?? {};
  for (const [k, v] of Object.entries(header)) {
    if (k === '__metadata__') continue;
    if (!v || v.dtype !== 'F32') fail('range', "dtype 'F32'", `${name}['${k}']`, describe(v?.dtype));
    const shape = v.shape;
    if (!Array.isArray(shape) || !shape.every((d: unknown) => Number.isInteger(d) && (d as number) >= 0)) fail('range', 'a shape of non-negative integers', `${name}['${k}']`, describe(shape));
    const offs = v.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o: unknown) => Number.isInteger(o) && (o as number) >= 0)) fail('range', 'data_offsets [begin, end]', `${name}['${k}']`, describe(offs));
    const [begin, end] = offs as [number, number];
    if (end < begin || end > dataLen) fail('range', `offsets within the ${dataLen} data bytes`, `${name}['${k}']`, `[${begin}, ${end}]`);
    const count = sizeOf(shape);
    if (end - begin !== count * 4) fail('range', `${count * 4} bytes for shape [${shape.join(', ')}]`, `${name}['${k}']`, `${end - begin} bytes`);
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = b.readFloatLE(dataStart + begin + 4 * i);
    tensors[k] = { shape, data };
  }
  return { tensors, metadata };
}

/**
 * Saves the model's state dict (and its config, as metadata) to `file`: written to a temporary file
 * in the same folder, flushed, then renamed over the target.
 */
export function saveModel(model: Sequential, file: string): void {
  const buf = encodeSafetensors(model.stateDict(), { format: 'pt', minibatch_config: JSON.stringify(model.getConfig()) });
  atomicWrite(file, buf);
}

/** Loads a checkpoint into a built model (shapes and keys checked before anything is written). */
export function loadModel(model: Sequential, file: string, { strict = true } = {}): void {
  const { tensors } = decodeSafetensors(fs.readFileSync(file), file);
  model.loadStateDict(tensors, { strict });
}

export function atomicWrite(file: string, data: Uint8Array): void {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, 'w');
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== null) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
