// Optimizer kernels: js and native against torch.optim 1.13 fixtures (every step of every option
// combination), native against js bit for bit on random data over thread splits, and the native
// glue's error messages.
import { describe, it, expect } from 'vitest';
import { backends, js, native, fixture, expectClose, randn } from '../helpers';
import type { Backend } from '../../lib/backend/types';

interface OptCase {
  name: string;
  kind: 'SGD' | 'Adam' | 'AdamW' | 'RMSProp';
  options: Record<string, any>;
  after: number[][];
  state: Record<string, number[]>;
}
const fx = fixture<{ n: number; param0: number[]; grads: number[][]; optimizers: OptCase[] }>('optim.json');

interface KernelState {
  buf: Float32Array;
  m: Float32Array;
  v: Float32Array;
  sq: Float32Array;
}

function newState(n: number): KernelState {
  return { buf: new Float32Array(n), m: new Float32Array(n), v: new Float32Array(n), sq: new Float32Array(n) };
}

/** One kernel call for a fixture case; t is the 1-based step. */
function kernelStep(b: Backend, c: { kind: string; options: Record<string, any> }, p: Float32Array, g: Float32Array, s: KernelState, t: number): void {
  const o = c.options;
  const n = p.length;
  if (c.kind === 'SGD') {
    b.sgdStep(p, g, s.buf, n, o.lr, o.momentum ?? 0, o.dampening ?? 0, o.weightDecay ?? 0, o.nesterov ?? false, t === 1);
  } else if (c.kind === 'Adam' || c.kind === 'AdamW') {
    const [b1, b2] = o.betas ?? [0.9, 0.999];
    const wd = o.weightDecay ?? (c.kind === 'AdamW' ? 1e-2 : 0);
    b.adamStep(p, g, s.m, s.v, n, o.lr, b1, b2, o.eps ?? 1e-8, wd, c.kind === 'AdamW', t);
  } else {
    b.rmspropStep(p, g, s.sq, s.buf, n, o.lr, o.alpha ?? 0.99, o.eps ?? 1e-8, o.weightDecay ?? 0, o.momentum ?? 0);
  }
}

const stateName: Record<string, keyof KernelState> = {
  momentum_buffer: 'buf',
  exp_avg: 'm',
  exp_avg_sq: 'v',
  square_avg: 'sq',
};

// amsgrad and centered run in the optimizers' TypeScript (test/optim.test.ts), not in these kernels.
const kernelCases = fx.optimizers.filter((c) => !c.options.amsgrad && !c.options.centered);

describe('optimizer kernels vs torch.optim', () => {
  it('covers every kind and option', () => {
    expect(kernelCases.length).toBeGreaterThanOrEqual(15);
    expect(fx.grads.length).toBeGreaterThanOrEqual(5);
  });
  for (const [bname, b] of backends) {
    for (const c of kernelCases) {
      it(`${bname} ${c.name} ${JSON.stringify(c.options)}`, () => {
        const p = Float32Array.from(fx.param0);
        const s = newState(fx.n);
        fx.grads.forEach((g, t) => {
          kernelStep(b, c, p, Float32Array.from(g), s, t + 1);
          expectClose(p, c.after[t], 2e-6, 2e-7, `${c.name} step ${t + 1}`);
        });
        for (const [k, want] of Object.entries(c.state)) expectClose(s[stateName[k]], want, 2e-6, 1e-6, `${c.name} ${k}`);
        // The parameters really moved (a test that cannot fail is no test).
        expect(Math.abs(p[0] - fx.param0[0])).toBeGreaterThan(1e-4);
      });
    }
  }
});

describe('native vs js on random data', () => {
  // Large enough to split across threads, odd so every chunk boundary and SIMD tail is exercised.
  const n = 200_003;
  const cases = kernelCases.map((c) => ({ kind: c.kind, options: c.options, name: c.name }));
  for (const c of cases) {
    it(`${c.name}: identical bits over 3 steps, 1 and 2 threads`, () => {
      const p0 = randn(n, 7);
      const grads = [randn(n, 8), randn(n, 9, -3, 3), randn(n, 10, -1e-3, 1e-3)];
      const run = (b: Backend): Float32Array[] => {
        const p = p0.slice();
        const s = newState(n);
        grads.forEach((g, t) => kernelStep(b, c, p, g, s, t + 1));
        return [p, s.buf, s.m, s.v, s.sq];
      };
      const want = run(js);
      const before = native.getNumThreads();
      try {
        for (const threads of [1, 2]) {
          native.setNumThreads(threads);
          const got = run(native);
          got.forEach((a, i) => expect(Buffer.compare(Buffer.from(a.buffer), Buffer.from(want[i].buffer)), `${c.name} array ${i} threads ${threads}`).toBe(0));
        }
      } finally {
        native.setNumThreads(before);
      }
    });
  }

  it('the grad buffer is read only and momentum 0 leaves the buffer alone', () => {
    for (const [, b] of backends) {
      const p = randn(19, 1);
      const g = randn(19, 2);
      const g0 = g.slice();
      const buf = new Float32Array(19).fill(5);
      b.sgdStep(p, g, buf, 19, 0.1, 0, 0, 0.1, false, false);
      b.rmspropStep(p, g, new Float32Array(19), buf, 19, 0.1, 0.9, 1e-8, 0.1, 0);
      b.adamStep(p, g, new Float32Array(19), new Float32Array(19), 19, 0.1, 0.9, 0.99, 1e-8, 0.1, false, 1);
      expect(Array.from(g)).toEqual(Array.from(g0));
      expect(buf.every((x) => x === 5)).toBe(true);
    }
  });

  it('only the first n values change', () => {
    for (const [, b] of backends) {
      const p = randn(20, 1);
      const p0 = p.slice();
      b.adamStep(p, randn(20, 2), new Float32Array(20), new Float32Array(20), 11, 0.1, 0.9, 0.99, 1e-8, 0, true, 1);
      expect(Array.from(p.subarray(11))).toEqual(Array.from(p0.subarray(11)));
      expect(p[10]).not.toBe(p0[10]);
    }
  });

  it('empty buffers are allowed when momentum is 0 (native)', () => {
    const p = randn(9, 1);
    expect(() => native.sgdStep(p, randn(9, 2), new Float32Array(0), 9, 0.1, 0, 0, 0, false, true)).not.toThrow();
    expect(() => native.rmspropStep(p, randn(9, 2), new Float32Array(9), new Float32Array(0), 9, 0.1, 0.99, 1e-8, 0, 0)).not.toThrow();
  });
});

