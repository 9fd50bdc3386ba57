import { describe, it, expect } from 'vitest';
import { native, js, randn, expectClose, fixture } from '../helpers';
import { nativeAddon } from '../../lib/testing';
import { gemm as jsGemm } from '../../lib/backend/js/gemm';

// The raw addon exports: gemm (the Backend method) and gemmRef (naive, double accumulation).
const addon = nativeAddon() as any;
const TRANS: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];
const label = (ta: boolean, tb: boolean) => `${ta ? 'T' : 'N'}${tb ? 'T' : 'N'}`;

/**
 * Block sizes the native GEMM chose on this machine (nativeInfo().gemmBlocks), so the "just past
 * the blocks" cases follow them, and the blocks of the other kernel shape from the same rules.
 */
function config(): Record<string, number> {
  const b = addon.nativeInfo().gemmBlocks;
  return { MR: b.mr, NR: b.nr, MC: b.mc, KC: b.kc, KC_MAX: b.kcMax, NC: b.nc };
}

describe('gemm blocking', () => {
  it('comes from the cache sizes read at run time, by the rules of gemm_config.h', () => {
    const info = addon.nativeInfo();
    const { l1d, l2, l3 } = info.caches;
    expect(l1d).toBeGreaterThanOrEqual(8192);
    expect(l2).toBeGreaterThan(l1d);
    const b = info.gemmBlocks;
    expect([b.mr, b.nr]).toEqual(info.simd === 'avx512' ? [12, 32] : [6, 16]);
    const clamp = (v: number, lo: number, hi: number, m: number) => Math.max(m, Math.floor(Math.max(lo, Math.min(hi, v)) / m) * m);
    const kc = clamp(Math.floor(l1d / (b.nr * 4)), 128, 384, 8);
    expect(b.kc).toBe(kc);
    expect(b.kcMax).toBe(kc + Math.floor(kc / 4));
    expect(b.mc).toBe(clamp(Math.floor(l2 / 2 / (kc * 4)), b.mr, Math.floor(1020 / b.mr) * b.mr, b.mr));
    expect(b.nc).toBe(clamp(l3 > 0 ? Math.floor(l3 / 4 / (kc * 4)) : 4096, 16 * b.nr, Math.floor(8192 / b.nr) * b.nr, b.nr));
    if (process.env.MINIBATCH_GEMM_BLOCKS === undefined && info.caches.source === 'cpuid' && l1d === 32768 && l2 === 1 << 20 && info.simd === 'avx512')
      expect([b.kc, b.mc]).toEqual([256, 504]); // a Zen 4 core, as gemm_config.h says
  });
  it('measures an FMA ceiling (fmaPeak) and checks its arguments', () => {
    const peak = addon.fmaPeak(1, 20);
    expect(Number.isFinite(peak) && peak > 0).toBe(true); // GFLOPS; its size is the bench's business
    expect(() => addon.fmaPeak(0, 10)).toThrow(RangeError);
    expect(() => addon.fmaPeak(1, 'x')).toThrow(TypeError);
  });
});

/** Naive C = alpha · op(A) · op(B) + beta · C in double precision (beta == 0 ignores C). */
function naive(
  ta: boolean, tb: boolean, m: number, n: number, k: number, alpha: number,
  a: Float32Array, b: Float32Array, beta: number, c: Float32Array,
): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
      out[i * n + j] = alpha * s + (beta === 0 ? 0 : beta * c[i * n + j]);
    }
  return out;
}

