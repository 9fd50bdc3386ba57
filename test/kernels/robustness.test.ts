// No input of any kind crashes the process: every native export, called with wrong kinds, short or
// detached buffers, huge, negative, fractional and NaN sizes, throws a TypeError or RangeError.
import { describe, it, expect } from 'vitest';
import { loadAddon } from '../../lib/backend/native';
import { jsBackend } from '../../lib/backend/index';
import { CHECKS } from '../../lib/backend/js/checks';
import { rng } from '../helpers';

const addon = loadAddon();

function detached(): Float32Array {
  const a = new Float32Array(16);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}

const garbage: (() => unknown)[] = [
  () => undefined,
  () => null,
  () => 0,
  () => -1,
  () => 2.5,
  () => NaN,
  () => Infinity,
  () => 2 ** 40,
  () => 'relu',
  () => true,
  () => ({}),
  () => [1, 2, 3],
  () => new Float64Array(64),
  () => new Int32Array(64),
  () => new Uint8Array(64),
  () => new Float32Array(0),
  () => new Float32Array(3),
  () => detached(),
  () => ({ n: 1, cIn: 1, h: 1, w: 1, cOut: 1, kH: 3, kW: 3, strideH: 1, strideW: 1, padH: 0, padW: 0, dilationH: 1, dilationW: 1, outH: 1, outW: 1 }),
  () => ({ n: -1, c: 2 }),
];

describe('native glue robustness', () => {
  const names = Object.keys(addon).filter((k) => typeof addon[k] === 'function' && !['nativeInfo', 'getNumThreads'].includes(k));
  it('exports the kernels', () => {
    expect(names).toEqual(expect.arrayContaining(['gemm', 'activation', 'conv2dForward', 'batchNormForward', 'sgdStep', 'softmaxCrossEntropy']));
  });
  for (const name of names) {
    it(`${name}: random wrong arguments throw TypeError or RangeError`, () => {
      const r = rng(name.length * 7919);
      for (let trial = 0; trial < 300; trial++) {
        const argc = Math.floor(r() * 14);
        const args = Array.from({ length: argc }, () => garbage[Math.floor(r() * garbage.length)]());
        let threw: unknown = null;
        try {
          addon[name](...args);
        } catch (e) {
          threw = e;
        }
        if (name === 'setNumThreads' && threw === null) continue; // a valid count was drawn
        if (threw === null) continue; // some draws can be valid (e.g. empty optional inputs)
        expect(threw instanceof TypeError || threw instanceof RangeError, `${name}(${args.map((a) => typeof a).join(', ')}): ${String(threw)}`).toBe(true);
      }
    });
  }
});

// The js backend checks what the glue checks, in the same order and with the same messages: the
// same random wrong calls give the same error class and message on both backends (and a call one
// backend accepts, the other accepts too).
describe('js backend argument checks', () => {
  const js = jsBackend() as unknown as Record<string, (...a: unknown[]) => unknown>;
  const shared = Object.keys(CHECKS).filter((k) => typeof addon[k] === 'function' && typeof js[k] === 'function');
  it('covers every kernel of the Backend contract', () => {
    const contract = Object.keys(js).filter((k) => typeof js[k] === 'function' && !['capabilities', 'setNumThreads', 'getNumThreads'].includes(k));
    expect(contract.filter((k) => !(k in CHECKS))).toEqual([]);
  });
  for (const name of shared) {
    it(`${name}: the same wrong calls fail the same way on js and native`, () => {
      const r = rng(name.length * 104729);
      let compared = 0;
      for (let trial = 0; trial < 300; trial++) {
        const argc = Math.floor(r() * 14);
        const make = Array.from({ length: argc }, () => garbage[Math.floor(r() * garbage.length)]);
        const outcome = (f: (...a: unknown[]) => unknown): string => {
          try {
            f(...make.map((g) => g()));
            return 'returned';
          } catch (e) {
            return `${(e as Error).constructor.name}: ${(e as Error).message}`;
          }
        };
        const n = outcome(addon[name]);
        const j = outcome(js[name]);
        expect(j, `${name} trial ${trial}`).toBe(n);
        if (n !== 'returned') compared++;
      }
      expect(compared).toBeGreaterThan(100);
    });
  }
});

