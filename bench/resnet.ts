// Models beyond one straight stack, and streamed data:
//   1. one training step of the small ResNet of examples/resnet.ts (batch 64, SGD momentum) with
//      the native backend on 1 and 2 threads against the same model in PyTorch (bench/py/resnet.py);
//   2. fit's throughput on the MNIST CNN over the 10,000 digits held in memory and over the same
//      digits in a file read row by row, prefetched: by FileDataset (a worker thread reads the rows)
//      and by a Dataset whose batch() reads each row with fs.promises on the main thread. Runs are
//      paired (memory, then the file readers, the order alternating) and the medians of the paired
//      ratios are reported, with the main thread's stall between two steps (what prefetch did not
//      hide), which the machine's load disturbs less than wall time.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import {
  Sequential, Conv2d, BatchNorm2d, ReLU, MaxPool2d, Flatten, Linear, CrossEntropyLoss, SGD, fit, setNumThreads, getNumThreads, tensor,
} from '../lib/index';
import type { Batch, Callback, Dataset } from '../lib/index';
import { FileDataset } from '../lib/data/file';
import { resnet } from '../examples/resnet';
import { loadMnist } from '../examples/mnist-data';
import { pythonHas, runPython } from './peers';
import { fmt, table, time } from './util';

const BATCH = 64;

function resnetStep(): { ms: number; first: number; sixth: number } {
  const model = resnet(0);
  const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const loss = new CrossEntropyLoss();
  const x = tensor(Float32Array.from({ length: BATCH * 784 }, (_, i) => Math.sin(i * 0.37)), [BATCH, 1, 28, 28]);
  const y = Int32Array.from({ length: BATCH }, (_, i) => (i * 7) % 10);
  const losses: number[] = [];
  const step = () => {
    model.zeroGrad();
    const l = loss.forward(model.forward(x), y);
    model.backward(loss.backward());
    opt.step();
    return l;
  };
  for (let i = 0; i < 6; i++) losses.push(step());
  if (!(losses[5] < losses[0])) throw new Error(`resnet bench: the loss did not fall (${losses[0]} → ${losses[5]})`);
  return { ms: time(() => void step(), { repeats: 5, minMs: 200, warmup: 1 }).ms, first: losses[0], sixth: losses[5] };
}

const cnn = () => new Sequential([
  new Conv2d({ inChannels: 1, outChannels: 16, kernelSize: 3, padding: 1 }), new BatchNorm2d({ numFeatures: 16 }), new ReLU(), new MaxPool2d({ kernelSize: 2 }),
  new Conv2d({ inChannels: 16, outChannels: 32, kernelSize: 3, padding: 1 }), new BatchNorm2d({ numFeatures: 32 }), new ReLU(), new MaxPool2d({ kernelSize: 2 }),
  new Flatten(), new Linear({ inFeatures: 32 * 7 * 7, outFeatures: 10 }),
], { inputShape: [1, 28, 28], seed: 0 });

/** The digits as a file of float32 rows, read back one row per read. */
class FileDigits implements Dataset {
  constructor(private fh: fs.promises.FileHandle, readonly length: number, private labels: Int32Array) {}
  async batch(idx: Int32Array): Promise<Batch> {
    const row = 784 * 4;
    const buf = Buffer.allocUnsafe(idx.length * row);
    await Promise.all(Array.from(idx, (r, i) => this.fh.read(buf, i * row, row, r * row)));
    const x = new Float32Array(buf.buffer, buf.byteOffset, idx.length * 784);
    return { x: { data: Float32Array.from(x), shape: [idx.length, 1, 28, 28] }, y: Int32Array.from(idx, (r) => this.labels[r]) };
  }
}

const PAIRS = Number(process.env.FIT_BENCH_PAIRS ?? 5);
type Reader = 'memory' | 'FileDataset' | 'fs.promises';
export interface FitThroughput {
  /** Median samples/s, median ratio to the paired in-memory run, median stall per batch (ms). */
  rows: Record<Reader, { samples: number; ratio: number; stallMs: number }>;
  pairs: number;
  load: [number, number];
}