/** native gemm vs native gemmRef on one case; returns nothing, fails with the worst element. */
function checkNative(ta: boolean, tb: boolean, m: number, n: number, k: number, alpha: number, beta: number, seed: number) {
  const a = randn(m * k, seed);
  const b = randn(k * n, seed + 1);
  const c0 = beta === 0 ? new Float32Array(m * n).fill(NaN) : randn(m * n, seed + 2);
  const got = c0.slice();
  const want = c0.slice();
  native.gemm(ta, tb, m, n, k, alpha, a, b, beta, got);
  addon.gemmRef(ta, tb, m, n, k, alpha, a, b, beta, want);
  // float32 accumulation over k terms of size <= 1 against a double-accumulated oracle
  expectClose(got, want, 1e-5, 2e-6 * Math.sqrt(k) + 1e-6, `${label(ta, tb)} m=${m} n=${n} k=${k}`);
}

describe('gemm native: every size 1..40 against gemmRef', () => {
  const N = 40;
  // One set of buffers for the whole sweep: the glue accepts longer arrays than m·k, k·n, m·n.
  const a = randn(N * N, 11);
  const b = randn(N * N, 12);
  const cInit = randn(N * N, 13);
  const got = new Float32Array(N * N);
  const want = new Float32Array(N * N);
  const scalars: [number, number][] = [
    [1, 0],
    [0.5, 1],
    [-1.25, 0.5],
  ];
  for (const [ta, tb] of TRANS) {
    it(`${label(ta, tb)}: all (m, n, k) in [1, ${N}]^3`, () => {
      let checked = 0;
      for (let m = 1; m <= N; m++)
        for (let n = 1; n <= N; n++)
          for (let k = 1; k <= N; k++) {
            const [alpha, beta] = scalars[(m + n + k) % 3];
            const len = m * n;
            if (beta === 0) {
              got.fill(NaN, 0, len);
              want.fill(0, 0, len);
            } else {
              got.set(cInit.subarray(0, len));
              want.set(cInit.subarray(0, len));
            }
            addon.gemm(ta, tb, m, n, k, alpha, a, b, beta, got);
            addon.gemmRef(ta, tb, m, n, k, alpha, a, b, beta, want);
            const tol = 2e-6 * k;
            for (let i = 0; i < len; i++) {
              const d = Math.abs(got[i] - want[i]);
              if (!(d <= tol + 1e-5 * Math.abs(want[i]))) {
                expect.fail(`m=${m} n=${n} k=${k} alpha=${alpha} beta=${beta}: C[${i}] = ${got[i]}, expected ${want[i]}`);
              }
            }
            checked++;
          }
      expect(checked).toBe(N * N * N);
    });
  }
});

describe('gemm native: alpha and beta', () => {
  const [m, n, k] = [50, 70, 300];
  for (const [ta, tb] of TRANS) {
    it(`${label(ta, tb)}: beta 0 overwrites a NaN-filled C`, () => {
      const a = randn(m * k, 1);
      const b = randn(k * n, 2);
      const c = new Float32Array(m * n).fill(NaN);
      native.gemm(ta, tb, m, n, k, 1, a, b, 0, c);
      expect(c.every(Number.isFinite)).toBe(true);
      expectClose(c, naive(ta, tb, m, n, k, 1, a, b, 0, c), 1e-5, 1e-5, 'beta 0');
    });
    it(`${label(ta, tb)}: beta 1 accumulates, alpha 0.5 scales, beta -0.75 mixes`, () => {
      const a = randn(m * k, 3);
      const b = randn(k * n, 4);
      const c0 = randn(m * n, 5);
      for (const [alpha, beta] of [
        [1, 1],
        [0.5, 0],
        [0.5, 1],
        [2, -0.75],
      ]) {
        const c = c0.slice();
        native.gemm(ta, tb, m, n, k, alpha, a, b, beta, c);
        expectClose(c, naive(ta, tb, m, n, k, alpha, a, b, beta, c0), 1e-5, 2e-5, `alpha ${alpha} beta ${beta}`);
      }
    });
  }
  it('alpha 0: C = beta · C, and zeros for beta 0 even over NaN', () => {
    const a = randn(m * k, 6);
    const b = randn(k * n, 7);
    const c0 = randn(m * n, 8);
    const c = c0.slice();
    native.gemm(false, false, m, n, k, 0, a, b, 2, c);
    expectClose(c, c0.map((x) => 2 * x), 0, 0, 'alpha 0 beta 2');
    c.fill(NaN);
    native.gemm(false, false, m, n, k, 0, a, b, 0, c);
    expect(Array.from(c).every((x) => x === 0)).toBe(true);
  });
  it('works on subarray views (byteOffset != 0)', () => {
    const store = randn(3 * 64 + 40, 9);
    const a = store.subarray(1, 1 + 5 * 7);
    const b = store.subarray(40, 40 + 7 * 9);
    const c = new Float32Array(100).subarray(3, 3 + 5 * 9);
    native.gemm(false, false, 5, 9, 7, 1, a, b, 0, c);
    expectClose(c, naive(false, false, 5, 9, 7, 1, a, b, 0, c), 1e-6, 1e-6, 'views');
  });
});

