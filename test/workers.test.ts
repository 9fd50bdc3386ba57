// The addon is context-aware: it loads and computes in several worker_threads at once.
import { describe, it, expect } from 'vitest';
import { Worker } from 'worker_threads';
import * as path from 'path';
import { native, randn } from './helpers';

const root = path.join(__dirname, '..');
// the addon this process loaded (MINIBATCH_ADDON, e.g. the sanitizer build, is honoured in workers too)
const addonPath = native.capabilities().addonPath;

function runWorker(data: object): Promise<any> {
  return new Promise((resolve, reject) => {
    const w = new Worker(path.join(__dirname, 'workers', 'kernel-worker.cjs'), { workerData: data });
    w.once('message', resolve);
    w.once('error', reject);
  });
}

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
});
