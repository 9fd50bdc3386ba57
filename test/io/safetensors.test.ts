// The safetensors specification on both sides, other writers' dtypes, and a fixed-seed fuzzer:
// every truncation of a small file, byte flips and hostile headers give a RangeError or TypeError
// that names the file, never another exception and never a wrong tensor.
import { describe, it, expect } from 'vitest';
import {
  encodeSafetensors, decodeSafetensors, Sequential, Linear, BatchNorm1d, Generator,
} from '../../lib/index';

/** A safetensors file from a header object and a data buffer (written as another writer might). */
function file(header: unknown, data: Uint8Array | number = 0, pad = ''): Buffer {
  const json = Buffer.from((typeof header === 'string' ? header : JSON.stringify(header)) + pad);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, typeof data === 'number' ? Buffer.alloc(data) : Buffer.from(data)]);
}
const t = (dtype: string, shape: number[], begin: number, end: number) => ({ dtype, shape, data_offsets: [begin, end] });

describe('reading follows the specification', () => {
  it('refuses overlapping, gapped and uncovered offsets, duplicate keys and bad metadata', () => {
    const bad: [Buffer, string | RegExp][] = [
      [file({ a: t('F32', [2], 0, 8), b: t('F32', [2], 4, 12) }, 12), "Expected data_offsets starting at byte 8 (tensors cover the data without gaps or overlaps) for checkpoint['b'] but received [4, 12], which overlaps the tensor before it"],
      [file({ a: t('F32', [2], 0, 8), b: t('F32', [1], 12, 16) }, 16), /which leaves a gap of 4 bytes before it/],
      [file({ a: t('F32', [2], 0, 8) }, 12), 'Expected tensors covering all 12 data bytes for checkpoint but received 4 bytes not covered by any tensor'],
      [file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8), "Expected a header without duplicate keys for checkpoint but received the key 'a' twice"],
      [file('{"a":{"dtype":"F32","dtype":"F64","shape":[1],"data_offsets":[0,4]}}', 4), /the key 'dtype' twice/],
      [file({ __metadata__: { epoch: 3 } }), "Expected a string value for checkpoint __metadata__['epoch'] but received 3 of type number"],
      [file({ __metadata__: ['x'] }), /Expected a __metadata__ object of strings/],
      [file({ a: { ...t('F32', [1], 0, 4), extra: 1 } }, 4), "Expected only dtype, shape and data_offsets for checkpoint['a'] but received the key 'extra'"],
      [file({ a: t('F32', [-1], 0, 4) }, 4), /a shape of non-negative integers/],
      [file({ a: t('F32', [1.5], 0, 4) }, 4), /a shape of non-negative integers/],
      [file({ a: t('F32', [2 ** 40, 2 ** 40, 2 ** 40], 0, 4) }, 4), "Expected a shape within the 4 data bytes for checkpoint['a'] but received shape [1099511627776, 1099511627776, 1099511627776]"],
      [file({ a: t('F32', [1], 0, 2 ** 60) }, 4), /data_offsets \[begin, end\] of non-negative integers/],
      [file({ a: t('F32', [1], 4, 0) }, 4), /data_offsets within the 4 data bytes/],
      [file({ a: t('F32', [2], 0, 4) }, 4), "Expected 8 bytes for F32 shape [2] for checkpoint['a'] but received 4 bytes"],
      [file({ a: t('Q4', [1], 0, 4) }, 4), "Expected a safetensors dtype (F32, F16, BF16, F64, I64, ...) for dtype of checkpoint['a'] but received 'Q4' of type string"],
      [file({ a: t('U8', [4], 0, 4) }, 4), "Expected dtype F32, F16, BF16, F64, I64 or I32 for checkpoint['a'] but received dtype U8"],
      [file({ a: t('I64', [1], 0, 8) }, 8), "Expected dtype F32, F16, BF16 or F64 (integers only for num_batches_tracked) for checkpoint['a'] but received dtype I64"],
      [file(' {}'), "Expected a JSON header that starts with '{' for checkpoint but received a header starting with byte 32"],
      [file('{}', 0, '\n'), /a header that ends with '}'/],
      [file('[]'), /a JSON header that starts with '\{'/],
      [file('{"a":'), /Expected a JSON header for checkpoint but received unparsable text/],
      [file('{}').subarray(0, 9), 'Expected a header length of at most 1 bytes (the file has 9) for checkpoint but received 2'],
    ];
    for (const [buf, msg] of bad) {
      expect(() => decodeSafetensors(buf), String(msg)).toThrow(RangeError);
      expect(() => decodeSafetensors(buf)).toThrow(msg);
    }
    const notUtf8 = file('{"\xff":1}');
    notUtf8[10] = 0xff;
    expect(() => decodeSafetensors(notUtf8)).toThrow('Expected a UTF-8 header for checkpoint but received bytes that are not UTF-8');
  });

  it('a header length one byte short is refused, not read one byte off', () => {
    const good = encodeSafetensors({ w: { shape: [2], data: new Float32Array([1, 2]) } });
    for (const delta of [-1n, 1n]) {
      const b = Buffer.from(good);
      b.writeBigUInt64LE(b.readBigUInt64LE(0) + delta);
      expect(() => decodeSafetensors(b)).toThrow(RangeError);
    }
  });

  it("keeps '__proto__' as an ordinary key; strict loading refuses it as unexpected", () => {
    const buf = file(`{"__proto__":${JSON.stringify(t('F32', [1], 0, 4))}}`, new Uint8Array(new Float32Array([5]).buffer));
    const { tensors } = decodeSafetensors(buf);
    expect(Object.keys(tensors)).toEqual(['__proto__']);
    expect(Array.from(tensors['__proto__'].data)).toEqual([5]);
    const m = new Sequential([new Linear({ inFeatures: 1, outFeatures: 1 })], { inputShape: [1] });
    expect(() => m.loadStateDict(tensors)).toThrow(/unexpected __proto__/);
  });

  it('converts F16, BF16 and F64 to float32 exactly, int64 num_batches_tracked to a count', () => {
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7bff, 0x7c00, 0x3555]); // 1, -2, 2^-24, 65504, inf, 0.333251953125
    const bf16 = new Uint16Array([0x3f80, 0xc0a0, 0x3eab]); // 1, -5, 0.333984375
    const f64 = new Float64Array([0.1, -3, 1e-50]);
    const i64 = new BigInt64Array([12345n]);
    const parts = [f16, bf16, f64, i64].map((a) => new Uint8Array(a.buffer));
    let off = 0;
    const h: Record<string, unknown> = {};
    const names = ['h', 'b', 'd', '1.num_batches_tracked'];
    const dts = ['F16', 'BF16', 'F64', 'I64'];
    parts.forEach((p, i) => {
      h[names[i]] = t(dts[i], i === 3 ? [] : [p.length / (i < 2 ? 2 : 8)], off, off + p.length);
      off += p.length;
    });
    const { tensors } = decodeSafetensors(file(h, Buffer.concat(parts)));
    expect(Array.from(tensors.h.data)).toEqual([1, -2, 2 ** -24, 65504, Infinity, 0.333251953125]);
    expect(Array.from(tensors.b.data)).toEqual([1, -5, 0.333984375]);
    expect(Array.from(tensors.d.data)).toEqual(Array.from(Float32Array.from(f64)));
    expect(tensors['1.num_batches_tracked']).toEqual({ shape: [], data: new Float32Array([12345]) });
    const neg = file({ '0.num_batches_tracked': t('I64', [], 0, 8) }, new Uint8Array(new BigInt64Array([-5n]).buffer));
    expect(() => decodeSafetensors(neg)).toThrow("Expected a non-negative count for checkpoint['0.num_batches_tracked'][0] but received -5");
    // a float count that is not an integer is refused by the model
    const m = new Sequential([new BatchNorm1d({ numFeatures: 1 })], { inputShape: [1] });
    const sd = m.stateDict();
    sd['0.num_batches_tracked'].data[0] = 1.5;
    expect(() => m.loadStateDict(sd)).toThrow("Expected a non-negative integer count for stateDict['0.num_batches_tracked'][0] but received 1.5 of type number");
  });

  it('empty tensors, unaligned offsets of mixed dtypes and trailing space padding are valid', () => {
    const f16 = new Uint8Array(new Uint16Array([0x3c00]).buffer);
    const f32 = new Uint8Array(new Float32Array([7]).buffer);
    const buf = file({ e: t('F32', [0, 3], 0, 0), h: t('F16', [1], 0, 2), f: t('F32', [1], 2, 6) }, Buffer.concat([f16, f32]), '     ');
    const { tensors } = decodeSafetensors(buf);
    expect(tensors.e).toEqual({ shape: [0, 3], data: new Float32Array(0) });
    expect(Array.from(tensors.f.data)).toEqual([7]);
    expect(decodeSafetensors(new Uint8Array(file({}))).tensors).toEqual({});
    expect(decodeSafetensors(new Uint8Array(file({})).buffer).tensors).toEqual({});
  });
});