describe('gemm native: large, odd and block-edge sizes against gemmRef', () => {
  // Edges of the block configuration in use (MINIBATCH_SIMD=avx2 / scalar runs cover the 6 × 16 one).
  const shapes: [number, number, number][] = [
    [255, 257, 127],
    [1000, 37, 513],
  ];
  for (const { MC, KC, KC_MAX, NC, MR, NR } of [config()])
    shapes.push(
      [MC + 1, NR + 1, KC + 1],
      [MC + MR + 1, 2 * NR + 1, KC_MAX + 1],
      [31, 45, 3 * KC + KC_MAX],
      [MC - 1, 3 * NR - 1, KC - 1],
      [2 * MC + MR + 1, 2 * NR + 5, 2 * KC + 3],
      [MR + 1, NC + 1, 9],
      [MR + 1, NC + NR + 3, KC + 1], // few rows: NC is up to 8192 and the oracle is a naive loop
      [MR - 1, NR - 1, KC_MAX],
    );
  for (const [m, n, k] of shapes.filter((s, i) => shapes.findIndex((t) => t.join() === s.join()) === i))
    it(`${m}x${n}x${k}, all transposes`, () => {
      for (const [ta, tb] of TRANS) checkNative(ta, tb, m, n, k, 1, 0, m + n + k);
      checkNative(false, false, m, n, k, 0.5, 1, 7);
      checkNative(true, true, m, n, k, -2, 0.25, 8);
    });
  it('small and skinny shapes (vectors, single rows and columns)', () => {
    for (const [m, n, k] of [
      [1, 1000, 300],
      [1000, 1, 300],
      [300, 200, 1],
      [1, 1, 5000],
      [64, 64, 64],
      [97, 3, 1024],
    ] as [number, number, number][])
      for (const [ta, tb] of TRANS) checkNative(ta, tb, m, n, k, 1, 0.5, m * 7 + n);
  });
});

describe('gemm native: threads', () => {
  it('1 and 2 threads give identical results (no dependence on timing)', () => {
    const saved = native.getNumThreads();
    try {
      // the grids 2 threads take: columns split (the first two), rows split (the third)
      for (const [m, n, k] of [
        [512, 384, 300],
        [13, 2000, 700],
        [1024, 64, 64],
      ] as [number, number, number][])
        for (const [ta, tb] of TRANS) {
          const a = randn(m * k, 21);
          const b = randn(k * n, 22);
          const c1 = randn(m * n, 23);
          const c2 = c1.slice();
          const c3 = c1.slice();
          native.setNumThreads(1);
          native.gemm(ta, tb, m, n, k, 1.5, a, b, 1, c1);
          native.setNumThreads(2);
          native.gemm(ta, tb, m, n, k, 1.5, a, b, 1, c2);
          native.gemm(ta, tb, m, n, k, 1.5, a, b, 1, c3);
          expect(Buffer.from(c2.buffer).equals(Buffer.from(c1.buffer)), `${label(ta, tb)} ${m}x${n}x${k}`).toBe(true);
          expect(Buffer.from(c3.buffer).equals(Buffer.from(c2.buffer))).toBe(true);
        }
    } finally {
      native.setNumThreads(saved);
    }
  });
});

