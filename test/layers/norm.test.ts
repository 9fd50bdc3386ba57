// Normalization layers against PyTorch's nn modules (both backends): training steps with running
// statistics, evaluation mode, gradients; numerical gradient checks; errors; state dicts; configs.
import { describe, it, expect, vi, afterEach } from 'vitest';
import { backends, expectClose, fixture, maxDiff, randn } from '../helpers';
import { gradCheck } from '../gradcheck';
import { BatchNorm1d, BatchNorm2d, LayerNorm, InstanceNorm2d, GroupNorm, ReLU } from '../../lib/index';
import { Sequential } from '../../lib/model';
import { fit } from '../../lib/train';
import type { Layer } from '../../lib/layers/layer';
import type { Backend } from '../../lib/backend/types';

interface Step {
  x: number[];
  dy: number[];
  y: number[];
  dx: number[];
  dweight?: number[];
  dbias?: number[];
  running_mean?: number[];
  running_var?: number[];
  num_batches_tracked?: number[];
}
interface Case {
  name: string;
  layer: string;
  args: any;
  shape: number[];
  params: { weight?: number[]; bias?: number[] };
  buffers: Record<string, number[]>;
  train: Step[];
  eval: Step;
}
const { cases } = fixture<{ cases: Case[] }>('norm_layers.json');
const f32 = (a: number[]) => Float32Array.from(a);
const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

function makeLayer(kind: string, args: any, backend: Backend): Layer {
  const a = { ...args, backend };
  switch (kind) {
    case 'BatchNorm1d':
      return new BatchNorm1d(a);
    case 'BatchNorm2d':
      return new BatchNorm2d(a);
    case 'LayerNorm':
      return new LayerNorm(a);
    case 'InstanceNorm2d':
      return new InstanceNorm2d(a);
    case 'GroupNorm':
      return new GroupNorm(a);
  }
  throw new Error(kind);
}

function checkStep(layer: Layer, s: Step, shape: number[], what: string): void {
  layer.zeroGrad();
  const y = layer.forward({ data: f32(s.x), shape });
  expect(y.shape).toEqual(shape);
  expectClose(y.data, s.y, 1e-4, 2e-5, `${what} y`);
  const dx = layer.backward({ data: f32(s.dy), shape });
  expectClose(dx.data, s.dx, 1e-3, 1e-4, `${what} dx`);
  if (s.dweight) {
    expectClose(layer.param('weight').grad, s.dweight, 1e-4, 1e-4, `${what} dweight`);
    expectClose(layer.param('bias').grad, s.dbias!, 1e-4, 1e-4, `${what} dbias`);
  } else {
    expect(layer.parameters().length).toBe(0);
  }
  const bufs = Object.fromEntries(layer.buffers().map((b) => [b.name, b]));
  for (const k of ['running_mean', 'running_var', 'num_batches_tracked'] as const) {
    if (s[k]) expectClose(bufs[k].data, s[k]!, 1e-5, 1e-6, `${what} ${k}`);
    else expect(bufs[k], `${what} ${k} absent`).toBeUndefined();
  }
}

// First: the warning is given once per process and later tests use momentum 1.
describe('momentum warning', () => {
  afterEach(() => vi.restoreAllMocks());
  it('momentum > 0.5 warns once per process that momentum is the weight of the new batch', () => {
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    new BatchNorm1d({ numFeatures: 2, momentum: 0.5 });
    expect(spy).not.toHaveBeenCalled();
    new BatchNorm1d({ numFeatures: 2, momentum: 0.99 });
    expect(spy).toHaveBeenCalledTimes(1);
    const [message, type] = spy.mock.calls[0] as unknown as [string, string];
    expect(type).toBe('MinibatchWarning');
    expect(message).toContain('momentum 0.99 is the weight of the NEW batch');
    expect(message).toContain("Keras's momentum 0.99 corresponds to 0.01 here");
    new BatchNorm2d({ numFeatures: 2, momentum: 0.9 });
    expect(spy).toHaveBeenCalledTimes(1);
  });
});

