// Conv2d against PyTorch fixtures (both backends), conv stacks end to end, numerical gradients,
// output shapes, initialisation, buffer reuse, configs and error messages.
import { describe, it, expect } from 'vitest';
import { backends, expectClose, fixture, randn } from '../helpers';
import { gradCheck } from '../gradcheck';
import { Conv2d, MaxPool2d, AvgPool2d, ReLU, tensor, init, Generator } from '../../lib/index';
import { convOutputSize } from '../../lib/layers/conv';
import { Flatten } from '../../lib/layers/reshape';
import { Sequential } from '../../lib/model';
import type { Backend } from '../../lib/backend/types';
import type { Layer } from '../../lib/layers/layer';
import type { Initializer, InitContext } from '../../lib/init';

const fx = fixture<{ conv: any[]; stacks: any[]; shapes: any[] }>('conv_layers.json');
const f32 = (a: number[]) => Float32Array.from(a);
const pairStr = (v: number[]) => `[${v.join(', ')}]`;

/** Whether the backend has the kernels the activation layers call (the stack with ReLU needs them). */
const hasActivations = (b: Backend) => typeof (b as any).activation === 'function' && typeof (b as any).activationBackward === 'function';

for (const [bname, backend] of backends) {
  describe(`Conv2d vs PyTorch (${bname})`, () => {
    for (const c of fx.conv) {
      const title = `n${c.n} ${c.inChannels}->${c.outChannels} ${c.h}x${c.w} k${pairStr(c.kernelSize)} s${pairStr(c.stride)} p${pairStr(c.padding)} d${pairStr(c.dilation)}${c.bias ? '' : ' no bias'}`;
      it(title, () => {
        const conv = new Conv2d({
          inChannels: c.inChannels, outChannels: c.outChannels, kernelSize: c.kernelSize as [number, number],
          stride: c.stride, padding: c.padding, dilation: c.dilation, bias: c.bias, backend,
        });
        expect(conv.build([c.inChannels, c.h, c.w])).toEqual(c.yShape.slice(1));
        conv.param('weight').data.set(c.weight);
        if (c.bias) conv.param('bias').data.set(c.b);
        else expect(conv.parameters().map((p) => p.name)).toEqual(['weight']);
        const y = conv.forward(tensor(f32(c.x), [c.n, c.inChannels, c.h, c.w]));
        expect(y.shape).toEqual(c.yShape);
        expectClose(y.data, c.y, 1e-4, 1e-5, 'y');
        const dx = conv.backward(tensor(f32(c.dy), y.shape));
        expect(dx.shape).toEqual([c.n, c.inChannels, c.h, c.w]);
        expectClose(dx.data, c.dx, 1e-4, 1e-5, 'dx');
        expectClose(conv.param('weight').grad, c.dweight, 1e-4, 1e-4, 'dweight');
        if (c.bias) expectClose(conv.param('bias').grad, c.dbias, 1e-4, 1e-4, 'dbias');
      });
    }
  });

  describe(`conv stacks vs PyTorch, end to end (${bname})`, () => {
    for (const s of fx.stacks) {
      const title = s.relu ? 'Conv2d→ReLU→MaxPool2d→Conv2d→ReLU→AvgPool2d→Flatten' : 'Conv2d→MaxPool2d→Conv2d→AvgPool2d→Flatten';
      // The activation kernels are not in this backend yet: the ReLU stack runs once they are.
      it.skipIf(s.relu && !hasActivations(backend))(title, () => {
        const layers: Layer[] = [new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1 })];
        if (s.relu) layers.push(new ReLU());
        layers.push(new MaxPool2d({ kernelSize: 2 }), new Conv2d({ inChannels: 4, outChannels: 6, kernelSize: [3, 2], stride: [1, 2], bias: !s.relu }));
        if (s.relu) layers.push(new ReLU());
        layers.push(new AvgPool2d({ kernelSize: 2, padding: 1 }), new Flatten());
        const model = new Sequential(layers, { inputShape: s.xShape.slice(1), backend, inputGrad: true });
        expect(model.outputShape).toEqual(s.yShape.slice(1));
        const convs = layers.filter((l): l is Conv2d => l instanceof Conv2d);
        convs.forEach((l, i) => {
          l.param('weight').data.set(s.params[i].weight);
          if (s.params[i].b) l.param('bias').data.set(s.params[i].b);
        });
        const y = model.forward(tensor(f32(s.x), s.xShape));
        expect(y.shape).toEqual(s.yShape);
        expectClose(y.data, s.y, 1e-4, 1e-5, 'y');
        const dx = model.backward(tensor(f32(s.dy), y.shape));
        expectClose(dx.data, s.dx, 1e-4, 1e-5, 'dx');
        convs.forEach((l, i) => {
          expectClose(l.param('weight').grad, s.params[i].dweight, 1e-4, 1e-4, `dweight ${i}`);
          if (s.params[i].dbias) expectClose(l.param('bias').grad, s.params[i].dbias, 1e-4, 1e-4, `dbias ${i}`);
        });
      });
    }
  });

  describe(`Conv2d: numerical gradients (${bname})`, () => {
    it('Conv2d 3x3, padding 1', () => {
      gradCheck(new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 3, padding: 1, backend }), tensor(randn(2 * 2 * 5 * 5, 11, -2, 2), [2, 2, 5, 5]));
    });
    it('Conv2d [3, 2], stride [2, 1], dilation [1, 2], padding [1, 2]', () => {
      const conv = new Conv2d({ inChannels: 3, outChannels: 2, kernelSize: [3, 2], stride: [2, 1], dilation: [1, 2], padding: [1, 2], backend });
      gradCheck(conv, tensor(randn(2 * 3 * 6 * 5, 12, -2, 2), [2, 3, 6, 5]), { samples: 40 });
    });
    it('Conv2d 1x1 without bias', () => {
      gradCheck(new Conv2d({ inChannels: 4, outChannels: 3, kernelSize: 1, bias: false, backend }), tensor(randn(2 * 4 * 3 * 3, 13, -2, 2), [2, 4, 3, 3]));
    });
  });

  describe(`Conv2d lifecycle (${bname})`, () => {
    const mk = () => new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 3, stride: 2, padding: 1, backend });
    const x = (n: number, seed: number) => tensor(randn(n * 2 * 7 * 7, seed), [n, 2, 7, 7]);

    it('needsInputGrad = false keeps the parameter gradients, returns zeros for dx', () => {
      const a = mk();
      const b = mk();
      a.build([2, 7, 7]);
      b.build([2, 7, 7]);
      b.param('weight').data.set(a.param('weight').data);
      b.param('bias').data.set(a.param('bias').data);
      b.needsInputGrad = false;
      const dy = randn(2 * 3 * 4 * 4, 21);
      a.forward(x(2, 20));
      const dxa = a.backward(tensor(dy, [2, 3, 4, 4]));
      b.forward(x(2, 20));
      const dxb = b.backward(tensor(dy, [2, 3, 4, 4]));
      expect(dxa.data.some((v) => v !== 0)).toBe(true);
      expect(dxb.shape).toEqual([2, 2, 7, 7]);
      expect(dxb.data.every((v) => v === 0)).toBe(true);
      expectClose(b.param('weight').grad, a.param('weight').grad, 0, 0, 'dweight');
      expectClose(b.param('bias').grad, a.param('bias').grad, 0, 0, 'dbias');
      // switching back computes dx again, identical to the other layer's
      b.needsInputGrad = true;
      b.forward(x(2, 20));
      expectClose(b.backward(tensor(dy, [2, 3, 4, 4])).data, dxa.data, 0, 0, 'dx');
    });

    it('reuses its output and workspace buffers, and handles a change of batch size', () => {
      const conv = mk();
      const y1 = conv.forward(x(3, 30));
      const first = Float32Array.from(y1.data);
      const ws = (conv as any).scratchMap.get('workspace');
      expect(ws).toBeInstanceOf(Float32Array);
      const y2 = conv.forward(x(3, 31));
      expect(y2.data).toBe(y1.data);
      expect((conv as any).scratchMap.get('workspace')).toBe(ws);
      // a smaller batch gives the same numbers as a fresh layer with the same weights
      const small = Float32Array.from(conv.forward(x(2, 32)).data);
      const fresh = mk();
      fresh.build([2, 7, 7]);
      fresh.param('weight').data.set(conv.param('weight').data);
      fresh.param('bias').data.set(conv.param('bias').data);
      expectClose(small, fresh.forward(x(2, 32)).data, 0, 0, 'y after a batch-size change');
      expect(conv.forward(x(3, 30)).data).toEqual(first);
    });

    it('accumulates parameter gradients across backward calls until zeroGrad', () => {
      const conv = mk();
      const dy = tensor(randn(2 * 3 * 4 * 4, 41), [2, 3, 4, 4]);
      conv.forward(x(2, 40));
      conv.backward(dy);
      const once = Float32Array.from(conv.param('weight').grad);
      conv.backward(dy);
      expectClose(conv.param('weight').grad, once.map((v) => 2 * v), 1e-6, 1e-6, 'twice');
      conv.zeroGrad();
      expect(conv.param('weight').grad.every((v) => v === 0)).toBe(true);
    });
  });

}

