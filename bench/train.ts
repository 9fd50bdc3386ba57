// Training-step benchmark: one step (zero grad, forward, loss, backward, SGD momentum update) of
//   MLP 784-256-128-10 with BatchNorm1d + ReLU, batch 128, and
//   CNN 1×28×28: conv3×3(16)-BN-ReLU-pool2-conv3×3(32)-BN-ReLU-pool2-flatten-linear(10), batch 64,
// SGD lr 0.01 momentum 0.9, cross-entropy, random data with fixed seeds. Native with 1 and 2
// threads, js, tfjs cpu / wasm (tf.layers models, optimizer.minimize, dataSync of the loss) and
// PyTorch through bench/py/train.py. Every minibatch configuration first shows its loss falling on
// the fixed batch (and native agrees with js on the first loss). Further tables split the native
// steps at 1 thread into per-layer forward / backward times.
import * as os from 'os';
import { performance } from 'perf_hooks';
import { Sequential, Linear, BatchNorm1d, BatchNorm2d, ReLU, Conv2d, MaxPool2d, Flatten, CrossEntropyLoss, SGD, fit } from '../lib/index';
import { jsBackend, nativeBackend } from '../lib/testing';
import type { Backend } from '../lib/backend/types';
import type { Tensor } from '../lib/tensor';
import { loadTf, pythonHas, runPython, type Tf } from './peers';
import { fmaCeilings, table, time, timeAsync, fmt, type Timing } from './util';

type ModelKind = 'mlp' | 'cnn';

interface Spec {
  kind: ModelKind;
  name: string;
  batch: number;
  /** per-sample input shape, NCHW for minibatch and PyTorch */
  inputShape: number[];
}

const SPECS: Spec[] = [
  { kind: 'mlp', name: 'MLP 784-256-128-10 (BN, ReLU), batch 128', batch: 128, inputShape: [784] },
  { kind: 'cnn', name: 'CNN 1×28×28 conv16-conv32-linear (BN, ReLU, pool), batch 64', batch: 64, inputShape: [1, 28, 28] },
];

const LR = 0.01;
const MOMENTUM = 0.9;
const SANITY_STEPS = 6;
/** A peer whose step takes longer than this is timed over SLOW_STEPS − 1 steps after a warm-up step. */
const SLOW_STEP_MS = 1500;
const SLOW_STEPS = 4;

function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = 2 * (s / 4294967296) - 1;
  }
  return a;
}

function labels(n: number, seed: number): Int32Array {
  let s = seed >>> 0;
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s >>> 16) % 10;
  }
  return a;
}

interface Data {
  x: Float32Array;
  y: Int32Array;
}

function data(spec: Spec): Data {
  const size = spec.inputShape.reduce((a, b) => a * b, 1);
  return { x: rand(spec.batch * size, 1), y: labels(spec.batch, 2) };
}

function buildModel(kind: ModelKind, backend: Backend): Sequential {
  const layers =
    kind === 'mlp'
      ? [
          new Linear({ inFeatures: 784, outFeatures: 256 }),
          new BatchNorm1d({ numFeatures: 256 }),
          new ReLU(),
          new Linear({ inFeatures: 256, outFeatures: 128 }),
          new BatchNorm1d({ numFeatures: 128 }),
          new ReLU(),
          new Linear({ inFeatures: 128, outFeatures: 10 }),
        ]
      : [
          new Conv2d({ inChannels: 1, outChannels: 16, kernelSize: 3, padding: 1 }),
          new BatchNorm2d({ numFeatures: 16 }),
          new ReLU(),
          new MaxPool2d({ kernelSize: 2 }),
          new Conv2d({ inChannels: 16, outChannels: 32, kernelSize: 3, padding: 1 }),
          new BatchNorm2d({ numFeatures: 32 }),
          new ReLU(),
          new MaxPool2d({ kernelSize: 2 }),
          new Flatten(),
          new Linear({ inFeatures: 32 * 7 * 7, outFeatures: 10 }),
        ];
  return new Sequential(layers, { inputShape: kind === 'mlp' ? [784] : [1, 28, 28], seed: 0, backend });
}

