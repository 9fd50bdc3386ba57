import { describe, it, expect, afterEach } from 'vitest';
import { backends, native, js, randn, expectClose, fixture, maxDiff, convReference, geom } from '../helpers';
import * as jsconvTyped from '../../lib/backend/js/conv';

// The js kernels are typed Float32Array (the contract) but run in double precision on Float64Array.
const jsconv = jsconvTyped as any;
import type { Backend, Conv2dParams } from '../../lib/backend/types';
import { centralDifference } from '../gradcheck';

interface ConvCase {
  p: Conv2dParams;
  x: number[]; w: number[]; b: number[] | null; dy: number[];
  y: number[]; dx: number[]; dw: number[]; db: number[] | null;
}
const cases = fixture<{ cases: ConvCase[] }>('conv.json').cases;
const f32 = (a: number[]) => Float32Array.from(a);

const sizes = (p: Conv2dParams) => ({
  x: p.n * p.cIn * p.h * p.w, w: p.cOut * p.cIn * p.kH * p.kW, y: p.n * p.cOut * p.outH * p.outW,
  cols: p.cIn * p.kH * p.kW * p.outH * p.outW,
});
const desc = (p: Conv2dParams) =>
  `n${p.n} ci${p.cIn} ${p.h}x${p.w} co${p.cOut} k${p.kH}x${p.kW} s${p.strideH},${p.strideW} ` +
  `p${p.padH},${p.padW} d${p.dilationH},${p.dilationW}`;


afterEach(() => native.setNumThreads(2));

describe('conv2d against PyTorch', () => {
  it('covers every axis value of the grid', () => {
    const seen = (f: (p: Conv2dParams) => number | string) => new Set(cases.map((c) => f(c.p)));
    expect([...seen((p) => `${p.kH}x${p.kW}`)]).toEqual(expect.arrayContaining(['1x1', '3x3', '5x5', '3x5']));
    expect([...seen((p) => p.strideH)]).toEqual(expect.arrayContaining([1, 2]));
    expect([...seen((p) => p.padH)]).toEqual(expect.arrayContaining([0, 1, 2]));
    expect([...seen((p) => p.dilationH)]).toEqual(expect.arrayContaining([1, 2]));
    expect([...seen((p) => p.cIn)]).toEqual(expect.arrayContaining([1, 3, 16]));
    expect([...seen((p) => p.n)]).toEqual(expect.arrayContaining([1, 3]));
  });

  for (const threads of [1, 2]) {
    for (const [name, be] of backends) {
      it(`${name} forward and backward match (threads ${threads})`, () => {
        be.setNumThreads(threads);
        for (const c of cases) {
          const p = c.p;
          const sz = sizes(p);
          const x = f32(c.x), w = f32(c.w), b = c.b ? f32(c.b) : null, dy = f32(c.dy);
          const ws = new Float32Array(be.conv2dWorkspaceSize(p));
          const y = new Float32Array(sz.y).fill(NaN);
          be.conv2dForward(y, x, w, b, ws, p);
          expectClose(y, c.y, 1e-4, 1e-5, `${name} y ${desc(p)}`);
          const dx = new Float32Array(sz.x).fill(NaN); // overwritten
          const dw = new Float32Array(sz.w).fill(0.5); // accumulated
          const db = b ? new Float32Array(p.cOut).fill(-0.25) : null;
          be.conv2dBackward(dx, dw, db, x, w, dy, ws, p);
          expectClose(dx, c.dx, 1e-4, 1e-5, `${name} dx ${desc(p)}`);
          expectClose(dw, c.dw.map((v) => v + 0.5), 1e-4, 1e-4, `${name} dw ${desc(p)}`);
          if (db) expectClose(db, c.db!.map((v) => v - 0.25), 1e-4, 1e-4, `${name} db ${desc(p)}`);
        }
      });
    }
  }
});

// Geometries that exercise both native paths (batch split over threads and sample by sample with a
// parallel GEMM), strides wider than the kernel, and 1×1 with padding.
const RANDOM: Conv2dParams[] = [
  geom(4, 5, 12, 11, 6, [3, 3], [1, 1], [1, 1]),
  geom(3, 4, 10, 13, 7, [3, 2], [2, 3], [1, 0], [2, 1]),
  geom(1, 6, 9, 9, 5, [5, 5], [1, 1], [2, 2]),
  geom(8, 3, 6, 7, 4, [1, 1]),
  geom(2, 3, 8, 8, 3, [1, 1], [3, 2], [1, 1]),
  geom(5, 2, 15, 6, 3, [4, 1], [3, 1], [0, 0], [3, 1]),
];

