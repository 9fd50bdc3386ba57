// GEMM benchmark: GFLOPS (2·m·n·k / time) of the native kernel (1 and 2 threads), the js kernel,
// TensorFlow.js (cpu and wasm matMul) and numpy / PyTorch through bench/py/gemm.py. Results are
// checked against the naive oracle before anything is timed. Medians of repeats (bench/util.ts).
// The FMA ceiling is measured in the same run (independent FMA chains at the widest ISA in use, on 1
// and on 2 threads, before and after the GEMMs; the higher reading) and every native figure is also
// given as a fraction of it.
import * as os from 'os';
import { jsBackend, nativeAddon, nativeBackend } from '../lib/testing';
import type { Backend } from '../lib/backend/types';
import { loadTf, pythonHas, runPython } from './peers';
import { fmaCeilings, fmt, table, time, timeAsync } from './util';

interface Shape {
  name: string;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
}

const SQUARE = [128, 256, 512, 1024, 2048];
const SHAPES: Shape[] = [
  ...SQUARE.map((s) => ({ name: `${s}³`, m: s, n: s, k: s, transA: false, transB: false })),
  // A dense layer of 784 → 256 on a batch of 128, and its gradients.
  { name: 'fwd X·W 128×784·784×256', m: 128, n: 256, k: 784, transA: false, transB: false },
  { name: 'fwd X·Wᵀ (W 256×784)', m: 128, n: 256, k: 784, transA: false, transB: true },
  { name: 'dW = dYᵀ·X 256×128·128×784', m: 256, n: 784, k: 128, transA: true, transB: false },
  { name: 'dX = dY·W 128×256·256×784', m: 128, n: 784, k: 256, transA: false, transB: false },
];
/** A single call slower than this is timed once instead of as a median of repeats. */
const MAX_CALL_MS = 1500;
/** Sizes the js kernel and tfjs-cpu skip (a call takes several seconds). */
const SLOW_SKIP = 2048;

function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return out;
}

const gflops = (s: Shape, ms: number | null) => (ms === null ? null : (2 * s.m * s.n * s.k) / (ms * 1e6));
const cell = (x: number | null) => (x === null ? '—' : fmt(x));
const ratio = (x: number | null, y: number | null) => (x === null || y === null ? '—' : fmt(x / y) + '×');

/** Median ms per call, or a single timing when one call is slow. */
function timeSync(fn: () => void): number {
  const t0 = performance.now();
  fn();
  const first = performance.now() - t0;
  if (first > MAX_CALL_MS) return first;
  return time(fn, first > 200 ? { repeats: 3, minMs: 0, warmup: 0 } : { repeats: 7, minMs: 40, warmup: 1 }).ms;
}

function check(nat: Backend, jsb: Backend, refGemm: (...a: unknown[]) => void): void {
  for (const s of [SHAPES[0], SHAPES[6], SHAPES[7], { ...SHAPES[5], transA: true, transB: true }]) {
    const a = rand(s.m * s.k, 1);
    const b = rand(s.k * s.n, 2);
    const cn = new Float32Array(s.m * s.n);
    const cj = new Float32Array(s.m * s.n);
    const cr = new Float32Array(s.m * s.n);
    nat.gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, b, 0, cn);
    jsb.gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, b, 0, cj);
    refGemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, b, 0, cr);
    for (let i = 0; i < cr.length; i++) {
      const tol = 1e-4 * (1 + Math.abs(cr[i]));
      if (!(Math.abs(cn[i] - cr[i]) <= tol) || !(Math.abs(cj[i] - cr[i]) <= tol))
        throw new Error(`gemm check failed for ${s.name} at ${i}: native ${cn[i]}, js ${cj[i]}, ref ${cr[i]}`);
    }
  }
}