interface Trainer {
  model: Sequential;
  loss: CrossEntropyLoss;
  opt: SGD;
  input: Tensor;
  y: Int32Array;
  step(): number;
}

function trainer(spec: Spec, backend: Backend, d: Data): Trainer {
  const model = buildModel(spec.kind, backend);
  const loss = new CrossEntropyLoss({ backend });
  const opt = new SGD(model.parameters(), { lr: LR, momentum: MOMENTUM, backend });
  const input: Tensor = { data: d.x, shape: [spec.batch, ...spec.inputShape] };
  return {
    model,
    loss,
    opt,
    input,
    y: d.y,
    step() {
      opt.zeroGrad();
      const out = model.forward(input);
      const l = loss.forward(out, d.y);
      model.backward(loss.backward());
      opt.step();
      return l;
    },
  };
}

/** Losses of the first steps on the fixed batch; throws unless they fall. */
function sanity(label: string, step: () => number): number[] {
  const ls: number[] = [];
  for (let i = 0; i < SANITY_STEPS; i++) ls.push(step());
  if (!ls.every(Number.isFinite) || !(ls[ls.length - 1] < ls[0] - 0.05)) {
    throw new Error(`train bench: ${label} loss does not decrease: ${ls.map((v) => v.toFixed(4)).join(', ')}`);
  }
  return ls;
}

// ---------------------------------------------------------------- tfjs

function tfModel(tf: Tf, kind: ModelKind): any {
  const L = tf.layers;
  let seed = 0;
  const init = () => ({ kernelInitializer: tf.initializers.glorotUniform({ seed: ++seed }) });
  const m = tf.sequential();
  if (kind === 'mlp') {
    m.add(L.dense({ units: 256, inputShape: [784], ...init() }));
    m.add(L.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }));
    m.add(L.reLU());
    m.add(L.dense({ units: 128, ...init() }));
    m.add(L.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }));
    m.add(L.reLU());
    m.add(L.dense({ units: 10, ...init() }));
  } else {
    // tfjs convolutions are channels-last: the input is [N, 28, 28, 1]
    m.add(L.conv2d({ filters: 16, kernelSize: 3, padding: 'same', inputShape: [28, 28, 1], ...init() }));
    m.add(L.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5 }));
    m.add(L.reLU());
    m.add(L.maxPooling2d({ poolSize: 2 }));
    m.add(L.conv2d({ filters: 32, kernelSize: 3, padding: 'same', ...init() }));
    m.add(L.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5 }));
    m.add(L.reLU());
    m.add(L.maxPooling2d({ poolSize: 2 }));
    m.add(L.flatten());
    m.add(L.dense({ units: 10, ...init() }));
  }
  return m;
}

interface TfTrainer {
  step(): number;
  dispose(): void;
}

function tfTrainer(tf: Tf, spec: Spec, d: Data): TfTrainer {
  const model = tfModel(tf, spec.kind);
  const shape = spec.kind === 'mlp' ? [spec.batch, 784] : [spec.batch, 28, 28, 1];
  const x = tf.tensor(d.x, shape);
  const onehot = tf.oneHot(tf.tensor1d(d.y, 'int32'), 10).toFloat();
  const opt = tf.train.momentum(LR, MOMENTUM);
  const vars = model.trainableWeights.map((w: any) => w.val);
  return {
    step() {
      const cost = tf.tidy(
        () => opt.minimize(() => tf.losses.softmaxCrossEntropy(onehot, model.apply(x, { training: true })) as any, true, vars)!,
      );
      const v = cost.dataSync()[0];
      cost.dispose();
      return v;
    },
    dispose() {
      tf.dispose([x, onehot]);
      opt.dispose();
      model.dispose();
    },
  };
}

