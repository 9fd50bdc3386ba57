// Fused eval-mode inference (lib/fuse.ts): Conv2d → BatchNorm2d → ReLU → MaxPool2d(2, 2) as one
// convolution pass equals the layer-by-layer pass, on both backends; backward after a fused forward;
// the relu and pool flags of the conv2dForward kernel.
import { describe, it, expect } from 'vitest';
import { backends, expectClose, randn } from './helpers';
import { Sequential, Conv2d, BatchNorm2d, ReLU, MaxPool2d, Flatten, Linear, tensor } from '../lib/index';
import type { Backend } from '../lib/backend/types';
import type { Layer } from '../lib/layers/layer';

/** The layer-by-layer pass (what forward runs in training mode), for comparison. */
function plain(m: Sequential, x: ReturnType<typeof tensor>): Float32Array {
  let y = x;
  for (const l of m.layers) y = l.forward(y);
  return Float32Array.from(y.data);
}

/** Sets every BatchNorm's statistics and affine parameters to values far from their defaults. */
function scrambleNorms(m: Sequential, seed: number): void {
  for (const l of m.layers) {
    if (!(l instanceof BatchNorm2d)) continue;
    const c = l.numFeatures;
    const [mean, variance] = l.buffers();
    mean.data.set(randn(c, seed, -0.5, 0.5));
    variance.data.set(randn(c, seed + 1, 0.2, 3));
    if (l.affine) {
      l.param('weight').data.set(randn(c, seed + 2, -2, 2));
      l.param('bias').data.set(randn(c, seed + 3, -1, 1));
    }
  }
}

function cnn(backend: Backend, layers: Layer[]): Sequential {
  return new Sequential(layers, { inputShape: [3, 10, 10], seed: 3, backend });
}