for (const [bname, backend] of backends) {
  describe(`norm layers vs PyTorch (${bname})`, () => {
    for (const c of cases) {
      it(`${c.layer}: ${c.name}`, () => {
        const layer = makeLayer(c.layer, c.args, backend);
        layer.build(c.shape.slice(1));
        // PyTorch's parameter and buffer names and shapes
        expect(layer.parameters().map((p) => p.name)).toEqual(c.params.weight ? ['weight', 'bias'] : []);
        expect(Object.fromEntries(layer.buffers().map((b) => [b.name, [...b.shape]]))).toEqual(c.buffers);
        if (c.params.weight) {
          layer.param('weight').data.set(c.params.weight);
          layer.param('bias').data.set(c.params.bias!);
        }
        c.train.forEach((s, i) => checkStep(layer, s, c.shape, `train step ${i + 1}`));
        layer.eval();
        checkStep(layer, c.eval, c.shape, 'eval');
      });
    }
  });

  describe(`norm layers numerical gradients (${bname})`, () => {
    const x2 = (n: number, d: number, seed: number) => ({ data: randn(n * d, seed, -2, 2), shape: [n, d] });
    const x4 = (s: number[], seed: number) => ({ data: randn(prod(s), seed, -2, 2), shape: s });
    const withRandomAffine = (l: Layer, seed: number): Layer => {
      l.build(l.inputShape ?? []);
      for (const [k, p] of l.parameters().entries()) p.data.set(randn(p.data.length, seed + k, 0.5, 1.5));
      return l;
    };
    const cases: [string, () => Layer, { data: Float32Array; shape: number[] }][] = [
      ['BatchNorm1d train', () => new BatchNorm1d({ numFeatures: 4, backend }), x2(6, 4, 1)],
      ['BatchNorm1d (N, C, L) train', () => new BatchNorm1d({ numFeatures: 3, backend }), x4([3, 3, 4], 2)],
      ['BatchNorm2d train', () => new BatchNorm2d({ numFeatures: 3, eps: 1e-3, backend }), x4([2, 3, 3, 2], 3)],
      ['BatchNorm2d affine off', () => new BatchNorm2d({ numFeatures: 2, affine: false, backend }), x4([3, 2, 2, 2], 4)],
      ['BatchNorm2d eval', () => new BatchNorm2d({ numFeatures: 3, backend }).eval(), x4([2, 3, 2, 2], 5)],
      ['LayerNorm', () => new LayerNorm({ normalizedShape: [2, 3], backend }), x4([3, 2, 2, 3], 6)],
      ['GroupNorm', () => new GroupNorm({ numGroups: 2, numChannels: 4, backend }), x4([2, 4, 2, 2], 7)],
      ['InstanceNorm2d affine', () => new InstanceNorm2d({ numFeatures: 2, affine: true, backend }), x4([2, 2, 3, 2], 8)],
      ['InstanceNorm2d eval, running stats', () => new InstanceNorm2d({ numFeatures: 2, affine: true, trackRunningStats: true, backend }).eval(), x4([2, 2, 2, 2], 9)],
    ];
    for (const [title, make, x] of cases) {
      it(title, () => {
        const l = make();
        l.build(x.shape.slice(1));
        withRandomAffine(l, 11);
        for (const b of l.buffers()) if (b.name === 'running_var') b.data.set(randn(b.data.length, 12, 0.5, 2));
        gradCheck(l, x, { h: 1e-2, tol: 2e-2 });
      });
    }
  });
}

describe('train and eval mode', () => {
  const x = { data: randn(4 * 3 * 2 * 2, 21, -2, 2), shape: [4, 3, 2, 2] };
  const same = (l: Layer) => {
    const a = Float32Array.from(l.train().forward(x).data);
    const b = l.eval().forward(x).data;
    return [a, b] as const;
  };
  it('LayerNorm, GroupNorm and InstanceNorm2d without running stats behave the same in both modes', () => {
    for (const l of [new LayerNorm({ normalizedShape: [2, 2] }), new GroupNorm({ numGroups: 3, numChannels: 3 }), new InstanceNorm2d({ numFeatures: 3 })]) {
      const [a, b] = same(l);
      expect(Array.from(b)).toEqual(Array.from(a));
    }
  });
  it('BatchNorm2d and InstanceNorm2d with running stats switch to the running statistics in eval mode', () => {
    for (const l of [new BatchNorm2d({ numFeatures: 3 }), new InstanceNorm2d({ numFeatures: 3, trackRunningStats: true })]) {
      const [a, b] = same(l);
      // after one step from (0, 1): running = 0.1·batch; eval output = x / sqrt(running_var + eps)
      const rm = l.buffers()[0].data;
      const rv = l.buffers()[1].data;
      expect(rm.some((v) => v !== 0)).toBe(true);
      expect(Math.abs(a[0] - b[0])).toBeGreaterThan(1e-3);
      expectClose([b[0]], [(x.data[0] - rm[0]) / Math.sqrt(rv[0] + 1e-5)], 1e-5, 1e-6, 'eval y[0]');
    }
  });
  it('BatchNorm1d with trackRunningStats false uses batch statistics in eval mode too', () => {
    const l = new BatchNorm1d({ numFeatures: 3, trackRunningStats: false });
    const x2 = { data: randn(12, 3), shape: [4, 3] };
    const a = Float32Array.from(l.train().forward(x2).data);
    expect(Array.from(l.eval().forward(x2).data)).toEqual(Array.from(a));
    expect(l.buffers().length).toBe(0);
  });
});

