// A rejected fit changes nothing: parameters, BatchNorm buffers and the optimizer's state are the
// same after the error as before (every check runs before the first step).
import { describe, it, expect } from 'vitest';
import * as mb from '../../lib/index';

function setup() {
  const model = new mb.Sequential(
    [new mb.Linear({ inFeatures: 4, outFeatures: 6 }), new mb.BatchNorm1d({ numFeatures: 6 }), new mb.ReLU(), new mb.Linear({ inFeatures: 6, outFeatures: 3 })],
    { inputShape: [4], seed: 2 },
  );
  const optimizer = new mb.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const x = { data: Float32Array.from({ length: 32 }, (_, i) => Math.cos(i)), shape: [8, 4] };
  const y = new Int32Array([0, 1, 2, 0, 1, 2, 0, 1]);
  const opts: mb.FitOptions = { loss: new mb.CrossEntropyLoss(), optimizer, epochs: 2, batchSize: 4, verbose: 0 };
  return { model, optimizer, x, y, opts };
}

const snapshot = (model: mb.Sequential, opt: mb.SGD) => JSON.stringify({ sd: Object.entries(model.stateDict()).map(([k, v]) => [k, Array.from(v.data)]), opt: opt.stateDict() });

const bad: [string, (s: ReturnType<typeof setup>) => Promise<unknown>][] = [
  ['output: 5', (s) => mb.fit(s.model, s.x, s.y, { ...s.opts, output: 5 as never })],
  ['a callback hook that is not a function', (s) => mb.fit(s.model, s.x, s.y, { ...s.opts, callbacks: [{ onEpochEnd: 'x' as never }] })],
  ['callbacks: [5]', (s) => mb.fit(s.model, s.x, s.y, { ...s.opts, callbacks: [5 as never] })],
  ['an optimizer over another model', (s) => mb.fit(s.model, s.x, s.y, { ...s.opts, optimizer: new mb.SGD(setup().model.parameters(), { lr: 0.1 }) })],
  ['the last label out of range', (s) => mb.fit(s.model, s.x, new Int32Array([0, 1, 2, 0, 1, 2, 0, 3]), s.opts)],
  ['a NaN in the last row', (s) => { s.x.data[31] = NaN; return mb.fit(s.model, s.x, s.y, s.opts); }],
  ['Float32Array labels for CrossEntropyLoss', (s) => mb.fit(s.model, s.x, new Float32Array(8) as never, s.opts)],
  ['bad validation labels', (s) => mb.fit(s.model, s.x, s.y, { ...s.opts, validationData: [{ data: new Float32Array(8), shape: [2, 4] }, [0, 9]] })],
  ['accuracy on regression targets', (s) => mb.fit(s.model, s.x, { data: new Float32Array(24), shape: [8, 3] }, { ...s.opts, loss: new mb.MSELoss(), metrics: ['accuracy'] })],
];

describe('a rejected fit changes nothing', () => {
  for (const [name, call] of bad) {
    it(name, async () => {
      const s = setup();
      const before = snapshot(s.model, s.optimizer);
      await expect(call(s)).rejects.toThrow(/^Expected .+ for .+ but received .+/);
      expect(snapshot(s.model, s.optimizer)).toBe(before);
      expect(s.optimizer.steps).toBe(0);
    });
  }
  it('the same fit with good inputs does change the model (the snapshot can tell)', async () => {
    const s = setup();
    const before = snapshot(s.model, s.optimizer);
    await mb.fit(s.model, s.x, s.y, s.opts);
    expect(snapshot(s.model, s.optimizer)).not.toBe(before);
    expect(s.optimizer.steps).toBe(4);
  });
});