// ---------------------------------------------------------------- the FLOP floor

/** The step's target: samples/s at least this many times PyTorch's, on 1 and on 2 threads. */
const STEP_TARGET: Record<ModelKind, number> = { mlp: 2, cnn: 2.5 };

/**
 * Multiply-adds ×2 of one step's products: each Linear and Conv2d forward, its dW, and its dX except
 * for the first layer (whose input needs no gradient). The rest of the step (normalization, pooling,
 * activations, the optimizer) is memory traffic on top of this.
 */
function stepFlops(kind: ModelKind, batch: number): number {
  const be = jsBackend();
  const m = buildModel(kind, be);
  let flops = 0;
  let first = true;
  for (const l of m.layers) {
    let f = 0;
    if (l instanceof Linear) f = 2 * batch * l.inFeatures * l.outFeatures;
    else if (l instanceof Conv2d) {
      const [, oh, ow] = l.outputShape!;
      f = 2 * batch * l.outChannels * l.inChannels * l.kernelSize[0] * l.kernelSize[1] * oh * ow;
    }
    if (f > 0) {
      flops += f * (first ? 2 : 3);
      first = false;
    }
  }
  return flops;
}

/**
 * The step's products alone at the FMA ceiling measured now (1 and 2 threads): no implementation can
 * step faster than this, so a target of "k× PyTorch" is reachable only where PyTorch's time / k lies
 * above it.
 */
function floorTable(results: Record<string, Record<string, Result>>): string {
  const peak = fmaCeilings();
  const rows: (string | number)[][] = [];
  for (const spec of SPECS) {
    const f = stepFlops(spec.kind, spec.batch);
    const target = STEP_TARGET[spec.kind];
    for (const nt of [1, 2]) {
      const floor = f / (peak[nt - 1] * 1e6);
      const torch = results[spec.kind]?.[`PyTorch ${nt}t`]?.ms ?? NaN;
      const ours = results[spec.kind]?.[`minibatch native ${nt}t`]?.ms ?? NaN;
      const need = torch / target;
      rows.push([spec.name, `${nt}t`, fmt(f / 1e6), fmt(peak[nt - 1]), floor, ours, Number.isFinite(ours) ? `${((100 * floor) / ours).toFixed(0)}%` : '—',
        Number.isFinite(need) ? fmt(need) : '—', Number.isFinite(need) ? (need >= floor ? 'reachable' : `below the floor by ${fmt(floor / need)}×`) : '']);
    }
  }
  return table('The FLOP floor: the step\'s matrix products at the FMA ceiling measured in this run',
    ['model', 'threads', 'MFLOP a step', 'ceiling GFLOPS', 'floor ms', 'native ms', 'floor / native', `PyTorch ms / target`, 'target time vs floor'], rows);
}

// ---------------------------------------------------------------- per-layer breakdown