describe('running statistics details', () => {
  it('momentum null is a cumulative average that counts num_batches_tracked exactly, also after loading', () => {
    const l = new BatchNorm1d({ numFeatures: 1, momentum: null });
    l.build([1]);
    const batches = [[1, 3], [5, 7], [0, 2]]; // means 2, 6, 1; unbiased variances 2, 2, 2
    for (const b of batches) l.forward({ data: f32(b), shape: [2, 1] });
    const [rm, rv, nbt] = l.buffers();
    expectClose(rm.data, [3], 1e-6, 1e-6, 'mean of the batch means');
    expectClose(rv.data, [2], 1e-6, 1e-6, 'mean of the unbiased variances');
    expect(nbt.data[0]).toBe(3);
    expect(nbt.shape).toEqual([]);
    expect((l as BatchNorm1d).numBatchesTracked).toBe(3);
    // a loaded count is picked up: the next factor is 1/(9 + 1)
    nbt.data[0] = 9;
    rm.data[0] = 0;
    l.forward({ data: f32([10, 10]), shape: [2, 1] });
    expect(nbt.data[0]).toBe(10);
    expectClose(rm.data, [1], 1e-6, 1e-6, 'factor 1/10');
  });
  it('momentum 0 keeps the running statistics; momentum 1 replaces them by the batch', () => {
    const x = { data: f32([1, 2, 3, 4, 5, 9]), shape: [3, 2] };
    const l0 = new BatchNorm1d({ numFeatures: 2, momentum: 0 });
    l0.forward(x);
    expect(Array.from(l0.buffers()[0].data)).toEqual([0, 0]);
    expect(Array.from(l0.buffers()[1].data)).toEqual([1, 1]);
    const l1 = new BatchNorm1d({ numFeatures: 2, momentum: 1 });
    l1.forward(x);
    expectClose(l1.buffers()[0].data, [3, 5], 1e-6, 1e-6, 'mean');
    expectClose(l1.buffers()[1].data, [4, 13], 1e-5, 1e-6, 'unbiased var'); // [1,3,5]: 4; [2,4,9]: 13
  });
  it('defaults: weight 1, bias 0, running_mean 0, running_var 1, num_batches_tracked 0', () => {
    const l = new BatchNorm2d({ numFeatures: 3 });
    l.build([3, 2, 2]);
    expect(Array.from(l.param('weight').data)).toEqual([1, 1, 1]);
    expect(Array.from(l.param('bias').data)).toEqual([0, 0, 0]);
    expect(l.buffers().map((b) => [b.name, Array.from(b.data)])).toEqual([
      ['running_mean', [0, 0, 0]],
      ['running_var', [1, 1, 1]],
      ['num_batches_tracked', [0]],
    ]);
    const ln = new LayerNorm({ normalizedShape: [2, 3] });
    ln.build([4, 2, 3]);
    expect(ln.param('weight').shape).toEqual([2, 3]);
    expect(new InstanceNorm2d({ numFeatures: 2 }).parameterCount()).toBe(0);
  });
});

