// Containers (Sequential in Sequential, Residual, Concat) and the small layers they use, against
// PyTorch: nested state-dict keys, forward, input and parameter gradients and SGD steps of a
// two-block ResNet and an Inception-style block; numerical gradient checks; configs; fit; errors.
import { describe, it, expect } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { backends, fixture, randn } from '../helpers';
import { gradCheck } from '../gradcheck';
import {
  Sequential, Linear, ReLU, Flatten, BatchNorm2d, Conv2d, MaxPool2d, CrossEntropyLoss, SGD, fit, tensor,
  Residual, Concat, Identity, Softmax, GlobalAvgPool2d, AdaptiveAvgPool2d, sequentialFromConfig, Block, saveModel, loadModel,
} from '../../lib/index';
import type { Backend } from '../../lib/backend/types';

const { runs, layers: single } = fixture<{ runs: any[]; layers: any }>('containers.json');

const conv = (i: number, o: number, k: number, extra: Record<string, unknown> = {}) =>
  new Conv2d({ inChannels: i, outChannels: o, kernelSize: k, bias: false, ...extra });

function resnet(): Sequential {
  return new Sequential([
    conv(1, 4, 3, { padding: 1 }), new BatchNorm2d({ numFeatures: 4 }), new ReLU(),
    new Residual(new Sequential([conv(4, 4, 3, { padding: 1 }), new BatchNorm2d({ numFeatures: 4 }), new ReLU(), conv(4, 4, 3, { padding: 1 }), new BatchNorm2d({ numFeatures: 4 })])),
    new ReLU(),
    new Residual(
      [conv(4, 8, 3, { stride: 2, padding: 1 }), new BatchNorm2d({ numFeatures: 8 }), new ReLU(), conv(8, 8, 3, { padding: 1 }), new BatchNorm2d({ numFeatures: 8 })],
      { shortcut: [conv(4, 8, 1, { stride: 2 }), new BatchNorm2d({ numFeatures: 8 })] },
    ),
    new ReLU(),
    new AdaptiveAvgPool2d(1), new Flatten(), new Linear({ inFeatures: 8, outFeatures: 3 }),
  ]);
}

function inception(): Sequential {
  return new Sequential([
    new Concat([
      new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 1 }),
      [new Conv2d({ inChannels: 2, outChannels: 2, kernelSize: 1 }), new ReLU(), new Conv2d({ inChannels: 2, outChannels: 4, kernelSize: 3, padding: 1 })],
      [new MaxPool2d({ kernelSize: 3, stride: 1, padding: 1 }), new Conv2d({ inChannels: 2, outChannels: 2, kernelSize: 1 })],
    ]),
    new ReLU(), new Flatten(), new Linear({ inFeatures: 9 * 6 * 6, outFeatures: 3 }),
  ]);
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= atol + rtol * Math.abs(b[i]))) expect.fail(`${what}[${i}]: ${a[i]} vs PyTorch ${b[i]}`);
  }
}

function withBackend(model: Sequential, backend: Backend): Sequential {
  return new Sequential(model.layers, { backend, inputGrad: true });
}

