// Parameter storage when layers are built by a model: each parameter is a view of the model's arena
// (no arena of the layer's own first); a standalone layer packs its own; a model whose build fails
// leaves the layers it built usable on their own.
import { describe, it, expect } from 'vitest';
import { Sequential, Linear, Conv2d, ReLU, Flatten } from '../lib/index';
import { withoutInit } from '../lib/layers/layer';

describe('parameter arenas', () => {
  it('a model builds its layers straight into its arena (values and gradients are views of it)', () => {
    const a = new Linear({ inFeatures: 4, outFeatures: 3 });
    const b = new Linear({ inFeatures: 3, outFeatures: 2, bias: false });
    const m = new Sequential([a, new ReLU(), b], { inputShape: [4], seed: 5 });
    const arena = m.parameters();
    expect(arena.data.length).toBe(4 * 3 + 3 + 3 * 2);
    for (const p of [...a.parameters(), ...b.parameters()]) {
      expect(p.data.buffer).toBe(arena.data.buffer);
      expect(p.grad.buffer).toBe(arena.grad.buffer);
      expect(p.data.length).toBe(p.shape.reduce((x, y) => x * y, 1));
    }
    // initialized (PyTorch's default init is not all zeros), gradients zero
    expect(a.param('weight').data.some((v) => v !== 0)).toBe(true);
    expect(arena.grad.every((v) => v === 0)).toBe(true);
    // the same values as a layer built on its own with the same generator state
    const alone = new Linear({ inFeatures: 4, outFeatures: 3 });
    new Sequential([alone, new ReLU(), new Linear({ inFeatures: 3, outFeatures: 2, bias: false })], { inputShape: [4], seed: 5 });
    expect(Array.from(alone.param('weight').data)).toEqual(Array.from(a.param('weight').data));
  });

  it('with initialization skipped (the loader), parameters start at zero in the arena', () => {
    const m = withoutInit(() => new Sequential([new Linear({ inFeatures: 5, outFeatures: 4 })], { inputShape: [5] }));
    expect(m.parameters().data.length).toBe(24);
    expect(m.parameters().data.every((v) => v === 0)).toBe(true);
    expect(m.layers[0].param('weight').data.length).toBe(20);
  });

  it('a standalone layer packs its own arena', () => {
    const l = new Linear({ inFeatures: 2, outFeatures: 2 });
    l.build([2]);
    const arena = l.paramArena();
    expect(arena.data.length).toBe(6);
    expect(l.param('bias').data.buffer).toBe(arena.data.buffer);
  });

  it('a model whose build fails leaves the layers it built with storage of their own', () => {
    const conv = new Conv2d({ inChannels: 1, outChannels: 2, kernelSize: 3 });
    const bad = new Linear({ inFeatures: 7, outFeatures: 2 }); // the flattened size is 2·2·2 = 8
    expect(() => new Sequential([conv, new Flatten(), bad], { inputShape: [1, 4, 4] })).toThrow(RangeError);
    expect(conv.built).toBe(true);
    expect(conv.param('weight').data.length).toBe(18);
    expect(conv.param('weight').grad.length).toBe(18);
    expect(conv.paramArena().data.length).toBe(20);
    const y = conv.forward({ data: new Float32Array(16).fill(1), shape: [1, 1, 4, 4] });
    expect(y.shape).toEqual([1, 2, 2, 2]);
    conv.backward({ data: new Float32Array(8).fill(1), shape: [1, 2, 2, 2] });
    expect(conv.param('weight').grad[0]).toBe(4);
  });
});