// One thing wrong in an otherwise valid call: every argument in turn replaced by each wrong value,
// every field of a params object by each wrong size. Both backends must return for the valid call
// and fail every changed call with the same class and message (the grouped convolution and the
// statistics kernels, whose js checks mirror native/binding/conv_grouped.cc and stats.cc).
describe('js and native agree on near-valid calls', () => {
  const js = jsBackend() as unknown as Record<string, (...a: unknown[]) => unknown>;
  const f = (n: number) => new Float32Array(n).fill(0.5);
  const gp = () => ({ n: 2, cIn: 4, h: 5, w: 5, cOut: 6, kH: 3, kW: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, dilationH: 1, dilationW: 1, outH: 5, outW: 5, groups: 2 });
  const bases: Record<string, () => unknown[]> = {
    groupedConv2dForward: () => [f(2 * 6 * 25), f(2 * 4 * 25), f(6 * 2 * 9), f(6), gp()],
    groupedConv2dBackward: () => [f(2 * 4 * 25), f(6 * 2 * 9), f(6), f(2 * 4 * 25), f(6 * 2 * 9), f(2 * 6 * 25), gp()],
    tensorStats: () => [new Float64Array(8), new Float64Array(4), new Int32Array(3), f(2 * 3 * 4), 2, 3, 4, -1, 1, 4],
    paramStats: () => [new Float64Array(3), f(10), f(10), f(10), 10],
  };
  const wrongArgs: (() => unknown)[] = [
    () => undefined, () => null, () => 3, () => -1, () => 2.5, () => NaN, () => 'x', () => ({}),
    () => new Float64Array(2), () => new Float32Array(1), () => new Int32Array(1), () => detached(), () => 2 ** 31,
  ];
  const wrongSizes: unknown[] = [0, -1, 2.5, NaN, 3, 7, 2 ** 31 - 1, 2 ** 31, undefined, '2'];
  const outcome = (fn: (...a: unknown[]) => unknown, args: unknown[]): string => {
    try {
      fn(...args);
      return 'returned';
    } catch (e) {
      return `${(e as Error).constructor.name}: ${(e as Error).message}`;
    }
  };
  for (const [name, base] of Object.entries(bases)) {
    it(`${name}: the valid call returns on both, every one-change call fails alike`, () => {
      expect(outcome(addon[name], base())).toBe('returned');
      expect(outcome(js[name], base())).toBe('returned');
      const calls: [string, unknown[]][] = [];
      base().forEach((arg, i) => {
        wrongArgs.forEach((w, k) => {
          const a = base();
          a[i] = w();
          calls.push([`argument ${i} -> wrong value ${k}`, a]);
        });
        if (arg !== null && typeof arg === 'object' && !ArrayBuffer.isView(arg)) {
          for (const key of Object.keys(arg)) {
            for (const v of wrongSizes) {
              const a = base();
              (a[i] as Record<string, unknown>)[key] = v;
              calls.push([`p.${key} = ${String(v)}`, a]);
            }
          }
        }
      });
      calls.push(['one argument short', base().slice(0, -1)]);
      let failed = 0;
      for (const [label, args] of calls) {
        const n = outcome(addon[name], args);
        const j = outcome(js[name], args.map((a) => (a instanceof Float32Array || a instanceof Float64Array || a instanceof Int32Array) && a.length > 0 ? a.slice() : a));
        expect(j, `${name}: ${label}`).toBe(n);
        if (n !== 'returned') {
          failed++;
          expect(n, `${name}: ${label}`).toMatch(/^(TypeError|RangeError): Expected .+ for .+ but received .+/);
        }
      }
      expect(failed).toBeGreaterThan(calls.length / 2);
    });
  }
});
