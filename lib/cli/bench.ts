/**
 * `minibatch bench`: a quick native-vs-js comparison on the user's machine — one GEMM, one conv
 * layer (forward + backward), one MLP and one CNN training step — each timed for an equal share of
 * the budget (at least one run after a warm-up), printed as a table of mean milliseconds and the
 * speed-up. The full benchmarks (peers, threads, per-layer splits) are `npm run bench` in the repo.
 */
import { performance } from 'perf_hooks';
import { jsBackend, nativeBackend } from '../backend/index';
import type { Backend } from '../backend/types';
import { Sequential } from '../model';
import { Linear } from '../layers/linear';
import { Conv2d } from '../layers/conv';
import { BatchNorm1d, BatchNorm2d } from '../layers/norm';
import { ReLU } from '../layers/activation';
import { MaxPool2d } from '../layers/pool';
import { Flatten } from '../layers/reshape';
import { CrossEntropyLoss } from '../losses';
import { SGD } from '../optim';
import { Generator } from '../random';
import type { Out } from './index';

export interface BenchRow {
  name: string;
  nativeMs: number | null;
  jsMs: number;
  runs: { native: number; js: number };
}

function rand(n: number, g: Generator): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = 2 * g.uniform() - 1;
  return a;
}

type Case = { name: string; make(b: Backend): () => void };

function stepOf(model: Sequential, x: Float32Array, shape: number[], labels: Int32Array): () => void {
  const loss = new CrossEntropyLoss();
  const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const xt = { data: x, shape };
  return () => {
    opt.zeroGrad();
    loss.forward(model.forward(xt), labels);
    model.backward(loss.backward());
    opt.step();
  };
}

const CASES: Case[] = [
  {
    name: 'GEMM 256×256×256',
    make(b) {
      const g = new Generator(1);
      const a = rand(256 * 256, g), bb = rand(256 * 256, g), c = new Float32Array(256 * 256);
      return () => b.gemm(false, false, 256, 256, 256, 1, a, bb, 0, c);
    },
  },
  {
    name: 'Conv2d 3×3 16→32, 28×28, batch 16 (fwd+bwd)',
    make(b) {
      const conv = new Conv2d({ inChannels: 16, outChannels: 32, kernelSize: 3, padding: 1, backend: b });
      const x = { data: rand(16 * 16 * 28 * 28, new Generator(2)), shape: [16, 16, 28, 28] };
      conv.build([16, 28, 28]);
      return () => {
        const y = conv.forward(x);
        conv.backward(y);
      };
    },
  },
  {
    name: 'MLP 784-256-128-10 step, batch 128',
    make(b) {
      const m = new Sequential([new Linear({ inFeatures: 784, outFeatures: 256 }), new BatchNorm1d({ numFeatures: 256 }), new ReLU(), new Linear({ inFeatures: 256, outFeatures: 128 }), new BatchNorm1d({ numFeatures: 128 }), new ReLU(), new Linear({ inFeatures: 128, outFeatures: 10 })], { backend: b, inputShape: [784] });
      const g = new Generator(3);
      return stepOf(m, rand(128 * 784, g), [128, 784], Int32Array.from({ length: 128 }, () => g.int(10)));
    },
  },
  {
    name: 'CNN conv16-conv32-linear step, batch 32',
    make(b) {
      const m = new Sequential([
        new Conv2d({ inChannels: 1, outChannels: 16, kernelSize: 3, padding: 1 }), new BatchNorm2d({ numFeatures: 16 }), new ReLU(), new MaxPool2d({ kernelSize: 2 }),
        new Conv2d({ inChannels: 16, outChannels: 32, kernelSize: 3, padding: 1 }), new BatchNorm2d({ numFeatures: 32 }), new ReLU(), new MaxPool2d({ kernelSize: 2 }),
        new Flatten(), new Linear({ inFeatures: 32 * 7 * 7, outFeatures: 10 }),
      ], { backend: b, inputShape: [1, 28, 28] });
      const g = new Generator(4);
      return stepOf(m, rand(32 * 784, g), [32, 1, 28, 28], Int32Array.from({ length: 32 }, () => g.int(10)));
    },
  },
];

/** Mean ms per call over a time budget (one warm-up call first when it fits the budget). */
function timeFor(fn: () => void, budgetMs: number): { ms: number; runs: number } {
  let t0 = performance.now();
  fn();
  const first = performance.now() - t0;
  if (first > budgetMs / 2) return { ms: first, runs: 1 };
  let runs = 0;
  t0 = performance.now();
  let t = t0;
  while (runs < 1 || t - t0 < budgetMs) {
    fn();
    runs++;
    t = performance.now();
  }
  return { ms: (t - t0) / runs, runs };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

export async function runBench(seconds: number, out: Out): Promise<BenchRow[]> {
  let native: Backend | null = null;
  try {
    native = nativeBackend();
  } catch (e) {
    out.error(`native backend unavailable: ${(e as Error).message}`);
  }
  const js = jsBackend();
  const budget = (seconds * 1000) / (CASES.length * (native ? 2 : 1));
  const caps = (native ?? js).capabilities();
  out.log(`minibatch ${caps.version} bench — native ${native ? `SIMD ${caps.simd}, ${caps.threads} thread(s)` : 'unavailable'}; about ${Math.round(seconds)} s`);
  const rows: BenchRow[] = [];
  for (const c of CASES) {
    const n = native ? timeFor(c.make(native), budget) : null;
    await tick();
    const j = timeFor(c.make(js), budget);
    await tick();
    rows.push({ name: c.name, nativeMs: n ? n.ms : null, jsMs: j.ms, runs: { native: n ? n.runs : 0, js: j.runs } });
  }
  const head = ['case', 'native ms', 'js ms', 'speed-up'];
  const body = rows.map((r) => [r.name, r.nativeMs === null ? '—' : r.nativeMs.toFixed(2), r.jsMs.toFixed(2), r.nativeMs ? `${(r.jsMs / r.nativeMs).toFixed(1)}×` : '—']);
  const w = head.map((_, i) => Math.max(head[i].length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((s, i) => (i === 0 ? s.padEnd(w[i]) : s.padStart(w[i]))).join('  ');
  out.log(line(head));
  out.log(w.map((x) => '-'.repeat(x)).join('  '));
  for (const b of body) out.log(line(b));
  return rows;
}
