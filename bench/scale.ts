// How cost grows with the model and shrinks with the batch: one SGD-momentum training step of
//   CIFAR-shaped CNN, 3×32×32, batch 128: conv3×3 64-BN-ReLU, conv 64-BN-ReLU, maxpool, conv 128-BN-
//     ReLU, conv 128-BN-ReLU, maxpool, flatten, linear 10
//   MLP 784-256-128-10 with ReLU (no BatchNorm, so batch 1 trains) at batch 1, 8, 32, 128, 512
// native (1 and 2 threads) against PyTorch (bench/py/train.py, same models, 1 and 2 threads) in the
// same run; medians. Small batches show the fixed cost of a step (N-API crossings, validation,
// thread start-up, which small work skips). Every minibatch configuration first shows its loss
// falling on its fixed batch.
import * as os from 'os';
import { Sequential, Linear, BatchNorm2d, ReLU, Conv2d, MaxPool2d, Flatten, CrossEntropyLoss, SGD } from '../lib/index';
import { nativeBackend } from '../lib/backend/index';
import type { Backend } from '../lib/backend/types';
import type { Layer } from '../lib/layers/layer';
import { pythonHas, runPython } from './peers';
import { table, time, fmt } from './util';

const LR = 0.01;
const MOMENTUM = 0.9;
const BATCHES = [1, 8, 32, 128, 512];

interface Case { key: string; kind: 'cifar' | 'mlp_plain'; name: string; batch: number; shape: number[]; lr: number }
const CASES: Case[] = [
  // lr 0.001: at 0.01 both libraries diverge alike on this random batch (8,192 inputs to the linear layer)
  { key: 'cifar', kind: 'cifar', name: 'CIFAR CNN 3×32×32, batch 128', batch: 128, shape: [3, 32, 32], lr: 0.001 },
  ...BATCHES.map((b) => ({ key: `mlp${b}`, kind: 'mlp_plain' as const, name: `MLP 784-256-128-10, batch ${b}`, batch: b, shape: [784], lr: LR })),
];

function layers(kind: Case['kind']): Layer[] {
  if (kind === 'mlp_plain')
    return [new Linear({ inFeatures: 784, outFeatures: 256 }), new ReLU(), new Linear({ inFeatures: 256, outFeatures: 128 }), new ReLU(), new Linear({ inFeatures: 128, outFeatures: 10 })];
  const block = (cin: number, cout: number) => [new Conv2d({ inChannels: cin, outChannels: cout, kernelSize: 3, padding: 1 }), new BatchNorm2d({ numFeatures: cout }), new ReLU()];
  return [...block(3, 64), ...block(64, 64), new MaxPool2d({ kernelSize: 2 }), ...block(64, 128), ...block(128, 128), new MaxPool2d({ kernelSize: 2 }), new Flatten(), new Linear({ inFeatures: 128 * 8 * 8, outFeatures: 10 })];
}

function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), (2 * s) / 4294967296 - 1));
}

/** The step of one case on `backend`, after checking that its loss falls over 6 steps. */
function stepper(c: Case, backend: Backend): () => void {
  const model = new Sequential(layers(c.kind), { inputShape: c.shape, seed: 0, backend });
  const loss = new CrossEntropyLoss({ backend });
  const opt = new SGD(model.parameters(), { lr: c.lr, momentum: MOMENTUM, backend });
  const x = { data: rand(c.batch * c.shape.reduce((a, b) => a * b, 1), 1), shape: [c.batch, ...c.shape] };
  const y = Int32Array.from({ length: c.batch }, (_, i) => (i * 7) % 10);
  const step = () => {
    opt.zeroGrad();
    const l = loss.forward(model.forward(x), y);
    model.backward(loss.backward());
    opt.step();
    return l;
  };
  const ls = Array.from({ length: 6 }, step);
  if (!(ls[5] < ls[0])) throw new Error(`scale bench: ${c.name} loss does not decrease: ${ls.join(', ')}`);
  return () => void step();
}

/**
 * The backend with every method call counted (the calls a step makes into the addon: each is one
 * N-API crossing plus its argument checks).
 */