describe('native glue errors', () => {
  const n = 8;
  const p = () => new Float32Array(n);
  const cases: [string, () => void, any, string][] = [
    ['Float64Array param', () => native.sgdStep(new Float64Array(n) as any, p(), p(), n, 0.1, 0, 0, 0, false, true), TypeError,
      'Expected Float32Array for param but received Float64Array of length 8'],
    ['short grad', () => native.sgdStep(p(), new Float32Array(3), p(), n, 0.1, 0, 0, 0, false, true), RangeError,
      'Expected Float32Array of length >= 8 for grad but received Float32Array of length 3'],
    ['short momentum buffer', () => native.sgdStep(p(), p(), new Float32Array(2), n, 0.1, 0.9, 0, 0, false, true), RangeError,
      'Expected Float32Array of length >= 8 for momentumBuf but received Float32Array of length 2'],
    ['negative lr', () => native.sgdStep(p(), p(), p(), n, -1, 0, 0, 0, false, true), RangeError,
      'Expected finite number >= 0 for lr but received -1 of type number'],
    ['NaN momentum', () => native.sgdStep(p(), p(), p(), n, 0.1, NaN, 0, 0, false, true), RangeError,
      'Expected finite number for momentum but received NaN of type number'],
    ['nesterov without momentum', () => native.sgdStep(p(), p(), p(), n, 0.1, 0, 0, 0, true, true), RangeError,
      'Expected momentum > 0 and dampening 0 for nesterov but received momentum 0 of type number and dampening 0 of type number'],
    ['string nesterov', () => native.sgdStep(p(), p(), p(), n, 0.1, 0.9, 0, 0, 'yes' as any, true), TypeError,
      'Expected boolean for nesterov but received string'],
    ['fractional n', () => native.sgdStep(p(), p(), p(), 2.5, 0.1, 0, 0, 0, false, true), RangeError,
      'Expected integer >= 0 for n but received 2.5 of type number'],
    ['too few arguments', () => (native.sgdStep as any)(p(), p(), p(), n), TypeError,
      'Expected 10 arguments for sgdStep but received 4'],
    ['beta1 of 1', () => native.adamStep(p(), p(), p(), p(), n, 0.1, 1, 0.999, 1e-8, 0, false, 1), RangeError,
      'Expected number in [0, 1) for beta1 but received 1 of type number'],
    ['eps of 0', () => native.adamStep(p(), p(), p(), p(), n, 0.1, 0.9, 0.999, 0, 0, false, 1), RangeError,
      'Expected finite number > 0 for eps but received 0 of type number'],
    ['step 0', () => native.adamStep(p(), p(), p(), p(), n, 0.1, 0.9, 0.999, 1e-8, 0, false, 0), RangeError,
      'Expected integer >= 1 for step but received 0 of type number'],
    ['short v', () => native.adamStep(p(), p(), p(), new Float32Array(1), n, 0.1, 0.9, 0.999, 1e-8, 0, false, 1), RangeError,
      'Expected Float32Array of length >= 8 for v but received Float32Array of length 1'],
    ['alpha above 1', () => native.rmspropStep(p(), p(), p(), p(), n, 0.1, 1.5, 1e-8, 0, 0), RangeError,
      'Expected number between 0 and 1 for alpha but received 1.5 of type number'],
    ['null sq', () => native.rmspropStep(p(), p(), null as any, p(), n, 0.1, 0.9, 1e-8, 0, 0), TypeError,
      'Expected Float32Array for sq but received null'],
    ['negative weight decay', () => native.rmspropStep(p(), p(), p(), p(), n, 0.1, 0.9, 1e-8, -0.5, 0), RangeError,
      'Expected finite number >= 0 for weightDecay but received -0.5 of type number'],
  ];
  for (const [what, fn, kind, msg] of cases) {
    it(what, () => {
      let err: unknown;
      try {
        fn();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(kind);
      expect((err as Error).message).toBe(msg);
    });
  }
});
