// Pooling layers against PyTorch fixtures (both backends), numerical gradients, argmax reuse,
// output shapes, configs and errors.
import { describe, it, expect } from 'vitest';
import { backends, expectClose, fixture, randn, rng } from '../helpers';
import { gradCheck } from '../gradcheck';
import { MaxPool2d, AvgPool2d, tensor } from '../../lib/index';

const fx = fixture<{ pool: any[] }>('conv_layers.json');
const f32 = (a: number[]) => Float32Array.from(a);
const pairStr = (v: number[]) => `[${v.join(', ')}]`;

/** Inputs whose values are distinct and 0.05 apart, so a ±1e-2 step never changes a window's maximum. */
function distinctInput(shape: number[], seed: number) {
  const n = shape.reduce((a, b) => a * b, 1);
  const idx = Array.from({ length: n }, (_, i) => i);
  const r = rng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return tensor(Float32Array.from(idx, (v) => (v - n / 2) * 0.05), shape);
}

for (const [bname, backend] of backends) {
  describe(`pooling layers vs PyTorch (${bname})`, () => {
    for (const c of fx.pool) {
      const title = `${c.kind} n${c.n} c${c.c} ${c.h}x${c.w} k${pairStr(c.kernelSize)} s${c.stride ? pairStr(c.stride) : '(default)'} p${pairStr(c.padding)}`;
      it(title, () => {
        const args = { kernelSize: c.kernelSize as [number, number], padding: c.padding as [number, number], backend };
        if (c.stride) Object.assign(args, { stride: c.stride });
        const layer = c.kind === 'max' ? new MaxPool2d(args) : new AvgPool2d(args);
        const y = layer.forward(tensor(f32(c.x), [c.n, c.c, c.h, c.w]));
        expect(y.shape).toEqual(c.yShape);
        expectClose(y.data, c.y, 1e-5, 1e-6, 'y');
        const dx = layer.backward(tensor(f32(c.dy), y.shape));
        expectClose(dx.data, c.dx, 1e-5, 1e-6, 'dx');
      });
    }
  });

  describe(`pooling layers: numerical gradients (${bname})`, () => {
    it('MaxPool2d 3, stride 2, padding 1', () => {
      gradCheck(new MaxPool2d({ kernelSize: 3, stride: 2, padding: 1, backend }), distinctInput([2, 2, 7, 6], 14), { samples: 60 });
    });
    it('AvgPool2d [3, 2], stride [1, 2], padding [1, 1]', () => {
      gradCheck(new AvgPool2d({ kernelSize: [3, 2], stride: [1, 2], padding: [1, 1], backend }), tensor(randn(2 * 2 * 5 * 6, 15, -2, 2), [2, 2, 5, 6]), { samples: 60 });
    });
  });

  describe(`MaxPool2d keeps its argmax between forward and backward (${bname})`, () => {
    it('routes dy to the maxima of the last forward', () => {
      const pool = new MaxPool2d({ kernelSize: 2, backend });
      const x = tensor([[[[1, 5, 2, 0], [3, 4, 8, 1], [0, 0, 1, 1], [9, 0, 1, 2]]]]);
      const y = pool.forward(x);
      expect(Array.from(y.data)).toEqual([5, 8, 9, 2]);
      const dx = pool.backward(tensor([[[[1, 2], [3, 4]]]]));
      expect(Array.from(dx.data)).toEqual([0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 0, 4]);
    });
  });
}

describe('pooling output shapes (PyTorch formula)', () => {
  it('pooling: stride defaults to the kernel size, floor of partial windows', () => {
    expect(new MaxPool2d({ kernelSize: 2 }).build([3, 7, 6])).toEqual([3, 3, 3]);
    expect(new AvgPool2d({ kernelSize: [3, 2], padding: [1, 0] }).build([1, 7, 6])).toEqual([1, 3, 3]);
    expect(new MaxPool2d({ kernelSize: 3, stride: 1, padding: 1 }).build([2, 5, 4])).toEqual([2, 5, 4]);
  });
});

describe('pooling getConfig round trip', () => {
  it('MaxPool2d and AvgPool2d', () => {
    for (const Cls of [MaxPool2d, AvgPool2d]) {
      const cfg = new Cls({ kernelSize: [3, 2], padding: [1, 0], name: 'p' }).getConfig();
      expect(cfg).toEqual({ className: Cls.name, name: 'p', kernelSize: [3, 2], stride: [3, 2], padding: [1, 0] });
      const { className, ...rest } = cfg as any;
      expect(new Cls(rest).getConfig()).toEqual(cfg);
    }
  });
});

describe('pooling errors', () => {
  it('pooling padding above half the kernel', () => {
    expect(() => new MaxPool2d({ kernelSize: 3, padding: 2 })).toThrow(
      new RangeError('Expected integer between 0 and 1 (at most half of kernelSize 3) for padding but received 2 of type number'),
    );
    expect(() => new AvgPool2d({ kernelSize: [4, 3], padding: [2, 2] })).toThrow(
      new RangeError('Expected integer between 0 and 1 (at most half of kernelSize 3) for padding[1] but received 2 of type number'),
    );
    expect(new AvgPool2d({ kernelSize: [4, 3], padding: [2, 1] }).padding).toEqual([2, 1]);
  });
});
