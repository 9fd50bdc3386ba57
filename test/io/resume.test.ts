// Exact resume: 2 epochs, save, load in a new process, 2 more epochs = 4 epochs straight, bit for
// bit (weights, BatchNorm buffers, Adam moments, shuffling and Dropout generators); ModelCheckpoint.
import { describe, it, expect } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { fit, Adam, SGD, CrossEntropyLoss, saveModel, loadCheckpoint, ModelCheckpoint } from '../../lib/index';
import { resumeData, resumeModel } from './resume-data';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minibatch-resume-'));
const opts = { batchSize: 16, validationSplit: 0.25, seed: 7, verbose: 0 as const };

describe('exact resume', () => {
  it('2 epochs + save + load in a child process + 2 epochs = 4 epochs straight, bit for bit', async () => {
    const { x, y } = resumeData();
    const straight = resumeModel();
    const optS = new Adam(straight.parameters(), { lr: 0.01 });
    const hs = await fit(straight, x, y, { ...opts, epochs: 4, loss: new CrossEntropyLoss(), optimizer: optS });
    expect(hs.trainerState.epochs).toBe(4);

    const first = resumeModel();
    const opt = new Adam(first.parameters(), { lr: 0.01 });
    const h = await fit(first, x, y, { ...opts, epochs: 2, loss: new CrossEntropyLoss(), optimizer: opt });
    const mid = path.join(dir, 'mid.safetensors');
    saveModel(first, mid, { optimizer: opt, trainer: h.trainerState });
    const end = path.join(dir, 'end.safetensors');
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'resume-run.ts'), mid, end, '2'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const ck = loadCheckpoint(end);
    expect(ck.trainer!.epochs).toBe(4);
    expect(Array.from(ck.model.parameters().data)).toEqual(Array.from(straight.parameters().data));
    expect(ck.model.stateDict()).toEqual(straight.stateDict());
    expect(ck.optimizer!.stateDict()).toEqual(optS.stateDict());
    expect(ck.trainer!.rng).toEqual(hs.trainerState.rng);
  }, 60_000);

  it('a resume state that does not fit the data or the seed is refused before training', async () => {
    const { x, y } = resumeData();
    const m = resumeModel();
    const opt = new SGD(m.parameters(), { lr: 0.1 });
    const h = await fit(m, x, y, { ...opts, epochs: 1, loss: new CrossEntropyLoss(), optimizer: opt });
    const before = Float32Array.from(m.parameters().data);
    const run = (o: object) => fit(m, x, y, { ...opts, epochs: 1, loss: new CrossEntropyLoss(), optimizer: opt, ...o });
    await expect(run({ resume: h.trainerState, seed: 8 })).rejects.toThrow('Expected the seed of the run it continues (7) for seed but received 8 of type number');
    await expect(run({ resume: h.trainerState, validationSplit: 0 })).rejects.toThrow(/a state saved without a validation split/);
    await expect(run({ resume: { ...h.trainerState, trainIndex: new Int32Array(75) } })).rejects.toThrow(/a permutation of 0..99/);
    await expect(run({ resume: 5 })).rejects.toThrow(TypeError);
    expect(Array.from(m.parameters().data)).toEqual(Array.from(before));
  });
});

describe('ModelCheckpoint', () => {
  it('every N epochs with {epoch} in the path, and the best by a monitored metric', async () => {
    const { x, y } = resumeData();
    const m = resumeModel();
    const opt = new SGD(m.parameters(), { lr: 0.05, momentum: 0.9 });
    const every = new ModelCheckpoint({ path: path.join(dir, 'e{epoch}.safetensors'), every: 2 });
    const best = new ModelCheckpoint({ path: path.join(dir, 'best.safetensors'), monitor: 'valLoss', mode: 'min' });
    const worst = new ModelCheckpoint({ path: path.join(dir, 'acc.safetensors'), monitor: 'valLoss', mode: 'max' });
    const h = await fit(m, x, y, { ...opts, epochs: 5, loss: new CrossEntropyLoss(), optimizer: opt, callbacks: [every, best, worst] });
    expect(every.saved.map((f) => path.basename(f))).toEqual(['e2.safetensors', 'e4.safetensors']);
    const losses = h.history.valLoss!;
    const iBest = losses.indexOf(Math.min(...losses));
    expect(best.bestEpoch).toBe(iBest + 1);
    expect(best.best).toBe(losses[iBest]);
    expect(worst.best).toBe(Math.max(...losses));
    // the best file is the model of that epoch, resumable: its trainer state says so
    const ck = loadCheckpoint(path.join(dir, 'best.safetensors'));
    expect(ck.trainer!.epochs).toBe(iBest + 1);
    expect(ck.optimizer).toBeInstanceOf(SGD);
    expect(loadCheckpoint(path.join(dir, 'e4.safetensors')).trainer!.epochs).toBe(4);
    const bad = new ModelCheckpoint({ path: path.join(dir, 'x.safetensors'), monitor: 'valAcc' });
    await expect(fit(m, x, y, { ...opts, epochs: 1, loss: new CrossEntropyLoss(), optimizer: opt, callbacks: [bad] })).rejects.toThrow(
      "Expected a log name of this fit (loss, valLoss) for monitor but received 'valAcc' of type string",
    );
    expect(() => new ModelCheckpoint({ path: 'a', mode: 'best' as never })).toThrow(RangeError);
    expect(() => new ModelCheckpoint({ path: 5 as never })).toThrow(TypeError);
  });
});
