// Dropout inside containers (Residual, Concat, a nested Sequential): its generator goes through a
// checkpoint and through an off-thread fit, so exact resume holds: 2 epochs + save + load + 2
// epochs = 4 epochs straight, bit for bit.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Adam, Block, Concat, CrossEntropyLoss, Dropout, Generator, Linear, ReLU, Residual, Sequential, fit, loadCheckpoint, saveModel, tensor,
} from '../../lib/index';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minibatch-nested-dropout-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function data() {
  const n = 64;
  const g = new Generator(5);
  const x = tensor(Float32Array.from({ length: n * 6 }, () => g.normal()), [n, 6]);
  const y = new Int32Array(n).map((_, i) => (x.data[i * 6] + x.data[i * 6 + 1] > 0 ? 1 : 0) + (x.data[i * 6 + 2] > 0.5 ? 1 : 0));
  return { x, y };
}

/** Dropouts at 1.block.1, 2.0.1 (a Concat branch) and 3.1 (a nested Sequential); none at the top. */
function model(): Sequential {
  return new Sequential([
    new Linear({ inFeatures: 6, outFeatures: 8 }),
    new Residual([new Linear({ inFeatures: 8, outFeatures: 8 }), new Dropout({ p: 0.3 })]),
    new Concat([[new Linear({ inFeatures: 8, outFeatures: 4 }), new Dropout({ p: 0.4 })], new Linear({ inFeatures: 8, outFeatures: 4 })]),
    new Block([new ReLU(), new Dropout({ p: 0.2 })]),
    new Linear({ inFeatures: 8, outFeatures: 3 }),
  ], { inputShape: [6], seed: 9 });
}

const opts = { batchSize: 16, seed: 4, verbose: 0 as const, loss: new CrossEntropyLoss() };

describe('nested Dropout generators', () => {
  it('are saved under their paths and restored by loadCheckpoint', () => {
    const m = model();
    m.train().forward(data().x); // draw once so the states are not the build-time ones
    const file = path.join(dir, 'm.safetensors');
    saveModel(m, file);
    const ck = loadCheckpoint(file);
    expect(Object.keys(JSON.parse(ck.metadata.minibatch_rng))).toEqual(['1.block.1', '2.0.1', '3.1']);
    const a = m.train().forward(data().x).data;
    const b = ck.model.train().forward(data().x).data;
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('2 epochs + save + load + 2 epochs = 4 epochs straight, bit for bit', async () => {
    const { x, y } = data();
    const straight = model();
    const optS = new Adam(straight.parameters(), { lr: 0.01 });
    const hs = await fit(straight, x, y, { ...opts, epochs: 4, optimizer: optS });

    const first = model();
    const opt = new Adam(first.parameters(), { lr: 0.01 });
    const h = await fit(first, x, y, { ...opts, epochs: 2, optimizer: opt });
    const mid = path.join(dir, 'mid.safetensors');
    saveModel(first, mid, { optimizer: opt, trainer: h.trainerState });
    const ck = loadCheckpoint(mid);
    const h2 = await fit(ck.model, x, y, { ...opts, epochs: 2, optimizer: ck.optimizer!, resume: ck.trainer });
    expect(h2.history.loss).toEqual(hs.history.loss.slice(2));
    expect(Array.from(ck.model.parameters().data)).toEqual(Array.from(straight.parameters().data));
    expect(ck.optimizer!.stateDict()).toEqual(optS.stateDict());
    // the masks really differ from step to step: a model whose dropout draws were reset diverges
    const reset = loadCheckpoint(mid);
    const fresh = model();
    const freshFile = path.join(dir, 'fresh.safetensors');
    saveModel(fresh, freshFile);
    const freshRng = JSON.parse(loadCheckpoint(freshFile).metadata.minibatch_rng);
    expect(freshRng).not.toEqual(JSON.parse(reset.metadata.minibatch_rng));
  });

  it('an off-thread fit carries the nested generators back: the same as in-thread', async () => {
    const { x, y } = data();
    const a = model();
    const b = model();
    await fit(a, x, y, { ...opts, epochs: 1, optimizer: new Adam(a.parameters(), { lr: 0.01 }) });
    await fit(b, x, y, { ...opts, epochs: 1, optimizer: new Adam(b.parameters(), { lr: 0.01 }), offThread: true });
    const ya = a.train().forward(x).data;
    const yb = b.train().forward(x).data;
    expect(Array.from(yb)).toEqual(Array.from(ya));
  }, 30_000);
});
