// The backend rule: an object given a backend keeps it; one given none uses the current backend at
// each call (setBackend after building a model takes effect); a Sequential's backend flows to its
// layers, its arena and an optimizer over that arena.
import { describe, it, expect, afterEach } from 'vitest';
import {
  Sequential, Linear, ReLU, CrossEntropyLoss, SGD, Adam, PCA, setBackend, getBackend, testing, tensor,
} from '../lib/index';
import type { Backend } from '../lib/backend/types';

const start = getBackend().name;
afterEach(() => void setBackend(start));

const mlp = (args = {}) => new Sequential([new Linear({ inFeatures: 4, outFeatures: 3 }), new ReLU(), new Linear({ inFeatures: 3, outFeatures: 2 })], { inputShape: [4], ...args });

/** A js backend that counts the calls of each kernel. */
function counting(): { backend: Backend; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const js = testing.jsBackend() as unknown as Record<string, unknown>;
  const b: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(js)) {
    b[k] = typeof v === 'function' ? (...a: unknown[]) => ((calls[k] = (calls[k] ?? 0) + 1), (v as (...x: unknown[]) => unknown)(...a)) : v;
  }
  return { backend: b as unknown as Backend, calls };
}

describe('the backend rule', () => {
  it('setBackend after building a model switches its layers, its optimizer and the loss', () => {
    setBackend('native');
    const m = mlp();
    const opt = new SGD(m.parameters(), { lr: 0.1 });
    const loss = new CrossEntropyLoss();
    expect(m.layers.map((l) => l.backend.name)).toEqual(['native', 'native', 'native']);
    setBackend('js');
    expect(m.layers.map((l) => l.backend.name)).toEqual(['js', 'js', 'js']);
    expect(opt.backend.name).toBe('js');
    const l = loss.forward(m.forward(tensor([[1, 2, 3, 4]])), [1]);
    expect(Number.isFinite(l)).toBe(true);
  });

  it("Sequential({ backend }) reaches every layer, the arena and an optimizer given none", () => {
    setBackend('native');
    const { backend, calls } = counting();
    const m = mlp({ backend });
    expect(m.parameters().backend).toBe(backend);
    const opt = new SGD(m.parameters(), { lr: 0.1, momentum: 0.9 });
    const adam = new Adam(m.parameters());
    expect(opt.backend).toBe(backend);
    expect(adam.backend).toBe(backend);
    m.forward(tensor([[1, 2, 3, 4]]));
    expect(calls.gemm).toBe(2);
    opt.step();
    expect(calls.sgdStep).toBe(1);
    // still theirs after setBackend
    setBackend('js');
    expect(m.layers.every((l) => l.backend === backend)).toBe(true);
  });

  it('an explicit backend on a layer, optimizer, loss or preprocessor is kept', () => {
    setBackend('js');
    const lin = new Linear({ inFeatures: 2, outFeatures: 2, backend: 'native' });
    const opt = new SGD(mlp().parameters(), { lr: 0.1, backend: 'native' });
    setBackend('native');
    setBackend('js');
    expect(lin.backend.name).toBe('native');
    expect(opt.backend.name).toBe('native');
    expect(() => new PCA({ components: 1, backend: 'native' })).not.toThrow();
  });

  it('one checker for every backend option', () => {
    for (const mk of [
      () => new Linear({ inFeatures: 2, outFeatures: 2, backend: {} as any }),
      () => new Sequential([new ReLU()], { backend: {} as any }),
      () => new SGD(mlp().parameters(), { lr: 0.1, backend: {} as any }),
      () => new CrossEntropyLoss({ backend: {} as any }),
      () => new PCA({ components: 1, backend: {} as any }),
    ]) {
      expect(mk).toThrow(new TypeError("Expected 'js', 'native' or a Backend object for backend but received object of type Object"));
    }
    expect(() => new ReLU({ backend: 'gpu' as any })).toThrow(new TypeError("Expected 'js', 'native' or a Backend object for backend but received 'gpu' of type string"));
  });
});