describe('output shapes (PyTorch formula)', () => {
  for (const s of fx.shapes) {
    it(`${s.h}x${s.w} k${pairStr(s.kernelSize)} s${pairStr(s.stride)} p${pairStr(s.padding)} d${pairStr(s.dilation)} → ${pairStr(s.out)}`, () => {
      expect([
        convOutputSize(s.h, s.kernelSize[0], s.stride[0], s.padding[0], s.dilation[0]),
        convOutputSize(s.w, s.kernelSize[1], s.stride[1], s.padding[1], s.dilation[1]),
      ]).toEqual(s.out);
      const conv = new Conv2d({ inChannels: 2, outChannels: 5, kernelSize: s.kernelSize, stride: s.stride, padding: s.padding, dilation: s.dilation });
      expect(conv.build([2, s.h, s.w])).toEqual([5, ...s.out]);
    });
  }
});

describe('Conv2d initialisation', () => {
  it('passes fanIn = kH·kW·inChannels and fanOut = kH·kW·outChannels to the weight initializer', () => {
    const seen: InitContext[] = [];
    const spy: Initializer = { name: 'spy', fill: (out, ctx) => (seen.push(ctx), out.fill(0.5)), getConfig: () => ({ name: 'spy' }) };
    new Conv2d({ inChannels: 3, outChannels: 8, kernelSize: [5, 2], weightInit: spy, biasInit: init.zeros(), name: 'c' }).build([3, 9, 9]);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ fanIn: 30, fanOut: 80, role: 'weight', layer: "Conv2d 'c'" });
  });

  it('defaults to PyTorch: weight and bias U(±1/√fanIn)', () => {
    const conv = new Conv2d({ inChannels: 4, outChannels: 16, kernelSize: 3 });
    conv.build([4, 6, 6], new Generator(5));
    const bound = 1 / Math.sqrt(36);
    for (const name of ['weight', 'bias']) {
      const d = conv.param(name).data;
      const maxAbs = d.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(maxAbs, name).toBeLessThanOrEqual(bound);
      expect(maxAbs, name).toBeGreaterThan(0.8 * bound);
    }
    const w = conv.param('weight').data;
    const variance = w.reduce((s, v) => s + v * v, 0) / w.length;
    expect(variance).toBeGreaterThan(0.8 * (bound * bound) / 3);
    expect(variance).toBeLessThan(1.2 * (bound * bound) / 3);
  });

  it('is reproducible from the generator', () => {
    const a = new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 2 });
    const b = new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 2 });
    a.build([2, 4, 4], new Generator(9));
    b.build([2, 4, 4], new Generator(9));
    expect(b.param('weight').data).toEqual(a.param('weight').data);
    expect(b.param('bias').data).toEqual(a.param('bias').data);
  });
});

