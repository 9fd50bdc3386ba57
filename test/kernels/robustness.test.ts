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
    // the grouped convolution kernels are not mirrored yet: on js they are unchecked
    expect(contract.filter((k) => !(k in CHECKS))).toEqual(['groupedConv2dForward', 'groupedConv2dBackward', 'tensorStats', 'paramStats']);
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
