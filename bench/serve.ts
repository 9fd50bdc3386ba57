// Serving benchmark (`npm run bench -- serve`, or `npm run bench:serve`).
//
// 1. The event loop while the MNIST CNN (conv16-conv32-linear, BN, batch 64, Adam) trains in the
//    same process: perf_hooks.monitorEventLoopDelay (1 ms resolution) over a fixed number of
//    steps, in-thread and with offThread: true, and the training throughput of each mode.
// 2. examples/serve.ts on 127.0.0.1 under autocannon run from a second process, bounded in requests
//    and time: single-image JSON requests, (a) idle without micro-batching, (b) the same while a
//    CNN trains off-thread in the server's process, (c) with in-thread training (what the service
//    would suffer without offThread), (d) with micro-batching, (e) micro-batching while training.
// Random digits (fixed seed) stand in for MNIST: speed does not depend on the values.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { monitorEventLoopDelay, performance } from 'perf_hooks';
import {
  Sequential, Conv2d, BatchNorm2d, ReLU, MaxPool2d, Flatten, Linear, CrossEntropyLoss, Adam, ChannelNormalizer, fit, saveModel,
} from '../lib/index';
import type { Callback } from '../lib/index';
import { startService } from '../examples/serve';
import { table } from './util';

const fmt = (x: number, digits: number): string => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

const STEPS = 60;
const BATCH = 64;

function cnn(seed = 0): Sequential {
  return new Sequential(
    [
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
    ],
    { inputShape: [1, 28, 28], seed },
  );
}

function digits(n: number, seed: number): { x: { data: Float32Array; shape: number[] }; y: Int32Array } {
  let s = seed >>> 0;
  const data = new Float32Array(n * 784);
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s / 4294967296;
  }
  return { x: { data, shape: [n, 1, 28, 28] }, y: Int32Array.from({ length: n }, (_, i) => (i * 7) % 10) };
}

/** Trains `steps` steps; returns samples/s and the event-loop delay seen meanwhile. */
async function trainWatched(offThread: boolean, steps: number): Promise<{ rate: number; p99: number; max: number; mean: number }> {
  const model = cnn(1);
  const { x, y } = digits(steps * BATCH, 3);
  const h = monitorEventLoopDelay({ resolution: 1 });
  const opts = { epochs: 1, batchSize: BATCH, loss: new CrossEntropyLoss(), optimizer: new Adam(model.parameters(), { lr: 1e-3 }), verbose: 0 as const, shuffle: false, offThread };
  await fit(model, { data: x.data.subarray(0, 2 * BATCH * 784), shape: [2 * BATCH, 1, 28, 28] }, y.subarray(0, 2 * BATCH), opts); // warm-up
  let t0 = 0;
  let secs = 0;
  // measured over the training steps (from the first step to the last), not the start-up
  const watch: Callback = {
    onTrainBegin: () => {
      h.enable();
      t0 = performance.now();
    },
    onTrainEnd: () => {
      secs = (performance.now() - t0) / 1000;
      h.disable();
    },
  };
  await fit(model, x, y, { ...opts, callbacks: [watch] });
  return { rate: (steps * BATCH) / secs, p99: h.percentile(99) / 1e6, max: h.max / 1e6, mean: h.mean / 1e6 };
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
  non2xx: number;
}

/** autocannon in a child process against the local service. */
function autocannon(port: number, body: string, seconds: number, connections: number, raw = false): Promise<Load> {
  const script = `
    const autocannon = require('autocannon');
    autocannon({ url: 'http://127.0.0.1:${port}/predict', method: 'POST',
      headers: { 'content-type': ${raw ? "'application/octet-stream'" : "'application/json'"} },
      body: ${raw ? "Buffer.from(process.env.BODY, 'base64')" : 'process.env.BODY'}, connections: ${connections}, duration: ${seconds}, maxOverallRequests: 200000, timeout: 10 }, (err, r) => {
      if (err) { console.error(err); process.exit(1); }
      process.stdout.write(JSON.stringify({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, requests: r.requests.total,
        errors: r.errors + r.timeouts, non2xx: r.non2xx }));
    });`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, BODY: body }, stdio: ['ignore', 'pipe', 'inherit'], cwd: path.join(__dirname, '..') });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`autocannon exited with ${code}`))));
  });
}