describe('gemm js', () => {
  it('matches a naive double-precision loop for every size 1..9 and mixed sizes, all transposes', () => {
    const sizes: [number, number, number][] = [];
    for (let m = 1; m <= 9; m++) for (let n = 1; n <= 9; n++) for (let k = 1; k <= 9; k++) sizes.push([m, n, k]);
    sizes.push([37, 300, 131], [130, 5, 260], [3, 517, 129], [66, 65, 64]);
    for (const [m, n, k] of sizes)
      for (const [ta, tb] of TRANS) {
        const a = randn(m * k, m + 100 * n);
        const b = randn(k * n, k + 7);
        const c0 = randn(m * n, 3);
        const [alpha, beta] = (m + n + k) % 2 ? [0.5, 1] : [1.25, 0];
        const c = beta === 0 ? new Float32Array(m * n).fill(NaN) : c0.slice();
        js.gemm(ta, tb, m, n, k, alpha, a, b, beta, c);
        expectClose(c, naive(ta, tb, m, n, k, alpha, a, b, beta, c0), 1e-5, 1e-6 * Math.sqrt(k) + 1e-6, `${label(ta, tb)} ${m}x${n}x${k}`);
      }
  });
  it('native and js agree on random inputs', () => {
    for (const [m, n, k] of [
      [128, 256, 784],
      [255, 257, 127],
      [61, 200, 300],
    ] as [number, number, number][])
      for (const [ta, tb] of TRANS) {
        const a = randn(m * k, 31);
        const b = randn(k * n, 32);
        const c0 = randn(m * n, 33);
        const cn = c0.slice();
        const cj = c0.slice();
        native.gemm(ta, tb, m, n, k, 0.75, a, b, 0.5, cn);
        jsGemm(ta, tb, m, n, k, 0.75, a, b, 0.5, cj);
        expectClose(cn, cj, 1e-5, 3e-6 * Math.sqrt(k), `${label(ta, tb)} ${m}x${n}x${k}`);
      }
  });
});

describe('gemm against PyTorch (torch.addmm)', () => {
  const fx = fixture<{ cases: any[] }>('gemm.json');
  it('has cases for every transpose combination', () => {
    expect(fx.cases.length).toBe(20);
    for (const [ta, tb] of TRANS) expect(fx.cases.some((c) => c.transA === ta && c.transB === tb)).toBe(true);
  });
  for (const [name, be] of [
    ['native', native],
    ['js', js],
  ] as const)
    it(`${name} matches every case`, () => {
      for (const cs of fx.cases) {
        const c = Float32Array.from(cs.c);
        be.gemm(cs.transA, cs.transB, cs.m, cs.n, cs.k, cs.alpha, Float32Array.from(cs.a), Float32Array.from(cs.b), cs.beta, c);
        expectClose(c, cs.out, 1e-5, 2e-5, `${label(cs.transA, cs.transB)} ${cs.m}x${cs.n}x${cs.k}`);
      }
    });
});

