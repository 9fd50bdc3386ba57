// Per-layer activation statistics, and safetensors checkpoints.
import { describe, it, expect } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  Sequential, Linear, ReLU, Tanh, Sigmoid, BatchNorm1d, tensor, init,
  activationStats, formatStats, saveModel, loadModel, encodeSafetensors, decodeSafetensors,
} from '../lib/index';
import { randn } from './helpers';

describe('activation statistics', () => {
  it('show the lecture: small init collapses tanh activations, Xavier keeps them alive, BatchNorm normalizes', () => {
    const deep = (wi: init.Initializer, act: 'tanh' | 'relu', bn = false) =>
      new Sequential(
        Array.from({ length: 6 }, () => [
          new Linear({ inFeatures: 256, outFeatures: 256, weightInit: wi, biasInit: init.zeros() }),
          ...(bn ? [new BatchNorm1d({ numFeatures: 256 })] : []),
          act === 'tanh' ? new Tanh() : new ReLU(),
        ]).flat(),
        { inputShape: [256], seed: 1 },
      );
    const x = tensor(randn(512 * 256, 2, -1.7, 1.7), [512, 256]);
    const small = activationStats(deep(init.normal(0.01), 'tanh'), x);
    const xavier = activationStats(deep(init.xavierNormal({ mode: 'fanIn' }), 'tanh'), x);
    const lastTanh = (s: ReturnType<typeof activationStats>) => s.filter((l) => l.className === 'Tanh').at(-1)!;
    expect(lastTanh(small).std).toBeLessThan(1e-4); // activations collapse towards zero (0.16× per layer)
    expect(lastTanh(xavier).std).toBeGreaterThan(0.2); // still alive at depth 6
    const big = activationStats(deep(init.normal(1), 'tanh'), x);
    expect(lastTanh(big).saturated!).toBeGreaterThan(0.8); // saturated tanh units
    const withBn = activationStats(deep(init.normal(0.01), 'relu', true), x);
    const bnLayers = withBn.filter((l) => l.className === 'BatchNorm1d');
    for (const l of bnLayers) {
      expect(Math.abs(l.mean)).toBeLessThan(1e-3);
      expect(l.std).toBeGreaterThan(0.99);
      expect(l.std).toBeLessThan(1.01);
    }
    const relu = withBn.filter((l) => l.className === 'ReLU');
    expect(relu[0].deadUnits).toBe(0);
    expect(relu[0].zeros).toBeGreaterThan(0.4);
    const table = formatStats(withBn);
    expect(table).toContain('BatchNorm1d');
    expect(table.split('\n')).toHaveLength(withBn.length + 1);
  });
  it('counts dead ReLU units and saturated sigmoids', () => {
    const model = new Sequential([new Linear({ inFeatures: 4, outFeatures: 3 }), new ReLU(), new Linear({ inFeatures: 3, outFeatures: 2 }), new Sigmoid()], { inputShape: [4] });
    const w = model.layers[0].param('weight').data;
    const b = model.layers[0].param('bias').data;
    w.fill(0);
    b.set([-1, 1, -2]); // units 0 and 2 are dead for every input
    const l2 = model.layers[2];
    l2.param('weight').data.fill(0);
    l2.param('bias').data.set([10, 0]);
    const s = activationStats(model, tensor(randn(32, 3), [8, 4]));
    expect(s[1].deadUnits).toBeCloseTo(2 / 3, 6);
    expect(s[3].saturated).toBeCloseTo(0.5, 6);
  });
});

describe('checkpoints (safetensors)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minibatch-io-'));
  const mk = (seed: number) =>
    new Sequential([new Linear({ inFeatures: 5, outFeatures: 4 }), new BatchNorm1d({ numFeatures: 4 }), new ReLU(), new Linear({ inFeatures: 4, outFeatures: 2 })], { inputShape: [5], seed });

  it('save then load restores parameters and buffers exactly', () => {
    const a = mk(1);
    a.forward(tensor(randn(30, 5), [6, 5])); // move the running statistics
    const file = path.join(dir, 'a.safetensors');
    saveModel(a, file);
    const b = mk(2);
    expect(Array.from(b.parameters().data)).not.toEqual(Array.from(a.parameters().data));
    b.loadWeights(file);
    expect(b.stateDict()).toEqual(a.stateDict());
    // the header is standard safetensors: length, JSON with dtype/shape/offsets
    const buf = fs.readFileSync(file);
    const hlen = Number(buf.readBigUInt64LE(0));
    const header = JSON.parse(buf.toString('utf8', 8, 8 + hlen));
    expect(header['0.weight']).toEqual({ dtype: 'F32', shape: [4, 5], data_offsets: [0, 80] });
    expect(header['1.num_batches_tracked']).toMatchObject({ dtype: 'I64', shape: [] });
  });

  it('a failed save never destroys the previous file', () => {
    const a = mk(3);
    const file = path.join(dir, 'keep.safetensors');
    saveModel(a, file);
    const before = fs.readFileSync(file);
    const bad = mk(4);
    // a state dict that cannot be encoded (wrong length) fails before the rename
    (bad as any).stateDict = () => ({ x: { shape: [3], data: new Float32Array(2) } });
    expect(() => saveModel(bad, file)).toThrow(RangeError);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    // a folder that does not exist: error, nothing written
    expect(() => saveModel(a, path.join(dir, 'missing', 'x.safetensors'))).toThrow();
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a load checks sizes and offsets before trusting a byte', () => {
    const a = mk(5);
    const good = encodeSafetensors(a.stateDict());
    expect(() => decodeSafetensors(good.subarray(0, 4))).toThrow('Expected a safetensors file of at least 8 bytes for checkpoint but received 4 bytes');
    const huge = Buffer.from(good);
    huge.writeBigUInt64LE(1n << 40n, 0);
    expect(() => decodeSafetensors(huge)).toThrow(/header length/);
    expect(() => decodeSafetensors(good.subarray(0, good.length - 4))).toThrow(/data_offsets within/);
    const text = Buffer.from(good).toString('latin1').replace('"data_offsets":[0,80]', '"data_offsets":[0,84]');
    expect(() => decodeSafetensors(Buffer.from(text, 'latin1'))).toThrow("Expected 80 bytes for F32 shape [4, 5] for checkpoint['0.weight'] but received 84 bytes");
    // keys or shapes that do not fit the model leave it unchanged
    const other = new Sequential([new Linear({ inFeatures: 5, outFeatures: 3 })], { inputShape: [5] });
    const file = path.join(dir, 'other.safetensors');
    saveModel(other, file);
    const before = Float32Array.from(a.parameters().data);
    expect(() => a.loadWeights(file)).toThrow(/missing/);
    expect(Array.from(a.parameters().data)).toEqual(Array.from(before));
  });
});