describe('a single value per channel', () => {
  const msg1 =
    "Expected more than 1 value per channel in training mode for input of BatchNorm1d 'bn' but received a batch of 1 " +
    '(1 value per channel): BatchNorm cannot compute a variance from one value per channel; use a batch larger than 1 or eval mode';
  it('is a RangeError in training mode, fine in eval mode, and checkTrainingBatch says the same', () => {
    const l = new BatchNorm1d({ numFeatures: 3, name: 'bn' });
    const x = { data: f32([1, 2, 3]), shape: [1, 3] };
    expect(() => l.forward(x)).toThrow(RangeError);
    expect(() => l.forward(x)).toThrow(msg1);
    expect(() => l.checkTrainingBatch(1)).toThrow(msg1);
    expect(() => l.checkTrainingBatch(2)).not.toThrow();
    expect(Array.from(l.buffers()[2].data)).toEqual([0]); // nothing changed
    l.eval();
    expectClose(l.forward(x).data, [1, 2, 3].map((v) => v / Math.sqrt(1 + 1e-5)), 1e-6, 1e-6, 'eval');
  });
  it('BatchNorm2d counts N·H·W; (N, C, L) counts N·L', () => {
    const b2 = new BatchNorm2d({ numFeatures: 2, name: 'b2' });
    b2.build([2, 1, 1]);
    expect(() => b2.checkTrainingBatch(1)).toThrow(
      "Expected more than 1 value per channel in training mode for input of BatchNorm2d 'b2' but received a batch of 1 with H·W = 1 " +
        '(1 value per channel): BatchNorm cannot compute a variance from one value per channel; use a batch larger than 1 or eval mode',
    );
    expect(() => b2.checkTrainingBatch(2)).not.toThrow();
    const b3 = new BatchNorm2d({ numFeatures: 2 });
    b3.build([2, 2, 1]);
    expect(() => b3.checkTrainingBatch(1)).not.toThrow();
    const l = new BatchNorm1d({ numFeatures: 2 });
    expect(() => l.forward({ data: randn(6), shape: [1, 2, 3] })).not.toThrow();
  });
  it('with trackRunningStats false, eval mode does not help and the message says so', () => {
    const l = new BatchNorm1d({ numFeatures: 1, trackRunningStats: false, name: 'nt' }).eval();
    expect(() => l.forward({ data: f32([1]), shape: [1, 1] })).toThrow('(with trackRunningStats false, eval mode also uses batch statistics)');
  });
  it('InstanceNorm2d needs H·W > 1 for instance statistics', () => {
    const l = new InstanceNorm2d({ numFeatures: 2, name: 'in' });
    expect(() => l.forward({ data: f32([1, 2, 3, 4]), shape: [2, 2, 1, 1] })).toThrow(
      "Expected more than 1 spatial value (H·W > 1) for input of InstanceNorm2d 'in' but received H·W = 1: " +
        'InstanceNorm cannot compute a variance from one value per instance and channel',
    );
    expect(() => l.checkTrainingBatch(4)).toThrow(RangeError);
  });
  it('the trainer refuses a last batch of one sample up front', async () => {
    const model = new Sequential([new LayerNorm({ normalizedShape: 2 }), new BatchNorm1d({ numFeatures: 2, name: 'bnfit' })]);
    const loss = { forward: () => 0, backward: () => ({ data: new Float32Array(0), shape: [0] }) } as any;
    const optimizer = { step: () => {}, zeroGrad: () => {} } as any;
    await expect(fit(model, { data: randn(10), shape: [5, 2] }, { data: randn(10), shape: [5, 2] }, { loss, optimizer, batchSize: 2, verbose: 0 })).rejects.toThrow(
      /BatchNorm1d 'bnfit' but received a batch of 1 .*use a batch larger than 1 or eval mode \(the last batch of each epoch has 1 sample: use dropLast: true/,
    );
    expect(Array.from(model.layers[1].buffers()[2].data)).toEqual([0]);
  });
});

describe('bad arguments and inputs', () => {
  it('options', () => {
    expect(() => new BatchNorm1d({ numFeatures: 0 })).toThrow(new RangeError('Expected integer >= 1 for numFeatures of BatchNorm1d but received 0 of type number'));
    expect(() => new BatchNorm1d({ numFeatures: 2, eps: 0 })).toThrow(new RangeError('Expected number > 0 for eps of BatchNorm1d but received 0 of type number'));
    expect(() => new LayerNorm({ normalizedShape: 2, eps: -1 })).toThrow(new RangeError('Expected number > 0 for eps of LayerNorm but received -1 of type number'));
    expect(() => new BatchNorm2d({ numFeatures: 2, momentum: 1.5 })).toThrow(
      new RangeError('Expected number between 0 and 1, or null (cumulative average) for momentum of BatchNorm2d but received 1.5 of type number'),
    );
    expect(() => new BatchNorm2d({ numFeatures: 2, momentum: -0.1 })).toThrow(RangeError);
    expect(() => new BatchNorm2d({ numFeatures: 2, momentum: '0.1' as any })).toThrow(TypeError);
    expect(() => new InstanceNorm2d({ numFeatures: 2, momentum: null as any })).toThrow(
      new TypeError('Expected number between 0 and 1 for momentum of InstanceNorm2d but received null'),
    );
    expect(() => new GroupNorm({ numGroups: 4, numChannels: 6 })).toThrow(
      new RangeError('Expected a divisor of numChannels = 6 for numGroups of GroupNorm but received 4 of type number'),
    );
    expect(() => new LayerNorm({ normalizedShape: [] })).toThrow(TypeError);
    expect(() => new BatchNorm1d({ numFeatures: 2, afine: false } as any)).toThrow("(did you mean 'affine'?)");
  });
  it('input shapes', () => {
    const bn = new BatchNorm1d({ numFeatures: 3, name: 'b' });
    expect(() => bn.forward({ data: randn(8), shape: [2, 4] })).toThrow(
      new RangeError("Expected input of shape [N, 3] or [N, 3, L] for BatchNorm1d 'b' but received input shape [N, 4]"),
    );
    expect(() => new BatchNorm1d({ numFeatures: 3, name: 'b4' }).forward({ data: randn(24), shape: [2, 3, 2, 2] })).toThrow(
      "Expected input of shape [N, 3] or [N, 3, L] for BatchNorm1d 'b4' but received input shape [N, 3, 2, 2]",
    );
    expect(() => new BatchNorm2d({ numFeatures: 3, name: 'c' }).forward({ data: randn(12), shape: [2, 3, 2] })).toThrow(
      new RangeError("Expected input of shape [N, 3, H, W] for BatchNorm2d 'c' but received input shape [N, 3, 2]"),
    );
    expect(() => new InstanceNorm2d({ numFeatures: 3, name: 'i' }).forward({ data: randn(16), shape: [1, 4, 2, 2] })).toThrow(
      "Expected input of shape [N, 3, H, W] for InstanceNorm2d 'i' but received input shape [N, 4, 2, 2]",
    );
    expect(() => new GroupNorm({ numGroups: 2, numChannels: 4, name: 'g' }).forward({ data: randn(12), shape: [2, 6] })).toThrow(
      "Expected input of shape [N, 4, ...] for GroupNorm 'g' but received input shape [N, 6]",
    );
    expect(() => new LayerNorm({ normalizedShape: [3, 4], name: 'ln' }).forward({ data: randn(24), shape: [2, 4, 3] })).toThrow(
      new RangeError("Expected input of shape [N, ..., 3, 4] (trailing dims equal to normalizedShape [3, 4]) for LayerNorm 'ln' but received input shape [N, 4, 3]"),
    );
    expect(() => new LayerNorm({ normalizedShape: [2, 3, 4], name: 'ln2' }).forward({ data: randn(24), shape: [2, 3, 4] })).toThrow(RangeError);
    // once built, another shape is refused by the Layer base
    bn.forward({ data: randn(6), shape: [2, 3] });
    expect(() => bn.forward({ data: randn(12), shape: [2, 3, 2] })).toThrow(RangeError);
  });
});

describe('state dicts in a Sequential', () => {
  const make = () => new Sequential([new LayerNorm({ normalizedShape: 4 }), new BatchNorm1d({ numFeatures: 4 }), new ReLU()], { inputShape: [4], seed: 3 });
  it("uses PyTorch's keys, round-trips and rejects bad running statistics", () => {
    const m = make();
    for (const p of m.parameters().views) m.parameters().data.subarray(p.offset, p.offset + p.size).set(randn(p.size, 70 + p.offset, 0.5, 1.5));
    for (let s = 0; s < 3; s++) m.forward({ data: randn(20, 30 + s, -3, 3), shape: [5, 4] });
    const sd = m.stateDict();
    expect(Object.keys(sd)).toEqual(['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked']);
    expect(sd['1.num_batches_tracked']).toEqual({ shape: [], data: f32([3]) });
    expect(sd['1.running_mean'].data.some((v) => v !== 0)).toBe(true);

    const m2 = make();
    const x = { data: randn(8, 40, -3, 3), shape: [2, 4] };
    const before = Float32Array.from(m2.eval().forward(x).data);
    m2.loadStateDict(sd);
    m.eval();
    const after = m2.forward(x).data;
    expect(Array.from(after)).toEqual(Array.from(m.forward(x).data));
    expect(maxDiff(after, before)).toBeGreaterThan(1e-2); // the load changed the output
    expect(Array.from(m2.stateDict()['1.running_var'].data)).toEqual(Array.from(sd['1.running_var'].data));

    const bad = { ...sd, '1.running_mean': { shape: [4], data: f32([0, NaN, 0, 0]) } };
    expect(() => m2.loadStateDict(bad)).toThrow(new RangeError("Expected finite values for stateDict['1.running_mean'][1] but received NaN of type number"));
    const neg = { ...sd, '1.running_var': { shape: [4], data: f32([1, -1, 1, 1]) } };
    expect(() => m2.loadStateDict(neg)).toThrow("Expected non-negative variances for stateDict['1.running_var'][1]");
    const shape = { ...sd, '1.num_batches_tracked': { shape: [1], data: f32([3]) } };
    expect(() => m2.loadStateDict(shape)).toThrow("Expected shape [] for stateDict['1.num_batches_tracked'] but received shape [1]");
    // nothing was written by the failed loads
    expect(Array.from(m2.stateDict()['1.running_mean'].data)).toEqual(Array.from(sd['1.running_mean'].data));
  });
  it("loads PyTorch's buffers and reproduces its evaluation output", () => {
    const c = cases.find((k) => k.name === 'bn1d larger batch, momentum 0.3, eps 1e-3')!;
    const last = c.train[c.train.length - 1];
    const m = new Sequential([new BatchNorm1d({ ...c.args })], { inputShape: c.shape.slice(1) });
    m.loadStateDict({
      '0.weight': { shape: [5], data: c.params.weight! },
      '0.bias': { shape: [5], data: c.params.bias! },
      '0.running_mean': { shape: [5], data: last.running_mean! },
      '0.running_var': { shape: [5], data: last.running_var! },
      '0.num_batches_tracked': { shape: [], data: last.num_batches_tracked! },
    });
    m.eval();
    expectClose(m.forward({ data: f32(c.eval.x), shape: c.shape }).data, c.eval.y, 1e-4, 2e-5, 'eval y');
    expect((m.layers[0] as BatchNorm1d).numBatchesTracked).toBe(3);
  });
});

describe('getConfig', () => {
  it('lists every option', () => {
    expect(new BatchNorm1d({ numFeatures: 3, name: 'a' }).getConfig()).toEqual({
      className: 'BatchNorm1d', name: 'a', numFeatures: 3, eps: 1e-5, momentum: 0.1, affine: true, trackRunningStats: true,
    });
    expect(new BatchNorm2d({ numFeatures: 2, momentum: null, eps: 1e-3, affine: false, trackRunningStats: false, name: 'b' }).getConfig()).toEqual({
      className: 'BatchNorm2d', name: 'b', numFeatures: 2, eps: 1e-3, momentum: null, affine: false, trackRunningStats: false,
    });
    expect(new LayerNorm({ normalizedShape: 4, name: 'c' }).getConfig()).toEqual({
      className: 'LayerNorm', name: 'c', normalizedShape: [4], eps: 1e-5, elementwiseAffine: true,
    });
    expect(new InstanceNorm2d({ numFeatures: 3, name: 'd' }).getConfig()).toEqual({
      className: 'InstanceNorm2d', name: 'd', numFeatures: 3, eps: 1e-5, momentum: 0.1, affine: false, trackRunningStats: false,
    });
    expect(new GroupNorm({ numGroups: 2, numChannels: 4, affine: false, name: 'e' }).getConfig()).toEqual({
      className: 'GroupNorm', name: 'e', numGroups: 2, numChannels: 4, eps: 1e-5, affine: false,
    });
  });
});

describe('native and js agree on a larger batch', () => {
  it('BatchNorm2d training steps and eval', () => {
    const [, js] = backends[0];
    const [, nat] = backends[1];
    const a = new BatchNorm2d({ numFeatures: 8, backend: js });
    const b = new BatchNorm2d({ numFeatures: 8, backend: nat });
    const shape = [16, 8, 5, 5];
    for (let s = 0; s < 3; s++) {
      const x = { data: randn(prod(shape), 50 + s, -3, 5), shape };
      const dy = { data: randn(prod(shape), 60 + s), shape };
      expectClose(b.forward(x).data, a.forward(x).data, 1e-4, 1e-5, 'y');
      expectClose(b.backward(dy).data, a.backward(dy).data, 1e-3, 1e-4, 'dx');
    }
    expectClose(b.param('weight').grad, a.param('weight').grad, 1e-4, 1e-4, 'dweight');
    expectClose(b.buffers()[1].data, a.buffers()[1].data, 1e-5, 1e-6, 'running_var');
  });
});
