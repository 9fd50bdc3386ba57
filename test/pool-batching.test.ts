// InferencePool's batching rule and its effect on off-thread training: a batch leaves at the end of
// the event-loop turn (all requests of that turn in one forward pass, a lone request without
// waiting for maxDelayMs), a full batch at once, a worker that finishes takes what queued; batches
// run as chunks of bucket sizes with the outputs of predict(); while a pool is open, off-thread
// training runs as background work (lower priority on Linux) and still finishes under a steady
// stream of requests, with the same weights as without a pool.
import { describe, it, expect } from 'vitest';
import * as fs from 'fs';
import { Sequential, Conv2d, ReLU, MaxPool2d, Flatten, Linear, CrossEntropyLoss, SGD, fit, predict, InferencePool } from '../lib/index';
import { randn, expectClose } from './helpers';

function net(seed: number): Sequential {
  return new Sequential(
    [new Conv2d({ inChannels: 1, outChannels: 4, kernelSize: 3, padding: 1 }), new ReLU(), new MaxPool2d({ kernelSize: 2 }), new Flatten(), new Linear({ inFeatures: 64, outFeatures: 5 })],
    { inputShape: [1, 8, 8], seed },
  );
}

const x = { data: randn(40 * 64, 31), shape: [40, 1, 8, 8] };
const sample = (i: number) => x.data.subarray(i * 64, (i + 1) * 64);

/** The nice value of every thread of this process (Linux), from /proc. */
function threadNices(): number[] {
  return fs.readdirSync('/proc/self/task').map((t) => {
    try {
      const st = fs.readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[16]);
    } catch {
      return 0; // a thread that has just ended
    }
  });
}

describe('InferencePool batching', () => {
  it('sends the requests of one event-loop turn as one batch, and a lone request without waiting for maxDelayMs', async () => {
    const model = net(1);
    const ref = await predict(model, x);
    const pool = await InferencePool.create({ model, maxBatchSize: 32, maxDelayMs: 10_000 });
    const outs = await Promise.all(Array.from({ length: 7 }, (_, i) => pool.predict(sample(i))));
    outs.forEach((o, i) => expectClose(o.data, ref.data.subarray(i * 5, i * 5 + 5), 1e-5, 1e-6, `request ${i}`));
    expect(pool.stats()).toMatchObject({ requests: 7, batches: 1, meanBatchSize: 7 });
    const t0 = performance.now();
    await pool.predict(sample(8));
    expect(performance.now() - t0).toBeLessThan(2000); // far below the 10 s delay: the queue stopped growing
    expect(pool.stats().batches).toBe(2);
    await pool.close();
  });

  it('a full batch leaves at once; what queues while the worker runs goes as one batch when it finishes', async () => {
    const model = net(2);
    const ref = await predict(model, x);
    const pool = await InferencePool.create({ model, maxBatchSize: 8, maxDelayMs: 0 });
    const outs = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.predict(sample(i))));
    outs.forEach((o, i) => expectClose(o.data, ref.data.subarray(i * 5, i * 5 + 5), 1e-5, 1e-6, `request ${i}`));
    // 8 at once (full), 8 more full but the one worker is busy, 4 at the end of the turn: 3 batches
    expect(pool.stats()).toMatchObject({ requests: 20, batches: 3, queueLength: 0, inFlight: 0 });
    await pool.close();
  });

  it('runs every batch size as chunks of bucket sizes with the outputs of predict()', async () => {
    const model = net(3);
    const ref = await predict(model, x);
    const pool = await InferencePool.create({ model, maxBatchSize: 40, maxDelayMs: 0 });
    for (const n of [1, 2, 3, 5, 7, 9, 13, 17, 31, 40]) {
      const out = await pool.predict({ data: x.data.subarray(0, n * 64), shape: [n, 1, 8, 8] });
      expect(out.shape).toEqual([n, 5]);
      expectClose(out.data, ref.data.subarray(0, n * 5), 1e-5, 1e-6, `batch of ${n}`);
    }
    await pool.close();
    await expect(InferencePool.create({ model, backgroundTraining: 'yes' as never })).rejects.toThrow('Expected boolean for backgroundTraining but received');
  });
});

describe('off-thread training beside an InferencePool', () => {
  const y = Int32Array.from({ length: 40 }, (_, i) => i % 5);
  const train = (model: Sequential, epochs: number) =>
    fit(model, x, y, { epochs, batchSize: 4, loss: new CrossEntropyLoss(), optimizer: new SGD(model.parameters(), { lr: 0.05 }), verbose: 0, offThread: true, shuffle: false });

  it('runs as background work, finishes under a steady stream of requests, and trains the same weights', async () => {
    const alone = net(4);
    await train(alone, 3);
    const pool = await InferencePool.create({ model: net(5), maxBatchSize: 8, maxDelayMs: 0 });
    const beside = net(4);
    const before = process.platform === 'linux' ? threadNices().filter((v) => v >= 10).length : 0;
    let training = true;
    let answered = 0;
    // one request always in flight while the model trains
    const stream = (async () => {
      while (training) {
        await pool.predict(sample(answered % 40));
        answered++;
      }
    })();
    let niced = 0;
    const run = train(beside, 3).finally(() => (training = false));
    if (process.platform === 'linux') {
      // watched for as long as it trains (starting the worker can take a while on a loaded machine)
      while (training && niced <= before) {
        await new Promise((r) => setTimeout(r, 10));
        niced = threadNices().filter((v) => v >= 10).length;
      }
    }
    await run;
    await stream;
    await pool.close();
    expect(answered).toBeGreaterThan(0);
    if (process.platform === 'linux') expect(niced).toBeGreaterThan(before); // the training thread lowered its priority
    expect(Array.from(beside.parameters().data)).toEqual(Array.from(alone.parameters().data));
  });
});