function counting(backend: Backend): { backend: Backend; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const wrapped = new Proxy(backend, {
    get(t, k, r) {
      const v = Reflect.get(t, k, r);
      if (typeof v !== 'function' || typeof k !== 'string') return v;
      return (...a: unknown[]) => {
        calls.set(k, (calls.get(k) ?? 0) + 1);
        return (v as (...x: unknown[]) => unknown).apply(t, a);
      };
    },
  });
  return { backend: wrapped, calls };
}

/**
 * The fixed cost of a step: how many native calls one MLP step makes (counted over 10 steps on a
 * counting proxy of the backend), what one call of no work costs (a 1-float activation: the crossing,
 * the argument checks, the dispatch), and that cost times the calls against the measured batch-1 step.
 */
function fixedCost(native: Backend, stepMs: Record<string, number | null>): string {
  const { backend, calls } = counting(native);
  const c = CASES.find((k) => k.key === 'mlp1')!;
  const step = stepper(c, backend);
  calls.clear();
  for (let i = 0; i < 10; i++) step();
  const perStep = [...calls.values()].reduce((a, b) => a + b, 0) / 10;
  const one = new Float32Array(1);
  const out = new Float32Array(1);
  const callMs = time(() => {
    for (let i = 0; i < 1000; i++) native.activation('relu', out, one, 1, 0);
  }).ms / 1000;
  const fixed = perStep * callMs;
  const rows: (string | number)[][] = [];
  for (const t of [1, 2]) {
    const ms = stepMs[`native${t}`];
    rows.push([`${t}t`, fmt(perStep), fmt(callMs * 1000), fmt(fixed * 1000), ms == null ? '—' : fmt(ms * 1000), ms == null ? '—' : `${((100 * fixed) / ms).toFixed(0)}%`]);
  }
  const top = [...calls.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${fmt(v / 10)}`).join(', ');
  return [
    table('Fixed cost of an MLP step at batch 1: native calls a step and what one call of no work costs', [
      'threads', 'native calls / step', 'µs / call (no work)', 'calls × cost, µs', 'batch-1 step µs', 'share of the step',
    ], rows),
    '',
    `- calls a step by method: ${top}.`,
  ].join('\n');
}

export async function run(): Promise<string> {
  const native = nativeBackend();
  const saved = native.getNumThreads();
  const load0 = os.loadavg()[0];
  const res: Record<string, Record<string, number | null>> = {};
  const torch = pythonHas('torch');
  for (const t of [1, 2]) {
    const out = torch
      ? runPython('train.py', { specs: CASES.map((c) => ({ kind: c.kind, name: c.name, batch: c.batch, key: c.key, lr: c.lr })), lr: LR, momentum: MOMENTUM, minMs: 40, sanitySteps: 6 }, t)
      : null;
    native.setNumThreads(t);
    for (const c of CASES) {
      res[c.key] ??= {};
      const step = stepper(c, native);
      res[c.key][`native${t}`] = time(step, c.kind === 'cifar' ? { repeats: 5, minMs: 0, warmup: 1 } : {}).ms;
      res[c.key][`torch${t}`] = out?.[c.key]?.ms ?? null;
    }
  }
  native.setNumThreads(saved);
  const cell = (x: number | null | undefined) => (x == null ? '—' : fmt(x));
  const ratio = (a: number | null | undefined, b: number | null | undefined) => (a == null || b == null ? '—' : `${fmt(b / a)}×`);
  const rows = CASES.map((c) => {
    const r = res[c.key];
    return [c.name, cell(r.native1), cell(r.torch1), ratio(r.native1, r.torch1), cell(r.native2), cell(r.torch2), ratio(r.native2, r.torch2)];
  });
  return [
    table('Training step, ms (ratio: PyTorch time / native time, > 1 means native is faster)', [
      'model', 'native 1t', 'PyTorch 1t', 'speed-up 1t', 'native 2t', 'PyTorch 2t', 'speed-up 2t',
    ], rows),
    '',
    fixedCost(native, res['mlp1']),
    '',
    torch ? '- PyTorch: Debian\'s /usr/bin/python3 torch, same models, SGD momentum, random data.' : '- torch is not installed for /usr/bin/python3: PyTorch columns skipped.',
    `- load average ${load0.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end, on ${os.cpus().length} CPUs.`,
  ].join('\n');
}
