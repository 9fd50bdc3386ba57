/**
 * The argument checks of the native glue (native/binding/*.cc), for the js backend: the same order,
 * the same names, the same messages, so a raw kernel call that is wrong fails the same way on both
 * backends (TypeError for kinds, RangeError for sizes) instead of reading short buffers as NaN or
 * dropping writes. Each entry mirrors one glue function; `describeGlue` prints values as the glue's
 * describe() does. Written by hand because it must track our own glue line by line.
 */
import { conv2dWorkspaceSize } from './conv';
import { isDetached } from '../../validate';
import type { Conv2dParams } from '../types';

type Args = unknown[];
const KINDS = ['relu', 'leaky_relu', 'elu', 'sigmoid', 'tanh'];
const KIND_LIST = "one of 'relu', 'leaky_relu', 'elu', 'sigmoid', 'tanh'";

/** A value as the glue describes it (C's %.17g for numbers). */
export function describeGlue(v: unknown): string {
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    const known = ['Float32Array', 'Float64Array', 'Int32Array', 'Uint8Array', 'Int8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Uint32Array'];
    const name = known.includes(v.constructor.name) ? v.constructor.name : 'TypedArray';
    return `${name} of length ${(v as unknown as { length: number }).length}`;
  }
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN of type number';
    if (!Number.isFinite(v)) return `${v > 0 ? '' : '-'}Infinity of type number`;
    return `${g17(v)} of type number`;
  }
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'boolean') return `${v} of type boolean`;
  if (Array.isArray(v)) return `Array of length ${v.length}`;
  if (typeof v === 'string') return 'string';
  return 'object';
}

