import { describe, it, expect } from 'vitest';
import { backends, native, js, randn, expectClose, fixture, maxDiff } from '../helpers';
import type { ActivationKind, Backend } from '../../lib/backend/types';

const fx = fixture('activations.json');
const KINDS: ActivationKind[] = ['relu', 'leaky_relu', 'elu', 'sigmoid', 'tanh'];
const addon = native as unknown as Record<string, (...a: unknown[]) => unknown>;

describe.each(backends)('%s activations vs PyTorch', (_name, b: Backend) => {
  const x = new Float32Array(fx.activation.x);
  const dy = new Float32Array(fx.activation.dy);
  const n = x.length;
  for (const c of fx.activation.cases) {
    it(`${c.kind} alpha=${c.alpha} forward, in place, backward`, () => {
      const y = new Float32Array(n);
      b.activation(c.kind, y, x, n, c.alpha);
      expectClose(y, c.y, 2e-6, 1e-7, `${c.kind} y`);
      const inPlace = x.slice();
      b.activation(c.kind, inPlace, inPlace, n, c.alpha);
      expect(maxDiff(inPlace, y)).toBe(0);
      const dx = new Float32Array(n).fill(123); // overwritten, not accumulated
      b.activationBackward(c.kind, dx, x, y, dy, n, c.alpha);
      expectClose(dx, c.dx, 1e-5, 1e-6, `${c.kind} dx`);
    });
  }

  it('maxout forward/backward (ties go to the first piece)', () => {
    const m = fx.maxout;
    const units = m.rows * m.units;
    const y = new Float32Array(units);
    const arg = new Int32Array(units).fill(-7);
    b.maxoutForward(y, arg, new Float32Array(m.z), m.rows, m.units, m.pieces);
    expectClose(y, m.y, 0, 0, 'maxout y');
    expect(Array.from(arg)).toEqual(m.argmax);
    expect(arg[1]).toBe(0);
    expect(arg[11]).toBe(1);
    const dz = new Float32Array(units * m.pieces).fill(9);
    b.maxoutBackward(dz, arg, new Float32Array(m.dy), m.rows, m.units, m.pieces);
    expectClose(dz, m.dz, 0, 0, 'maxout dz');
  });

  for (const c of fx.bias) {
    it(`bias add and backward [${c.outer}, ${c.channels}, ${c.inner}]`, () => {
      const y = new Float32Array(c.y0);
      b.biasAdd(y, new Float32Array(c.bias), c.outer, c.channels, c.inner);
      expectClose(y, c.y, 1e-6, 1e-7, 'bias y');
      const db = new Float32Array(c.channels).fill(1); // accumulates
      b.biasBackward(db, new Float32Array(c.dy), c.outer, c.channels, c.inner);
      expectClose(db, c.db.map((v: number) => v + 1), 1e-5, 1e-6, 'db');
    });
  }
});

