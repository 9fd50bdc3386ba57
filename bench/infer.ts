// Inference latency (eval mode), batch 1 and batch 64, of the MNIST CNN and of the small ResNet of
// examples/resnet.ts: minibatch native on 1 and 2 threads against ONNX Runtime (onnxruntime-node, a
// devDependency) running our own exported file on the same thread counts, and, for the CNN,
// TensorFlow.js (cpu, wasm) running the same architecture. ONNX Runtime's outputs are checked
// against ours before anything is timed, the two are timed round-robin so that load on a shared
// machine hits both alike, and the load average is reported before and after.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  Sequential, Conv2d, BatchNorm2d, ReLU, MaxPool2d, Flatten, Linear, tensor, exportOnnx, getNumThreads, setNumThreads,
} from '../lib/index';
import { resnet } from '../examples/resnet';
import { loadTf, Tf } from './peers';
import { performance } from 'perf_hooks';
import { fmt, table, time } from './util';

/** CPU time of this process so far (ms, all its threads: ONNX Runtime's run in-process too). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Times several functions round-robin (one calibrated burst of each per round, 9 rounds) and returns
 * each one's median ms per call, wall clock and process CPU time: on a shared machine, a burst of
 * load then hits every contender alike instead of whichever happened to run at that moment, and CPU
 * time (what the work costs, not how long it waited for a core) is the steadier of the two.
 */
async function interleaved(fns: (() => unknown)[], minMs = 30, rounds = 9): Promise<{ wall: number[]; cpu: number[] }> {
  const iters: number[] = [];
  for (const fn of fns) {
    await fn();
    await fn();
    let n = 1;
    for (;;) {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await fn();
      const dt = performance.now() - t0;
      if (dt >= minMs || n >= 1 << 14) break;
      n = Math.max(n * 2, Math.ceil((n * minMs) / Math.max(dt, 0.01)));
    }
    iters.push(n);
  }
  const samples: number[][] = fns.map(() => []);
  const cpu: number[][] = fns.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let f = 0; f < fns.length; f++) {
      const c0 = cpuMs();
      const t0 = performance.now();
      for (let i = 0; i < iters[f]; i++) await fns[f]();
      samples[f].push((performance.now() - t0) / iters[f]);
      cpu[f].push((cpuMs() - c0) / iters[f]);
    }
  }
  const median = (s: number[]) => s.sort((a, b) => a - b)[Math.floor(s.length / 2)];
  return { wall: samples.map(median), cpu: cpu.map(median) };
}

function cnn(): Sequential {
  const m = new Sequential([
    new Conv2d({ inChannels: 1, outChannels: 16, kernelSize: 3, padding: 1 }), new BatchNorm2d({ numFeatures: 16 }), new ReLU(), new MaxPool2d({ kernelSize: 2 }),
    new Conv2d({ inChannels: 16, outChannels: 32, kernelSize: 3, padding: 1 }), new BatchNorm2d({ numFeatures: 32 }), new ReLU(), new MaxPool2d({ kernelSize: 2 }),
    new Flatten(), new Linear({ inFeatures: 32 * 7 * 7, outFeatures: 10 }),
  ], { inputShape: [1, 28, 28], seed: 0, backend: 'native' });
  return m.eval();
}

function tfCnn(tf: Tf): any {
  const L = tf.layers;
  const m = tf.sequential();
  m.add(L.conv2d({ filters: 16, kernelSize: 3, padding: 'same', inputShape: [28, 28, 1] }));
  m.add(L.batchNormalization({ axis: -1, epsilon: 1e-5 }));
  m.add(L.reLU());
  m.add(L.maxPooling2d({ poolSize: 2 }));
  m.add(L.conv2d({ filters: 32, kernelSize: 3, padding: 'same' }));
  m.add(L.batchNormalization({ axis: -1, epsilon: 1e-5 }));
  m.add(L.reLU());
  m.add(L.maxPooling2d({ poolSize: 2 }));
  m.add(L.flatten());
  m.add(L.dense({ units: 10 }));
  return m;
}

