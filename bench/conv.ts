// Convolution benchmark: forward, and forward + dX + dW, for 3×3 stride-1 padding-1 convolutions
// (no bias anywhere, so every implementation does the same work): a mid-size layer and the two
// convolutions of the small MNIST CNN. Native (1 and 2 threads), js, tfjs-wasm, tfjs-cpu and
// PyTorch (bench/py/conv.py). Results are checked before anything is timed.
import { nativeBackend, jsBackend } from '../lib/testing';
import type { Backend, Conv2dParams } from '../lib/backend/types';
import { loadTf, pythonHas, runPython, type Tf } from './peers';
import { time, table, fmt, type Timing } from './util';

export interface Case {
  name: string;
  n: number;
  cIn: number;
  h: number;
  w: number;
  cOut: number;
  k: number;
  pad: number;
}

export const CASES: Case[] = [
  { name: 'N32 32→64 32×32', n: 32, cIn: 32, h: 32, w: 32, cOut: 64, k: 3, pad: 1 },
  { name: 'MNIST conv1 N64 1→16 28×28', n: 64, cIn: 1, h: 28, w: 28, cOut: 16, k: 3, pad: 1 },
  { name: 'MNIST conv2 N64 16→32 14×14', n: 64, cIn: 16, h: 14, w: 14, cOut: 32, k: 3, pad: 1 },
];

function params(c: Case): Conv2dParams {
  const out = (s: number) => s + 2 * c.pad - c.k + 1;
  return {
    n: c.n, cIn: c.cIn, h: c.h, w: c.w, cOut: c.cOut, kH: c.k, kW: c.k, strideH: 1, strideW: 1,
    padH: c.pad, padW: c.pad, dilationH: 1, dilationW: 1, outH: out(c.h), outW: out(c.w),
  };
}

/** The inputs bench/py/conv.py builds too: x[i] = sin(i)/2, w[i] = cos(i)/8, dy = 1/4. */
function inputs(c: Case) {
  const p = params(c);
  const x = new Float32Array(c.n * c.cIn * c.h * c.w).map((_, i) => Math.sin(i) / 2);
  const w = new Float32Array(c.cOut * c.cIn * c.k * c.k).map((_, i) => Math.cos(i) / 8);
  const dy = new Float32Array(c.n * c.cOut * p.outH * p.outW).fill(0.25);
  return { p, x, w, dy };
}

/**
 * Slow calls get fewer rounds so the whole run stays within minutes: over 300 ms, a median of 3;
 * over 3 s (tfjs-cpu's gradients), the single timed call (its Timing has one sample).
 */
function timeAdaptive(fn: () => void): Timing {
  const t0 = performance.now();
  fn();
  const once = performance.now() - t0;
  if (once > 3000) return { ms: once, samples: [once] };
  return once > 300 ? time(fn, { repeats: 3, warmup: 0, minMs: 1 }) : time(fn, { repeats: 5, warmup: 1 });
}

interface Row {
  impl: string;
  fwd: number | null;
  fwdBwd: number | null;
  note?: string;
}

function ours(be: Backend, c: Case, threads: number, label: string): { row: Row; y: Float32Array } {
  be.setNumThreads(threads);
  const { p, x, w, dy } = inputs(c);
  const ws = new Float32Array(be.conv2dWorkspaceSize(p));
  const y = new Float32Array(dy.length);
  const dx = new Float32Array(x.length);
  const dw = new Float32Array(w.length);
  be.conv2dForward(y, x, w, null, ws, p);
  const fwd = timeAdaptive(() => be.conv2dForward(y, x, w, null, ws, p)).ms;
  const fwdBwd = timeAdaptive(() => {
    be.conv2dForward(y, x, w, null, ws, p);
    be.conv2dBackward(dx, dw, null, x, w, dy, ws, p);
  }).ms;
  return { row: { impl: label, fwd, fwdBwd }, y };
}

function absSum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]);
  return s;
}

function check(what: string, got: number, want: number): void {
  if (!(Math.abs(got - want) <= 1e-3 * Math.abs(want))) {
    throw new Error(`conv bench: ${what} checksum ${got} differs from ${want}`);
  }
}