describe('getConfig round trip', () => {
  it('Conv2d', () => {
    const conv = new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: [3, 1], stride: 2, padding: [1, 0], dilation: [1, 2], bias: false, weightInit: init.kaimingNormal(), name: 'c7' });
    const cfg = conv.getConfig();
    expect(cfg).toEqual({
      className: 'Conv2d', name: 'c7', inChannels: 3, outChannels: 4, kernelSize: [3, 1], stride: [2, 2], padding: [1, 0], dilation: [1, 2],
      bias: false, weightInit: { name: 'kaimingNormal', gain: Math.SQRT2, mode: 'fanIn', distribution: 'normal' },
    });
    const { className, weightInit, ...rest } = cfg as any;
    expect(className).toBe('Conv2d');
    const again = new Conv2d({ ...rest, weightInit: init.fromConfig(weightInit) });
    expect(again.getConfig()).toEqual(cfg);
    expect(JSON.parse(JSON.stringify(cfg))).toEqual(cfg);
  });
});

describe('conv and pooling errors', () => {
  const conv = () => new Conv2d({ inChannels: 3, outChannels: 2, kernelSize: 5, name: 'c1' });
  const zeros = (shape: number[]) => tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);

  it('input that is not 4-D', () => {
    expect(() => conv().forward(zeros([2, 3, 8]))).toThrow(new RangeError("Expected 4-D input of shape [N, 3, H, W] for Conv2d 'c1' but received input shape [N, 3, 8]"));
    expect(() => conv().forward(zeros([2, 3, 8, 8, 1]))).toThrow(RangeError);
    expect(() => new MaxPool2d({ kernelSize: 2, name: 'p1' }).forward(zeros([4, 6]))).toThrow(
      new RangeError("Expected 4-D input of shape [N, C, H, W] for MaxPool2d 'p1' but received input shape [N, 6]"),
    );
  });
  it('channel mismatch', () => {
    expect(() => conv().forward(zeros([2, 4, 8, 8]))).toThrow(new RangeError("Expected 4-D input of shape [N, 3, H, W] for Conv2d 'c1' but received input shape [N, 4, 8, 8]"));
  });
  it('a batch of another shape after build', () => {
    const c = conv();
    c.forward(zeros([1, 3, 8, 8]));
    expect(() => c.forward(zeros([1, 3, 8, 9]))).toThrow(new RangeError("Expected input of shape [N, 3, 8, 8] for Conv2d 'c1' but received tensor of shape [1, 3, 8, 9]"));
  });
  it('empty output', () => {
    expect(() => conv().forward(zeros([1, 3, 4, 6]))).toThrow(
      new RangeError("Expected input height and width of at least [5, 5] (kernelSize [5, 5], stride [1, 1], padding [0, 0] leave no output otherwise) for Conv2d 'c1' but received input shape [N, 3, 4, 6]"),
    );
    const dil = new Conv2d({ inChannels: 1, outChannels: 1, kernelSize: [3, 2], padding: [1, 0], dilation: [2, 1], name: 'c2' });
    expect(() => dil.build([1, 2, 1])).toThrow(
      new RangeError("Expected input height and width of at least [3, 2] (kernelSize [3, 2], stride [1, 1], padding [1, 0], dilation [2, 1] leave no output otherwise) for Conv2d 'c2' but received input shape [N, 1, 2, 1]"),
    );
    expect(() => new AvgPool2d({ kernelSize: 3, name: 'p2' }).build([2, 2, 5])).toThrow(
      new RangeError("Expected input height and width of at least [3, 3] (kernelSize [3, 3], stride [3, 3], padding [0, 0] leave no output otherwise) for AvgPool2d 'p2' but received input shape [N, 2, 2, 5]"),
    );
  });
  it('stride 0, non-integer or missing kernel size, negative padding, dilation 0', () => {
    const base = { inChannels: 1, outChannels: 1, kernelSize: 3 };
    expect(() => new Conv2d({ ...base, stride: 0 })).toThrow(new RangeError('Expected integer >= 1 for stride but received 0 of type number'));
    expect(() => new Conv2d({ ...base, stride: [1, 0] })).toThrow(new RangeError('Expected integer >= 1 for stride[1] but received 0 of type number'));
    expect(() => new Conv2d({ ...base, kernelSize: 2.5 })).toThrow(new RangeError('Expected integer >= 1 for kernelSize but received 2.5 of type number'));
    expect(() => new Conv2d({ ...base, kernelSize: [3, 1.5] })).toThrow(new RangeError('Expected integer >= 1 for kernelSize[1] but received 1.5 of type number'));
    expect(() => new Conv2d({ ...base, kernelSize: '3' as any })).toThrow(
      new TypeError("Expected integer or [h, w] pair of integers >= 1 for kernelSize but received '3' of type string"),
    );
    expect(() => new Conv2d({ inChannels: 1, outChannels: 1 } as any)).toThrow(
      new TypeError('Expected integer or [h, w] pair of integers >= 1 for kernelSize but received undefined'),
    );
    expect(() => new Conv2d({ ...base, padding: -1 })).toThrow(new RangeError('Expected integer >= 0 for padding but received -1 of type number'));
    expect(() => new Conv2d({ ...base, dilation: 0 })).toThrow(new RangeError('Expected integer >= 1 for dilation but received 0 of type number'));
    expect(() => new Conv2d({ ...base, inChannels: 0 })).toThrow(new RangeError('Expected integer >= 1 for inChannels but received 0 of type number'));
    expect(() => new MaxPool2d({ kernelSize: 2, stride: 0 })).toThrow(new RangeError('Expected integer >= 1 for stride but received 0 of type number'));
    expect(() => new AvgPool2d({ kernelSize: 0 })).toThrow(new RangeError('Expected integer >= 1 for kernelSize but received 0 of type number'));
  });
  it('unknown options and a missing options object', () => {
    expect(() => new Conv2d({ inChannels: 1, outChannels: 1, kernel_size: 3 } as any)).toThrow(
      new TypeError(
        "Expected one of 'inChannels', 'outChannels', 'kernelSize', 'stride', 'padding', 'dilation', 'groups', 'bias', 'weightInit', 'biasInit', 'name', 'backend' for an option of Conv2d but received 'kernel_size' (did you mean 'kernelSize'?)",
      ),
    );
    expect(() => new MaxPool2d({ kernelSize: 2, dilation: 2 } as any)).toThrow(TypeError);
    expect(() => new Conv2d(undefined as any)).toThrow(new TypeError('Expected options object for Conv2d but received undefined'));
    expect(() => new AvgPool2d(undefined as any)).toThrow(new TypeError('Expected options object for AvgPool2d but received undefined'));
  });
});

