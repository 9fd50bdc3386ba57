// Optimizer kernels: js and native against torch.optim 1.13 fixtures (every step of every option
// combination), native against js bit for bit on random data over thread splits, the guarded forms
// against the plain ones (every size over two chunks and a bit, backups, the finite flag), and the
// native glue's error messages.
import { describe, it, expect } from 'vitest';
import { backends, js, native, fixture, expectClose, randn } from '../helpers';
import type { Backend } from '../../lib/backend/types';
import { nativeAddon } from '../../lib/testing';

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

// The guarded kernels against the plain ones. Each case is one kernel call with its state; `first`
// is SGD's first momentum step, `t` Adam's 1-based step.
interface GuardCase {
  name: string;
  kind: 'SGD' | 'Adam' | 'RMSProp';
  o: Record<string, any>;
}
const guardCases: GuardCase[] = [
  { name: 'SGD', kind: 'SGD', o: { lr: 0.1 } },
  { name: 'SGD weight decay', kind: 'SGD', o: { lr: 0.1, weightDecay: 0.01 } },
  { name: 'SGD momentum', kind: 'SGD', o: { lr: 0.1, momentum: 0.9 } },
  { name: 'SGD momentum, first step', kind: 'SGD', o: { lr: 0.1, momentum: 0.9, first: true } },
  { name: 'SGD momentum, dampening, weight decay', kind: 'SGD', o: { lr: 0.05, momentum: 0.8, dampening: 0.3, weightDecay: 0.02 } },
  { name: 'SGD nesterov, weight decay', kind: 'SGD', o: { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 } },
  { name: 'Adam', kind: 'Adam', o: { lr: 0.01, t: 1 } },
  { name: 'Adam weight decay, step 3', kind: 'Adam', o: { lr: 0.01, weightDecay: 0.1, t: 3 } },
  { name: 'AdamW', kind: 'Adam', o: { lr: 0.01, weightDecay: 0.01, decoupled: true, t: 2 } },
  { name: 'RMSProp', kind: 'RMSProp', o: { lr: 0.01 } },
  { name: 'RMSProp momentum, weight decay', kind: 'RMSProp', o: { lr: 0.01, momentum: 0.9, weightDecay: 0.01 } },
];

/** Arrays a kernel call reads and writes: params, gradient and two states (SGD and RMSprop's buffer in s1). */
interface Arrays {
  p: Float32Array;
  g: Float32Array;
  s0: Float32Array;
  s1: Float32Array;
}
/** The states a case's update uses (the ones the guarded kernel backs up). */
const usedStates = (c: GuardCase): ('s0' | 's1')[] =>
  c.kind === 'Adam' ? ['s0', 's1'] : c.kind === 'RMSProp' ? (c.o.momentum ? ['s0', 's1'] : ['s0']) : c.o.momentum ? ['s1'] : [];

function plainStep(b: Backend, c: GuardCase, a: Arrays, n: number): void {
  const o = c.o;
  if (c.kind === 'SGD') b.sgdStep(a.p, a.g, a.s1, n, o.lr, o.momentum ?? 0, o.dampening ?? 0, o.weightDecay ?? 0, o.nesterov ?? false, o.first ?? false);
  else if (c.kind === 'Adam') b.adamStep(a.p, a.g, a.s0, a.s1, n, o.lr, 0.9, 0.999, 1e-8, o.weightDecay ?? 0, o.decoupled ?? false, o.t);
  else b.rmspropStep(a.p, a.g, a.s0, a.s1, n, o.lr, 0.99, 1e-8, o.weightDecay ?? 0, o.momentum ?? 0);
}

function guardedStep(b: Backend, c: GuardCase, a: Arrays, bak: Arrays, n: number): boolean {
  const o = c.o;
  if (c.kind === 'SGD') {
    return b.sgdStepGuarded(a.p, a.g, a.s1, bak.p, bak.s1, n, o.lr, o.momentum ?? 0, o.dampening ?? 0, o.weightDecay ?? 0, o.nesterov ?? false, o.first ?? false);
  }
  if (c.kind === 'Adam') return b.adamStepGuarded(a.p, a.g, a.s0, a.s1, bak.p, bak.s0, bak.s1, n, o.lr, 0.9, 0.999, 1e-8, o.weightDecay ?? 0, o.decoupled ?? false, o.t);
  return b.rmspropStepGuarded(a.p, a.g, a.s0, a.s1, bak.p, bak.s0, bak.s1, n, o.lr, 0.99, 1e-8, o.weightDecay ?? 0, o.momentum ?? 0);
}

const arrays = (len: number): Arrays => ({ p: new Float32Array(len), g: new Float32Array(len), s0: new Float32Array(len), s1: new Float32Array(len) });
const KEYS = ['p', 'g', 's0', 's1'] as const;
const sameBits = (a: Float32Array, b: Float32Array): boolean => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

