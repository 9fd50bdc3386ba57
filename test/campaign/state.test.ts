// Calls made in the wrong order or on an object in the wrong state throw StateError (exported,
// name 'StateError', an Error), with a message that says what to do first; wrong arguments stay
// TypeError / RangeError. Each case also checks that nothing was changed by the refused call.
import { describe, it, expect } from 'vitest';
import {
  Sequential, Linear, ReLU, Dropout, CrossEntropyLoss, StandardScaler, ModelCheckpoint, StatsRecorder,
  InferencePool, SGD, fit, predictAsync, closeInferenceWorker, tensor, StateError,
} from '../../lib/index';

const unbuilt = () => new Sequential([new Linear({ inFeatures: 4, outFeatures: 3 }), new ReLU()]);
const built = (seed = 1) => new Sequential([new Linear({ inFeatures: 4, outFeatures: 8 }), new ReLU(), new Linear({ inFeatures: 8, outFeatures: 3 })], { inputShape: [4], seed });

function stateError(run: () => unknown, fragment: string | RegExp): void {
  let err: unknown = null;
  try {
    run();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(StateError);
  expect(err).toBeInstanceOf(Error);
  expect((err as Error).name).toBe('StateError');
  expect((err as Error).message).toMatch(fragment);
}

async function rejectsState(p: Promise<unknown>, fragment: string | RegExp): Promise<void> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(StateError);
  expect((err as Error).name).toBe('StateError');
  expect((err as Error).message).toMatch(fragment);
}

const data = (n: number) => ({
  x: tensor(Float32Array.from({ length: n * 4 }, (_, i) => Math.sin(i)), [n, 4]),
  y: Int32Array.from({ length: n }, (_, i) => i % 3),
});

describe('StateError: a model or layer used before it is built', () => {
  it('Sequential.parameters / summary / stateDict / loadStateDict', () => {
    const m = unbuilt();
    stateError(() => m.parameters(), /^Sequential: not built yet/);
    stateError(() => m.summary(), /^Sequential: not built yet; summary\(\)/);
    stateError(() => m.stateDict(), /^Sequential: not built yet; stateDict\(\)/);
    stateError(() => m.loadStateDict({}), /^Sequential: not built yet; build\(inputShape\) before loadStateDict/);
    expect(m.built).toBe(false);
  });
  it('a layer: paramArena before build, backward before forward, a Dropout generator before build', () => {
    stateError(() => new Linear({ inFeatures: 4, outFeatures: 3 }).paramArena(), /not built yet; call build\(inputShape\) or forward first/);
    const l = new Linear({ inFeatures: 4, outFeatures: 3 });
    l.build([4]);
    stateError(() => l.backward(tensor(new Float32Array(6), [2, 3])), /backward\(\) called before forward\(\)/);
    stateError(() => new Dropout({ p: 0.5 }).setGeneratorState([1, 2, 3, 4]), /not built yet; build before restoring its generator/);
  });
  it('a loss: backward before forward', () => {
    stateError(() => new CrossEntropyLoss().backward(), /^Expected a forward\(\) call before CrossEntropyLoss.backward\(\) but received none$/);
  });
  it('a preprocessor: transform before fit', () => {
    stateError(() => new StandardScaler().transform(tensor(new Float32Array(8), [2, 4])), /^Expected a fitted StandardScaler for StandardScaler.transform\(\) but received an unfitted one/);
  });
});

describe('StateError: callbacks and recorders outside their protocol', () => {
  it('ModelCheckpoint.onEpochEnd without onTrainBegin', () => {
    stateError(() => new ModelCheckpoint({ path: '/tmp/never-written-{epoch}.safetensors' }).onEpochEnd(0, { loss: 1 }), /^ModelCheckpoint: onTrainBegin was not called/);
  });
  it('StatsRecorder.step on an unbuilt model, and before any forward pass', () => {
    stateError(() => new StatsRecorder(unbuilt(), { every: 1 }).step(), /^StatsRecorder: the model is not built yet/);
    const rec = new StatsRecorder(built(), { every: 1 });
    stateError(() => rec.step(), /^StatsRecorder: layer 0 \(Linear '.*'\) has no output yet/);
    expect(rec.records).toEqual([]);
  });
});

describe('StateError: a model already training, a closed pool', () => {
  it('fit on a model a fit is training (in-thread): the second is refused, the first completes', async () => {
    const { x, y } = data(40);
    const m = built(2);
    const opt = new SGD(m.parameters(), { lr: 0.1 });
    const first = fit(m, x, y, { epochs: 3, batchSize: 8, loss: new CrossEntropyLoss(), optimizer: opt, verbose: 0 });
    await rejectsState(fit(m, x, y, { epochs: 1, batchSize: 8, loss: new CrossEntropyLoss(), optimizer: opt, verbose: 0 }), /^fit: this model is already being trained by a fit that has not resolved yet/);
    await rejectsState(fit(m, x, y, { epochs: 1, batchSize: 8, loss: new CrossEntropyLoss(), optimizer: opt, verbose: 0, offThread: true }), /already being trained/);
    const h = await first;
    expect(h.epoch).toEqual([0, 1, 2]);
    expect(opt.steps).toBe(15); // the refused calls took no step
    // once it resolved, the model trains again
    await fit(m, x, y, { epochs: 1, batchSize: 8, loss: new CrossEntropyLoss(), optimizer: opt, verbose: 0 });
    expect(opt.steps).toBe(20);
  });
  it('fit and predictAsync on a model trained off the main thread', async () => {
    const { x, y } = data(64);
    const m = built(3);
    const opt = new SGD(m.parameters(), { lr: 0.1 });
    const first = fit(m, x, y, { epochs: 2, batchSize: 8, loss: new CrossEntropyLoss(), optimizer: opt, verbose: 0, offThread: true });
    await rejectsState(fit(m, x, y, { epochs: 1, batchSize: 8, loss: new CrossEntropyLoss(), optimizer: opt, verbose: 0 }), /^fit: this model is already being trained/);
    await rejectsState(fit(m, x, y, { epochs: 1, batchSize: 8, loss: new CrossEntropyLoss(), optimizer: opt, verbose: 0, offThread: true }), /^fit: this model is already being trained/);
    await rejectsState(predictAsync(m, x), /^minibatch: predictAsync on a model that is being trained off the main thread/);
    expect((await first).epoch).toEqual([0, 1]);
    await closeInferenceWorker();
  }, 30_000);
  it('InferencePool.predict after close', async () => {
    const pool = await InferencePool.create({ model: built(4), maxDelayMs: 0 });
    await pool.close();
    await rejectsState(pool.predict(new Float32Array(4)), /^minibatch: the inference pool is closed$/);
  }, 30_000);
});