function layerBreakdown(spec: Spec, native: Backend, d: Data, stepMs: number): (string | number)[][] {
  native.setNumThreads(1);
  const t = trainer(spec, native, d);
  const layers = t.model.layers;
  // one full step to record every layer's input and output gradient (copies: buffers are reused)
  const copy = (x: Tensor): Tensor => ({ data: Float32Array.from(x.data), shape: [...x.shape] });
  const inputs: Tensor[] = [];
  let x: Tensor = t.input;
  for (const l of layers) {
    inputs.push(copy(x));
    x = l.forward(x);
  }
  t.loss.forward(x, t.y);
  const grads: Tensor[] = new Array(layers.length);
  let g: Tensor = t.loss.backward();
  for (let i = layers.length - 1; i >= 0; i--) {
    grads[i] = copy(g); // gradient of layer i's output
    g = layers[i].backward(g);
  }
  const opts = { repeats: 5, minMs: 20, warmup: 1 };
  const rows: (string | number)[][] = [];
  let sum = 0;
  layers.forEach((l, i) => {
    const out = [spec.batch, ...l.outputShape!];
    const fwd = time(() => void l.forward(inputs[i]), opts).ms;
    l.forward(inputs[i]);
    const bwd = time(() => void l.backward(grads[i]), opts).ms;
    sum += fwd + bwd;
    rows.push([`${i} ${l.className}`, `[${out.join(', ')}]`, fwd, bwd, `${((100 * (fwd + bwd)) / stepMs).toFixed(0)}%`]);
  });
  const lossMs = time(() => {
    t.loss.forward(x, t.y);
    t.loss.backward();
  }, opts).ms;
  const optMs = time(() => t.opt.step(), opts).ms;
  const zeroMs = time(() => t.opt.zeroGrad(), opts).ms;
  sum += lossMs + optMs + zeroMs;
  rows.push(['loss (softmax CE fwd + bwd)', `[${spec.batch}, 10]`, lossMs, '', `${((100 * lossMs) / stepMs).toFixed(0)}%`]);
  rows.push([`SGD step (${t.model.parameterCount()} params)`, '', optMs, '', `${((100 * optMs) / stepMs).toFixed(0)}%`]);
  rows.push(['zero grad', '', zeroMs, '', `${((100 * zeroMs) / stepMs).toFixed(0)}%`]);
  rows.push(['sum of the parts', '', '', fmt(sum), `${((100 * sum) / stepMs).toFixed(0)}%`]);
  return rows;
}

// ---------------------------------------------------------------- fit against the explicit loop

/** Batches of data fit walks per epoch in the comparison (the explicit loop reuses one batch). */
const FIT_BATCHES = 16;
/** Epochs of each fit call, so its one-off checks of the data are spread over many steps. */
const FIT_EPOCHS = 4;
/** Timed pairs (one fit call, one loop of as many steps) per model and thread count. */
const FIT_PAIRS = 11;

export interface FitVsLoop {
  fitMs: number;
  loopMs: number;
  /** Median over the pairs of fit's step time over the loop's in the same pair. */
  ratio: number;
  /** The same for the process's CPU time (less moved by other processes on a shared machine). */
  cpuRatio: number;
  /** The fastest fit step time over the fastest loop step time (each side's least disturbed run). */
  bestRatio: number;
}

const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];

/**
 * Milliseconds a step inside fit (FIT_EPOCHS epochs of shuffled batches gathered from FIT_BATCHES
 * batches of data, the NaN guard, a yield to the event loop per step, fit's one-off data checks
 * included) and in the explicit loop (zeroGrad, forward, loss, backward, step on one batch), for
 * the same model, native backend at the current thread count. Timed in pairs whose order
 * alternates, so a change of load hits both sides; medians of each side and of the pair ratios.
 */
export async function fitVsLoop(spec: Spec, backend: Backend, pairs = FIT_PAIRS): Promise<FitVsLoop> {
  const size = spec.inputShape.reduce((a, b) => a * b, 1);
  const n = spec.batch * FIT_BATCHES;
  const x: Tensor = { data: rand(n * size, 3), shape: [n, ...spec.inputShape] };
  const y = labels(n, 4);
  const loop = trainer(spec, backend, data(spec));
  const model = buildModel(spec.kind, backend);
  const optimizer = new SGD(model.parameters(), { lr: LR, momentum: MOMENTUM, backend });
  const loss = new CrossEntropyLoss({ backend });
  const steps = FIT_BATCHES * FIT_EPOCHS;
  /** [wall ms, CPU ms] a step. */
  const timeFit = async (): Promise<[number, number]> => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fit(model, x, y, { epochs: FIT_EPOCHS, batchSize: spec.batch, loss, optimizer, verbose: 0 });
    const c = process.cpuUsage(c0);
    return [(performance.now() - t0) / steps, (c.user + c.system) / 1000 / steps];
  };
  const timeLoop = (): [number, number] => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) loop.step();
    const c = process.cpuUsage(c0);
    return [(performance.now() - t0) / steps, (c.user + c.system) / 1000 / steps];
  };
  await timeFit(); // warm-up
  timeLoop();
  const fitMs: number[] = [];
  const loopMs: number[] = [];
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  for (let r = 0; r < pairs; r++) {
    let f: [number, number], l: [number, number];
    if (r % 2 === 0) {
      f = await timeFit();
      l = timeLoop();
    } else {
      l = timeLoop();
      f = await timeFit();
    }
    fitMs.push(f[0]);
    loopMs.push(l[0]);
    ratios.push(f[0] / l[0]);
    cpuRatios.push(f[1] / l[1]);
  }
  return { fitMs: median(fitMs), loopMs: median(loopMs), ratio: median(ratios), cpuRatio: median(cpuRatios), bestRatio: Math.min(...fitMs) / Math.min(...loopMs) };
}