describe('guarded updates', () => {
  const chunk = nativeAddon().nativeInfo().optimGuardChunk;
  const top = 2 * chunk + 40;
  const len = top + 16; // values past n: must stay as they were, in every array and backup
  // Every n where a SIMD tail or a chunk boundary falls differently: 1 to 64 (every tail of 8 and
  // 16 lanes), around one and two chunks, and up to two chunks and 40. (Every n from 1 to there
  // would be ~10^9 values a case at a 16384-float chunk; in between, n only adds whole chunks.)
  const sizes: number[] = [];
  for (let n = 1; n <= top; n++) if (n <= 64 || Math.abs(n - chunk) <= 40 || n >= 2 * chunk - 40) sizes.push(n);
  // states kept positive where they are second moments (sqrt of them)
  const init: Arrays = { p: randn(len, 11), g: randn(len, 12, -2, 2), s0: randn(len, 13, 0, 1), s1: randn(len, 14, 0, 1) };
  const SENTINEL = -12345.5;

  it('chunks of live arrays taking a quarter of L2, a multiple of 16 in [2048, 32768]', () => {
    expect(chunk % 16).toBe(0);
    expect(chunk).toBeGreaterThanOrEqual(2048);
    expect(chunk).toBeLessThanOrEqual(32768);
    expect(chunk).toBe(Math.min(32768, Math.max(2048, Math.floor(nativeAddon().nativeInfo().caches.l2 / 1024) * 16)));
  });

  for (const [bname, b] of backends) {
    for (const c of guardCases) {
      it(`${bname} ${c.name}: the plain update's bits, the values before it in the backups, for n from 1 to 2·chunk + 40`, () => {
        const want = arrays(len);
        const got = arrays(len);
        const bak = arrays(len);
        const used = usedStates(c);
        for (const n of sizes) {
          const m = n + 16;
          for (const k of KEYS) {
            want[k].set(init[k].subarray(0, m));
            got[k].set(init[k].subarray(0, m));
            bak[k].fill(SENTINEL, 0, m);
          }
          plainStep(b, c, want, n);
          const ok = guardedStep(b, c, got, bak, n);
          if (ok !== true) expect.fail(`n ${n}: returned ${ok}`);
          for (const k of KEYS) {
            if (!sameBits(got[k].subarray(0, m), want[k].subarray(0, m))) expect.fail(`n ${n}: ${k} differs from the plain update`);
          }
          // the backups hold the values before the update, of the arrays the update uses, and nothing more
          for (const k of ['p', ...used] as const) {
            if (!sameBits(bak[k].subarray(0, n), init[k].subarray(0, n))) expect.fail(`n ${n}: backup of ${k} differs from the values before`);
          }
          for (const k of KEYS) {
            const rest = (['p', ...used] as string[]).includes(k) ? bak[k].subarray(n, m) : bak[k].subarray(0, m);
            if (!rest.every((x) => x === SENTINEL)) expect.fail(`n ${n}: backup of ${k} written where it should not be`);
          }
        }
      });
    }
  }

  for (const [bname, b] of backends) {
    it(`${bname}: a NaN or an infinity in the gradient at any position, in any chunk, returns false`, () => {
      const n = 2 * chunk + 37;
      const positions = [0, 1, 7, 8, chunk - 1, chunk, chunk + 9, 2 * chunk - 1, 2 * chunk, n - 1];
      for (const c of guardCases) {
        for (const at of positions) {
          for (const bad of [NaN, Infinity, -Infinity]) {
            const a = arrays(n);
            const want = arrays(n);
            for (const k of KEYS) {
              a[k].set(init[k].subarray(0, n));
              want[k].set(init[k].subarray(0, n));
            }
            a.g[at] = bad;
            want.g[at] = bad;
            plainStep(b, c, want, n);
            const bak = arrays(n);
            expect(guardedStep(b, c, a, bak, n), `${c.name}, ${bad} at ${at}`).toBe(false);
            for (const k of KEYS) expect(sameBits(a[k], want[k]), `${c.name}, ${bad} at ${at}: ${k}`).toBe(true);
            expect(sameBits(bak.p, init.p.subarray(0, n)), `${c.name}: every chunk is still backed up`).toBe(true);
          }
        }
      }
    });

    it(`${bname}: float32's largest values are finite, an update that overflows is not`, () => {
      const n = 37;
      const big = new Float32Array(n).fill(3.4028234663852886e38);
      const g = new Float32Array(n);
      expect(b.sgdStepGuarded(big, g, new Float32Array(0), new Float32Array(n), new Float32Array(0), n, 0.1, 0, 0, 0, false, false)).toBe(true);
      g[n - 1] = -1;
      // 3.4e38 + 1e38 rounds to infinity in float32
      expect(b.sgdStepGuarded(big, g, new Float32Array(0), new Float32Array(n), new Float32Array(0), n, 1e38, 0, 0, 0, false, false)).toBe(false);
      expect(big[n - 1]).toBe(Infinity);
      expect(b.sgdStepGuarded(new Float32Array(0), new Float32Array(0), new Float32Array(0), new Float32Array(0), new Float32Array(0), 0, 0.1, 0, 0, 0, false, false)).toBe(true);
    });
  }

  it('native, split over 2 threads: the plain update\'s bits, the backups, and a NaN in the second thread\'s half found', () => {
    const n = 300_007;
    const p0 = randn(n, 21);
    const g0 = randn(n, 22);
    const s0 = randn(n, 23, 0, 1);
    const s1 = randn(n, 24, 0, 1);
    const before = native.getNumThreads();
    try {
      for (const threads of [1, 2]) {
        native.setNumThreads(threads);
        for (const c of guardCases) {
          for (const nanAt of [-1, n - 5]) {
            const want: Arrays = { p: p0.slice(), g: g0.slice(), s0: s0.slice(), s1: s1.slice() };
            const got: Arrays = { p: p0.slice(), g: g0.slice(), s0: s0.slice(), s1: s1.slice() };
            if (nanAt >= 0) want.g[nanAt] = got.g[nanAt] = NaN;
            plainStep(js, c, want, n);
            const bak = arrays(n);
            expect(guardedStep(native, c, got, bak, n), `${c.name} ${threads} threads`).toBe(nanAt < 0);
            for (const k of KEYS) expect(sameBits(got[k], want[k]), `${c.name} ${threads} threads: ${k}`).toBe(true);
            expect(sameBits(bak.p, p0)).toBe(true);
            if (usedStates(c).includes('s0')) expect(sameBits(bak.s0, s0)).toBe(true);
            if (usedStates(c).includes('s1')) expect(sameBits(bak.s1, s1)).toBe(true);
          }
        }
      }
    } finally {
      native.setNumThreads(before);
    }
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
    ['guarded: too few arguments', () => (native.sgdStepGuarded as any)(p(), p(), p(), p(), p(), n, 0.1, 0, 0, 0, false), TypeError,
      'Expected 12 arguments for sgdStepGuarded but received 11'],
    ['guarded: short param backup', () => native.sgdStepGuarded(p(), p(), p(), new Float32Array(7), p(), n, 0.1, 0, 0, 0, false, false), RangeError,
      'Expected Float32Array of length >= 8 for paramBackup but received Float32Array of length 7'],
    ['guarded: short momentum backup', () => native.sgdStepGuarded(p(), p(), p(), p(), new Float32Array(0), n, 0.1, 0.9, 0, 0, false, false), RangeError,
      'Expected Float32Array of length >= 8 for momentumBufBackup but received Float32Array of length 0'],
    ['guarded: a Float64Array backup of m', () => native.adamStepGuarded(p(), p(), p(), p(), p(), new Float64Array(n) as any, p(), n, 0.1, 0.9, 0.999, 1e-8, 0, false, 1), TypeError,
      'Expected Float32Array for mBackup but received Float64Array of length 8'],
    ['guarded: Adam step 0', () => native.adamStepGuarded(p(), p(), p(), p(), p(), p(), p(), n, 0.1, 0.9, 0.999, 1e-8, 0, false, 0), RangeError,
      'Expected integer >= 1 for step but received 0 of type number'],
    ['guarded: null sq backup', () => native.rmspropStepGuarded(p(), p(), p(), p(), p(), null as any, p(), n, 0.1, 0.9, 1e-8, 0, 0), TypeError,
      'Expected Float32Array for sqBackup but received null'],
    ['guarded: short RMSprop momentum backup', () => native.rmspropStepGuarded(p(), p(), p(), p(), p(), p(), new Float32Array(3), n, 0.1, 0.9, 1e-8, 0, 0.5), RangeError,
      'Expected Float32Array of length >= 8 for momentumBufBackup but received Float32Array of length 3'],
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

describe('guarded glue: nothing is written before the checks pass', () => {
  for (const [bname, b] of backends) {
    it(`${bname}: a bad last argument leaves every array as it was`, () => {
      const n = 40;
      const arrs = () => Array.from({ length: 7 }, (_, i) => randn(n, 30 + i, 0.1, 1));
      const calls: [string, (a: Float32Array[]) => unknown][] = [
        ['sgdStepGuarded', (a) => b.sgdStepGuarded(a[0], a[1], a[2], a[3], a[4], n, 0.1, 0.9, 0, 0, true, 'no' as any)],
        ['adamStepGuarded', (a) => b.adamStepGuarded(a[0], a[1], a[2], a[3], a[4], a[5], a[6], n, 0.1, 0.9, 0.999, 1e-8, 0, false, 0)],
        ['rmspropStepGuarded', (a) => b.rmspropStepGuarded(a[0], a[1], a[2], a[3], a[4], a[5], new Float32Array(1), n, 0.1, 0.9, 1e-8, 0, 0.5)],
      ];
      for (const [name, call] of calls) {
        const a = arrs();
        const a0 = a.map((x) => x.slice());
        expect(() => call(a), name).toThrow();
        a.forEach((x, i) => expect(sameBits(x, a0[i]), `${name} array ${i}`).toBe(true));
      }
    });
  }
});
