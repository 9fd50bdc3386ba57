// Pooling benchmark: MaxPool2d 2×2 stride 2 forward and backward against a memcpy measured in the
// same run (the native copyBuffer over the same threads). Bandwidth counts the bytes each kernel must
// move: forward reads x and writes y and the Int32 argmax; backward reads dy and argmax and writes
// dx; the copy reads and writes the input's size. Results are checked against the js kernel first.
// AvgPool2d (2×2 / 2 and 3×3 / 1 padding 1): the vector kernels against the scalar window loops
// (poolReference) and the same copy, forward and backward, results checked against each other first.
// Global average pooling: its own kernel against the average-pooling kernel over one whole-plane
// window (the path the layers took before), forward and backward.
import * as os from 'os';
import { jsBackend, nativeAddon, nativeBackend } from '../lib/testing';
import type { Pool2dParams } from '../lib/backend/types';
import { fmt, table, time } from './util';

const SHAPES: [string, number, number, number, number][] = [
  ['[64, 16, 28, 28] (MNIST conv1 output)', 64, 16, 28, 28],
  ['[128, 64, 32, 32] (CIFAR block 1)', 128, 64, 32, 32],
];

export async function run(): Promise<string> {
  const nat = nativeBackend();
  const addon = nativeAddon();
  const jsb = jsBackend();
  const saved = nat.getNumThreads();
  const rows: (string | number)[][] = [];
  for (const [name, n, c, h, w] of SHAPES) {
    const p: Pool2dParams = { n, c, h, w, kH: 2, kW: 2, strideH: 2, strideW: 2, padH: 0, padW: 0, outH: h / 2, outW: w / 2 };
    const nin = n * c * h * w, nout = nin / 4;
    const x = new Float32Array(nin).map((_, i) => Math.sin(i * 0.37));
    const y = new Float32Array(nout), am = new Int32Array(nout), dx = new Float32Array(nin), dy = new Float32Array(nout).fill(0.5);
    const copy = new Float32Array(nin);
    // check against js once
    const yj = new Float32Array(nout), aj = new Int32Array(nout);
    jsb.maxPool2dForward(yj, aj, x, p);
    nat.maxPool2dForward(y, am, x, p);
    if (!am.every((v, i) => v === aj[i])) throw new Error(`pool bench: native argmax differs from js for ${name}`);
    for (const t of [1, 2]) {
      nat.setNumThreads(t);
      const fwd = time(() => nat.maxPool2dForward(y, am, x, p)).ms;
      const bwd = time(() => nat.maxPool2dBackward(dx, am, dy, p)).ms;
      const cp = time(() => addon.copyBuffer(copy, x, nin)).ms;
      const gbs = (bytes: number, ms: number) => bytes / ms / 1e6;
      const bwCopy = gbs(8 * nin, cp), bwF = gbs(4 * nin + 8 * nout, fwd), bwB = gbs(8 * nout + 4 * nin, bwd);
      rows.push([name, t, fmt(fwd), fmt(bwF), `${((100 * bwF) / bwCopy).toFixed(0)}%`, fmt(bwd), fmt(bwB), `${((100 * bwB) / bwCopy).toFixed(0)}%`, fmt(cp), fmt(bwCopy)]);
    }
  }
  const avgRows = avgPoolRows(nat, addon);
  const globalRows = globalPool(nat);
  nat.setNumThreads(saved);
  return [
    table('MaxPool2d 2×2 stride 2 (SIMD ' + nat.capabilities().simd + ') against memcpy of the input', [
      'input', 'threads', 'fwd ms', 'fwd GB/s', 'of copy', 'bwd ms', 'bwd GB/s', 'of copy', 'copy ms', 'copy GB/s',
    ], rows),
    table('AvgPool2d: vector kernels against the scalar window loops (ms, median; of copy = bandwidth as a share of memcpy)', [
      'input', 'window', 'threads', 'fwd ms', 'fwd scalar ms', 'fwd of copy', 'bwd ms', 'bwd scalar ms', 'bwd of copy',
    ], avgRows),
    '',
    table('Global average pooling (SIMD ' + nat.capabilities().simd + '): its kernel against avgPool2d over one whole-plane window', [
      'input', 'threads', 'fwd ms', 'avgPool fwd ms', 'bwd ms', 'avgPool bwd ms',
    ], globalRows),
    '',
    `- load average at the end: ${os.loadavg().map((v) => v.toFixed(1)).join(' / ')} on ${os.cpus().length} CPUs.`,
  ].join('\n');
}