/** The comparison's table: both models at 1 and 2 threads, against the 1.10× target. */
export async function fitTable(native: Backend): Promise<string> {
  const threadsBefore = native.getNumThreads();
  const rows: (string | number)[][] = [];
  try {
    for (const spec of SPECS) {
      for (const nt of [1, 2]) {
        native.setNumThreads(nt);
        const r = await fitVsLoop(spec, native);
        rows.push([spec.name, `${nt}t`, r.loopMs, r.fitMs, `${fmt(r.ratio)}×`, `${fmt(r.cpuRatio)}×`, `${fmt(r.bestRatio)}×`, r.ratio <= 1.1 ? 'met' : 'NOT met']);
        console.error(`fit vs loop ${spec.kind} ${nt}t: ${fmt(r.loopMs)} / ${fmt(r.fitMs)} ms (${fmt(r.ratio)}×, CPU ${fmt(r.cpuRatio)}×, best ${fmt(r.bestRatio)}×)`);
      }
    }
  } finally {
    native.setNumThreads(threadsBefore);
  }
  return table(
    `fit against the explicit loop, native: ms a step (fit over ${FIT_EPOCHS} epochs of ${FIT_BATCHES} shuffled batches, guard on; ` +
      `medians of ${FIT_PAIRS} interleaved pairs; load average ${os.loadavg().map((v) => v.toFixed(1)).join(' / ')})`,
    ['model', 'threads', 'explicit loop', 'fit', 'fit / loop (median of pairs)', 'CPU time fit / loop', 'fastest fit / fastest loop', 'target ≤ 1.10× (wall)'],
    rows,
  );
}

// ---------------------------------------------------------------- run

interface Result {
  ms: number;
  note?: string;
}

