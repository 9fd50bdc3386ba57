// Pooling with ceilMode and countIncludePad: false against PyTorch on both backends, configs, and
// the options' checks.
import { describe, it, expect } from 'vitest';
import { backends, fixture } from '../helpers';
import { MaxPool2d, AvgPool2d, tensor, layerFromConfig } from '../../lib/index';

const { cases } = fixture<{ cases: any[] }>('pool_modes.json');

function close(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i] - b[i]) <= 1e-5 + 1e-5 * Math.abs(b[i]))) expect.fail(`${what}[${i}]: ${a[i]} vs PyTorch ${b[i]}`);
}

for (const [bname, backend] of backends) {
  describe(`pooling modes match PyTorch (${bname})`, () => {
    for (const c of cases) {
      it(c.name, () => {
        const a = c.args;
        const args = { kernelSize: a.kernel_size, stride: a.stride, padding: a.padding, ceilMode: a.ceil_mode, backend };
        const layer = c.kind === 'max' ? new MaxPool2d(args) : new AvgPool2d({ ...args, countIncludePad: a.count_include_pad });
        const y = layer.forward(tensor(Float32Array.from(c.x), c.inputShape));
        expect(y.shape).toEqual(c.outShape);
        close(y.data, c.y, 'y');
        close(layer.backward(tensor(Float32Array.from(c.r), c.outShape)).data, c.dx, 'dx');
        const again = layerFromConfig(JSON.parse(JSON.stringify(layer.getConfig()))) as AvgPool2d;
        again.build(c.inputShape.slice(1));
        expect(again.outputShape).toEqual(layer.outputShape);
      });
    }
  });
}

describe('pooling mode options', () => {
  it('are checked', () => {
    expect(() => new MaxPool2d({ kernelSize: 2, ceilMode: 1 as any })).toThrow(/^Expected boolean for ceilMode but received 1 of type number$/);
    expect(() => new AvgPool2d({ kernelSize: 2, countIncludePad: 'no' as any })).toThrow(TypeError);
    expect(() => new MaxPool2d({ kernelSize: 2, countIncludePad: false } as any)).toThrow(TypeError);
  });
});
