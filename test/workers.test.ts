// The addon is context-aware: it loads and computes in several worker_threads at once.
import { describe, it, expect } from 'vitest';
import { Worker } from 'worker_threads';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { native, randn } from './helpers';

const root = path.join(__dirname, '..');
// the addon this process loaded (MINIBATCH_ADDON, e.g. the sanitizer build, is honoured in workers too)
const addonPath = native.capabilities().addonPath;

function runWorker(data: object, file = 'kernel-worker.cjs'): Promise<any> {
  return new Promise((resolve, reject) => {
    const w = new Worker(path.join(__dirname, 'workers', file), { workerData: data });
    w.once('message', (m) => {
      resolve(m);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

const osThreads = (): number => fs.readdirSync('/proc/self/task').length;

describe('worker_threads', () => {
  it('two workers computing concurrently give the same results as the main thread', async () => {
    const m = 96, n = 80, k = 130;
    const a = randn(m * k, 1), b = randn(n * k, 2), x = randn(100_000, 3, -8, 8);
    const c = new Float32Array(m * n);
    native.gemm(false, true, m, n, k, 1, a, b, 0, c);
    const y = new Float32Array(x.length);
    native.activation('sigmoid', y, x, x.length, 0);

    const [r1, r2] = await Promise.all([
      runWorker({ root, addonPath, m, n, k, a, b, x, repeats: 30, threads: 1 }),
      runWorker({ root, addonPath, m, n, k, a, b, x, repeats: 30, threads: 2 }),
    ]);
    // each worker keeps its own thread setting
    expect(r1.threads).toBe(1);
    expect(r2.threads).toBe(2);
    for (const r of [r1, r2]) {
      expect(Array.from(r.c as Float32Array)).toEqual(Array.from(c));
      expect(Array.from(r.y as Float32Array)).toEqual(Array.from(y));
    }
  });

  it('two workers training two models at once give exactly the results of training them one after the other', async () => {
    const job = (seed: number, offThread = false) => ({ root, seed, n: 48, offThread });
    const one = await runWorker(job(1), 'train-worker.cjs');
    const two = await runWorker(job(2), 'train-worker.cjs');
    // at once, and the second one with its steps in a library worker of its own
    const [a, b] = await Promise.all([runWorker(job(1), 'train-worker.cjs'), runWorker(job(2, true), 'train-worker.cjs')]);
    expect(Array.from(a.params as Float32Array)).toEqual(Array.from(one.params as Float32Array));
    expect(Array.from(b.params as Float32Array)).toEqual(Array.from(two.params as Float32Array));
    expect(Array.from(one.params as Float32Array)).not.toEqual(Array.from(two.params as Float32Array));
  });

  it('a worker ended while it trains (in-thread or with its own off-thread worker) leaks nothing and crashes nothing', async () => {
    const threads0 = osThreads();
    for (const offThread of [false, true, false, true]) {
      const w = new Worker(path.join(__dirname, 'workers', 'train-worker.cjs'), { workerData: { root, seed: 3, n: 64, offThread, hang: true } });
      await new Promise<void>((resolve, reject) => {
        w.on('message', (m) => m.started && resolve());
        w.once('error', reject);
      });
      await w.terminate();
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(osThreads()).toBeLessThanOrEqual(threads0);
    // the process still computes
    const c = new Float32Array(4);
    native.gemm(false, false, 2, 2, 2, 1, new Float32Array([1, 2, 3, 4]), new Float32Array([1, 0, 0, 1]), 0, c);
    expect(Array.from(c)).toEqual([1, 2, 3, 4]);
  });

  it('50 workers terminated in the middle of a native call end quietly (the glue drops the error it cannot throw)', () => {
    // the call's property reads fail once termination starts; an addon that rethrows there aborts
    // the whole process (std::terminate), so the loop runs in a child process of its own
    const r = spawnSync(process.execPath, [path.join(__dirname, 'workers', 'terminate-loop.cjs'), root, '50', addonPath ?? ''], {
      encoding: 'utf8', timeout: 60_000,
    });
    expect(r.stderr).not.toMatch(/terminate called|FATAL ERROR/);
    expect({ status: r.status, signal: r.signal, out: r.stdout.trim() }).toEqual({ status: 0, signal: null, out: 'ok' });
  });

  it('20 workers started and stopped in a loop keep RSS and the thread count flat', async () => {
    const m = 64, n = 64, k = 64;
    const data = { root, m, n, k, a: randn(m * k, 1), b: randn(n * k, 2), x: randn(4096, 3), repeats: 3, threads: 2 };
    for (let i = 0; i < 5; i++) await runWorker(data); // warm up allocator and code caches
    await new Promise((r) => setTimeout(r, 100));
    const rss0 = process.memoryUsage().rss;
    const threads0 = osThreads();
    for (let i = 0; i < 20; i++) await runWorker(data);
    await new Promise((r) => setTimeout(r, 300));
    const grown = (process.memoryUsage().rss - rss0) / 2 ** 20;
    expect(grown, `RSS grew by ${grown.toFixed(1)} MiB over 20 workers`).toBeLessThan(24);
    expect(osThreads()).toBeLessThanOrEqual(threads0);
  });
});
