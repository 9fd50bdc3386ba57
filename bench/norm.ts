// Normalization benchmarks: BatchNorm2d training forward and forward + backward (N=32, C=64, 32×32),
// BatchNorm1d (128, 256), GroupNorm (8 groups) and LayerNorm over (C, H, W) on the 4-D shape.
// Native with 1 and 2 threads, js, tfjs cpu / wasm (compositions of tf ops, tf.grads for backward),
// PyTorch through bench/py/norm.py, and a memcpy of the same size as the bandwidth yardstick.
import { jsBackend, nativeBackend } from '../lib/testing';
import type { Backend } from '../lib/backend/types';
import { loadTf, pythonHas, runPython, type Tf } from './peers';
import * as os from 'os';
import { table, time, timeAsync, fmt } from './util';

interface Case {
  name: string;
  kind: 'batch' | 'group' | 'layer';
  shape: number[];
  /** kernel view: n, c, inner, groups */
  n: number;
  c: number;
  inner: number;
  groups: number;
}

const cases: Case[] = [
  { name: 'BatchNorm2d (32, 64, 32, 32)', kind: 'batch', shape: [32, 64, 32, 32], n: 32, c: 64, inner: 1024, groups: 1 },
  { name: 'BatchNorm1d (128, 256)', kind: 'batch', shape: [128, 256], n: 128, c: 256, inner: 1, groups: 1 },
  { name: 'GroupNorm G=8 (32, 64, 32, 32)', kind: 'group', shape: [32, 64, 32, 32], n: 32, c: 64, inner: 1024, groups: 8 },
  { name: 'LayerNorm over C,H,W (32, 64, 32, 32)', kind: 'layer', shape: [32, 64, 32, 32], n: 32, c: 65536, inner: 1, groups: 1 },
];

function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 4294967296 - 0.5;
  }
  return a;
}

interface Buffers {
  x: Float32Array;
  dy: Float32Array;
  y: Float32Array;
  dx: Float32Array;
  gamma: Float32Array;
  beta: Float32Array;
  dgamma: Float32Array;
  dbeta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  rstd: Float32Array;
}

function buffers(k: Case): Buffers {
  const size = k.n * k.c * k.inner;
  const stats = k.kind === 'batch' ? k.c : k.n * k.groups;
  return {
    x: rand(size, 1),
    dy: rand(size, 2),
    y: new Float32Array(size),
    dx: new Float32Array(size),
    gamma: Float32Array.from(rand(k.c, 3), (v) => 1 + v),
    beta: rand(k.c, 4),
    dgamma: new Float32Array(k.c),
    dbeta: new Float32Array(k.c),
    mean: new Float32Array(stats),
    variance: new Float32Array(stats),
    rstd: new Float32Array(stats),
  };
}

function forward(b: Backend, k: Case, u: Buffers): void {
  if (k.kind === 'batch') {
    b.batchNormForward(u.y, u.mean, u.variance, u.rstd, u.x, u.gamma, u.beta, k.n, k.c, k.inner, 1e-5);
  } else {
    b.groupNormForward(u.y, u.mean, u.rstd, u.x, u.gamma, u.beta, k.n, k.c, k.inner, k.groups, 1e-5);
  }
}