describe('Conv2d asks the workspace size once per batch size, backend and thread count', () => {
  it('two native calls a step, not four', async () => {
    const { nativeBackend } = await import('../../lib/testing');
    const nb = nativeBackend() as unknown as Record<string, unknown>;
    const calls: Record<string, number> = {};
    const counted: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(nb)) {
      counted[k] = typeof v === 'function' ? (...a: unknown[]) => ((calls[k] = (calls[k] ?? 0) + 1), (v as (...x: unknown[]) => unknown)(...a)) : v;
    }
    const conv = new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 3, padding: 1, backend: counted as unknown as Backend });
    const x = tensor(randn(2 * 2 * 6 * 6, 21), [2, 2, 6, 6]);
    const threads = nativeBackend().getNumThreads();
    for (let i = 0; i < 3; i++) {
      const y = conv.forward(x);
      conv.backward(tensor(new Float32Array(y.data.length).fill(1), y.shape));
    }
    expect(calls).toEqual({ conv2dWorkspaceSize: 1, conv2dForward: 3, conv2dBackward: 3 });
    conv.forward(tensor(randn(3 * 2 * 6 * 6, 22), [3, 2, 6, 6])); // another batch size
    expect(calls.conv2dWorkspaceSize).toBe(2);
    (counted.setNumThreads as (n: number) => void)(threads); // setting the count it has changes nothing
    conv.forward(tensor(randn(3 * 2 * 6 * 6, 22), [3, 2, 6, 6]));
    expect(calls.conv2dWorkspaceSize).toBe(2);
    (counted.setNumThreads as (n: number) => void)(threads === 1 ? 2 : 1); // a thread-count change asks again
    conv.forward(tensor(randn(3 * 2 * 6 * 6, 22), [3, 2, 6, 6]));
    expect(calls.conv2dWorkspaceSize).toBe(3);
    (counted.setNumThreads as (n: number) => void)(threads);
  });
});