function g17(v: number): string {
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const exp = Math.floor(Math.log10(Math.abs(v)));
  if (exp < -4 || exp >= 17) {
    const [m, e] = v.toExponential(16).split('e');
    const mant = m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m;
    const sign = e[0] === '-' ? '-' : '+';
    return `${mant}e${sign}${e.replace(/^[-+]/, '').padStart(2, '0')}`;
  }
  const s = v.toPrecision(17);
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

const typeError = (what: string, name: string, v: unknown): never => {
  throw new TypeError(`Expected ${what} for ${name} but received ${describeGlue(v)}`);
};
const rangeError = (what: string, name: string, got: string): never => {
  throw new RangeError(`Expected ${what} for ${name} but received ${got}`);
};

function f32(a: Args, i: number, name: string, min: number): void {
  const v = a[i];
  if (!(v instanceof Float32Array)) typeError('Float32Array', name, v);
  if (isDetached(v as Float32Array)) rangeError('an attached Float32Array', name, 'a detached buffer');
  if ((v as Float32Array).length < min) rangeError(`Float32Array of length >= ${min}`, name, describeGlue(v));
}
function f32Opt(a: Args, i: number, name: string, min: number): void {
  if (a[i] !== null && a[i] !== undefined) f32(a, i, name, min);
}
function i32(a: Args, i: number, name: string, min: number): void {
  const v = a[i];
  if (!(v instanceof Int32Array)) typeError('Int32Array', name, v);
  if (isDetached(v as Int32Array)) rangeError('an attached Int32Array', name, 'a detached buffer');
  if ((v as Int32Array).length < min) rangeError(`Int32Array of length >= ${min}`, name, describeGlue(v));
}
function size(a: Args, i: number, name: string, min = 1): number {
  const v = a[i];
  if (typeof v !== 'number') typeError(`integer >= ${min}`, name, v);
  const d = v as number;
  if (!(d >= min) || d > 2147483647 || Math.floor(d) !== d) rangeError(`integer >= ${min}`, name, describeGlue(v));
  return d;
}
function num(a: Args, i: number, name: string): number {
  const v = a[i];
  if (typeof v !== 'number') typeError('finite number', name, v);
  if (!Number.isFinite(v)) rangeError('finite number', name, describeGlue(v));
  return v as number;
}
function bool(a: Args, i: number, name: string): boolean {
  if (typeof a[i] !== 'boolean') typeError('boolean', name, a[i]);
  return a[i] as boolean;
}
function nonneg(a: Args, i: number, name: string): number {
  const d = num(a, i, name);
  if (d < 0) rangeError('finite number >= 0', name, describeGlue(a[i]));
  return d;
}
function unit(a: Args, i: number, name: string): number {
  const d = num(a, i, name);
  if (!(d >= 0 && d < 1)) rangeError('number in [0, 1)', name, describeGlue(a[i]));
  return d;
}
function positive(a: Args, i: number, name: string, what = 'finite number > 0'): number {
  const d = num(a, i, name);
  if (!(d > 0)) rangeError(what, name, describeGlue(a[i]));
  return d;
}
function arity(a: Args, want: number, fn: string): void {
  if (a.length < want) throw new TypeError(`Expected ${want} arguments for ${fn} but received ${a.length}`);
}
function kind(a: Args): void {
  const v = a[0];
  if (typeof v === 'string') {
    if (KINDS.includes(v)) return;
    throw new TypeError(`Expected ${KIND_LIST} for kind but received '${v.length > 40 ? `${v.slice(0, 40)}...` : v}'`);
  }
  typeError(KIND_LIST, 'kind', v);
}
function count(x: number, y: number, z: number, what: string): number {
  if (x * y * z > 4294967296) rangeError('at most 2^32 elements', what, `${x} x ${y} x ${z}`);
  return x * y * z;
}
function labels(a: Args, i: number, n: number, k: number): void {
  const v = a[i];
  if (!(v instanceof Int32Array || v instanceof Uint8Array)) typeError('Int32Array or Uint8Array', 'labels', v);
  const l = v as Int32Array | Uint8Array;
  if (isDetached(l)) rangeError('an attached Int32Array or Uint8Array', 'labels', 'a detached buffer');
  if (l.length < n) rangeError(`Int32Array or Uint8Array of length >= ${n}`, 'labels', describeGlue(v));
  for (let r = 0; r < n; r++) if (l[r] < 0 || l[r] >= k) rangeError(`integer in [0, ${k})`, `labels[${r}]`, String(l[r]));
}
function nci(a: Args, i: number): [number, number, number, number] {
  const n = size(a, i, 'n'), c = size(a, i + 1, 'c'), inner = size(a, i + 2, 'inner');
  return [n, c, inner, n * c * inner];
}
/** n, c, hw at i, i+1, i+2 (global pooling): [n·c, n·c·hw]. */
function planesHw(a: Args, i: number): [number, number] {
  const n = size(a, i, 'n'), c = size(a, i + 1, 'c'), hw = size(a, i + 2, 'hw');
  return [n * c, count(n, c, hw, 'n x c x hw')];
}
function groups(a: Args, i: number, c: number): number {
  const g = size(a, i, 'groups');
  if (c % g !== 0) rangeError(`a divisor of c = ${c}`, 'groups', describeGlue(a[i]));
  return g;
}
function eps(a: Args, i: number): void {
  positive(a, i, 'eps', 'number > 0');
}
function trainingCount(n: number, inner: number): void {
  if (n * inner < 2) rangeError('more than 1 value per channel in training mode', 'n·inner', String(n * inner));
}

function paramsObject(a: Args, i: number, what: string): Record<string, unknown> {
  const v = a[i];
  if (v === null || typeof v !== 'object' || Array.isArray(v) || ArrayBuffer.isView(v)) typeError(`${what} object`, 'p', v);
  return v as Record<string, unknown>;
}
function prop(o: Record<string, unknown>, key: string, min: number): number {
  return size([o[key]], 0, key, min);
}
const pair = (x: number, y: number): string => `[${x}, ${y}]`;
const outSize = (s: number, k: number, st: number, p: number, d: number): number => {
  const num_ = s + 2 * p - d * (k - 1) - 1;
  return num_ < 0 ? 0 : Math.floor(num_ / st) + 1;
};
function checkCount(c: number, geom: string): void {
  if (c > 4503599627370496) rangeError('a shape with fewer than 2^52 elements', 'p', geom);
}

type Conv = { n: number; cIn: number; h: number; w: number; cOut: number; kH: number; kW: number; oh: number; ow: number; sW: number };
function convParams(a: Args, i: number): Conv {
  const o = paramsObject(a, i, 'Conv2dParams');
  const [n, cIn, h, w, cOut, kH, kW, sH, sW] = ['n', 'cIn', 'h', 'w', 'cOut', 'kH', 'kW', 'strideH', 'strideW'].map((k) => prop(o, k, 1));
  const [pH, pW] = ['padH', 'padW'].map((k) => prop(o, k, 0));
  const [dH, dW] = ['dilationH', 'dilationW'].map((k) => prop(o, k, 1));
  const [oh, ow] = ['outH', 'outW'].map((k) => prop(o, k, 0));
  const geom = `input [${n}, ${cIn}, ${h}, ${w}] and weight [${cOut}, ${cIn}, ${kH}, ${kW}] with stride ${pair(sH, sW)}, padding ${pair(pH, pW)}, dilation ${pair(dH, dW)}`;
  const eh = outSize(h, kH, sH, pH, dH), ew = outSize(w, kW, sW, pW, dW);
  if (eh <= 0 || ew <= 0) rangeError('a non-empty convolution output', 'p', geom);
  if (oh !== eh) rangeError(`outH ${eh} (${geom})`, 'outH', String(oh));
  if (ow !== ew) rangeError(`outW ${ew} (${geom})`, 'outW', String(ow));
  checkCount(n * cIn * h * w, geom);
  checkCount(n * cOut * oh * ow, geom);
  checkCount(cIn * kH * kW * oh * ow * 2, geom);
  checkCount(cOut * cIn * kH * kW * 2, geom);
  return { n, cIn, h, w, cOut, kH, kW, oh, ow, sW };
}
type Pool = { nc: number; hw: number; out: number };
function poolParams(a: Args, i: number): Pool {
  const o = paramsObject(a, i, 'Pool2dParams');
  const [n, c, h, w, kH, kW, sH, sW] = ['n', 'c', 'h', 'w', 'kH', 'kW', 'strideH', 'strideW'].map((k) => prop(o, k, 1));
  const [pH, pW, oh, ow] = ['padH', 'padW', 'outH', 'outW'].map((k) => prop(o, k, 0));
  if (pH > Math.floor(kH / 2)) rangeError(`padH <= kH / 2 (kH ${kH})`, 'padH', String(pH));
  if (pW > Math.floor(kW / 2)) rangeError(`padW <= kW / 2 (kW ${kW})`, 'padW', String(pW));
  const geom = `input [${n}, ${c}, ${h}, ${w}] with window ${pair(kH, kW)}, stride ${pair(sH, sW)}, padding ${pair(pH, pW)}`;
  const eh = outSize(h, kH, sH, pH, 1), ew = outSize(w, kW, sW, pW, 1);
  if (eh <= 0 || ew <= 0) rangeError('a non-empty pooling output', 'p', geom);
  // ceilMode may add one output row or column (PyTorch's rule); the buffers are checked against it
  const extra = o.ceilMode === true ? 1 : 0;
  if (oh < eh || oh > eh + extra) rangeError(`outH ${eh} (${geom})`, 'outH', String(oh));
  if (ow < ew || ow > ew + extra) rangeError(`outW ${ew} (${geom})`, 'outW', String(ow));
  if (h * w > 2147483647) rangeError('an input plane of fewer than 2^31 elements (argmax is Int32)', 'p', geom);
  checkCount(n * c * h * w, geom);
  return { nc: n * c, hw: h * w, out: n * c * oh * ow };
}
/** The glue's checked product of sizes (an element count): at most 2^32, each step checked before it multiplies. */
function mul(name: string, dims: number[]): number {
  let acc = 1;
  for (const d of dims) {
    if (d < 0 || (d !== 0 && acc > Math.floor(4294967296 / d))) rangeError('at most 2^32 elements', name, dims.join(' x '));
    acc *= d;
  }
  if (acc > 4294967296) rangeError('at most 2^32 elements', name, dims.join(' x '));
  return acc;
}
function f64(a: Args, i: number, name: string, min: number, optional: boolean): boolean {
  const v = a[i];
  if (optional && (v === null || v === undefined)) return false;
  if (!(v instanceof Float64Array)) typeError(optional ? 'Float64Array or null' : 'Float64Array', name, v);
  if (isDetached(v as Float64Array)) rangeError('an attached Float64Array', name, 'a detached buffer');
  if ((v as Float64Array).length < min) rangeError(`Float64Array of length >= ${min}`, name, describeGlue(v));
  return true;
}
/** Slots of tensorStats' out (native/kernels/stats.h). */
const STAT_SLOTS = 8;

type Grouped = { cOut: number; xs: number; ys: number; ws: number };
function groupedParams(a: Args, i: number): Grouped {
  const o = paramsObject(a, i, 'GroupedConv2dParams');
  const [n, cIn, h, w, cOut, kH, kW, sH, sW] = ['n', 'cIn', 'h', 'w', 'cOut', 'kH', 'kW', 'strideH', 'strideW'].map((k) => prop(o, k, 1));
  const [pH, pW] = ['padH', 'padW'].map((k) => prop(o, k, 0));
  const [dH, dW] = ['dilationH', 'dilationW'].map((k) => prop(o, k, 1));
  const [oh, ow] = ['outH', 'outW'].map((k) => prop(o, k, 0));
  const g = prop(o, 'groups', 1);
  if (cIn % g !== 0 || cOut % g !== 0) rangeError(`groups that divide cIn ${cIn} and cOut ${cOut}`, 'groups', String(g));
  const geom = `input [${n}, ${cIn}, ${h}, ${w}] and weight [${cOut}, ${cIn / g}, ${kH}, ${kW}] with stride ${pair(sH, sW)}, padding ${pair(pH, pW)}, dilation ${pair(dH, dW)}`;
  const eh = outSize(h, kH, sH, pH, dH), ew = outSize(w, kW, sW, pW, dW);
  if (eh <= 0 || ew <= 0) rangeError('a non-empty convolution output', 'p', geom);
  if (oh !== eh) rangeError(`outH ${eh} (${geom})`, 'outH', String(oh));
  if (ow !== ew) rangeError(`outW ${ew} (${geom})`, 'outW', String(ow));
  return { cOut, xs: mul('x', [n, cIn, h, w]), ys: mul('y', [n, cOut, oh, ow]), ws: mul('w', [cOut, cIn / g, kH, kW]) };
}
// The js kernels need what conv2dWorkspaceSize reports (0 for a 1x1 convolution that skips im2col).
const ws = (_p: Conv, a: Args, i: number): number => conv2dWorkspaceSize(a[i] as Conv2dParams);

/** One checker per kernel, in the order of the glue's own checks. */
export const CHECKS: Record<string, (a: Args) => void> = {
  gemm(a) {
    bool(a, 0, 'transA'); bool(a, 1, 'transB');
    const m = size(a, 2, 'm'), n = size(a, 3, 'n'), k = size(a, 4, 'k');
    num(a, 5, 'alpha'); f32(a, 6, 'a', m * k); f32(a, 7, 'b', k * n); num(a, 8, 'beta'); f32(a, 9, 'c', m * n);
  },
  activation(a) {
    kind(a);
    const n = size(a, 3, 'n', 0);
    f32(a, 1, 'y', n); f32(a, 2, 'x', n); num(a, 4, 'alpha');
  },
  activationBackward(a) {
    kind(a);
    const n = size(a, 5, 'n', 0);
    f32(a, 1, 'dx', n); f32(a, 2, 'x', n); f32(a, 3, 'y', n); f32(a, 4, 'dy', n); num(a, 6, 'alpha');
  },
  maxoutForward(a) {
    const rows = size(a, 3, 'rows', 0), units = size(a, 4, 'units', 1), pieces = size(a, 5, 'pieces', 1);
    const m = count(rows, units, 1, 'rows x units'), mz = count(rows, units, pieces, 'z');
    f32(a, 0, 'y', m); i32(a, 1, 'argmax', m); f32(a, 2, 'z', mz);
  },
  maxoutBackward(a) {
    const rows = size(a, 3, 'rows', 0), units = size(a, 4, 'units', 1), pieces = size(a, 5, 'pieces', 1);
    const m = count(rows, units, 1, 'rows x units'), mz = count(rows, units, pieces, 'dz');
    f32(a, 0, 'dz', mz); i32(a, 1, 'argmax', m); f32(a, 2, 'dy', m);
  },
  biasAdd(a) {
    const outer = size(a, 2, 'outer', 0), channels = size(a, 3, 'channels', 1), inner = size(a, 4, 'inner', 1);
    f32(a, 0, 'y', count(outer, channels, inner, 'y')); f32(a, 1, 'bias', channels);
  },
  biasBackward(a) {
    const outer = size(a, 2, 'outer', 0), channels = size(a, 3, 'channels', 1), inner = size(a, 4, 'inner', 1);
    f32(a, 0, 'db', channels); f32(a, 1, 'dy', count(outer, channels, inner, 'dy'));
  },
  copyBuffer(a) {
    const n = size(a, 2, 'n', 0);
    f32(a, 0, 'dst', n); f32(a, 1, 'src', n);
  },
  softmaxCrossEntropy(a) {
    const n = size(a, 3, 'n', 1), k = size(a, 4, 'k', 1);
    if (n * k > 4294967296) rangeError('at most 2^32 elements', 'n x k', `${n} x ${k}`);
    f32(a, 0, 'probs', n * k); f32(a, 1, 'logits', n * k); labels(a, 2, n, k);
  },
  softmaxCrossEntropyBackward(a) {
    const n = size(a, 3, 'n', 1), k = size(a, 4, 'k', 1);
    if (n * k > 4294967296) rangeError('at most 2^32 elements', 'n x k', `${n} x ${k}`);
    f32(a, 0, 'dlogits', n * k); f32(a, 1, 'probs', n * k); labels(a, 2, n, k); num(a, 5, 'scale');
  },
  conv2dWorkspaceSize(a) {
    convParams(a, 0);
  },
  im2col(a) {
    const p = convParams(a, 2);
    f32(a, 0, 'cols', p.cIn * p.kH * p.kW * p.oh * p.ow); f32(a, 1, 'x', p.cIn * p.h * p.w);
  },
  col2im(a) {
    const p = convParams(a, 2);
    f32(a, 0, 'dx', p.cIn * p.h * p.w); f32(a, 1, 'cols', p.cIn * p.kH * p.kW * p.oh * p.ow);
  },
  conv2dForward(a) {
    const p = convParams(a, 5);
    const pool = a.length > 7 && a[7] !== undefined && bool(a, 7, 'pool');
    if (pool && p.sW !== 1) rangeError('strideW 1 with pool', 'p', String(p.sW));
    if (pool && (p.oh < 2 || p.ow < 2)) rangeError('an output of at least 2 x 2 with pool', 'p', pair(p.oh, p.ow));
    f32(a, 0, 'y', pool ? p.n * p.cOut * Math.floor(p.oh / 2) * Math.floor(p.ow / 2) : p.n * p.cOut * p.oh * p.ow); f32(a, 1, 'x', p.n * p.cIn * p.h * p.w);
    f32(a, 2, 'w', p.cOut * p.cIn * p.kH * p.kW); f32Opt(a, 3, 'bias', p.cOut); f32(a, 4, 'workspace', ws(p, a, 5));
  },
  conv2dBackward(a) {
    const p = convParams(a, 7);
    f32Opt(a, 0, 'dx', p.n * p.cIn * p.h * p.w); f32(a, 1, 'dw', p.cOut * p.cIn * p.kH * p.kW); f32Opt(a, 2, 'db', p.cOut);
    f32(a, 3, 'x', p.n * p.cIn * p.h * p.w); f32(a, 4, 'w', p.cOut * p.cIn * p.kH * p.kW);
    f32(a, 5, 'dy', p.n * p.cOut * p.oh * p.ow); f32(a, 6, 'workspace', ws(p, a, 7));
  },
  maxPool2dForward(a) {
    const p = poolParams(a, 3);
    f32(a, 0, 'y', p.out); i32(a, 1, 'argmax', p.out); f32(a, 2, 'x', p.nc * p.hw);
  },
  maxPool2dBackward(a) {
    const p = poolParams(a, 3);
    f32(a, 0, 'dx', p.nc * p.hw); i32(a, 1, 'argmax', p.out); f32(a, 2, 'dy', p.out);
    const am = a[1] as Int32Array;
    for (let i = 0; i < p.out; i++) if (am[i] < 0 || am[i] >= p.hw) rangeError(`argmax entries in [0, ${p.hw})`, 'argmax', 'an entry outside that range');
  },
  avgPool2dForward(a) {
    const p = poolParams(a, 2);
    f32(a, 0, 'y', p.out); f32(a, 1, 'x', p.nc * p.hw);
  },
  avgPool2dBackward(a) {
    const p = poolParams(a, 2);
    f32(a, 0, 'dx', p.nc * p.hw); f32(a, 1, 'dy', p.out);
  },
  groupedConv2dForward(a) {
    const p = groupedParams(a, 4);
    f32(a, 0, 'y', p.ys); f32(a, 1, 'x', p.xs); f32(a, 2, 'w', p.ws); f32Opt(a, 3, 'bias', p.cOut);
  },
  groupedConv2dBackward(a) {
    const p = groupedParams(a, 6);
    f32Opt(a, 0, 'dx', p.xs); f32(a, 1, 'dw', p.ws); f32Opt(a, 2, 'db', p.cOut);
    f32(a, 3, 'x', p.xs); f32(a, 4, 'w', p.ws); f32(a, 5, 'dy', p.ys);
  },
  globalAvgPoolForward(a) {
    const [planes, total] = planesHw(a, 2);
    f32(a, 0, 'y', planes); f32(a, 1, 'x', total);
  },
  globalAvgPoolBackward(a) {
    const [planes, total] = planesHw(a, 2);
    f32(a, 0, 'dx', total); f32(a, 1, 'dy', planes);
  },
  batchNormForward(a) {
    const [n, c, inner, total] = nci(a, 7);
    eps(a, 10); trainingCount(n, inner);
    f32(a, 0, 'y', total); f32(a, 1, 'mean', c); f32(a, 2, 'variance', c); f32(a, 3, 'rstd', c); f32(a, 4, 'x', total);
    f32Opt(a, 5, 'gamma', c); f32Opt(a, 6, 'beta', c);
  },
  batchNormInference(a) {
    const [, c, , total] = nci(a, 6);
    eps(a, 9);
    f32(a, 0, 'y', total); f32(a, 1, 'x', total); f32(a, 2, 'runningMean', c); f32(a, 3, 'runningVar', c);
    f32Opt(a, 4, 'gamma', c); f32Opt(a, 5, 'beta', c);
  },
  batchNormBackward(a) {
    const [n, c, inner, total] = nci(a, 8);
    trainingCount(n, inner);
    f32(a, 0, 'dx', total); f32Opt(a, 1, 'dgamma', c); f32Opt(a, 2, 'dbeta', c); f32(a, 3, 'dy', total); f32(a, 4, 'x', total);
    f32(a, 5, 'mean', c); f32(a, 6, 'rstd', c); f32Opt(a, 7, 'gamma', c);
  },
  groupNormForward(a) {
    const [n, c, , total] = nci(a, 6);
    const g = groups(a, 9, c);
    eps(a, 10);
    f32(a, 0, 'y', total); f32(a, 1, 'mean', n * g); f32(a, 2, 'rstd', n * g); f32(a, 3, 'x', total);
    f32Opt(a, 4, 'gamma', c); f32Opt(a, 5, 'beta', c);
  },
  groupNormBackward(a) {
    const [n, c, , total] = nci(a, 8);
    const g = groups(a, 11, c);
    f32(a, 0, 'dx', total); f32Opt(a, 1, 'dgamma', c); f32Opt(a, 2, 'dbeta', c); f32(a, 3, 'dy', total); f32(a, 4, 'x', total);
    f32(a, 5, 'mean', n * g); f32(a, 6, 'rstd', n * g); f32Opt(a, 7, 'gamma', c);
  },
  sgdStep(a) {
    arity(a, 10, 'sgdStep');
    const n = size(a, 3, 'n', 0);
    f32(a, 0, 'param', n); f32(a, 1, 'grad', n);
    nonneg(a, 4, 'lr');
    const momentum = nonneg(a, 5, 'momentum');
    const dampening = num(a, 6, 'dampening');
    nonneg(a, 7, 'weightDecay');
    const nesterov = bool(a, 8, 'nesterov');
    bool(a, 9, 'firstStep');
    f32(a, 2, 'momentumBuf', momentum !== 0 ? n : 0);
    if (nesterov && (momentum <= 0 || dampening !== 0)) {
      rangeError('momentum > 0 and dampening 0', 'nesterov', `momentum ${describeGlue(a[5])} and dampening ${describeGlue(a[6])}`);
    }
  },
  adamStep(a) {
    arity(a, 12, 'adamStep');
    const n = size(a, 4, 'n', 0);
    f32(a, 0, 'param', n); f32(a, 1, 'grad', n); f32(a, 2, 'm', n); f32(a, 3, 'v', n);
    nonneg(a, 5, 'lr'); unit(a, 6, 'beta1'); unit(a, 7, 'beta2'); positive(a, 8, 'eps'); nonneg(a, 9, 'weightDecay');
    bool(a, 10, 'decoupled'); size(a, 11, 'step', 1);
  },
  rmspropStep(a) {
    arity(a, 10, 'rmspropStep');
    const n = size(a, 4, 'n', 0);
    f32(a, 0, 'param', n); f32(a, 1, 'grad', n); f32(a, 2, 'sq', n);
    nonneg(a, 5, 'lr');
    const alpha = num(a, 6, 'alpha');
    if (!(alpha >= 0 && alpha <= 1)) rangeError('number between 0 and 1', 'alpha', describeGlue(a[6]));
    positive(a, 7, 'eps'); nonneg(a, 8, 'weightDecay');
    const momentum = nonneg(a, 9, 'momentum');
    f32(a, 3, 'momentumBuf', momentum > 0 ? n : 0);
  },
  sgdStepGuarded(a) {
    arity(a, 12, 'sgdStepGuarded');
    const n = size(a, 5, 'n', 0);
    f32(a, 0, 'param', n); f32(a, 1, 'grad', n); f32(a, 3, 'paramBackup', n);
    nonneg(a, 6, 'lr');
    const momentum = nonneg(a, 7, 'momentum');
    const dampening = num(a, 8, 'dampening');
    nonneg(a, 9, 'weightDecay');
    const nesterov = bool(a, 10, 'nesterov');
    bool(a, 11, 'firstStep');
    const nb = momentum !== 0 ? n : 0;
    f32(a, 2, 'momentumBuf', nb); f32(a, 4, 'momentumBufBackup', nb);
    if (nesterov && (momentum <= 0 || dampening !== 0)) {
      rangeError('momentum > 0 and dampening 0', 'nesterov', `momentum ${describeGlue(a[7])} and dampening ${describeGlue(a[8])}`);
    }
  },
  adamStepGuarded(a) {
    arity(a, 15, 'adamStepGuarded');
    const n = size(a, 7, 'n', 0);
    f32(a, 0, 'param', n); f32(a, 1, 'grad', n); f32(a, 2, 'm', n); f32(a, 3, 'v', n);
    f32(a, 4, 'paramBackup', n); f32(a, 5, 'mBackup', n); f32(a, 6, 'vBackup', n);
    nonneg(a, 8, 'lr'); unit(a, 9, 'beta1'); unit(a, 10, 'beta2'); positive(a, 11, 'eps'); nonneg(a, 12, 'weightDecay');
    bool(a, 13, 'decoupled'); size(a, 14, 'step', 1);
  },
  rmspropStepGuarded(a) {
    arity(a, 13, 'rmspropStepGuarded');
    const n = size(a, 7, 'n', 0);
    f32(a, 0, 'param', n); f32(a, 1, 'grad', n); f32(a, 2, 'sq', n); f32(a, 4, 'paramBackup', n); f32(a, 5, 'sqBackup', n);
    nonneg(a, 8, 'lr');
    const alpha = num(a, 9, 'alpha');
    if (!(alpha >= 0 && alpha <= 1)) rangeError('number between 0 and 1', 'alpha', describeGlue(a[9]));
    positive(a, 10, 'eps'); nonneg(a, 11, 'weightDecay');
    const momentum = nonneg(a, 12, 'momentum');
    const nb = momentum > 0 ? n : 0;
    f32(a, 3, 'momentumBuf', nb); f32(a, 6, 'momentumBufBackup', nb);
  },
  tensorStats(a) {
    arity(a, 10, 'tensorStats');
    const outer = size(a, 4, 'outer', 0), units = size(a, 5, 'units', 1), inner = size(a, 6, 'inner', 1);
    const lo = num(a, 7, 'lo'), hi = num(a, 8, 'hi');
    const bins = size(a, 9, 'bins', 0);
    if (bins > 0 && !(hi > lo)) rangeError(`hi > lo = ${describeGlue(a[7])}`, 'hi', describeGlue(a[8]));
    const n = mul('outer x units x inner', [outer, units, inner]);
    f64(a, 0, 'out', STAT_SLOTS, false);
    if (!f64(a, 1, 'hist', bins, true) && bins > 0) typeError('Float64Array when bins > 0', 'hist', a[1]);
    if (a[2] !== null && a[2] !== undefined) i32(a, 2, 'unitNonzero', units);
    f32(a, 3, 'x', n);
  },
  paramStats(a) {
    arity(a, 5, 'paramStats');
    const n = size(a, 4, 'n', 0);
    f64(a, 0, 'out', 3, false); f32(a, 1, 'w', n); f32Opt(a, 2, 'prev', n); f32Opt(a, 3, 'g', n);
  },
};

/** Wraps every kernel of `kernels` that has a checker so its arguments are checked first. */
export function withChecks<T extends Record<string, unknown>>(kernels: T): T {
  const out: Record<string, unknown> = { ...kernels };
  for (const [name, check] of Object.entries(CHECKS)) {
    const fn = kernels[name];
    if (typeof fn !== 'function') continue;
    out[name] = (...args: unknown[]) => {
      check(args);
      return (fn as (...a: unknown[]) => unknown)(...args);
    };
  }
  return out as T;
}