const median = (a: number[]) => {
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export async function fitThroughput(): Promise<FitThroughput> {
  const d = loadMnist();
  const n = d.nTrain + d.nTest;
  const x = new Float32Array(n * 784);
  x.set(d.xTrain);
  x.set(d.xTest, d.nTrain * 784);
  const y = new Int32Array(n);
  y.set(d.yTrain);
  y.set(d.yTest, d.nTrain);
  const file = path.join(os.tmpdir(), `minibatch-digits-${process.pid}.f32`);
  fs.writeFileSync(file, Buffer.from(x.buffer, x.byteOffset, x.byteLength));
  const fh = await fs.promises.open(file, 'r');
  const fds = new FileDataset(file, { shape: [1, 28, 28], y });
  const load0 = os.loadavg()[0];
  try {
    const sources: Record<Reader, () => Promise<unknown>> = { memory: async () => 0, FileDataset: async () => fds, 'fs.promises': async () => new FileDigits(fh, n, y) };
    const run = async (reader: Reader) => {
      const m = cnn();
      let end = 0, stall = 0, steps = 0;
      const timer: Callback = {
        onBatchBegin: () => void (end && (stall += performance.now() - end, steps++)),
        onBatchEnd: () => void (end = performance.now()),
      };
      const o = { epochs: 1, batchSize: BATCH, loss: new CrossEntropyLoss(), optimizer: new SGD(m.parameters(), { lr: 0.01, momentum: 0.9 }), verbose: 0 as const, seed: 1, callbacks: [timer] };
      const src = await sources[reader]();
      const t0 = performance.now();
      if (reader === 'memory') await fit(m, tensor(x, [n, 1, 28, 28]), y, o);
      else await fit(m, src as Dataset, o);
      return { samples: n / ((performance.now() - t0) / 1000), stallMs: stall / steps };
    };
    const readers: Reader[] = ['memory', 'FileDataset', 'fs.promises'];
    const got: Record<Reader, { samples: number[]; ratio: number[]; stallMs: number[] }> = {
      memory: { samples: [], ratio: [], stallMs: [] }, FileDataset: { samples: [], ratio: [], stallMs: [] }, 'fs.promises': { samples: [], ratio: [], stallMs: [] },
    };
    for (let p = 0; p < PAIRS; p++) {
      const order = p % 2 ? [...readers].reverse() : readers;
      const res = {} as Record<Reader, { samples: number; stallMs: number }>;
      for (const r of order) res[r] = await run(r);
      for (const r of readers) {
        got[r].samples.push(res[r].samples);
        got[r].stallMs.push(res[r].stallMs);
        got[r].ratio.push(res[r].samples / res.memory.samples);
      }
    }
    const rows = {} as FitThroughput['rows'];
    for (const r of readers) rows[r] = { samples: median(got[r].samples), ratio: median(got[r].ratio), stallMs: median(got[r].stallMs) };
    return { rows, pairs: PAIRS, load: [load0, os.loadavg()[0]] };
  } finally {
    await fds.close();
    await fh.close();
    fs.rmSync(file, { force: true });
  }
}

export async function run(): Promise<string> {
  const before = getNumThreads();
  const rows: (string | number)[][] = [];
  for (const nt of [1, 2]) {
    setNumThreads(nt);
    const r = resnetStep();
    const py = pythonHas('torch') ? runPython('resnet.py', { batch: BATCH, lr: 0.01, momentum: 0.9, minMs: 200 }, nt) : null;
    rows.push([`${nt}`, fmt(r.ms), py ? fmt(py.ms) : 'n/a (no torch)', py ? (r.ms / py.ms).toFixed(2) : '', `${r.first.toFixed(3)} → ${r.sixth.toFixed(3)}`]);
    console.error(`resnet ${nt}t: ${fmt(r.ms)} ms${py ? `, PyTorch ${fmt(py.ms)} ms` : ''}`);
  }
  setNumThreads(before);
  const t = await fitThroughput();
  const fitRows = (Object.keys(t.rows) as (keyof FitThroughput['rows'])[]).map((r) => [r, Math.round(t.rows[r].samples), t.rows[r].ratio.toFixed(3), t.rows[r].stallMs.toFixed(2)]);
  return [
    table('ResNet (examples/resnet.ts) training step, batch 64, ms', ['threads', 'minibatch native', 'PyTorch', 'ratio', 'minibatch loss, 6 steps'], rows),
    table(`fit on the MNIST CNN over 10,000 digits, batch 64 (medians of ${t.pairs} paired runs)`, ['reader', 'samples/s', 'of in-memory (paired)', 'stall between steps, ms'], fitRows),
    `- load average ${t.load[0].toFixed(1)} at the start of the fit runs, ${t.load[1].toFixed(1)} at the end, on ${os.cpus().length} CPUs.`,
  ].join('\n\n');
}
