// Conv2d with groups (depthwise included) and padding 'same' against PyTorch; the direct grouped
// kernels native against js over a sweep of shapes and on 1 and 2 threads; bad options.
import { describe, it, expect } from 'vitest';
import { backends, native, js, fixture, randn, maxDiff } from '../helpers';
import { gradCheck } from '../gradcheck';
import { Conv2d, tensor, setNumThreads, getNumThreads, layerFromConfig } from '../../lib/index';
import type { GroupedConv2dParams } from '../../lib/backend/types';

const { cases } = fixture<{ cases: any[] }>('conv_grouped.json');

function close(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= atol + rtol * Math.abs(b[i]))) expect.fail(`${what}[${i}]: ${a[i]} vs PyTorch ${b[i]}`);
  }
}

function layerFor(c: any, backend: any): Conv2d {
  const a = c.args;
  return new Conv2d({
    inChannels: a.in_channels, outChannels: a.out_channels, kernelSize: a.kernel_size, stride: a.stride, padding: a.padding,
    dilation: a.dilation, groups: a.groups, bias: a.bias, backend,
  });
}

for (const [bname, backend] of backends) {
  describe(`Conv2d groups and padding 'same' match PyTorch (${bname})`, () => {
    for (const c of cases) {
      it(c.name, () => {
        const conv = layerFor(c, backend);
        conv.build(c.inputShape.slice(1));
        conv.param('weight').data.set(c.weight);
        if (c.bias) conv.param('bias').data.set(c.bias);
        const y = conv.forward(tensor(Float32Array.from(c.x), c.inputShape));
        expect(y.shape).toEqual(c.outShape);
        close(y.data, c.y, 1e-4, 1e-5, 'y');
        const dx = conv.backward(tensor(Float32Array.from(c.r), c.outShape));
        close(dx.data, c.dx, 1e-4, 1e-5, 'dx');
        close(conv.param('weight').grad, c.dw, 1e-4, 1e-4, 'dw');
        if (c.db) close(conv.param('bias').grad, c.db, 1e-4, 1e-4, 'db');
        const again = layerFromConfig(JSON.parse(JSON.stringify(conv.getConfig()))) as Conv2d;
        expect([again.groups, again.samePadding, ...again.padding]).toEqual([conv.groups, conv.samePadding, ...conv.padding]);
      });
    }
  });
}

describe('grouped convolution kernels', () => {
  it('native equals js over a sweep of shapes, and native on 1 and 2 threads bit for bit', () => {
    const threads = getNumThreads();
    let k = 0;
    for (const [n, cIn, cOut, groups, h, w, kH, kW, s, pad, d] of [
      [1, 2, 2, 2, 1, 1, 1, 1, 1, 0, 1], [3, 4, 8, 4, 5, 6, 3, 3, 1, 1, 1], [2, 6, 3, 3, 9, 4, 2, 3, 2, 1, 1],
      [4, 8, 8, 8, 12, 12, 3, 3, 2, 1, 1], [2, 4, 4, 2, 7, 7, 3, 3, 1, 2, 2], [5, 16, 16, 16, 14, 14, 5, 5, 1, 2, 1],
    ]) {
      const outH = Math.floor((h + 2 * pad - d * (kH - 1) - 1) / s) + 1;
      const outW = Math.floor((w + 2 * pad - d * (kW - 1) - 1) / s) + 1;
      const p: GroupedConv2dParams = { n, cIn, h, w, cOut, kH, kW, strideH: s, strideW: s, padH: pad, padW: pad, dilationH: d, dilationW: d, outH, outW, groups };
      const x = randn(n * cIn * h * w, ++k), wt = randn(cOut * (cIn / groups) * kH * kW, ++k), b = randn(cOut, ++k), dy = randn(n * cOut * outH * outW, ++k);
      const run = (be: typeof js) => {
        const y = new Float32Array(dy.length), dx = new Float32Array(x.length), dw = new Float32Array(wt.length), db = new Float32Array(cOut);
        be.groupedConv2dForward(y, x, wt, b, p);
        be.groupedConv2dBackward(dx, dw, db, x, wt, dy, p);
        return [y, dx, dw, db];
      };
      const a = run(js);
      setNumThreads(1);
      const one = run(native);
      setNumThreads(2);
      const two = run(native);
      setNumThreads(threads);
      a.forEach((v, i) => expect(maxDiff(one[i], v), `case ${k} output ${i}`).toBeLessThan(1e-4 * Math.max(1, Math.sqrt(n * outH * outW))));
      one.forEach((v, i) => expect(Array.from(two[i])).toEqual(Array.from(v)));
    }
  });

  it('numerical gradients of a depthwise and a grouped layer', () => {
    gradCheck(new Conv2d({ inChannels: 3, outChannels: 6, kernelSize: 3, groups: 3, padding: 'same' }), tensor(randn(2 * 3 * 5 * 5, 9), [2, 3, 5, 5]));
    gradCheck(new Conv2d({ inChannels: 4, outChannels: 2, kernelSize: 2, groups: 2, stride: 2 }), tensor(randn(2 * 4 * 5 * 4, 10), [2, 4, 5, 4]));
  });

  it('bad options', () => {
    expect(() => new Conv2d({ inChannels: 4, outChannels: 6, kernelSize: 3, groups: 3 })).toThrow(/^Expected a divisor of inChannels 4 and outChannels 6 for groups but received 3 of type number$/);
    expect(() => new Conv2d({ inChannels: 4, outChannels: 4, kernelSize: 3, groups: 0 })).toThrow(RangeError);
    expect(() => new Conv2d({ inChannels: 4, outChannels: 4, kernelSize: 3, stride: 2, padding: 'same' })).toThrow(/^Expected stride 1 with padding 'same' for stride but received \[2, 2\]$/);
    expect(() => new Conv2d({ inChannels: 4, outChannels: 4, kernelSize: 2, padding: 'same' })).toThrow(/odd kernel size/);
    expect(() => new Conv2d({ inChannels: 4, outChannels: 4, kernelSize: 3, padding: 'valid' as any })).toThrow(TypeError);
    expect(() => (native as any).groupedConv2dForward(new Float32Array(1), new Float32Array(1), new Float32Array(1), null, { n: 1, cIn: 3, h: 1, w: 1, cOut: 3, kH: 1, kW: 1, strideH: 1, strideW: 1, padH: 0, padW: 0, dilationH: 1, dilationW: 1, outH: 1, outW: 1, groups: 2 })).toThrow(RangeError);
  });
});