function forwardBackward(b: Backend, k: Case, u: Buffers): void {
  forward(b, k, u);
  if (k.kind === 'batch') {
    b.batchNormBackward(u.dx, u.dgamma, u.dbeta, u.dy, u.x, u.mean, u.rstd, u.gamma, k.n, k.c, k.inner);
  } else {
    b.groupNormBackward(u.dx, u.dgamma, u.dbeta, u.dy, u.x, u.mean, u.rstd, u.gamma, k.n, k.c, k.inner, k.groups);
  }
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** tfjs as a composition of ops: moments, sub, mul, rsqrt, add; tf.grads for the backward. */
function tfFns(tf: Tf, k: Case, u: Buffers) {
  const x = tf.tensor(u.x, k.shape);
  const dy = tf.tensor(u.dy, k.shape);
  let pshape: number[];
  let axes: number[];
  if (k.kind === 'batch') {
    pshape = k.shape.length === 4 ? [1, k.c, 1, 1] : [1, k.c];
    axes = k.shape.length === 4 ? [0, 2, 3] : [0];
  } else if (k.kind === 'layer') {
    pshape = k.shape.slice(1);
    axes = [1, 2, 3];
  } else {
    pshape = [1, k.c, 1, 1];
    axes = [2, 3, 4];
  }
  const gamma = tf.tensor(u.gamma, pshape);
  const beta = tf.tensor(u.beta, pshape);
  const f = (xx: any, g: any, bb: any) => {
    let xs = xx;
    if (k.kind === 'group') xs = xx.reshape([k.n, k.groups, k.c / k.groups, k.shape[2], k.shape[3]]);
    const { mean, variance } = tf.moments(xs, axes, true);
    let xh = xs.sub(mean).mul(tf.rsqrt(variance.add(1e-5)));
    if (k.kind === 'group') xh = xh.reshape(k.shape);
    return xh.mul(g).add(bb);
  };
  const grads = tf.grads((a: any, g: any, bb: any) => f(a, g, bb));
  return {
    fwd: async () => {
      const y = tf.tidy(() => f(x, gamma, beta));
      await y.data();
      y.dispose();
    },
    fwdBwd: async () => {
      const gs = tf.tidy(() => grads([x, gamma, beta], dy));
      await gs[0].data();
      tf.dispose(gs);
    },
    check: () => tf.tidy(() => f(x, gamma, beta).dataSync() as Float32Array),
    dispose: () => tf.dispose([x, dy, gamma, beta]),
  };
}

export async function run(): Promise<string> {
  const native = nativeBackend();
  const js = jsBackend();
  const threadsBefore = native.getNumThreads();
  const out: string[] = [];

  // --- check first: native and js agree on every case
  for (const k of cases) {
    const a = buffers(k);
    const b = buffers(k);
    forwardBackward(native, k, a);
    forwardBackward(js, k, b);
    const d = Math.max(maxDiff(a.y, b.y), maxDiff(a.dx, b.dx), maxDiff(a.dgamma, b.dgamma) / 100);
    if (!(d < 1e-3)) throw new Error(`norm bench: native and js disagree on ${k.name} (maxdiff ${d})`);
  }

  const torchOk = pythonHas('torch');
  const py1 = torchOk ? runPython('norm.py', { cases: cases.map((k) => ({ ...k })), minMs: 40 }, 1) : null;
  const py2 = torchOk ? runPython('norm.py', { cases: cases.map((k) => ({ ...k })), minMs: 40 }, 2) : null;
  const tfs: [string, Tf | null][] = [];
  for (const be of ['wasm', 'cpu'] as const) tfs.push([`tfjs-${be}`, await loadTf(be)]);

  const rows: (string | number)[][] = [];
  const bw: (string | number)[][] = [];
  for (const k of cases) {
    const u = buffers(k);
    const size = k.n * k.c * k.inner;
    const bytes = size * 4;
    const t: Record<string, { fwd: number; fwdBwd: number }> = {};
    for (const nt of [1, 2]) {
      native.setNumThreads(nt);
      t[`native ${nt}t`] = {
        fwd: time(() => forward(native, k, u)).ms,
        fwdBwd: time(() => forwardBackward(native, k, u)).ms,
      };
    }
    native.setNumThreads(threadsBefore);
    console.error(`${k.name} native: ${JSON.stringify(t)}`);
    t.js = { fwd: time(() => forward(js, k, u), { repeats: 5 }).ms, fwdBwd: time(() => forwardBackward(js, k, u), { repeats: 5 }).ms };
    for (const [name, tf] of tfs) {
      if (!tf) continue;
      const f = tfFns(tf, k, u);
      forward(js, k, u);
      const d = maxDiff(f.check(), u.y);
      if (!(d < 1e-3)) throw new Error(`norm bench: ${name} disagrees on ${k.name} (maxdiff ${d})`);
      t[name] = {
        fwd: (await timeAsync(f.fwd, { repeats: 1, minMs: 0, warmup: 1 })).ms,
        fwdBwd: (await timeAsync(f.fwdBwd, { repeats: 1, minMs: 0, warmup: 1 })).ms,
      };
      f.dispose();
      console.error(`${k.name} ${name}: ${fmt(t[name].fwd)} / ${fmt(t[name].fwdBwd)} ms`);
    }
    if (py1?.[k.name]) t['PyTorch 1t'] = py1[k.name];
    if (py2?.[k.name]) t['PyTorch 2t'] = py2[k.name];
    const base = t['native 1t'];
    for (const [name, v] of Object.entries(t)) {
      rows.push([k.name, name, v.fwd, v.fwdBwd, `${fmt(v.fwdBwd / base.fwdBwd)}×`]);
    }
    // bandwidth: forward reads x once (the normalize pass re-reads a channel or group from cache) and
    // writes y; backward reads dy and x once (the dx pass re-reads them from cache) and writes dx.
    const dst = new Float32Array(size);
    const memcpy = time(() => dst.set(u.x)).ms;
    const gbs = (b: number, ms: number) => b / ms / 1e6;
    const fwdBytes = 2 * bytes;
    const bwdBytes = 3 * bytes;
    for (const nt of [1, 2]) {
      const v = t[`native ${nt}t`];
      bw.push([k.name, `native ${nt}t`, fmt(fwdBytes / 1e6), gbs(fwdBytes, v.fwd),
        gbs(fwdBytes + bwdBytes, v.fwdBwd), gbs(2 * bytes, memcpy)]);
    }
  }
  out.push(table('Normalization, training mode: ms per call (medians)', ['shape', 'impl', 'forward', 'fwd + bwd', 'fwd+bwd vs native 1t'], rows));
  out.push(table('Native bandwidth (forward moves 2·size bytes, fwd+bwd 5·size; memcpy moves 2·size)',
    ['shape', 'impl', 'fwd MB', 'fwd GB/s', 'fwd+bwd GB/s', 'memcpy GB/s'], bw));
  if (!torchOk) out.push('\nPyTorch not installed for /usr/bin/python3: skipped.');
  out.push(`\nLoad average during the run: ${os.loadavg().map((v) => v.toFixed(1)).join(', ')} on ${os.cpus().length} CPUs ` +
    '(OpenMP threads spin at barriers: 2-thread timings collapse when the cores are shared).');
  return out.join('\n');
}