function avgPoolRows(nat: ReturnType<typeof nativeBackend>, addon: ReturnType<typeof nativeAddon>): (string | number)[][] {
  const rows: (string | number)[][] = [];
  const windows: [string, number, number, number][] = [['2×2 / 2', 2, 2, 0], ['3×3 / 1 pad 1', 3, 1, 1]];
  for (const [name, n, c, h, w] of SHAPES) {
    for (const [wname, k, s, pad] of windows) {
      const oh = Math.floor((h + 2 * pad - k) / s) + 1, ow = Math.floor((w + 2 * pad - k) / s) + 1;
      const p: Pool2dParams = { n, c, h, w, kH: k, kW: k, strideH: s, strideW: s, padH: pad, padW: pad, outH: oh, outW: ow };
      const nin = n * c * h * w, nout = n * c * oh * ow;
      const x = new Float32Array(nin).map((_, i) => Math.sin(i * 0.37)), dy = new Float32Array(nout).fill(0.5);
      const y = new Float32Array(nout), yr = new Float32Array(nout), dx = new Float32Array(nin), copy = new Float32Array(nin);
      nat.avgPool2dForward(y, x, p);
      addon.poolReference.avgPool2dForward(yr, x, p);
      let d = 0;
      for (let i = 0; i < nout; i++) d = Math.max(d, Math.abs(y[i] - yr[i]));
      if (!(d <= 1e-5)) throw new Error(`pool bench: avg pooling differs from the scalar loops by ${d} for ${name} ${wname}`);
      for (const t of [1, 2]) {
        nat.setNumThreads(t);
        const fwd = time(() => nat.avgPool2dForward(y, x, p)).ms;
        const fwdRef = time(() => addon.poolReference.avgPool2dForward(yr, x, p), { repeats: 3 }).ms;
        const bwd = time(() => nat.avgPool2dBackward(dx, dy, p)).ms;
        const bwdRef = time(() => addon.poolReference.avgPool2dBackward(dx, dy, p), { repeats: 3 }).ms;
        const cp = time(() => addon.copyBuffer(copy, x, nin)).ms;
        const share = (bytes: number, ms: number) => `${((100 * bytes * cp) / (8 * nin * ms)).toFixed(0)}%`;
        rows.push([name, wname, t, fmt(fwd), fmt(fwdRef), share(4 * (nin + nout), fwd), fmt(bwd), fmt(bwdRef), share(4 * (nin + nout), bwd)]);
      }
    }
  }
  return rows;
}

const GLOBAL_SHAPES: [string, number, number, number, number][] = [
  ['[128, 64, 8, 8] (ResNet head, digits)', 128, 64, 8, 8],
  ['[64, 512, 7, 7] (ResNet-18 head)', 64, 512, 7, 7],
  ['[32, 64, 56, 56] (large planes)', 32, 64, 56, 56],
];

function globalPool(nat: ReturnType<typeof nativeBackend>): (string | number)[][] {
  const rows: (string | number)[][] = [];
  for (const [name, n, c, h, w] of GLOBAL_SHAPES) {
    const p: Pool2dParams = { n, c, h, w, kH: h, kW: w, strideH: h, strideW: w, padH: 0, padW: 0, outH: 1, outW: 1 };
    const x = new Float32Array(n * c * h * w).map((_, i) => Math.sin(i * 0.37));
    const y = new Float32Array(n * c), y2 = new Float32Array(n * c), dx = new Float32Array(x.length), dy = new Float32Array(n * c).fill(0.5);
    nat.globalAvgPoolForward(y, x, n, c, h * w);
    nat.avgPool2dForward(y2, x, p);
    if (!y.every((v, i) => Math.abs(v - y2[i]) <= 1e-5)) throw new Error(`pool bench: global pooling differs from avgPool2d for ${name}`);
    for (const t of [1, 2]) {
      nat.setNumThreads(t);
      rows.push([
        name, t,
        fmt(time(() => nat.globalAvgPoolForward(y, x, n, c, h * w)).ms), fmt(time(() => nat.avgPool2dForward(y2, x, p)).ms),
        fmt(time(() => nat.globalAvgPoolBackward(dx, dy, n, c, h * w)).ms), fmt(time(() => nat.avgPool2dBackward(dx, dy, p)).ms),
      ]);
    }
  }
  return rows;
}
