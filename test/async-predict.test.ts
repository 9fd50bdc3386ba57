// predictAsync and InferencePool: the same outputs as predict(), many calls in flight, concurrent
// with off-thread training of another model, dynamic batching, atomic weight swaps, input checks.
import { describe, it, expect, afterAll } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  Sequential, Conv2d, BatchNorm2d, ReLU, MaxPool2d, Flatten, Linear, CrossEntropyLoss, SGD, fit, predict,
  predictAsync, closeInferenceWorker, InferencePool, saveModel, StateError,
} from '../lib/index';
import { randn, expectClose, maxDiff } from './helpers';

function net(seed: number, backend: 'js' | 'native' = 'native'): Sequential {
  return new Sequential(
    [
      new Conv2d({ inChannels: 1, outChannels: 4, kernelSize: 3, padding: 1 }),
      new BatchNorm2d({ numFeatures: 4 }),
      new ReLU(),
      new MaxPool2d({ kernelSize: 2 }),
      new Flatten(),
      new Linear({ inFeatures: 64, outFeatures: 5 }),
    ],
    { inputShape: [1, 8, 8], seed, backend },
  );
}

const N = 40;
const x = { data: randn(N * 64, 21), shape: [N, 1, 8, 8] };
const y = Int32Array.from({ length: N }, (_, i) => i % 5);

afterAll(() => closeInferenceWorker());

describe('predictAsync', () => {
  for (const backend of ['native', 'js'] as const) {
    it(`${backend}: the outputs of predict(), bit for bit, with many calls in flight`, async () => {
      const model = net(1, backend);
      await fit(model, x, y, { epochs: 1, batchSize: 10, loss: new CrossEntropyLoss(), optimizer: new SGD(model.parameters(), { lr: 0.1 }), verbose: 0 });
      const ref = await predict(model, x, { batchSize: 7 });
      const outs = await Promise.all(Array.from({ length: 12 }, () => predictAsync(model, x, { batchSize: 7 })));
      for (const o of outs) {
        expect(o.shape).toEqual([N, 5]);
        expect(Array.from(o.data)).toEqual(Array.from(ref.data));
      }
      expect(model.training).toBe(true); // the caller's model keeps its mode
    });
  }

  it('sees later weight changes (the replica reads the model memory) and runs beside off-thread training', async () => {
    const a = net(2);
    const b = net(3);
    const before = await predictAsync(a, x);
    const training = fit(b, x, y, { epochs: 3, batchSize: 4, loss: new CrossEntropyLoss(), optimizer: new SGD(b.parameters(), { lr: 0.05 }), verbose: 0, offThread: true });
    const during = await Promise.all([predictAsync(a, x), predictAsync(a, x)]);
    await expect(predictAsync(b, x)).rejects.toThrow('predictAsync on a model that is being trained off the main thread');
    await training;
    for (const d of during) expect(Array.from(d.data)).toEqual(Array.from(before.data));
    a.parameters().data.fill(0);
    const zero = await predictAsync(a, x);
    expect(Array.from(zero.data)).toEqual(Array.from((await predict(a, x)).data));
    expect(Array.from(zero.data)).not.toEqual(Array.from(before.data));
  });

  it('checks its input', async () => {
    const model = net(4);
    await expect(predictAsync(model, { data: new Float32Array(63), shape: [1, 63] })).rejects.toThrow('Expected samples of shape [1, 8, 8] for x but received tensor of shape [1, 63]');
    await expect(predictAsync('model' as never, x)).rejects.toThrow(TypeError);
    await expect(predictAsync(model, x, { batchSize: 0 })).rejects.toThrow(RangeError);
    const shared = new Float32Array(new SharedArrayBuffer(64 * 4 * 64));
    shared.set(randn(64 * 64, 5));
    const p = predictAsync(model, { data: shared, shape: [64, 1, 8, 8] });
    shared[0] = 1234; // modified while in flight
    await expect(p).rejects.toThrow('was modified before the call resolved');
  });
});