for (const [bname, backend] of backends) {
  describe(`nested models match PyTorch (${bname})`, () => {
    for (const run of runs) {
      it(`${run.name}: keys, forward, gradients, SGD steps, eval`, () => {
        const model = withBackend(run.name === 'resnet' ? resnet() : inception(), backend);
        model.build(run.inputShape);
        const ours = Object.keys(model.stateDict()).sort();
        const theirs = Object.keys(run.init).sort();
        expect(ours).toEqual(theirs);
        const init = Object.fromEntries(theirs.map((k) => [k, run.init[k]]));
        model.loadStateDict(init);
        const n = run.y.length;
        const x = tensor(Float32Array.from(run.x), [n, ...run.inputShape]);
        const y = Int32Array.from(run.y);
        const loss = new CrossEntropyLoss({ backend });
        model.train();
        model.zeroGrad();
        const out = model.forward(x);
        close(out.data, run.out, 1e-4, 1e-5, 'output');
        expect(loss.forward(out, y)).toBeCloseTo(run.loss, 5);
        const dx = model.backward(loss.backward());
        close(dx.data, run.dx, 1e-3, 1e-6, 'dx');
        const arena = model.parameters();
        for (const v of arena.views) close(arena.grad.subarray(v.offset, v.offset + v.size), run.grads[v.name], 1e-3, 1e-6, `grad ${v.name}`);
        model.loadStateDict(init);
        const opt = new SGD(model.parameters(), { lr: run.lr, momentum: 0.9, backend });
        const losses: number[] = [];
        for (let s = 0; s < run.losses.length; s++) {
          opt.zeroGrad();
          losses.push(loss.forward(model.forward(x), y));
          model.backward(loss.backward());
          opt.step();
        }
        close(losses, run.losses, 1e-4, 1e-6, 'losses');
        const sd = model.stateDict();
        for (const k of theirs) close(sd[k].data, run.final[k].data, 1e-3, 2e-5, k);
        model.eval();
        close(model.forward(x).data, run.evalOut, 1e-3, 2e-5, 'eval output');
      });
    }

    it('Softmax and AdaptiveAvgPool2d(1) forward and backward', () => {
      const s = new Softmax({ backend });
      const ys = s.forward(tensor(Float32Array.from(single.softmax.x), [3, 5]));
      close(ys.data, single.softmax.y, 1e-5, 1e-7, 'softmax');
      close(s.backward(tensor(Float32Array.from(single.softmax.r), [3, 5])).data, single.softmax.dx, 1e-4, 1e-6, 'softmax dx');
      const p = new AdaptiveAvgPool2d({ backend });
      const yp = p.forward(tensor(Float32Array.from(single.avgpool.x), [2, 3, 4, 5]));
      expect(yp.shape).toEqual([2, 3, 1, 1]);
      close(yp.data, single.avgpool.y, 1e-5, 1e-7, 'avgpool');
      close(p.backward(tensor(Float32Array.from(single.avgpool.r), [2, 3, 1, 1])).data, single.avgpool.dx, 1e-5, 1e-7, 'avgpool dx');
      const g = new GlobalAvgPool2d({ backend });
      const yg = g.forward(tensor(Float32Array.from(single.avgpool.x), [2, 3, 4, 5]));
      expect(yg.shape).toEqual([2, 3]);
      close(yg.data, single.avgpool.y, 1e-5, 1e-7, 'global avgpool');
    });
  });
}

describe('containers: gradient checks', () => {
  it('Residual with a conv+BN projection shortcut', () => {
    const r = new Residual([conv(2, 3, 3, { padding: 1, bias: true }), new BatchNorm2d({ numFeatures: 3 }), conv(3, 3, 3, { padding: 1 })], {
      shortcut: [conv(2, 3, 1), new BatchNorm2d({ numFeatures: 3 })],
    });
    gradCheck(r, tensor(randn(3 * 2 * 5 * 5, 3), [3, 2, 5, 5]), { samples: 16 });
  });
  it('Residual with the identity, Concat of a branch and an Identity, Softmax', () => {
    gradCheck(new Residual([new Linear({ inFeatures: 4, outFeatures: 4 }), new ReLU(), new Linear({ inFeatures: 4, outFeatures: 4 })]), tensor(randn(12, 4), [3, 4]), { h: 1e-2 });
    gradCheck(new Concat([new Linear({ inFeatures: 4, outFeatures: 2 }), new Identity(), [new Linear({ inFeatures: 4, outFeatures: 3 }), new Softmax()]]), tensor(randn(12, 5), [3, 4]));
  });
});