describe('native vs js on random data', () => {
  const sizes = [1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1023, 40000, 100003];
  for (const kind of KINDS) {
    it(`${kind} forward and backward, sizes 1..100003`, () => {
      const alpha = kind === 'leaky_relu' ? 0.2 : kind === 'elu' ? 1.3 : 0;
      for (const n of sizes) {
        const x = randn(n, n, -12, 12);
        const dy = randn(n, n + 1);
        const yn = new Float32Array(n), yj = new Float32Array(n);
        native.activation(kind, yn, x, n, alpha);
        js.activation(kind, yj, x, n, alpha);
        expectClose(yn, yj, 2e-6, 1e-30, `${kind} y n=${n}`);
        const dn = new Float32Array(n), dj = new Float32Array(n);
        native.activationBackward(kind, dn, x, yj, dy, n, alpha);
        js.activationBackward(kind, dj, x, yj, dy, n, alpha);
        expectClose(dn, dj, 1e-6, 1e-7, `${kind} dx n=${n}`);
      }
    });
  }

  it('relu and sigmoid on 4M+13 elements (streaming stores), unaligned views, threads 1 and 2', () => {
    const n = (4 << 20) + 13;
    const buf = randn(n + 3, 5, -30, 30);
    const x = buf.subarray(1, n + 1);
    const out = new Float32Array(n + 3);
    const y = out.subarray(3, n + 3); // 12-byte offset: the kernel aligns its head itself
    for (const kind of ['relu', 'sigmoid'] as ActivationKind[]) {
      const yj = new Float32Array(n);
      js.activation(kind, yj, x, n, 0);
      for (const t of [1, 2]) {
        native.setNumThreads(t);
        y.fill(-5);
        native.activation(kind, y, x, n, 0);
        expectClose(y, yj, 2e-6, 1e-30, `${kind} threads=${t}`);
      }
    }
    expect(out[0]).toBe(0);
    native.setNumThreads(2);
  });

  it('maxout and bias on larger random shapes (parallel paths)', () => {
    const rows = 300, units = 70, pieces = 3;
    const z = randn(rows * units * pieces, 3);
    const yn = new Float32Array(rows * units), yj = new Float32Array(rows * units);
    const an = new Int32Array(rows * units), aj = new Int32Array(rows * units);
    native.maxoutForward(yn, an, z, rows, units, pieces);
    js.maxoutForward(yj, aj, z, rows, units, pieces);
    expect(maxDiff(yn, yj)).toBe(0);
    expect(maxDiff(an, aj)).toBe(0);
    const dy = randn(rows * units, 4);
    const dzn = new Float32Array(z.length), dzj = new Float32Array(z.length);
    native.maxoutBackward(dzn, an, dy, rows, units, pieces);
    js.maxoutBackward(dzj, aj, dy, rows, units, pieces);
    expect(maxDiff(dzn, dzj)).toBe(0);
    for (const [outer, channels, inner] of [[64, 50, 49], [2000, 130, 1], [3, 1, 50000]]) {
      const total = outer * channels * inner;
      const y0 = randn(total, 6), bias = randn(channels, 7);
      const a = y0.slice(), c = y0.slice();
      native.biasAdd(a, bias, outer, channels, inner);
      js.biasAdd(c, bias, outer, channels, inner);
      expect(maxDiff(a, c)).toBe(0);
      const dbn = new Float32Array(channels).fill(0.5), dbj = new Float32Array(channels).fill(0.5);
      native.biasBackward(dbn, y0, outer, channels, inner);
      js.biasBackward(dbj, y0, outer, channels, inner);
      expectClose(dbn, dbj, 1e-5, 1e-4, `db [${outer}, ${channels}, ${inner}]`);
    }
  });
});

describe('numerical gradients (float64 central differences of the js kernel)', () => {
  const h = 1e-3;
  for (const kind of KINDS) {
    it(kind, () => {
      const alpha = kind === 'leaky_relu' ? 0.05 : kind === 'elu' ? 0.8 : 0;
      const n = 200;
      const x = randn(n, 11, -4, 4);
      for (let i = 0; i < n; i++) if (Math.abs(x[i]) < 0.01) x[i] = 0.5; // away from kinks
      const dy = randn(n, 12);
      const y = new Float32Array(n);
      js.activation(kind, y, x, n, alpha);
      const dx = new Float32Array(n);
      js.activationBackward(kind, dx, x, y, dy, n, alpha);
      const f = (v: number) => {
        const out = new Float64Array(1);
        const one = new Float32Array([v]), o32 = new Float32Array(1);
        js.activation(kind, o32, one, 1, alpha);
        out[0] = o32[0];
        return out[0];
      };
      const num = new Float64Array(n);
      for (let i = 0; i < n; i++) num[i] = (dy[i] * (f(x[i] + h) - f(x[i] - h))) / (2 * h);
      expectClose(dx, num, 2e-3, 2e-4, `${kind} numerical`);
    });
  }
});

// ---------------------------------------------------------------------------- precision sweep

