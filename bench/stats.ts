// Cost of the training statistics: SGD steps of the MLP and the CNN of bench/train.ts (native
// backend), each followed by two StatsRecorder calls — one recorder every 50 steps, one every step —
// all timed separately in the same loop on the same model. "off" is the training step alone (a
// model without a recorder runs exactly this code); "every N" adds that recorder's mean cost per
// step (for every 50: one recorded step and one weight snapshot per 50 steps). Measuring the parts
// in one loop keeps the comparison fair on a loaded machine, where whole runs timed one after the
// other differ by more than the cost being measured.
import { performance } from 'perf_hooks';
import { Sequential, Linear, BatchNorm1d, BatchNorm2d, ReLU, Conv2d, MaxPool2d, Flatten, CrossEntropyLoss, SGD, StatsRecorder } from '../lib/index';
import { nativeBackend } from '../lib/backend/index';
import { table } from './util';

function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = 2 * (s / 4294967296) - 1;
  }
  return a;
}

function build(kind: 'mlp' | 'cnn'): Sequential {
  const backend = nativeBackend();
  if (kind === 'mlp') {
    return new Sequential([new Linear({ inFeatures: 784, outFeatures: 256 }), new BatchNorm1d({ numFeatures: 256 }), new ReLU(), new Linear({ inFeatures: 256, outFeatures: 128 }), new BatchNorm1d({ numFeatures: 128 }), new ReLU(), new Linear({ inFeatures: 128, outFeatures: 10 })], { backend, inputShape: [784], seed: 1 });
  }
  return new Sequential([
    new Conv2d({ inChannels: 1, outChannels: 16, kernelSize: 3, padding: 1 }), new BatchNorm2d({ numFeatures: 16 }), new ReLU(), new MaxPool2d({ kernelSize: 2 }),
    new Conv2d({ inChannels: 16, outChannels: 32, kernelSize: 3, padding: 1 }), new BatchNorm2d({ numFeatures: 32 }), new ReLU(), new MaxPool2d({ kernelSize: 2 }),
    new Flatten(), new Linear({ inFeatures: 32 * 7 * 7, outFeatures: 10 }),
  ], { backend, inputShape: [1, 28, 28], seed: 1 });
}

const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;

function measure(kind: 'mlp' | 'cnn', steps: number): { off: number; e50: number; e1: number; record: number } {
  const model = build(kind);
  const batch = kind === 'mlp' ? 128 : 64;
  const x = { data: rand(batch * 784, 3), shape: kind === 'mlp' ? [batch, 784] : [batch, 1, 28, 28] };
  const y = Int32Array.from({ length: batch }, (_, i) => i % 10);
  const loss = new CrossEntropyLoss();
  const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const r50 = new StatsRecorder(model, { every: 50, optimizer: opt });
  const r1 = new StatsRecorder(model, { every: 1, optimizer: opt });
  const tTrain: number[] = [];
  const t50: number[] = [];
  const t1: number[] = [];
  for (let s = -3; s < steps; s++) {
    let t = performance.now();
    opt.zeroGrad();
    const l = loss.forward(model.forward(x), y);
    model.backward(loss.backward());
    opt.step();
    const a = performance.now();
    r50.step(l);
    const b = performance.now();
    r1.step(l);
    const c = performance.now();
    if (s >= 0) {
      tTrain.push(a - t);
      t50.push(b - a);
      t1.push(c - b);
    }
    t = c;
  }
  const off = median(tTrain);
  return { off, e50: off + mean(t50), e1: off + mean(t1), record: median(t1) };
}

export async function run(): Promise<string> {
  const rows: (string | number)[][] = [];
  for (const kind of ['mlp', 'cnn'] as const) {
    const m = measure(kind, 100);
    const name = kind === 'mlp' ? 'MLP 784-256-128-10 (BN, ReLU), batch 128' : 'CNN conv16-conv32-linear (BN, ReLU, pool), batch 64';
    const pct = (v: number) => `+${((v / m.off - 1) * 100).toFixed(2)}%`;
    rows.push([name, m.off, m.e50, pct(m.e50), m.e1, pct(m.e1), m.record]);
    console.log(`${name}: off ${m.off.toFixed(2)} ms, every 50 ${m.e50.toFixed(2)} ms, every step ${m.e1.toFixed(2)} ms`);
  }
  return table('SGD step time with statistics (native, ms per step, 100 steps)', ['model', 'off', 'every 50', 'vs off', 'every step', 'vs off', 'one recording'], rows);
}