async function tfRow(tf: Tf, kind: 'cpu' | 'wasm', c: Case, want: number): Promise<Row> {
  const { p, x, w, dy } = inputs(c);
  // NHWC input and [kH, kW, cIn, cOut] filter, built once outside the timed region.
  const xt = tf.tidy(() => tf.tensor4d(x, [c.n, c.cIn, c.h, c.w]).transpose([0, 2, 3, 1]));
  const wt = tf.tidy(() => tf.tensor4d(w, [c.cOut, c.cIn, c.k, c.k]).transpose([2, 3, 1, 0]));
  const dyt = tf.fill([c.n, p.outH, p.outW, c.cOut], 0.25);
  const conv = (a: any, b: any) => tf.conv2d(a, b, 1, c.pad === (c.k - 1) / 2 ? 'same' : 'valid');
  try {
    const y0 = conv(xt, wt);
    check(`tfjs-${kind} y`, absSum(y0.dataSync()), want);
    y0.dispose();
    const fwd = timeAdaptive(() => {
      const y = conv(xt, wt);
      y.dataSync();
      y.dispose();
    }).ms;
    let fwdBwd: number | null = null;
    let note: string | undefined;
    try {
      const g = tf.grads((a: any, b: any) => conv(a, b));
      const run = () => {
        const [gx, gw] = g([xt, wt], dyt);
        gx.dataSync();
        gw.dataSync();
        gx.dispose();
        gw.dispose();
      };
      const t = timeAdaptive(run);
      fwdBwd = t.ms;
      if (t.samples.length === 1) note = 'one run (too slow to repeat)';
    } catch (e) {
      note = kind === 'wasm' ? 'no Conv2DBackpropFilter kernel in tfjs-wasm' : (e as Error).message;
    }
    return { impl: `tfjs-${kind}`, fwd, fwdBwd, note };
  } finally {
    xt.dispose();
    wt.dispose();
    dyt.dispose();
  }
}

/** `cases` narrows the run (e.g. `run(CASES.slice(2))` for a quick look). */
export async function run(cases: Case[] = CASES): Promise<string> {
  const native = nativeBackend();
  const js = jsBackend();
  const out: string[] = [];
  const hasTorch = pythonHas('torch');
  const torch = hasTorch
    ? [1, 2].map((t) => runPython('conv.py', { threads: t, repeats: 9, cases }, t))
    : [null, null];
  const summary: (string | number)[][] = [];

  for (const [ci, c] of cases.entries()) {
    console.error(`conv bench: ${c.name}`);
    // Correctness first: native vs js vs PyTorch checksums.
    const n1 = ours(native, c, 1, 'native 1 thread');
    const want = absSum(n1.y);
    const n2 = ours(native, c, 2, 'native 2 threads');
    check('native 2 threads y', absSum(n2.y), want);
    const j = ours(js, c, 1, 'js');
    check('js y', absSum(j.y), want);
    const rows: Row[] = [n1.row, n2.row, j.row];
    for (const kind of ['wasm', 'cpu'] as const) {
      const tf = await loadTf(kind);
      rows.push(tf ? await tfRow(tf, kind, c, want) : { impl: `tfjs-${kind}`, fwd: null, fwdBwd: null, note: 'unavailable' });
    }
    for (const [t, res] of torch.entries()) {
      const r = res?.cases?.[ci];
      if (r) {
        check(`torch y`, r.abssum, want);
        rows.push({ impl: `PyTorch ${res.torch} ${t + 1} thread${t ? 's' : ''}`, fwd: r.fwd, fwdBwd: r.fwdBwd });
      } else {
        rows.push({ impl: `PyTorch ${t + 1} thread${t ? 's' : ''}`, fwd: null, fwdBwd: null, note: hasTorch ? 'failed' : 'torch not installed' });
      }
    }
    const base = n1.row;
    const ratio = (v: number | null, b: number | null) => (v != null && b != null ? `${fmt(v / b)}×` : '–');
    out.push(
      table(
        `conv2d 3×3 s1 p1, ${c.name} (ms, median; ratio = time / native 1 thread)`,
        ['implementation', 'forward', 'fwd + dX + dW', 'forward ratio', 'fwd+bwd ratio', 'note'],
        rows.map((r) => [
          r.impl, r.fwd ?? '–', r.fwdBwd ?? '–', ratio(r.fwd, base.fwd), ratio(r.fwdBwd, base.fwdBwd), r.note ?? '',
        ]),
      ),
    );
    const find = (s: string) => rows.find((r) => r.impl.startsWith(s));
    const t1 = find('PyTorch') , t2 = rows.filter((r) => r.impl.startsWith('PyTorch'))[1];
    summary.push([
      c.name,
      ratio(t1?.fwdBwd ?? null, n1.row.fwdBwd),
      ratio(t2?.fwdBwd ?? null, n2.row.fwdBwd),
      ratio(find('tfjs-cpu')?.fwdBwd ?? null, j.row.fwdBwd),
      ratio(find('tfjs-cpu')?.fwd ?? null, j.row.fwd),
    ]);
  }
  native.setNumThreads(2);
  out.push(
    table(
      'conv2d speed-ups (fwd + dX + dW unless noted; > 1× means ours is faster)',
      ['case', 'PyTorch 1t / native 1t', 'PyTorch 2t / native 2t', 'tfjs-cpu / js', 'tfjs-cpu / js (forward)'],
      summary,
    ),
  );
  return out.join('\n');
}
