// Results that do not depend on the thread count: a short CNN and MLP training run gives
// bit-identical weights, BatchNorm buffers and losses on 1, 2, 3 and 16 OpenMP threads, and the
// convolution kernels alone give identical bits over a sweep of shapes. Also: the library's
// OpenMP wait policy is applied only when the user set none of the OpenMP variables.
import { describe, it, expect, afterAll } from 'vitest';
import { spawnSync } from 'child_process';
import * as path from 'path';
import { native, randn } from './helpers';
import {
  Sequential, Linear, ReLU, Flatten, BatchNorm1d, BatchNorm2d, Conv2d, MaxPool2d, CrossEntropyLoss, SGD,
  capabilities,
} from '../lib/index';
import type { Layer } from '../lib/layers/layer';
import type { Conv2dParams } from '../lib/backend/types';
import { waitPolicyEnv } from '../lib/backend/native';

const initial = native.getNumThreads();

/** Asserts two float arrays are the same bits (fast on large arrays; names the first difference). */
function expectSameBits(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  expect(a.length, what).toBe(b.length);
  const fa = Float32Array.from(a), fb = Float32Array.from(b);
  if (Buffer.from(fa.buffer).equals(Buffer.from(fb.buffer))) return;
  const i = fa.findIndex((v, j) => !Object.is(v, fb[j]));
  expect.fail(`${what}[${i}]: ${fa[i]} vs ${fb[i]}`);
}
afterAll(() => native.setNumThreads(initial));

function cnn(): Layer[] {
  return [
    new Conv2d({ inChannels: 1, outChannels: 8, kernelSize: 3, padding: 1 }),
    new BatchNorm2d({ numFeatures: 8 }),
    new ReLU(),
    new MaxPool2d({ kernelSize: 2 }),
    new Conv2d({ inChannels: 8, outChannels: 16, kernelSize: 3, padding: 1 }),
    new BatchNorm2d({ numFeatures: 16 }),
    new ReLU(),
    new MaxPool2d({ kernelSize: 2 }),
    new Flatten(),
    new Linear({ inFeatures: 16 * 7 * 7, outFeatures: 10 }),
  ];
}
function mlp(): Layer[] {
  return [new Linear({ inFeatures: 784, outFeatures: 64 }), new BatchNorm1d({ numFeatures: 64 }), new ReLU(), new Linear({ inFeatures: 64, outFeatures: 10 })];
}

/** Trains `steps` SGD-momentum steps on fixed batches with `threads` threads; the state dict and losses. */
function train(layers: () => Layer[], inputShape: number[], threads: number, steps = 4, batch = 48) {
  native.setNumThreads(threads);
  const model = new Sequential(layers(), { inputShape, seed: 7, backend: native });
  const size = inputShape.reduce((a, b) => a * b, 1);
  const loss = new CrossEntropyLoss();
  const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const losses: number[] = [];
  const x = { data: randn(batch * size, 100), shape: [batch, ...inputShape] };
  const y = Int32Array.from({ length: batch }, (_, i) => (i * 7) % 10);
  for (let s = 0; s < steps; s++) {
    opt.zeroGrad();
    const out = model.forward(x);
    losses.push(loss.forward(out, y));
    model.backward(loss.backward());
    opt.step();
  }
  const state = model.stateDict();
  return { losses, state: Object.fromEntries(Object.entries(state).map(([k, v]) => [k, ((v as any).data ?? v) as ArrayLike<number>])) };
}

describe('training gives the same bits on any thread count', () => {
  for (const [name, layers, shape] of [['CNN', cnn, [1, 28, 28]], ['MLP', mlp, [784]]] as const) {
    it(`${name}: weights, buffers and losses identical on 1, 2, 3 and 16 threads`, () => {
      const ref = train(layers, shape as unknown as number[], 1);
      expect(ref.losses.every(Number.isFinite)).toBe(true);
      expect(ref.losses[3]).toBeLessThan(ref.losses[0]); // it does train
      for (const t of [2, 3, 16]) {
        const run = train(layers, shape as unknown as number[], t);
        expect(native.getNumThreads()).toBe(t);
        expect(run.losses, `losses, ${t} threads`).toEqual(ref.losses);
        expect(Object.keys(run.state)).toEqual(Object.keys(ref.state));
        for (const k of Object.keys(ref.state)) expectSameBits(run.state[k], ref.state[k], `${k}, ${t} threads`);
      }
    });
  }
});