describe('containers: structure', () => {
  it('nested keys, summary, train/eval, config round trip', () => {
    const model = resnet();
    model.build([1, 8, 8]);
    const keys = Object.keys(model.stateDict());
    expect(keys).toContain('3.block.0.weight');
    expect(keys).toContain('5.shortcut.1.running_mean');
    expect(keys).toContain('5.block.4.running_var');
    expect(model.parameters().views.map((v) => v.name)).toContain('5.shortcut.0.weight');
    const summary = model.summary();
    expect(summary).toMatch(/5\.shortcut\.0 +\s+Conv2d/);
    expect(summary).toMatch(/5\.block\.3 .*\[N, 8, 4, 4\]/);
    model.eval();
    const bn = ((model.layers[5] as Residual).shortcut as Block).layers[1];
    expect(bn.training).toBe(false);
    model.train();
    expect(bn.training).toBe(true);
    const copy = sequentialFromConfig(JSON.parse(JSON.stringify(model.getConfig())));
    copy.loadStateDict(model.stateDict());
    const x = tensor(randn(2 * 64, 4), [2, 1, 8, 8]);
    model.eval();
    copy.eval();
    close(copy.forward(x).data, model.forward(x).data, 0, 0, 'rebuilt model');
  });

  it('saveModel / loadModel keep nested containers and a depthwise conv', () => {
    const model = new Sequential([
      conv(1, 4, 3, { padding: 'same' }), new ReLU(),
      new Residual([new Conv2d({ inChannels: 4, outChannels: 4, kernelSize: 3, padding: 1, groups: 4 }), new BatchNorm2d({ numFeatures: 4 })]),
      new Concat([new Identity(), conv(4, 2, 1)]), new GlobalAvgPool2d(), new Linear({ inFeatures: 6, outFeatures: 3 }),
    ], { inputShape: [1, 6, 6], seed: 5 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-containers-'));
    const file = path.join(dir, 'm.safetensors');
    saveModel(model, file);
    const back = loadModel(file);
    const x = tensor(randn(2 * 36, 6), [2, 1, 6, 6]);
    model.eval();
    close(back.forward(x).data, model.forward(x).data, 0, 0, 'reloaded');
    expect(Object.keys(back.stateDict())).toEqual(Object.keys(model.stateDict()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('fit trains a residual model', async () => {
    const n = 48;
    const x = tensor(randn(n * 16, 5), [n, 1, 4, 4]);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) y[i] = x.data[i * 16] + x.data[i * 16 + 5] > 0 ? 1 : 0;
    const model = new Sequential([
      conv(1, 4, 3, { padding: 1 }), new ReLU(),
      new Residual([conv(4, 4, 3, { padding: 1 }), new BatchNorm2d({ numFeatures: 4 }), new ReLU()]),
      new Flatten(), new Linear({ inFeatures: 64, outFeatures: 2 }),
    ], { seed: 3, inputShape: [1, 4, 4] });
    const h = await fit(model, x, y, { epochs: 30, batchSize: 16, loss: new CrossEntropyLoss(), optimizer: new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 }), verbose: 0, metrics: ['accuracy'] });
    expect(h.history.loss.at(-1)!).toBeLessThan(h.history.loss[0] * 0.5);
    expect(h.history.accuracy!.at(-1)!).toBeGreaterThan(0.9);
  });
});

describe('containers: bad input', () => {
  it('a mismatched layer inside a branch names the path and both shapes', () => {
    const model = new Sequential([
      conv(1, 4, 3), new ReLU(), new ReLU(),
      new Residual([conv(4, 4, 3, { padding: 1 }), conv(8, 4, 3, { padding: 1 })]),
    ]);
    expect(() => model.build([1, 8, 8])).toThrow(RangeError);
    expect(() => model.build([1, 8, 8])).toThrow(/^Expected 4-D input of shape \[N, 8, H, W\] for layers\[3\]\.block\[1\]: Conv2d '[^']+' but received input shape \[N, 4, 6, 6\]$/);
  });
  it('a residual whose block changes the shape with no shortcut', () => {
    const r = new Residual([conv(2, 4, 1)]);
    expect(() => r.build([2, 5, 5])).toThrow(/^Expected the input shape \[N, 2, 5, 5\] from the block .* for Residual '[^']+' but received block output shape \[N, 4, 5, 5\]$/);
  });
  it('Concat branches that disagree, wrong kinds, a built Sequential, a shared layer', () => {
    const c = new Concat([conv(2, 3, 1), conv(2, 3, 3)]);
    expect(() => c.build([2, 5, 5])).toThrow(/Expected branch outputs that agree past axis 1 .* but received output shape \[N, 3, 3, 3\]/);
    expect(() => new Residual(42 as any)).toThrow(TypeError);
    expect(() => new Concat([])).toThrow(TypeError);
    const built = new Sequential([new Linear({ inFeatures: 2, outFeatures: 2 })], { inputShape: [2] });
    expect(() => new Sequential([built])).toThrow(/Expected an unbuilt Sequential .* for layers\[0\] but received a built Sequential/);
    const l = new Linear({ inFeatures: 2, outFeatures: 2 });
    expect(() => new Residual(l, { shortcut: l })).toThrow(RangeError);
    expect(() => new AdaptiveAvgPool2d({ outputSize: 2 as any })).toThrow(RangeError);
  });
});