describe('conv2d on random data', () => {
  for (const p of RANDOM) {
    it(`native == js == direct: ${desc(p)}`, () => {
      const sz = sizes(p);
      const x = randn(sz.x, 1), w = randn(sz.w, 2), b = randn(p.cOut, 3), dy = randn(sz.y, 4);
      const ref = convReference(x, w, b, p);
      const out: Record<string, { y: Float32Array; dx: Float32Array; dw: Float32Array; db: Float32Array }> = {};
      for (const [name, be, threads] of [['js', js, 1], ['native1', native, 1], ['native2', native, 2]] as const) {
        be.setNumThreads(threads);
        const ws = new Float32Array(be.conv2dWorkspaceSize(p));
        const y = new Float32Array(sz.y);
        be.conv2dForward(y, x, w, b, ws, p);
        expectClose(y, ref, 1e-4, 1e-5, `${name} y`);
        const dx = new Float32Array(sz.x), dw = new Float32Array(sz.w), db = new Float32Array(p.cOut);
        be.conv2dBackward(dx, dw, db, x, w, dy, ws, p);
        out[name] = { y, dx, dw, db };
      }
      for (const k of ['native1', 'native2']) {
        expectClose(out[k].dx, out.js.dx, 1e-4, 1e-5, `${k} dx`);
        expectClose(out[k].dw, out.js.dw, 1e-4, 1e-4, `${k} dw`);
        expectClose(out[k].db, out.js.db, 1e-5, 1e-5, `${k} db`);
      }
    });
  }

  it('native works with the smallest workspace and skips dx / db when null', () => {
    const p = RANDOM[0];
    const sz = sizes(p);
    const x = randn(sz.x, 5), w = randn(sz.w, 6), dy = randn(sz.y, 7);
    native.setNumThreads(1);
    const small = new Float32Array(native.conv2dWorkspaceSize(p)); // one thread's worth: no chunk runs beside another
    native.setNumThreads(2);
    const full = native.conv2dWorkspaceSize(p);
    expect(full).toBeGreaterThanOrEqual(small.length);
    expect(() => native.conv2dForward(new Float32Array(sz.y), x, w, null, small.subarray(1), p)).toThrow(RangeError);
    const y1 = new Float32Array(sz.y), y2 = new Float32Array(sz.y);
    native.conv2dForward(y1, x, w, null, small, p);
    native.conv2dForward(y2, x, w, null, new Float32Array(full), p);
    expectClose(y1, y2, 1e-5, 1e-6, 'y');
    const dw1 = new Float32Array(sz.w), dw2 = new Float32Array(sz.w);
    native.conv2dBackward(null, dw1, null, x, w, dy, small, p);
    const dx = new Float32Array(sz.x), db = new Float32Array(p.cOut);
    native.conv2dBackward(dx, dw2, db, x, w, dy, new Float32Array(full), p);
    expectClose(dw1, dw2, 1e-4, 1e-4, 'dw');
    expect(maxDiff(db, new Float32Array(p.cOut))).toBeGreaterThan(0);
  });

  it('native backward is deterministic with two threads', () => {
    const p = geom(6, 4, 10, 10, 5, [3, 3], [1, 1], [1, 1]);
    const sz = sizes(p);
    const x = randn(sz.x, 8), w = randn(sz.w, 9), dy = randn(sz.y, 10);
    native.setNumThreads(2);
    const ws = new Float32Array(native.conv2dWorkspaceSize(p));
    const runs = [0, 1, 2].map(() => {
      const dw = new Float32Array(sz.w), dx = new Float32Array(sz.x);
      native.conv2dBackward(dx, dw, null, x, w, dy, ws, p);
      return dw;
    });
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).toEqual(runs[0]);
  });
});