function geom(n: number, cIn: number, h: number, cOut: number, k: number, s: number, pad: number): Conv2dParams {
  const o = Math.floor((h + 2 * pad - k) / s) + 1;
  return { n, cIn, h, w: h, cOut, kH: k, kW: k, strideH: s, strideW: s, padH: pad, padW: pad, dilationH: 1, dilationW: 1, outH: o, outW: o };
}

describe('conv2d kernels give the same bits on any thread count', () => {
  // batches from 1 to past several chunks; 1×1 (in place), 3×3, strided
  const shapes = [
    geom(1, 3, 9, 5, 3, 1, 1), geom(7, 4, 14, 6, 3, 1, 1), geom(64, 16, 14, 32, 3, 1, 1), geom(33, 5, 8, 7, 1, 1, 0),
    geom(2, 6, 40, 4, 1, 1, 0), geom(20, 3, 11, 9, 3, 2, 0), geom(130, 2, 5, 3, 3, 1, 1),
  ];
  for (const p of shapes) {
    it(`n${p.n} ci${p.cIn} ${p.h}x${p.w} co${p.cOut} k${p.kH} s${p.strideH} p${p.padH}`, () => {
      const x = randn(p.n * p.cIn * p.h * p.w, 1), w = randn(p.cOut * p.cIn * p.kH * p.kW, 2);
      const dy = randn(p.n * p.cOut * p.outH * p.outW, 3), b = randn(p.cOut, 4);
      const run = (t: number) => {
        native.setNumThreads(t);
        const ws = new Float32Array(native.conv2dWorkspaceSize(p));
        const y = new Float32Array(dy.length), dx = new Float32Array(x.length);
        const dw = randn(w.length, 5), db = randn(p.cOut, 6); // accumulates onto what is there
        native.conv2dForward(y, x, w, b, ws, p);
        native.conv2dBackward(dx, dw, db, x, w, dy, ws, p);
        return { y, dx, dw, db };
      };
      const ref = run(1);
      for (const t of [2, 3, 16]) {
        const r = run(t);
        for (const k of ['y', 'dx', 'dw', 'db'] as const) expectSameBits(r[k], ref[k], `${k}, ${t} threads`);
      }
    });
  }
});

describe('OpenMP wait policy', () => {
  it('is the library default only when no OpenMP variable is set', () => {
    expect(waitPolicyEnv({})).toEqual({ GOMP_SPINCOUNT: expect.any(String), KMP_BLOCKTIME: expect.any(String) });
    expect(waitPolicyEnv({ OMP_WAIT_POLICY: 'active' })).toEqual({});
    expect(waitPolicyEnv({ GOMP_SPINCOUNT: '300000' })).toEqual({});
    expect(waitPolicyEnv({ KMP_BLOCKTIME: '200' })).toEqual({});
    expect(waitPolicyEnv({ PATH: '/bin' })).not.toEqual({});
  });
  it('says when it could not apply: the addon first loaded in a worker thread', () => {
    const code =
      "const { Worker } = require('worker_threads');" +
      "const w = new Worker(\"require('tsx/cjs'); const m = require('./lib/index.ts'); require('worker_threads').parentPort.postMessage(m.capabilities().waitPolicy)\", { eval: true });" +
      'w.on("message", (p) => { console.log(p); process.exit(0); });';
    const env = { ...process.env };
    for (const k of ['OMP_WAIT_POLICY', 'GOMP_SPINCOUNT', 'KMP_BLOCKTIME', 'KMP_LIBRARY']) delete env[k];
    const r = spawnSync(process.execPath, ['-e', code], { cwd: path.join(__dirname, '..'), encoding: 'utf8', env });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toMatch(/^runtime default \(.*worker thread/);
  });
  it('is reported by capabilities() and leaves process.env as it was', () => {
    const caps = capabilities() as any;
    expect(typeof caps.waitPolicy).toBe('string');
    if (!('OMP_WAIT_POLICY' in process.env) && !('GOMP_SPINCOUNT' in process.env)) {
      expect(caps.waitPolicy).toMatch(/^library default/);
      expect(process.env.GOMP_SPINCOUNT).toBeUndefined();
    }
  });
});