for (const [bname, backend] of backends) {
  describe(`fused inference (${bname})`, () => {
    const cases: [string, () => Layer[]][] = [
      ['conv, batchnorm, relu', () => [new Conv2d({ inChannels: 3, outChannels: 8, kernelSize: 3, padding: 1 }), new BatchNorm2d({ numFeatures: 8 }), new ReLU(), new Flatten(), new Linear({ inFeatures: 800, outFeatures: 4 })]],
      ['conv without bias, batchnorm without affine', () => [new Conv2d({ inChannels: 3, outChannels: 5, kernelSize: 3, bias: false }), new BatchNorm2d({ numFeatures: 5, affine: false })]],
      ['conv, relu (no batchnorm)', () => [new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 1 }), new ReLU()]],
      ['two blocks with pooling', () => [
        new Conv2d({ inChannels: 3, outChannels: 6, kernelSize: 3, padding: 1, stride: 2 }), new BatchNorm2d({ numFeatures: 6 }), new ReLU(), new MaxPool2d({ kernelSize: 2 }),
        new Conv2d({ inChannels: 6, outChannels: 7, kernelSize: 2, padding: 1 }), new BatchNorm2d({ numFeatures: 7 }), new ReLU(),
      ]],
      ['the MNIST blocks: conv, batchnorm, relu, 2×2 max pooling fused (odd output: floor)', () => [
        new Conv2d({ inChannels: 3, outChannels: 16, kernelSize: 3, padding: 1 }), new BatchNorm2d({ numFeatures: 16 }), new ReLU(), new MaxPool2d({ kernelSize: 2 }),
        new Conv2d({ inChannels: 16, outChannels: 9, kernelSize: 2, padding: 1 }), new BatchNorm2d({ numFeatures: 9 }), new ReLU(), new MaxPool2d({ kernelSize: 2 }),
        new Flatten(), new Linear({ inFeatures: 9 * 3 * 3, outFeatures: 3 }),
      ]],
      ['a convolution of 2,304 weights (folded by the backend; the smaller ones by the loop)', () => [
        new Conv2d({ inChannels: 3, outChannels: 16, kernelSize: 3, padding: 1 }), new BatchNorm2d({ numFeatures: 16 }), new ReLU(),
        new Conv2d({ inChannels: 16, outChannels: 16, kernelSize: 3, padding: 1 }), new BatchNorm2d({ numFeatures: 16 }), new ReLU(), new MaxPool2d({ kernelSize: 2 }),
      ]],
      ['conv straight into max pooling; a 3×3 pooling stays apart', () => [
        new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3 }), new MaxPool2d({ kernelSize: 2 }),
        new Conv2d({ inChannels: 4, outChannels: 5, kernelSize: 1 }), new ReLU(), new MaxPool2d({ kernelSize: 3, stride: 1 }),
      ]],
    ];
    for (const [title, layers] of cases) {
      it(`${title}: equals the layer-by-layer pass`, () => {
        const m = cnn(backend, layers());
        scrambleNorms(m, 11);
        m.eval();
        for (const n of [1, 5]) {
          const x = tensor(randn(n * 300, 7 + n), [n, 3, 10, 10]);
          const want = plain(m, x);
          const got = m.forward(x);
          expect(got.data.length).toBe(want.length);
          expectClose(got.data, want, 1e-5, 1e-5, `${title} n${n}`);
          // the ReLU is applied: a negative output would mean it was dropped
          if (m.layers[m.layers.length - 1] instanceof ReLU) expect(Math.min(...got.data)).toBe(0);
        }
      });
    }

    it('sees a changed weight or running statistic on the next call', () => {
      const m = cnn(backend, cases[0][1]()).eval();
      const x = tensor(randn(2 * 300, 5), [2, 3, 10, 10]);
      const before = Float32Array.from(m.forward(x).data);
      scrambleNorms(m, 21);
      const after = Float32Array.from(m.forward(x).data);
      expectClose(after, plain(m, x), 1e-5, 1e-5, 'after the statistics changed');
      expect(Math.max(...after.map((v, i) => Math.abs(v - before[i])))).toBeGreaterThan(1e-2);
      m.layers[0].param('weight').data[0] += 0.5;
      expectClose(m.forward(x).data, plain(m, x), 1e-5, 1e-5, 'after the weight changed');
    });

    it('backward after a fused forward gives the gradients of the plain pass', () => {
      const x = tensor(randn(3 * 300, 9), [3, 3, 10, 10]);
      const dy = tensor(randn(3 * 4, 10), [3, 4]);
      const grads = (fused: boolean) => {
        const m = cnn(backend, cases[0][1]());
        scrambleNorms(m, 31);
        m.eval();
        if (fused) m.forward(x);
        else plain(m, x);
        m.zeroGrad();
        const dx = Float32Array.from(m.backward(dy).data);
        return { dx, dw: Float32Array.from(m.layers[0].param('weight').grad) };
      };
      const a = grads(true), b = grads(false);
      expectClose(a.dx, b.dx, 1e-6, 1e-6, 'dx');
      expectClose(a.dw, b.dw, 1e-6, 1e-6, 'dweight');
      expect(Math.max(...a.dw.map(Math.abs))).toBeGreaterThan(0);
    });

    it('training mode runs layer by layer (batch statistics, running statistics updated)', () => {
      const m = cnn(backend, cases[0][1]());
      const x = tensor(randn(4 * 300, 3), [4, 3, 10, 10]);
      const bn = m.layers[1] as BatchNorm2d;
      m.forward(x);
      expect(bn.buffers()[2].data[0]).toBe(1);
      expect(bn.lastOutput()).not.toBeNull();
    });

    it('conv2dForward with pool equals max pooling 2×2 of its relu output; strideW 1 and a 2×2 output are required', () => {
      const p = { n: 2, cIn: 3, h: 7, w: 9, cOut: 5, kH: 3, kW: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, dilationH: 1, dilationW: 1, outH: 7, outW: 9 };
      const x = randn(2 * 3 * 63, 4), w = randn(5 * 27, 5), b = randn(5, 6);
      const ws = new Float32Array(backend.conv2dWorkspaceSize(p));
      const full = new Float32Array(2 * 5 * 63), got = new Float32Array(2 * 5 * 12);
      backend.conv2dForward(full, x, w, b, ws, p, true);
      backend.conv2dForward(got, x, w, b, ws, p, true, true);
      const pp = { n: 2, c: 5, h: 7, w: 9, kH: 2, kW: 2, strideH: 2, strideW: 2, padH: 0, padW: 0, outH: 3, outW: 4 };
      const want = new Float32Array(2 * 5 * 12);
      backend.maxPool2dForward(want, new Int32Array(want.length), full, pp);
      expectClose(got, want, 1e-6, 1e-6, 'pooled');
      expect(() => backend.conv2dForward(got, x, w, b, ws, { ...p, strideW: 2, padW: 0, outW: 4 }, true, true))
        .toThrow('Expected strideW 1 with pool for p but received 2');
      expect(() => backend.conv2dForward(got, x, w, b, ws, { ...p, h: 1, kH: 1, padH: 0, outH: 1 }, true, true))
        .toThrow('Expected an output of at least 2 x 2 with pool for p but received [1, 9]');
      expect(() => backend.conv2dForward(got, x, w, b, ws, p, true, 1 as any)).toThrow(TypeError);
    });

    it('conv2dForward with relu equals conv2dForward then max(0, ·); relu must be a boolean', () => {
      const p = { n: 2, cIn: 3, h: 6, w: 5, cOut: 4, kH: 3, kW: 2, strideH: 1, strideW: 2, padH: 1, padW: 0, dilationH: 1, dilationW: 1, outH: 6, outW: 2 };
      const x = randn(2 * 3 * 30, 1), w = randn(4 * 3 * 6, 2), b = randn(4, 3);
      const ws = new Float32Array(backend.conv2dWorkspaceSize(p));
      const y0 = new Float32Array(2 * 4 * 12), y1 = new Float32Array(2 * 4 * 12);
      backend.conv2dForward(y0, x, w, b, ws, p);
      backend.conv2dForward(y1, x, w, b, ws, p, true);
      expect(y0.some((v) => v < 0)).toBe(true);
      expect(Array.from(y1)).toEqual(Array.from(y0).map((v) => Math.max(v, 0)));
      if (bname === 'native') expect(() => backend.conv2dForward(y1, x, w, b, ws, p, 1 as any)).toThrow(TypeError);
    });
  });
}