describe('conv2d chunking sweep (native == js, 1 and 2 threads)', () => {
  // The native kernels cut the batch into chunks of about 1,536 output columns and sum dW in up to 8
  // groups of chunks: every batch size from 1 to past several chunks and groups, planes narrower and
  // wider than a chunk, and the 1×1 paths (in place when a chunk is one sample, copied otherwise).
  const grids: [string, (n: number) => Conv2dParams, number[]][] = [
    ['3×3 on 20×20 (4 samples a chunk)', (n) => geom(n, 3, 20, 20, 4, [3, 3], [1, 1], [1, 1]), Array.from({ length: 21 }, (_, i) => i + 1)],
    ['3×3 on 40×40 (one sample a chunk)', (n) => geom(n, 2, 40, 40, 3, [3, 3], [1, 1], [1, 1]), [1, 2, 3, 7, 8, 9, 10, 17]],
    ['1×1 on 40×40 (in place)', (n) => geom(n, 5, 40, 40, 3, [1, 1]), [1, 2, 9]],
    ['1×1 on 6×6 (copied into the chunk)', (n) => geom(n, 4, 6, 6, 5, [1, 1]), [1, 3, 50, 130]],
    ['3×3 stride 2 on 9×11', (n) => geom(n, 3, 9, 11, 2, [3, 3], [2, 2], [1, 0]), [1, 5, 64, 97]],
  ];
  for (const [name, make, ns] of grids) {
    it(name, () => {
      for (const n of ns) {
        const p = make(n);
        const sz = sizes(p);
        const x = randn(sz.x, n), w = randn(sz.w, n + 1), b = randn(p.cOut, n + 2), dy = randn(sz.y, n + 3);
        const run = (be: Backend, threads: number) => {
          be.setNumThreads(threads);
          const ws = new Float32Array(be.conv2dWorkspaceSize(p));
          const y = new Float32Array(sz.y), dx = new Float32Array(sz.x);
          const dw = Float32Array.from(w, (v) => v / 2), db = Float32Array.from(b, (v) => v / 2); // += onto these
          be.conv2dForward(y, x, w, b, ws, p);
          be.conv2dBackward(dx, dw, db, x, w, dy, ws, p);
          return { y, dx, dw, db };
        };
        const ref = run(js, 1);
        for (const t of [1, 2]) {
          const r = run(native, t);
          const at = `${desc(p)}, ${t} threads`;
          expectClose(r.y, ref.y, 1e-4, 1e-5, `y ${at}`);
          expectClose(r.dx, ref.dx, 1e-4, 1e-5, `dx ${at}`);
          expectClose(r.dw, ref.dw, 1e-4, 1e-4, `dw ${at}`);
          expectClose(r.db, ref.db, 1e-4, 1e-4, `db ${at}`); // float row sums of up to 1,600 values
        }
      }
    });
  }
});

describe('im2col / col2im', () => {
  const geoms = [RANDOM[1], RANDOM[4], RANDOM[5], geom(1, 2, 7, 9, 1, [3, 5], [2, 1], [1, 2], [1, 2])];
  for (const p of geoms) {
    it(`are adjoint: <col2im(c), x> == <c, im2col(x)> (${desc(p)})`, () => {
      const sz = sizes(p);
      const nx = p.cIn * p.h * p.w;
      // float64 through the js kernels: equal to rounding
      const x = Float64Array.from(randn(nx, 11)), c = Float64Array.from(randn(sz.cols, 12));
      const cols = new Float64Array(sz.cols), img = new Float64Array(nx);
      jsconv.im2col(cols, x, p);
      jsconv.col2im(img, c, p);
      let lhs = 0, rhs = 0;
      for (let i = 0; i < nx; i++) lhs += img[i] * x[i];
      for (let i = 0; i < sz.cols; i++) rhs += c[i] * cols[i];
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-10 * (1 + Math.abs(rhs)));
      // native float32 equals js exactly for im2col (copies) and closely for col2im (sums)
      const cols32 = new Float32Array(sz.cols).fill(NaN), img32 = new Float32Array(nx).fill(NaN);
      native.im2col(cols32, Float32Array.from(x), p);
      native.col2im(img32, Float32Array.from(c), p);
      const colsJs = new Float32Array(sz.cols), imgJs = new Float32Array(nx);
      js.im2col(colsJs, Float32Array.from(x), p);
      js.col2im(imgJs, Float32Array.from(c), p);
      expect(cols32).toEqual(colsJs);
      expectClose(img32, imgJs, 1e-5, 1e-6, 'col2im');
      expectClose(img32, img, 1e-5, 1e-5, 'col2im vs float64');
    });
  }
});

describe('conv2d numerical gradient (float64 through the js kernels)', () => {
  for (const p of [geom(2, 2, 5, 6, 3, [3, 2], [2, 1], [1, 1], [1, 2]), geom(2, 3, 4, 4, 2, [1, 1])]) {
    it(`dx, dw, db match central differences (${desc(p)})`, () => {
      const sz = sizes(p);
      const x = Float64Array.from(randn(sz.x, 21)), w = Float64Array.from(randn(sz.w, 22));
      const b = Float64Array.from(randn(p.cOut, 23)), g = Float64Array.from(randn(sz.y, 24));
      const ws = new Float64Array(jsconv.conv2dWorkspaceSize(p));
      const y = new Float64Array(sz.y);
      const loss = () => {
        jsconv.conv2dForward(y, x, w, b, ws, p);
        let s = 0;
        for (let i = 0; i < sz.y; i++) s += y[i] * g[i];
        return s;
      };
      const dx = new Float64Array(sz.x), dw = new Float64Array(sz.w), db = new Float64Array(p.cOut);
      jsconv.conv2dBackward(dx, dw, db, x, w, g, ws, p);
      const eps = 1e-6;
      const check = (v: Float64Array, grad: Float64Array, what: string) => {
        for (let i = 0; i < v.length; i++) {
          const num = centralDifference(loss, v, i, eps);
          expect(Math.abs(num - grad[i]), `${what}[${i}]`).toBeLessThan(1e-6 * (1 + Math.abs(num)));
        }
      };
      check(x, dx, 'dx');
      check(w, dw, 'dw');
      check(b, db, 'db');
    });
  }
});