/** A background training run in this process until stop() (epochs of 20 steps). */
function backgroundTraining(offThread: boolean): { stop(): Promise<void> } {
  const model = cnn(2);
  const { x, y } = digits(20 * BATCH, 5);
  const stopper: Callback = { stopTraining: false };
  const run = fit(model, x, y, {
    epochs: 10_000, batchSize: BATCH, loss: new CrossEntropyLoss(), optimizer: new Adam(model.parameters(), { lr: 1e-3 }), verbose: 0, offThread,
    callbacks: [stopper],
  });
  return {
    stop: async () => {
      stopper.stopTraining = true;
      await run;
    },
  };
}

export async function run(): Promise<string> {
  const sections: string[] = [];
  const load0 = os.loadavg().map((v) => v.toFixed(1)).join(' ');
  // ---------------------------------------------------------------- 1. event loop during training
  const rows: string[][] = [];
  const res: Record<string, Awaited<ReturnType<typeof trainWatched>>> = {};
  for (const off of [false, true, false, true]) {
    const r = await trainWatched(off, STEPS);
    const k = off ? 'offThread' : 'in-thread';
    if (!res[k] || r.rate > res[k].rate) res[k] = r; // best of two for the throughput, delays of that run
  }
  for (const k of ['in-thread', 'offThread']) {
    const r = res[k];
    rows.push([k, fmt(r.rate, 0), fmt(r.mean, 2), fmt(r.p99, 2), fmt(r.max, 2)]);
  }
  sections.push(
      table(`Event-loop delay while the MNIST CNN trains (batch ${BATCH}, ${STEPS} steps, Adam)`, ['mode', 'samples/s', 'delay mean ms', 'p99 ms', 'max ms'], rows) +
      `\n\nThroughput offThread / in-thread: ${(res.offThread.rate / res['in-thread'].rate).toFixed(2)}x (best of two runs each, measured from the first step to the last); load average before: ${load0}.`,
  );

  // ---------------------------------------------------------------- 2. the HTTP service under load
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-bench-serve-'));
  const file = path.join(dir, 'cnn.safetensors');
  const { x } = digits(256, 9);
  saveModel(cnn(3), file, { preprocess: new ChannelNormalizer().fit(x) });
  const body = JSON.stringify({ input: Array.from(x.data.subarray(0, 784), (v) => Number(v.toFixed(4))) });
  const rawBody = Buffer.from(x.data.slice(0, 784).buffer).toString('base64');
  const seconds = Number(process.env.SERVE_BENCH_SECONDS ?? 5);
  const connections = 16;
  const scenarios: [string, { maxBatch: number; maxDelayMs: number }, 'none' | 'off' | 'in', boolean?][] = [
    ['(a) idle, no micro-batching', { maxBatch: 1, maxDelayMs: 0 }, 'none'],
    ['(b) while a CNN trains (offThread)', { maxBatch: 1, maxDelayMs: 0 }, 'off'],
    ['(c) while a CNN trains in-thread', { maxBatch: 1, maxDelayMs: 0 }, 'in'],
    ['(d) micro-batching (32, 1 ms)', { maxBatch: 32, maxDelayMs: 1 }, 'none'],
    ['(e) micro-batching while a CNN trains (offThread)', { maxBatch: 32, maxDelayMs: 1 }, 'off'],
    ['(f) micro-batching, raw float32 body', { maxBatch: 32, maxDelayMs: 1 }, 'none', true],
  ];
  const hrows: string[][] = [];
  for (const [name, o, training, raw] of scenarios) {
    const svc = await startService({ checkpoint: file, port: 0, workers: 1, ...o });
    await autocannon(svc.port, raw ? rawBody : body, 1, connections, raw); // warm-up
    const bg = training === 'none' ? null : backgroundTraining(training === 'off');
    const r = await autocannon(svc.port, raw ? rawBody : body, seconds, connections, raw);
    await bg?.stop();
    const st = svc.pool.stats();
    await svc.close();
    hrows.push([name, fmt(r.rps, 0), fmt(r.p50, 1), fmt(r.p99, 1), String(r.requests), String(r.errors + r.non2xx), fmt(st.meanBatchSize, 1)]);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  sections.push(
      table(`examples/serve.ts under autocannon (${connections} connections, ${seconds} s, single-image JSON POST /predict, 1 pool worker)`, ['scenario', 'requests/s', 'p50 ms', 'p99 ms', 'requests', 'errors', 'mean batch'], hrows) +
      `\n\nThe load generator, the server's event loop, the pool worker and the training worker share the ${os.cpus().length} cores; load average before: ${load0}.`,
  );
  return sections.join('\n\n');
}

if (require.main === module) {
  run().then((md) => {
    console.log(md);
    process.exit(0);
  });
}