export async function run(): Promise<string> {
  const native = nativeBackend();
  const js = jsBackend();
  const threadsBefore = native.getNumThreads();
  const out: string[] = [];
  const results: Record<string, Record<string, Result>> = {};
  const sanityRows: (string | number)[][] = [];
  const notes: string[] = [];
  const breakdowns: string[] = [];
  const showLosses = (ls: number[]) => `${ls[0].toFixed(3)} → ${ls[ls.length - 1].toFixed(3)}`;

  // --- PyTorch first (a separate process; nothing else running)
  const torchOk = pythonHas('torch');
  const pyArgs = { specs: SPECS.map((s) => ({ kind: s.kind, name: s.name, batch: s.batch })), lr: LR, momentum: MOMENTUM, minMs: 40, sanitySteps: SANITY_STEPS };
  const py: Record<number, any> = {};
  if (torchOk) for (const nt of [1, 2]) py[nt] = runPython('train.py', pyArgs, nt);

  for (const spec of SPECS) {
    const d = data(spec);
    const r: Record<string, Result> = (results[spec.kind] = {});
    const slow = spec.kind === 'cnn';

    // --- check first: native agrees with js on the first loss, every configuration learns
    const tj = trainer(spec, js, d);
    const jsLosses = sanity(`${spec.kind} js`, () => tj.step());
    const jsFirst = jsLosses[0];
    let nativeStepMs = NaN;
    for (const nt of [1, 2]) {
      native.setNumThreads(nt);
      const tn = trainer(spec, native, d);
      const ls = sanity(`${spec.kind} native ${nt}t`, () => tn.step());
      if (!(Math.abs(ls[0] - jsFirst) < 1e-3)) {
        throw new Error(`train bench: ${spec.kind} native ${nt}t first loss ${ls[0]} differs from js ${jsFirst}`);
      }
      sanityRows.push([spec.kind.toUpperCase(), `minibatch native ${nt}t`, showLosses(ls)]);
      const t: Timing = time(() => void tn.step());
      r[`minibatch native ${nt}t`] = { ms: t.ms };
      if (nt === 1) nativeStepMs = t.ms;
      console.error(`${spec.kind} native ${nt}t: ${fmt(t.ms)} ms`);
    }
    native.setNumThreads(threadsBefore);
    sanityRows.push([spec.kind.toUpperCase(), 'minibatch js', showLosses(jsLosses)]);
    r['minibatch js'] = { ms: time(() => void tj.step(), slow ? { repeats: 3, minMs: 0, warmup: 1 } : { repeats: 5 }).ms };
    console.error(`${spec.kind} js: ${fmt(r['minibatch js'].ms)} ms`);

    for (const be of ['cpu', 'wasm'] as const) {
      const name = `tfjs-${be}`;
      const tf = await loadTf(be);
      if (!tf) {
        r[name] = { ms: NaN, note: 'tfjs backend unavailable' };
        continue;
      }
      let tt: TfTrainer | null = null;
      try {
        tt = tfTrainer(tf, spec, d);
        // the sanity steps double as the timing when a step takes seconds (tfjs-cpu on the CNN):
        // the first step is the warm-up, the others are the samples
        const ls: number[] = [];
        const stepMs: number[] = [];
        for (let i = 0; i < SANITY_STEPS; i++) {
          const t0 = performance.now();
          ls.push(tt.step());
          stepMs.push(performance.now() - t0);
          if (i === 1 && stepMs[1] > SLOW_STEP_MS) break;
        }
        sanityRows.push([spec.kind.toUpperCase(), name, showLosses(ls)]);
        let t: Timing;
        if (stepMs[1] > SLOW_STEP_MS) {
          for (let i = ls.length; i < SLOW_STEPS; i++) {
            const t0 = performance.now();
            tt.step();
            stepMs.push(performance.now() - t0);
          }
          const samples = stepMs.slice(1).sort((a, b) => a - b);
          t = { ms: samples[Math.floor(samples.length / 2)], samples };
          notes.push(`${name} on the ${spec.kind.toUpperCase()}: ${fmt(stepMs[1] / 1000)} s a step, so timed over ${samples.length} steps after one warm-up step (and its loss shown over ${ls.length} steps).`);
        } else {
          const step = tt.step.bind(tt);
          t = await timeAsync(async () => void step(), slow ? { repeats: 3, minMs: 0, warmup: 1 } : { repeats: 5, minMs: 40, warmup: 1 });
        }
        r[name] = { ms: t.ms };
        console.error(`${spec.kind} ${name}: ${fmt(t.ms)} ms`);
      } catch (e) {
        const msg = (e as Error).message.split('\n')[0].slice(0, 120);
        r[name] = { ms: NaN, note: `cannot train: ${msg}` };
        sanityRows.push([spec.kind.toUpperCase(), name, `cannot train: ${msg}`]);
        console.error(`${spec.kind} ${name}: ${msg}`);
      } finally {
        try {
          tt?.dispose();
        } catch {
          /* a failed step can leave the model half built */
        }
      }
    }

    for (const nt of [1, 2]) {
      const p = py[nt]?.[spec.kind];
      const name = `PyTorch ${nt}t`;
      if (p) {
        r[name] = { ms: p.ms };
        sanityRows.push([spec.kind.toUpperCase(), name, showLosses(p.losses)]);
      } else {
        r[name] = { ms: NaN, note: torchOk ? 'train.py failed' : 'torch missing for /usr/bin/python3' };
      }
    }

    breakdowns.push(
      table(`Native ${spec.kind.toUpperCase()} step at 1 thread, per layer (batch ${spec.batch}; whole step ${fmt(nativeStepMs)} ms)`,
        ['layer', 'output', 'forward ms', 'backward ms', 'share of step'], layerBreakdown(spec, native, d, nativeStepMs)),
    );
    native.setNumThreads(threadsBefore);
  }

  // --- main table
  const rows: (string | number)[][] = [];
  for (const spec of SPECS) {
    const r = results[spec.kind];
    const base = r['minibatch native 1t'].ms;
    for (const [impl, v] of Object.entries(r)) {
      if (Number.isFinite(v.ms)) {
        rows.push([spec.name, impl, v.ms, (1000 * spec.batch) / v.ms, `${fmt(v.ms / base)}×`]);
      } else {
        rows.push([spec.name, impl, '—', '—', v.note ?? '']);
      }
    }
  }
  out.push(table('One training step (zero grad, forward, cross-entropy, backward, SGD momentum): medians', ['model', 'impl', 'ms/step', 'samples/s', 'time vs native 1t'], rows));

  // --- ratios against the targets (samples/s of the first over the second)
  const ratioRows: (string | number)[][] = [];
  const ratio = (kind: ModelKind, a: string, b: string, target: number | null) => {
    const ra = results[kind][a];
    const rb = results[kind][b];
    const label = `${kind.toUpperCase()}: ${a} vs ${b}`;
    if (!ra || !rb || !Number.isFinite(ra.ms) || !Number.isFinite(rb.ms)) {
      ratioRows.push([label, '—', target === null ? '' : `≥ ${target}×`, rb?.note ?? ra?.note ?? 'not measured']);
      return;
    }
    const x = rb.ms / ra.ms;
    ratioRows.push([label, `${fmt(x)}×`, target === null ? '' : `≥ ${target}×`, target === null ? '' : x >= target ? 'met' : 'NOT met']);
  };
  for (const kind of ['mlp', 'cnn'] as const)
    for (const nt of [1, 2]) ratio(kind, `minibatch native ${nt}t`, `PyTorch ${nt}t`, STEP_TARGET[kind]);
  for (const nt of [1, 2]) ratio('mlp', `minibatch native ${nt}t`, 'tfjs-wasm', nt === 1 ? 20 : null);
  for (const kind of ['mlp', 'cnn'] as const) {
    ratio(kind, 'minibatch js', 'tfjs-cpu', 1);
    ratio(kind, 'minibatch js', 'tfjs-wasm', 1);
  }
  out.push(table('Throughput ratios (samples/s of the first over the second) and targets', ['comparison', 'ratio', 'target', ''], ratioRows));
  out.push(floorTable(results));

  out.push(await fitTable(native));

  out.push(...breakdowns);
  out.push(table(`Sanity: loss over the first ${SANITY_STEPS} steps on the fixed batch (random labels)`, ['model', 'impl', 'loss first → last'], sanityRows));
  if (!torchOk) notes.push('PyTorch not installed for /usr/bin/python3: skipped.');
  notes.push('tfjs models are channels-last (NHWC) tf.layers models trained with tf.train.momentum; their initial weights differ, so their losses differ.');
  notes.push(`load average at the end: ${os.loadavg().map((v) => v.toFixed(1)).join(' / ')} on ${os.cpus().length} CPUs (a busy machine lowers every column, 2-thread ones most).`);
  out.push('', ...notes.map((n) => `- ${n}`));
  return out.join('\n');
}