describe('writing follows the specification', () => {
  it('refuses what the format forbids and bad arguments, with the one message form', () => {
    const w = { shape: [1], data: new Float32Array(1) };
    expect(() => encodeSafetensors(null as never)).toThrow('Expected object of tensors { name: { shape, data } } for tensors but received null');
    expect(() => encodeSafetensors({ w }, { epoch: 3 } as never)).toThrow("Expected string (safetensors metadata holds strings only) for metadata['epoch'] but received 3 of type number");
    expect(() => encodeSafetensors({ __metadata__: w })).toThrow(/a tensor name other than '__metadata__'/);
    expect(() => encodeSafetensors({ w: { shape: [-1], data: new Float32Array(1) } })).toThrow("Expected non-negative integer for tensors['w'].shape[0] but received -1 of type number");
    expect(() => encodeSafetensors({ w: { shape: [2], data: new Float32Array(1) } })).toThrow("Expected 2 values for shape [2] for tensors['w'] but received 1 values");
    expect(() => encodeSafetensors({ w: { shape: [1], data: [1] as never } })).toThrow(TypeError);
    const buf = new ArrayBuffer(4);
    const view = new Float32Array(buf);
    structuredClone(buf, { transfer: [buf] });
    expect(() => encodeSafetensors({ w: { shape: [0], data: view } })).toThrow(/detached/);
    expect(() => decodeSafetensors('abc' as never)).toThrow("Expected Uint8Array, Buffer or ArrayBuffer of safetensors bytes for checkpoint but received 'abc' of type string");
    expect(() => decodeSafetensors(null as never)).toThrow(TypeError);
    const d = new Uint8Array(16);
    structuredClone(d.buffer, { transfer: [d.buffer] });
    expect(() => decodeSafetensors(d)).toThrow('Expected an attached buffer for checkpoint but received a detached buffer');
  });

  it('writes keys as given (a "__proto__" tensor included), padded to 8 bytes, and reads them back', () => {
    const sd: Record<string, { shape: number[]; data: Float32Array }> = Object.create(null);
    sd['a.b'] = { shape: [2, 1], data: new Float32Array([1, 2]) };
    sd['__proto__'] = { shape: [], data: new Float32Array([3]) };
    const buf = encodeSafetensors(sd, { note: 'x' });
    expect(Number(Buffer.from(buf).readBigUInt64LE(0)) % 8).toBe(0);
    const { tensors, metadata } = decodeSafetensors(buf);
    expect(Object.keys(tensors)).toEqual(['a.b', '__proto__']);
    expect(metadata.note).toBe('x');
  });
});