export async function run(): Promise<string> {
  const nat = nativeBackend();
  const jsb = jsBackend();
  check(nat, jsb, nativeAddon().gemmRef as (...a: unknown[]) => void);
  const notes: string[] = [];
  const savedThreads = nat.getNumThreads();

  const res: Record<string, Record<string, number | null>> = {};
  for (const s of SHAPES) res[s.name] = {};
  const data = SHAPES.map((s, i) => ({
    s,
    a: rand(s.m * s.k, 10 + i),
    b: rand(s.k * s.n, 20 + i),
    c: new Float32Array(s.m * s.n),
  }));

  const addon = nativeAddon();
  const peak0 = fmaCeilings();
  for (const t of [1, 2]) {
    nat.setNumThreads(t);
    for (const { s, a, b, c } of data)
      res[s.name][`native${t}`] = timeSync(() => nat.gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, b, 0, c));
  }
  nat.setNumThreads(savedThreads);
  const peak1 = fmaCeilings();
  const peak = [Math.max(peak0[0], peak1[0]), Math.max(peak0[1], peak1[1])];
  const info = addon.nativeInfo();

  for (const { s, a, b, c } of data)
    res[s.name].js = s.m >= SLOW_SKIP ? null : timeSync(() => jsb.gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, b, 0, c));
  notes.push(`js and tfjs-cpu skip ${SLOW_SKIP}³ (several seconds a call).`);

  for (const backend of ['cpu', 'wasm'] as const) {
    const tf = await loadTf(backend);
    if (!tf) {
      notes.push(`tfjs-${backend} unavailable.`);
      continue;
    }
    for (const { s, a, b } of data) {
      if (backend === 'cpu' && s.m >= SLOW_SKIP) {
        res[s.name][`tf-${backend}`] = null;
        continue;
      }
      const ta = tf.tensor2d(a, s.transA ? [s.k, s.m] : [s.m, s.k]);
      const tb = tf.tensor2d(b, s.transB ? [s.n, s.k] : [s.k, s.n]);
      const once = async () => {
        const r = tf.matMul(ta, tb, s.transA, s.transB);
        await r.data();
        r.dispose();
      };
      const t0 = performance.now();
      await once();
      const first = performance.now() - t0;
      res[s.name][`tf-${backend}`] =
        first > MAX_CALL_MS
          ? first
          : (await timeAsync(once, first > 200 ? { repeats: 3, minMs: 0, warmup: 0 } : { repeats: 7, minMs: 40, warmup: 1 })).ms;
      ta.dispose();
      tb.dispose();
    }
  }

  let blas = '';
  if (pythonHas('numpy')) {
    const shapes = SHAPES.map(({ name, m, n, k, transA, transB }) => ({ name, m, n, k, transA, transB }));
    for (const t of [1, 2]) {
      const out = runPython('gemm.py', { shapes, repeats: 5, minMs: 40, maxCallS: MAX_CALL_MS / 1000 }, t);
      if (!out) continue;
      blas = out.blas;
      for (const s of SHAPES) {
        res[s.name][`numpy${t}`] = out.numpy[s.name] ?? null;
        res[s.name][`torch${t}`] = out.torch[s.name] ?? null;
      }
    }
    notes.push(`numpy's BLAS: ${blas}; torch.mm when torch is installed.`);
  } else {
    notes.push('numpy not installed for /usr/bin/python3: numpy columns skipped.');
  }

  const g = (s: Shape, key: string) => gflops(s, res[s.name][key] ?? null);
  const pct = (x: number | null, p: number) => (x === null ? '—' : `${((100 * x) / p).toFixed(0)}%`);
  const nativeRows = SHAPES.map((s) => [
    s.name,
    cell(g(s, 'native1')),
    pct(g(s, 'native1'), peak[0]),
    cell(g(s, 'native2')),
    pct(g(s, 'native2'), peak[1]),
    ratio(g(s, 'native2'), g(s, 'native1')),
    cell(g(s, 'numpy1')),
    cell(g(s, 'numpy2')),
    ratio(g(s, 'native1'), g(s, 'numpy1')),
    ratio(g(s, 'native2'), g(s, 'numpy2')),
    cell(g(s, 'torch1')),
    cell(g(s, 'torch2')),
  ]);
  const jsRows = SHAPES.map((s) => [
    s.name,
    cell(g(s, 'js')),
    cell(g(s, 'tf-cpu')),
    ratio(g(s, 'js'), g(s, 'tf-cpu')),
    cell(g(s, 'tf-wasm')),
    ratio(g(s, 'native1'), g(s, 'js')),
  ]);
  const { l1d, l2, l3, source } = info.caches;
  const bl = info.gemmBlocks;
  return [
    `FMA ceiling measured in this run (${info.simd}): ${fmt(peak[0])} GFLOPS on 1 thread, ${fmt(peak[1])} on 2 ` +
      `(before the GEMMs ${fmt(peak0[0])} / ${fmt(peak0[1])}, after ${fmt(peak1[0])} / ${fmt(peak1[1])}).  `,
    `Caches (${source}): L1d ${l1d >> 10} KiB, L2 ${l2 >> 10} KiB, L3 ${l3 >> 20} MiB → blocks MR×NR ${bl.mr}×${bl.nr}, ` +
      `KC ${bl.kc} (up to ${bl.kcMax}), MC ${bl.mc}, NC ${bl.nc}.`,
    table(
      'sgemm GFLOPS: native vs numpy / PyTorch (1 and 2 threads)',
      ['shape (m×k·k×n)', 'native 1t', 'of 1t ceiling', 'native 2t', 'of 2t ceiling', '2t/1t', 'numpy 1t', 'numpy 2t', 'native/numpy 1t', 'native/numpy 2t', 'torch 1t', 'torch 2t'],
      nativeRows,
    ),
    table('sgemm GFLOPS: js vs TensorFlow.js', ['shape', 'js', 'tfjs-cpu', 'js/tfjs-cpu', 'tfjs-wasm', 'native 1t / js'], jsRows),
    '',
    ...notes.map((n) => `- ${n}`),
    `- load average at the end: ${os.loadavg().map((x) => x.toFixed(1)).join(' / ')} on ${os.cpus().length} CPUs ` +
      '(a busy machine lowers every column, 2-thread ones most).',
  ].join('\n');
}
