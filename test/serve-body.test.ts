// The service's body readers (examples/serve-body.ts): the byte-level JSON reader gives the very
// float32 values of JSON.parse + Float32Array.from on every number form, and declines (null) every
// body it does not recognise, so the generic path can say what is wrong; the raw reader finds the
// first value that is not finite.
import { describe, it, expect } from 'vitest';
import { numbersJson, floatsRaw } from '../examples/serve-body';

const enc = (s: string) => Buffer.from(s, 'utf8');

function reference(text: string): Float32Array {
  const j = JSON.parse(text);
  return Float32Array.from([j.input ?? j.inputs].flat(10) as number[]);
}

function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

describe('numbersJson', () => {
  it('reads every JSON number form to the float32 JSON.parse gives', () => {
    let s = 7;
    const rand = () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 4294967296;
    };
    const forms: string[] = ['0', '-0', '1', '-1', '0.5', '123456789012345', '1234567890123456789', '0.1', '0.30000000000000004', '1e22', '1e23',
      '1E-22', '1e-23', '2.5e+3', '-7.25E-2', '1e-50', '3.4028234663852886e38', '1.401298464324817e-45', '0.000001234', '100000000000000000000000',
      '5e-324', '9007199254740993', '0.1000000000000000055511151231257827',
      // around the 15-digit bound of the quick path (longer ones go through the careful reader)
      '0.0', '-0.0', '10', '1.000000000000000', '0.123456789012345', '0.1234567890123456', '-99999999999999.9', '999999999999999.9',
      '1234567.12345678', '0.000000000000001', '0.0000000000000001', '9007199254740.993', '3.4028235677973366', '1.0000000596046448',
      // 16 and 17 digits next to a float32 midpoint, where digits summed in doubles would round to the wrong side
      '97.53741836547853', '98.10071945190429', '92.33613967895509', '97.537418365478515', '45.809118270874022'];
    for (let k = 1; k <= 20; k++) forms.push((1 / 3).toFixed(k), (-2 / 3).toFixed(k), (123456 / 7).toFixed(k));
    for (let i = 0; i < 2000; i++) {
      const v = (rand() - 0.5) * 10 ** Math.floor(rand() * 12 - 6);
      forms.push(i % 4 === 0 ? v.toFixed(4) : i % 4 === 1 ? String(v) : i % 4 === 2 ? v.toExponential(Math.floor(rand() * 10)) : v.toPrecision(1 + Math.floor(rand() * 20)));
    }
    const text = `{"inputs": [${forms.join(',')}]}`;
    const r = numbersJson(enc(text), 784);
    expect(r?.key).toBe('inputs');
    expect(r!.values.length).toBe(forms.length);
    expect(bits(r!.values)).toEqual(bits(reference(text)));
  });

  it('reads nested arrays and whitespace in document order', () => {
    const text = ' \n{ "input" :\t[ [ [1, 2.5] ,[ -3] ], [4e1]\r\n] }\n';
    const r = numbersJson(enc(text), 4);
    expect(r).toEqual({ key: 'input', values: Float32Array.from([1, 2.5, -3, 40]) });
    const image = Array.from({ length: 784 }, (_, i) => Number(Math.sin(i).toFixed(4)));
    const text2 = JSON.stringify({ input: image });
    expect(bits(numbersJson(enc(text2))!.values)).toEqual(bits(reference(text2)));
  });

  it('declines every other body (null), leaving the error message to the generic path', () => {
    const bad = [
      '', '[]', '{}', '{"input": 5}', '{"input": []}', '{"input": [[]]}', '{"input": [1, "2"]}', '{"input": [1, null]}', '{"input": [1, true]}',
      '{"in\\u0070ut": [1]}', '{"input": [1], "x": 2}', '{"input": [1], "input": [2]}', '{"inputx": [1]}', '{"input": [01]}', '{"input": [1.]}',
      '{"input": [.5]}', '{"input": [+1]}', '{"input": [1e]}', '{"input": [-]}', '{"input": [1,]}', '{"input": [1 2]}', '{"input": [1]]}',
      '{"input": [[1]}', '{"input": [1]} x', '{"input": [1e39]}', '{"input": [-1e39]}', '{"input": [NaN]}', '{"input": [Infinity]}',
      `{"input": ${'['.repeat(9)}1${']'.repeat(9)}}`,
    ];
    for (const t of bad) expect(numbersJson(enc(t)), t).toBeNull();
  });
});

describe('floatsRaw', () => {
  it('copies little-endian float32 values and finds the first that is not finite', () => {
    const x = Float32Array.from([1, -2.5, 3e-40, 7]);
    const buf = Buffer.alloc(17);
    Buffer.from(x.buffer).copy(buf, 1); // an unaligned view, as a pooled body can be
    const r = floatsRaw(buf.subarray(1));
    expect(r).toEqual(x);
    x[2] = Infinity;
    expect(floatsRaw(Buffer.from(x.buffer))).toBe(2);
    x[1] = NaN;
    expect(floatsRaw(Buffer.from(x.buffer))).toBe(1);
  });
});