type Ort = typeof import('onnxruntime-node');
/** ms per batch by contender, then by batch size. */
type Times = Record<string, Record<number, number>>;

const loadNow = () => os.loadavg().map((v) => v.toFixed(2)).join(' / ');

/**
 * Ours against ONNX Runtime on the file exportOnnx wrote of the same model, batch 1 and 64, 1 and 2
 * threads (wall and CPU time); without ONNX Runtime, ours alone.
 */
async function againstOrt(ort: Ort | null, model: Sequential, tag: string): Promise<{ ms: Times; cpu: Times }> {
  const before = getNumThreads();
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'minibatch-infer-')), `${tag}.onnx`);
  exportOnnx(model, file);
  const ms: Times = {};
  const cpu: Times = {};
  const put = (t: Times, name: string, batch: number, v: number) => ((t[name] ??= {})[batch] = v);
  const per = model.inputShape!.reduce((a, b) => a * b, 1);
  for (const batch of [1, 64]) {
    const data = new Float32Array(batch * per).map((_, i) => Math.sin(i * 0.37));
    const shape = [batch, ...model.inputShape!];
    const x = tensor(data, shape);
    const ours = Float32Array.from(model.forward(x).data);
    for (const nt of [1, 2]) {
      const oursFn = () => {
        setNumThreads(nt);
        model.forward(x);
      };
      if (!ort) {
        put(ms, `minibatch native ${nt}t`, batch, time(oursFn).ms);
        continue;
      }
      // ONNX Runtime's worker threads spin between runs by default (session.intra_op.allow_spinning),
      // and in one process they take the core our second thread needs: the round-robin pairs run it
      // with spinning off, and its default (spinning) configuration is timed alone afterwards, with
      // our threads idle. ONNX Runtime's figure is the faster of the two.
      const create = (spin: boolean) => ort.InferenceSession.create(file, {
        intraOpNumThreads: nt, interOpNumThreads: 1, executionMode: 'sequential',
        extra: { session: { intra_op: { allow_spinning: spin ? '1' : '0' } } },
      });
      const session = await create(false);
      const feeds = { input: new ort.Tensor('float32', data, shape) };
      const out = (await session.run(feeds)).output.data as Float32Array;
      let d = 0;
      for (let i = 0; i < ours.length; i++) d = Math.max(d, Math.abs(out[i] - ours[i]));
      if (!(d <= 1e-4)) throw new Error(`infer bench (${tag}): ONNX Runtime's output differs from ours by ${d}`);
      const t = await interleaved([oursFn, () => session.run(feeds)]);
      await session.release();
      const spinning = await create(true);
      const alone = await interleaved([() => spinning.run(feeds)]);
      await spinning.release();
      put(ms, `minibatch native ${nt}t`, batch, t.wall[0]);
      put(cpu, `minibatch native ${nt}t`, batch, t.cpu[0]);
      const best = alone.wall[0] < t.wall[1] ? alone : { wall: [t.wall[1]], cpu: [t.cpu[1]] };
      put(ms, `onnxruntime ${nt}t`, batch, best.wall[0]);
      put(cpu, `onnxruntime ${nt}t`, batch, best.cpu[0]);
      put(ms, `  onnxruntime ${nt}t, no spinning (paired)`, batch, t.wall[1]);
      put(ms, `  onnxruntime ${nt}t, spinning (alone)`, batch, alone.wall[0]);
    }
    setNumThreads(before);
  }
  return { ms, cpu };
}