describe('InferencePool', () => {
  // A row's output can differ in the last bits with its place in a batch (GEMM edge tiles), so
  // answers from dynamic batches are compared with a float32 tolerance.
  it('dynamic batching: concurrent single requests share forward passes and match predict()', async () => {
    const model = net(5);
    const ref = await predict(model, x);
    const pool = await InferencePool.create({ model, workers: 2, maxBatchSize: 16, maxDelayMs: 5 });
    const outs = await Promise.all(Array.from({ length: N }, (_, i) => pool.predict(x.data.subarray(i * 64, (i + 1) * 64))));
    outs.forEach((o, i) => {
      expect(o.shape).toEqual([1, 5]);
      expectClose(o.data, ref.data.subarray(i * 5, (i + 1) * 5), 1e-5, 1e-6, `request ${i}`);
    });
    const s = pool.stats();
    expect(s.requests).toBe(N);
    expect(s.samples).toBe(N);
    expect(s.batches).toBeLessThan(N / 2); // requests were batched
    expect(s.meanBatchSize).toBeGreaterThan(2);
    expect(s.queueLength).toBe(0);
    expect(s.latencyMs.p50).toBeGreaterThan(0);
    expect(s.latencyMs.p99).toBeGreaterThanOrEqual(s.latencyMs.p50);
    // a batch request, and nested arrays
    const batch = await pool.predict({ data: x.data.subarray(0, 3 * 64), shape: [3, 1, 8, 8] });
    expectClose(batch.data, ref.data.subarray(0, 15), 1e-5, 1e-6, 'batch request');
    // close lets the work in flight finish; a call after it is a state error
    const inFlight = pool.predict(x.data.subarray(0, 64));
    await pool.close();
    expectClose((await inFlight).data, ref.data.subarray(0, 5), 1e-5, 1e-6, 'in flight at close');
    await expect(pool.predict(x.data.subarray(0, 64))).rejects.toThrow(StateError);
  });

  it('copies the weights, loads from a checkpoint, swaps atomically', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-pool-'));
    const a = net(6);
    const b = net(7);
    const file = path.join(dir, 'b.safetensors');
    saveModel(b, file);
    const ra = await predict(a, x);
    const rb = await predict(b, x);
    const pool = await InferencePool.create({ model: a, maxBatchSize: 64, maxDelayMs: 0 });
    a.parameters().data.fill(0); // the pool has its own copy
    expectClose((await pool.predict(x)).data, ra.data, 1e-5, 1e-6, 'copied weights');
    const pending = Array.from({ length: 10 }, () => pool.predict(x));
    await pool.swap(file);
    const after = await pool.predict(x);
    expectClose(after.data, rb.data, 1e-5, 1e-6, 'swapped weights');
    for (const r of await Promise.all(pending)) {
      // each answer comes wholly from one set of weights
      expect(Math.min(maxDiff(r.data, ra.data), maxDiff(r.data, rb.data))).toBeLessThan(1e-5);
    }
    await pool.close();
    const fromFile = await InferencePool.create({ checkpoint: file });
    const one = { data: x.data.slice(0, 64), shape: [1, 1, 8, 8] };
    expect(Array.from((await fromFile.predict(one.data)).data)).toEqual(Array.from((await predict(b, one)).data));
    await fromFile.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses bad input and overload with the one message form', async () => {
    const pool = await InferencePool.create({ model: net(8), maxBatchSize: 4, maxQueue: 6, maxDelayMs: 50 });
    const cold = await pool.predict(new Float32Array(64));
    expect(cold.shape).toEqual([1, 5]);
    await expect(pool.predict(new Float32Array(10))).rejects.toThrow('Expected a multiple of 64 values (samples of shape [1, 8, 8]) for x but received Float32Array of length 10');
    const nan = new Float32Array(64);
    nan[3] = NaN;
    await expect(pool.predict(nan)).rejects.toThrow('Expected finite values for x[3] but received NaN');
    await expect(pool.predict(new Float32Array(64 * 5))).rejects.toThrow('Expected at most 4 samples (maxBatchSize) for x but received 5 samples');
    await expect(pool.predict('x')).rejects.toThrow(TypeError);
    // 4 samples go to the one worker at once, 4 wait, 3 more would make 7 > maxQueue
    const ok = [pool.predict(new Float32Array(64 * 4)), pool.predict(new Float32Array(64 * 4))];
    await expect(pool.predict(new Float32Array(64 * 3))).rejects.toThrow('Expected at most 6 queued samples for the inference pool but received 7');
    await Promise.all(ok);
    await expect(InferencePool.create({ model: net(9), workers: 0 })).rejects.toThrow(RangeError);
    await expect(InferencePool.create({} as never)).rejects.toThrow('Expected either model or checkpoint for InferencePool source but received neither');
    await pool.close();
  });
});