describe('gemm native: bad input gives exact errors', () => {
  const a = new Float32Array(6); // m = 2, k = 3
  const b = new Float32Array(12); // k = 3, n = 4
  const c = new Float32Array(8);
  const call = (...args: unknown[]) => () => (addon.gemm as (...x: unknown[]) => void)(...args);

  it('kinds: TypeError', () => {
    expect(call(false, false, 2, 4, 3, 1, new Float64Array(6), b, 0, c)).toThrow(
      new TypeError('Expected Float32Array for a but received Float64Array of length 6'),
    );
    expect(call(false, false, 2, 4, 3, 1, a, [1, 2], 0, c)).toThrow(
      new TypeError('Expected Float32Array for b but received Array of length 2'),
    );
    expect(call(false, false, 2, 4, 3, 1, a, b, 0, null)).toThrow(new TypeError('Expected Float32Array for c but received null'));
    expect(call(1, false, 2, 4, 3, 1, a, b, 0, c)).toThrow(
      new TypeError('Expected boolean for transA but received 1 of type number'),
    );
    expect(call(false, 'no', 2, 4, 3, 1, a, b, 0, c)).toThrow(new TypeError('Expected boolean for transB but received string'));
    expect(call(false, false, '2', 4, 3, 1, a, b, 0, c)).toThrow(new TypeError('Expected integer >= 1 for m but received string'));
    expect(call(false, false, 2, 4, 3, undefined, a, b, 0, c)).toThrow(
      new TypeError('Expected finite number for alpha but received undefined'),
    );
  });
  it('sizes: RangeError for zero, negative, non-integer and NaN', () => {
    expect(call(false, false, 0, 4, 3, 1, a, b, 0, c)).toThrow(
      new RangeError('Expected integer >= 1 for m but received 0 of type number'),
    );
    expect(call(false, false, 2, -4, 3, 1, a, b, 0, c)).toThrow(
      new RangeError('Expected integer >= 1 for n but received -4 of type number'),
    );
    expect(call(false, false, 2, 4, 2.5, 1, a, b, 0, c)).toThrow(
      new RangeError('Expected integer >= 1 for k but received 2.5 of type number'),
    );
    expect(call(false, false, 2, 4, NaN, 1, a, b, 0, c)).toThrow(
      new RangeError('Expected integer >= 1 for k but received NaN of type number'),
    );
    expect(call(false, false, 2, 4, 3, NaN, a, b, 0, c)).toThrow(
      new RangeError('Expected finite number for alpha but received NaN of type number'),
    );
    expect(call(false, false, 2, 4, 3, 1, a, b, Infinity, c)).toThrow(
      new RangeError('Expected finite number for beta but received Infinity of type number'),
    );
  });
  it('short buffers: RangeError naming the needed length', () => {
    expect(call(false, false, 2, 4, 3, 1, a.subarray(1), b, 0, c)).toThrow(
      new RangeError('Expected Float32Array of length >= 6 for a but received Float32Array of length 5'),
    );
    expect(call(true, true, 2, 4, 3, 1, a, new Float32Array(11), 0, c)).toThrow(
      new RangeError('Expected Float32Array of length >= 12 for b but received Float32Array of length 11'),
    );
    expect(call(false, false, 2, 4, 3, 1, a, b, 0, new Float32Array(7))).toThrow(
      new RangeError('Expected Float32Array of length >= 8 for c but received Float32Array of length 7'),
    );
    expect(call(false, false, 3, 4, 3, 1, a, b, 0, c)).toThrow(
      new RangeError('Expected Float32Array of length >= 9 for a but received Float32Array of length 6'),
    );
  });
  it('detached buffers: RangeError', () => {
    const d = new Float32Array(8);
    structuredClone(d.buffer, { transfer: [d.buffer] });
    expect(call(false, false, 2, 4, 3, 1, a, b, 0, d)).toThrow(
      new RangeError('Expected an attached Float32Array for c but received a detached buffer'),
    );
    expect(addon.gemmRef).toBeTypeOf('function');
    expect(call(false, false, 2, 4, 3, 1, a, b, 0, c)).not.toThrow();
  });
});

describe('gemm SIMD level', () => {
  it('follows MINIBATCH_SIMD (the scalar run exercises the portable micro-kernel)', () => {
    const simd = native.capabilities().simd;
    if (process.env.MINIBATCH_SIMD === 'scalar') expect(simd).toBe('scalar');
    else if (process.env.MINIBATCH_SIMD === 'avx2') expect(['avx2', 'scalar']).toContain(simd);
    else expect(['avx512', 'avx2', 'scalar']).toContain(simd);
  });
});