function refDouble(kind: ActivationKind, v: number, alpha: number): number {
  switch (kind) {
    case 'sigmoid':
      return v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
    case 'tanh':
      return Math.tanh(v);
    case 'elu':
      return v > 0 ? v : alpha * Math.expm1(v);
    default:
      return NaN;
  }
}

function sweep(): Float32Array {
  const v: number[] = [0, -0, Infinity, -Infinity, 1e-45, -1e-45, 1e-40, -1e-40, 1.1754944e-38, -1.1754944e-38,
    1e-30, -1e-30, 1e-7, -1e-7, 0.625, -0.625, 20, -20, 50, -50, 88, -88, 88.72, -88.72, 89, -89, 100, -100, 104,
    -104, 200, -200, 3e38, -3e38];
  for (let x = -110; x <= 110; x += 0.00173) v.push(x, x * 0.01); // dense linear sweep
  for (let e = -45; e <= 2.1; e += 0.002) v.push(10 ** e, -(10 ** e)); // log sweep down to denormals
  return new Float32Array(v);
}

const TINY = 2 ** -149;

describe.each(backends)('%s precision sweep vs double reference', (_name, b: Backend) => {
  const x = sweep();
  const n = x.length;
  for (const [kind, alpha] of [['sigmoid', 0], ['tanh', 0], ['elu', 1], ['elu', 0.3]] as [ActivationKind, number][]) {
    it(`${kind} alpha=${alpha}: relative error <= 2e-6 over ${n} points`, () => {
      const y = new Float32Array(n);
      b.activation(kind, y, x, n, alpha);
      let worst = 0, at = 0;
      for (let i = 0; i < n; i++) {
        const r = refDouble(kind, x[i], alpha);
        if (y[i] === r || (Number.isNaN(y[i]) && Number.isNaN(r))) continue;
        const d = Math.abs(y[i] - r);
        // denormal results: one step of the denormal grid; normal results: relative
        const tol = Math.abs(r) < 2 ** -126 ? TINY : 2e-6 * Math.abs(r);
        if (!(d <= tol)) expect.fail(`${kind}(${x[i]}) = ${y[i]}, expected ${r} (error ${d})`);
        const rel = Math.abs(r) >= 2 ** -126 ? d / Math.abs(r) : 0;
        if (rel > worst) [worst, at] = [rel, x[i]];
      }
      expect(worst).toBeLessThanOrEqual(2e-6);
      console.log(`${_name} ${kind} alpha=${alpha}: max relative error ${worst.toExponential(2)} at x=${at}`);
    });
  }

  it('saturation, infinities and NaN', () => {
    const xs = new Float32Array([100, -100, 20, -20, Infinity, -Infinity, NaN, -1e-30, 1e-30, 0]);
    const y = new Float32Array(xs.length);
    b.activation('sigmoid', y, xs, xs.length, 0);
    expect(y[0]).toBe(1);
    expect(y[1]).toBeGreaterThan(0);
    expect(Math.abs(y[1] - 3.720075976020836e-44)).toBeLessThanOrEqual(TINY);
    expect([y[4], y[5]]).toEqual([1, 0]);
    expect(y[6]).toBeNaN();
    expect(y[9]).toBe(0.5);
    b.activation('tanh', y, xs, xs.length, 0);
    expect([y[2], y[3], y[4], y[5]]).toEqual([1, -1, 1, -1]);
    expect(y[6]).toBeNaN();
    expect([y[7], y[8]]).toEqual([Math.fround(-1e-30), Math.fround(1e-30)]);
    b.activation('elu', y, xs, xs.length, 1.5);
    expect([y[0], y[1], y[4], y[5]]).toEqual([100, -1.5, Infinity, -1.5]);
    expect(y[6]).toBeNaN();
    expect(y[7]).toBe(Math.fround(1.5 * Math.fround(-1e-30)));
    for (const k of ['relu', 'leaky_relu'] as ActivationKind[]) {
      b.activation(k, y, xs, xs.length, 0.1);
      expect(y[6]).toBeNaN();
      expect(y[5]).toBe(k === 'relu' ? 0 : -Infinity);
    }
  });
});