/** tfjs (wasm, cpu) on the CNN's architecture, into ms. */
async function tfjsCnn(ms: Times): Promise<void> {
  for (const batch of [1, 64]) {
    const data = new Float32Array(batch * 784).map((_, i) => Math.sin(i * 0.37));
    for (const be of ['wasm', 'cpu'] as const) {
      const tf = await loadTf(be);
      if (!tf) continue;
      const m = tfCnn(tf);
      const xt = tf.tensor(data, [batch, 28, 28, 1]);
      const once = () => {
        const y = m.predict(xt) as any;
        y.dataSync();
        y.dispose();
      };
      (ms[`tfjs-${be}`] ??= {})[batch] = time(once, be === 'cpu' ? { repeats: 3, minMs: 0, warmup: 1 } : {}).ms;
      xt.dispose();
      m.dispose();
    }
  }
}

/** The time table and the ratio table of one model. */
function tables(title: string, ms: Times, cpu: Times, tfjs: boolean): string[] {
  const c = (name: string, batch: number) => (cpu[name]?.[batch] !== undefined ? fmt(cpu[name][batch]) : 'n/a');
  const rows = Object.entries(ms).map(([name, v]) => [name, fmt(v[1]), fmt(v[64]), fmt((64 * 1000) / v[64]), c(name, 1), c(name, 64)]);
  const ratioOf = (t: Times, a: string, b: string, batch: number) => (t[a]?.[batch] && t[b]?.[batch] ? (t[b][batch] / t[a][batch]).toFixed(2) : 'n/a');
  const ratios: string[][] = [];
  for (const nt of [1, 2]) {
    for (const batch of [1, 64]) {
      const [a, b] = [`minibatch native ${nt}t`, `onnxruntime ${nt}t`];
      ratios.push([`native ${nt}t vs onnxruntime ${nt}t`, String(batch), ratioOf(ms, a, b, batch), ratioOf(cpu, a, b, batch)]);
    }
  }
  if (tfjs) {
    for (const be of ['wasm', 'cpu']) {
      for (const batch of [1, 64]) ratios.push([`native 1t vs tfjs-${be}`, String(batch), ratioOf(ms, 'minibatch native 1t', `tfjs-${be}`, batch), '']);
    }
  }
  return [
    table(`${title} forward, eval mode (ms per batch; median)`, ['', 'batch 1', 'batch 64', 'images/s at 64', 'CPU ms, batch 1', 'CPU ms, batch 64'], rows),
    table(`${title}: speed-up of minibatch (peer time / ours; > 1 is faster)`, ['', 'batch', 'ratio (wall)', 'ratio (CPU time)'], ratios),
  ];
}

export async function run(): Promise<string> {
  const load0 = loadNow();
  let ort: Ort | null = null;
  try {
    ort = await import('onnxruntime-node');
  } catch (e) {
    console.error(`onnxruntime-node unavailable: ${(e as Error).message}`);
  }
  const out: string[] = [];
  const models: [string, string, () => Sequential, boolean][] = [
    ['MNIST CNN', 'cnn', cnn, true],
    ['ResNet (examples/resnet.ts)', 'resnet', () => resnet(0).eval(), false],
  ];
  for (const [title, tag, make, withTf] of models) {
    const { ms, cpu } = await againstOrt(ort, make(), tag);
    if (withTf) await tfjsCnn(ms);
    for (const batch of [1, 64]) console.error(`infer ${tag} batch ${batch}: ${Object.entries(ms).map(([k, v]) => `${k} ${fmt(v[batch])} ms`).join(', ')}`);
    out.push(...tables(title, ms, cpu, withTf));
  }
  return [
    ...out,
    '',
    `Load average (1 / 5 / 15 min) on ${os.cpus().length} logical cores: ${load0} before, ${loadNow()} after. ` +
      'Targets: native within 1.5x of ONNX Runtime at batch 64 (ratio >= 0.67), and >= 10x ahead of tfjs. ' +
      'ONNX Runtime runs the file exportOnnx wrote of the same model (outputs checked to 1e-4 first); tfjs models are NHWC tf.layers models of the same architecture.' +
      (ort ? '' : ' ONNX Runtime did not load: only our times are shown.'),
  ].join('\n');
}