describe('conv2d bad input (native glue)', () => {
  const p = geom(2, 3, 7, 9, 4, [3, 3], [2, 1], [1, 1]);
  const sz = sizes(p);
  const args = () => ({
    y: new Float32Array(sz.y), x: new Float32Array(sz.x), w: new Float32Array(sz.w),
    ws: new Float32Array(native.conv2dWorkspaceSize(p)),
  });
  const fwd = (over: Partial<Record<'y' | 'x' | 'w' | 'ws', unknown>>, pp: unknown = p) => {
    const a = { ...args(), ...over };
    return () => (native as any).conv2dForward(a.y, a.x, a.w, null, a.ws, pp);
  };

  it('names the wrong kind', () => {
    expect(fwd({}, 5)).toThrow(new TypeError('Expected Conv2dParams object for p but received 5 of type number'));
    expect(fwd({ x: new Float64Array(sz.x) })).toThrow(
      new TypeError(`Expected Float32Array for x but received Float64Array of length ${sz.x}`),
    );
    expect(fwd({}, { ...p, kH: 'three' })).toThrow(new TypeError('Expected integer >= 1 for kH but received string'));
    expect(() => (native as any).conv2dBackward(null, new Float32Array(sz.w), undefined, new Float32Array(sz.x), [], new Float32Array(sz.y), new Float32Array(1e4), p))
      .toThrow(new TypeError('Expected Float32Array for w but received Array of length 0'));
  });

  it('names the wrong size', () => {
    expect(fwd({ x: new Float32Array(10) })).toThrow(
      new RangeError(`Expected Float32Array of length >= ${sz.x} for x but received Float32Array of length 10`),
    );
    // one thread's slot: cols [27, 2·36] and the output block [4, 2·36] of the one chunk of 2 samples
    expect(fwd({ ws: new Float32Array(3) })).toThrow(
      new RangeError(`Expected Float32Array of length >= ${(27 + 4) * 2 * 36} for workspace but received Float32Array of length 3`),
    );
    expect(fwd({}, { ...p, strideH: 0 })).toThrow(new RangeError('Expected integer >= 1 for strideH but received 0 of type number'));
    expect(fwd({}, { ...p, padW: -1 })).toThrow(new RangeError('Expected integer >= 0 for padW but received -1 of type number'));
    expect(fwd({}, { ...p, cOut: 2.5 })).toThrow(new RangeError('Expected integer >= 1 for cOut but received 2.5 of type number'));
  });

  it('checks outH / outW against the PyTorch formula and rejects empty outputs', () => {
    const g = 'input [2, 3, 7, 9] and weight [4, 3, 3, 3] with stride [2, 1], padding [1, 1], dilation [1, 1]';
    expect(fwd({}, { ...p, outH: 5 })).toThrow(new RangeError(`Expected outH 4 (${g}) for outH but received 5`));
    expect(fwd({}, { ...p, outW: 7 })).toThrow(new RangeError(`Expected outW 9 (${g}) for outW but received 7`));
    const e = { ...p, h: 2, w: 2, kH: 5, kW: 5, strideH: 1, strideW: 1, padH: 0, padW: 0, outH: 0, outW: 0 };
    expect(fwd({}, e)).toThrow(
      new RangeError(
        'Expected a non-empty convolution output for p but received input [2, 3, 2, 2] and weight [4, 3, 5, 5] ' +
          'with stride [1, 1], padding [0, 0], dilation [1, 1]',
      ),
    );
    expect(() => native.conv2dWorkspaceSize({ ...p, dilationW: 5 })).toThrow(/Expected outW 1 .* for outW but received 9/);
    expect(() => native.im2col(new Float32Array(sz.cols - 1), new Float32Array(sz.x), p)).toThrow(
      new RangeError(`Expected Float32Array of length >= ${sz.cols} for cols but received Float32Array of length ${sz.cols - 1}`),
    );
  });
});

// Keep the Backend type honest: both backends expose every conv method.
const methods: (keyof Backend)[] = ['conv2dWorkspaceSize', 'im2col', 'col2im', 'conv2dForward', 'conv2dBackward'];
describe('conv2d methods', () => {
  it('exist on both backends', () => {
    for (const [, be] of backends) for (const m of methods) expect(typeof be[m]).toBe('function');
  });
});