// ------------------------------------------------------------------------------ bad input (native)

describe('native glue rejects bad input with exact messages', () => {
  const x = new Float32Array(4), y = new Float32Array(4);
  const call = (name: string, ...args: unknown[]) => () => addon[name](...args);
  it('activation arguments', () => {
    expect(call('activation', 'gelu', y, x, 4, 0)).toThrow(
      new TypeError("Expected one of 'relu', 'leaky_relu', 'elu', 'sigmoid', 'tanh' for kind but received 'gelu'"),
    );
    expect(call('activation', 3, y, x, 4, 0)).toThrow(
      new TypeError("Expected one of 'relu', 'leaky_relu', 'elu', 'sigmoid', 'tanh' for kind but received 3 of type number"),
    );
    expect(call('activation', 'relu', new Float32Array(3), x, 4, 0)).toThrow(
      new RangeError('Expected Float32Array of length >= 4 for y but received Float32Array of length 3'),
    );
    expect(call('activation', 'relu', y, new Float64Array(4), 4, 0)).toThrow(
      new TypeError('Expected Float32Array for x but received Float64Array of length 4'),
    );
    expect(call('activation', 'relu', y, x, 1.5, 0)).toThrow(
      new RangeError('Expected integer >= 0 for n but received 1.5 of type number'),
    );
    expect(call('activation', 'relu', y, x, -1, 0)).toThrow(
      new RangeError('Expected integer >= 0 for n but received -1 of type number'),
    );
    expect(call('activation', 'elu', y, x, 4, NaN)).toThrow(
      new RangeError('Expected finite number for alpha but received NaN of type number'),
    );
    expect(call('activation', 'elu', y, x, 4, '1')).toThrow(
      new TypeError('Expected finite number for alpha but received string'),
    );
    expect(call('activationBackward', 'tanh', y, x, y, [1, 2, 3, 4], 4, 0)).toThrow(
      new TypeError('Expected Float32Array for dy but received Array of length 4'),
    );
    const detached = new Float32Array(4);
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    expect(call('activation', 'relu', y, detached, 4, 0)).toThrow(
      new RangeError('Expected an attached Float32Array for x but received a detached buffer'),
    );
    // n = 0 is a no-op
    expect(call('activation', 'relu', new Float32Array(0), new Float32Array(0), 0, 0)).not.toThrow();
  });
  it('maxout and bias arguments', () => {
    expect(call('maxoutForward', y, new Float32Array(2), x, 1, 2, 2)).toThrow(
      new TypeError('Expected Int32Array for argmax but received Float32Array of length 2'),
    );
    expect(call('maxoutForward', y, new Int32Array(2), x, 1, 2, 3)).toThrow(
      new RangeError('Expected Float32Array of length >= 6 for z but received Float32Array of length 4'),
    );
    expect(call('maxoutBackward', x, new Int32Array(2), y, 1, 2, 0)).toThrow(
      new RangeError('Expected integer >= 1 for pieces but received 0 of type number'),
    );
    expect(call('biasAdd', y, new Float32Array(1), 2, 2, 1)).toThrow(
      new RangeError('Expected Float32Array of length >= 2 for bias but received Float32Array of length 1'),
    );
    expect(call('biasBackward', new Float32Array(2), y, 2, 2, 2)).toThrow(
      new RangeError('Expected Float32Array of length >= 8 for dy but received Float32Array of length 4'),
    );
    expect(call('biasAdd', y, x, 65536, 65536, 2)).toThrow(
      new RangeError('Expected at most 2^32 elements for y but received 65536 x 65536 x 2'),
    );
    // out-of-range argmax entries are ignored rather than written out of bounds
    const dz = new Float32Array(4).fill(3);
    addon.maxoutBackward(dz, new Int32Array([7, -1]), new Float32Array([1, 2]), 1, 2, 2);
    expect(Array.from(dz)).toEqual([0, 0, 0, 0]);
  });
});