describe('fuzzer (fixed seed)', () => {
  const sample = encodeSafetensors(
    { w: { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }, b: { shape: [2], data: Float32Array.from([-1, 1]) }, n: { shape: [], data: new BigInt64Array([2n]) } },
    { format: 'pt' },
  );
  /** Decodes; returns 'ok' or the error class, and checks a success is self-consistent. */
  function outcome(b: Uint8Array): string {
    try {
      const { tensors } = decodeSafetensors(b, 'fuzz.safetensors');
      for (const e of Object.values(tensors)) expect(e.data.length).toBe(e.shape.reduce((p, d) => p * d, 1));
      return 'ok';
    } catch (e) {
      if (!(e instanceof RangeError || e instanceof TypeError)) throw e;
      expect((e as Error).message).toMatch(/^Expected .* for .*fuzz\.safetensors.* but received /);
      return e.constructor.name;
    }
  }

  it('every truncation is refused with a RangeError', () => {
    for (let len = 0; len < sample.length; len++) expect(outcome(sample.subarray(0, len))).toBe('RangeError');
  });

  it('byte flips and hostile headers give RangeError/TypeError or a consistent file, never anything else', () => {
    const g = new Generator(20261201);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.from(sample);
      const flips = 1 + g.int(3);
      for (let k = 0; k < flips; k++) b[g.int(b.length)] = g.int(256);
      const o = outcome(b);
      counts[o] = (counts[o] ?? 0) + 1;
    }
    expect(counts.RangeError).toBeGreaterThan(1000);
    const values = [-1, 0, 1, 3, 2 ** 31, 2 ** 53, 2 ** 64, 1.5, 'x', null, [], {}, [0, 4], [4, 0], [0, 2 ** 62], true];
    const pick = () => values[g.int(values.length)];
    for (let i = 0; i < 2000; i++) {
      const entry: Record<string, unknown> = { dtype: ['F32', 'F16', 'I64', 'BF16', 'U8', 'F64', 7][g.int(7)], shape: [pick(), pick()].slice(0, g.int(3)), data_offsets: g.int(4) ? [pick(), pick()] : pick() };
      if (g.int(5) === 0) delete entry[['dtype', 'shape', 'data_offsets'][g.int(3)]];
      const header: Record<string, unknown> = { [['w', '__metadata__', '__proto__', ''][g.int(4)]]: g.int(6) ? entry : pick() };
      expect(outcome(file(header, g.int(64)))).not.toBe('ok-but-wrong');
    }
  });
});
