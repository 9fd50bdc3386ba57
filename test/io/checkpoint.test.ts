// Checkpoints that are the whole model: the layer registry, loadModel / loadCheckpoint / loadWeights,
// optimizer, schedule, preprocessing and extra state, and the errors of bad paths and files.
import { describe, it, expect } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  Sequential, Layer, Linear, ReLU, LeakyReLU, ELU, Sigmoid, Tanh, Maxout, Conv2d, MaxPool2d, AvgPool2d, Flatten, Dropout,
  BatchNorm1d, BatchNorm2d, LayerNorm, InstanceNorm2d, GroupNorm, SGD, Adam, StepLR, SequentialLR, LinearWarmup,
  CosineAnnealingLR, StandardScaler, PCA, tensor, init, saveModel, loadModel, loadCheckpoint, registerLayer,
  encodeSafetensors, CrossEntropyLoss,
} from '../../lib/index';
import type { Tensor } from '../../lib/index';
import { randn } from '../helpers';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minibatch-ckpt-'));
const file = (n: string) => path.join(dir, n);

/** A CNN with every image layer kind, trained one step so nothing is at its initial value. */
function cnn(seed = 0): Sequential {
  return new Sequential([
    new Conv2d({ inChannels: 2, outChannels: 4, kernelSize: 3, padding: 1, stride: [1, 2], weightInit: init.kaimingNormal() }),
    new BatchNorm2d({ numFeatures: 4 }),
    new LeakyReLU({ alpha: 0.2 }),
    new GroupNorm({ numGroups: 2, numChannels: 4 }),
    new InstanceNorm2d({ numFeatures: 4, affine: true, trackRunningStats: true }),
    new MaxPool2d({ kernelSize: 2, stride: 1, padding: 1 }),
    new AvgPool2d({ kernelSize: 2 }),
    new ELU({ alpha: 0.5 }),
    new Flatten(),
    new Dropout({ p: 0.25 }),
    new LayerNorm({ normalizedShape: [24] }),
    new Maxout({ inFeatures: 24, outFeatures: 8, pieces: 3 }),
    new BatchNorm1d({ numFeatures: 8, momentum: null }),
    new Tanh(),
    new Linear({ inFeatures: 8, outFeatures: 6, biasInit: init.constant(0.1) }),
    new Sigmoid(),
    new ReLU(),
  ], { inputShape: [2, 6, 8], seed });
}

function trainSteps(m: Sequential, steps = 2): void {
  const opt = new SGD(m.parameters(), { lr: 0.1, momentum: 0.9 });
  const loss = new CrossEntropyLoss();
  for (let s = 0; s < steps; s++) {
    opt.zeroGrad();
    const y = m.forward(tensor(randn(5 * 96, 10 + s), [5, 2, 6, 8]));
    loss.forward(y, new Int32Array([0, 1, 2, 3, 4]));
    m.backward(loss.backward());
    opt.step();
  }
}

const x = tensor(randn(3 * 96, 77), [3, 2, 6, 8]);
const out = (m: Sequential, t: Tensor = x) => Array.from(m.eval().forward(t).data);

describe('loadModel rebuilds the model from the file alone', () => {
  it('every built-in layer: same config, same state, same eval outputs bit for bit', () => {
    const a = cnn(3);
    trainSteps(a);
    saveModel(a, file('cnn.safetensors'));
    const b = loadModel(file('cnn.safetensors'));
    expect(b.built).toBe(true);
    expect(b.training).toBe(false);
    expect(b.getConfig()).toEqual(a.getConfig());
    expect(b.stateDict()).toEqual(a.stateDict());
    expect(out(b)).toEqual(out(a));
    expect(b.layers.map((l) => l.name)).toEqual(a.layers.map((l) => l.name));
  });

  it('restores the Dropout mask generator, so training continues with the same masks', () => {
    const a = cnn(4);
    trainSteps(a, 1);
    saveModel(a, file('drop.safetensors'));
    const b = loadModel(file('drop.safetensors'));
    a.train();
    b.train();
    expect(Array.from(b.forward(x).data)).toEqual(Array.from(a.forward(x).data));
  });

  it('user layers go through registerLayer; an unknown class is named in the error', () => {
    class Scale extends Layer {
      readonly className = 'Scale';
      readonly factor: number;
      constructor(args: { factor: number; name?: string }) {
        super(args, 'Scale');
        this.factor = args.factor;
      }
      protected buildImpl(s: number[]): number[] {
        return s;
      }
      protected forwardImpl(t: Tensor): Tensor {
        const y = this.out('y', t.shape as number[]);
        for (let i = 0; i < t.data.length; i++) y.data[i] = t.data[i] * this.factor;
        return y;
      }
      protected backwardImpl(dy: Tensor): Tensor {
        return dy;
      }
      override getConfig() {
        return { ...super.getConfig(), factor: this.factor };
      }
    }
    const a = new Sequential([new Linear({ inFeatures: 3, outFeatures: 2 }), new Scale({ factor: 3 })], { inputShape: [3] });
    saveModel(a, file('user.safetensors'));
    expect(() => loadModel(file('user.safetensors'))).toThrow(
      /^Expected a registered layer class \(Linear, .*GroupNorm.*\) for config.layers\[1\].className but received 'Scale': call registerLayer\(Scale\) before loading$/,
    );
    registerLayer(Scale);
    const b = loadModel(file('user.safetensors'));
    const t = tensor(randn(6, 2), [2, 3]);
    expect(Array.from(b.forward(t).data)).toEqual(Array.from(a.eval().forward(t).data));
    expect((b.layers[1] as Scale).factor).toBe(3);
    expect(() => registerLayer(Object as never)).toThrow(TypeError);
  });
});

describe('loadCheckpoint: optimizer, schedule, preprocessing, extra', () => {
  const mlp = () => new Sequential([new Linear({ inFeatures: 4, outFeatures: 5 }), new BatchNorm1d({ numFeatures: 5 }), new ReLU(), new Linear({ inFeatures: 5, outFeatures: 3 })], { inputShape: [4], seed: 1 });
  const xb = tensor(randn(32, 5), [8, 4]);
  const yb = new Int32Array([0, 1, 2, 0, 1, 2, 0, 1]);
  function step(m: Sequential, opt: { zeroGrad(): void; step(): void }): void {
    const loss = new CrossEntropyLoss();
    opt.zeroGrad();
    loss.forward(m.train().forward(xb), yb);
    m.backward(loss.backward());
    opt.step();
  }

  it('Adam moments and step count, a nested schedule and two preprocessing steps come back exactly', () => {
    const m = mlp();
    const opt = new Adam(m.parameters(), { lr: 0.01, betas: [0.8, 0.99], weightDecay: 0.001 });
    const sched = new SequentialLR(opt, {
      schedulers: [new LinearWarmup(opt, { warmupSteps: 2 }), new CosineAnnealingLR(opt, { tMax: 5, etaMin: 0.001 })],
      milestones: [2],
    });
    for (let i = 0; i < 3; i++) {
      step(m, opt);
      sched.step();
    }
    const data = tensor(randn(40, 9, 0, 5), [10, 4]);
    const scaler = new StandardScaler().fit(data);
    const pca = new PCA({ components: 3 }).fit(scaler.transform(data));
    saveModel(m, file('full.safetensors'), { optimizer: opt, scheduler: sched, preprocess: [scaler, pca], extra: { note: 'run 7', epoch: 3 } });
    const ck = loadCheckpoint(file('full.safetensors'));
    expect(ck.extra).toEqual({ note: 'run 7', epoch: 3 });
    expect(ck.optimizer!.stateDict()).toEqual(opt.stateDict());
    expect(ck.optimizer!.lr).toBe(opt.lr);
    expect(ck.scheduler!.lastEpoch).toBe(3);
    expect(ck.scheduler!.getLastLr()).toBe(sched.getLastLr());
    expect((ck.preprocess![0] as StandardScaler).toJSON()).toEqual(scaler.toJSON());
    expect((ck.preprocess![1] as PCA).toJSON()).toEqual(pca.toJSON());
    // the next steps are the same on both sides
    step(m, opt);
    sched.step();
    step(ck.model, ck.optimizer!);
    ck.scheduler!.step();
    expect(Array.from(ck.model.parameters().data)).toEqual(Array.from(m.parameters().data));
    expect(ck.optimizer!.lr).toBe(opt.lr);
    // preprocessing arrays are tensors of their own, not JSON numbers
    const raw = fs.readFileSync(file('full.safetensors'));
    const header = JSON.parse(raw.toString('utf8', 8, 8 + Number(raw.readBigUInt64LE(0))));
    expect(header['preprocess/0/mean']).toMatchObject({ dtype: 'F64', shape: [4] });
    expect(header['optimizer/0.weight/exp_avg']).toMatchObject({ dtype: 'F32', shape: [5, 4] });
    expect(header.__metadata__.minibatch_preprocess).not.toMatch(/mean/);
  });

  it('SGD momentum with StepLR; a plain model file has no optimizer', () => {
    const m = mlp();
    const opt = new SGD(m.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true });
    const sched = new StepLR(opt, { stepSize: 1, gamma: 0.5 });
    step(m, opt);
    sched.step();
    saveModel(m, file('sgd.safetensors'), { optimizer: opt, scheduler: sched });
    const ck = loadCheckpoint(file('sgd.safetensors'));
    expect(ck.optimizer).toBeInstanceOf(SGD);
    expect(ck.optimizer!.stateDict()).toEqual(opt.stateDict());
    expect(ck.scheduler).toBeInstanceOf(StepLR);
    saveModel(m, file('plain.safetensors'));
    const plain = loadCheckpoint(file('plain.safetensors'));
    expect(plain.optimizer).toBeUndefined();
    expect(plain.metadata.minibatch_format).toBe('1');
    // a file whose optimizer part is damaged is refused with a message naming it
    const raw = fs.readFileSync(file('sgd.safetensors'));
    const hacked = (from: string, to: string) => {
      const hlen = Number(raw.readBigUInt64LE(0));
      const header = JSON.parse(raw.toString('utf8', 8, 8 + hlen));
      header.__metadata__.minibatch_optimizer = header.__metadata__.minibatch_optimizer.replace(from, to);
      const tensors: Record<string, { shape: number[]; data: Float32Array | BigInt64Array }> = {};
      for (const [k, v] of Object.entries(header) as [string, any][]) {
        if (k === '__metadata__') continue;
        const bytes = raw.subarray(8 + hlen + v.data_offsets[0], 8 + hlen + v.data_offsets[1]);
        const copy = new Uint8Array(bytes).buffer;
        tensors[k] = { shape: v.shape, data: v.dtype === 'I64' ? new BigInt64Array(copy) : new Float32Array(copy) };
      }
      fs.writeFileSync(file('hacked.safetensors'), encodeSafetensors(tensors, header.__metadata__));
      return file('hacked.safetensors');
    };
    expect(() => loadCheckpoint(hacked('"kind":"SGD"', '"kind":"Lion"'))).toThrow(`Expected an optimizer kind (SGD, Adam, AdamW, RMSProp) for ${file('hacked.safetensors')} minibatch_optimizer.kind but received 'Lion' of type string`);
    expect(() => loadCheckpoint(hacked('"momentum":0.9', '"momentum":-1'))).toThrow(RangeError);
    const other = new SGD(mlp().parameters(), { lr: 0.1 });
    expect(() => saveModel(m, file('x.safetensors'), { optimizer: other })).toThrow(
      "Expected an optimizer over the model's parameters (new SGD(model.parameters(), ...)) for optimizer but received an optimizer over other parameters",
    );
  });
});

describe('loadWeights and bad inputs', () => {
  const small = () => new Sequential([new Linear({ inFeatures: 3, outFeatures: 2 }), new BatchNorm1d({ numFeatures: 2 })], { inputShape: [3] });

  it('lists missing, unexpected and mis-shaped keys; strict false loads what fits', () => {
    const a = small();
    saveModel(a, file('small.safetensors'));
    const b = small();
    expect(b.loadWeights(file('small.safetensors'))).toEqual({ missing: [], unexpected: [] });
    expect(b.stateDict()).toEqual(a.stateDict());
    const other = new Sequential([new Linear({ inFeatures: 3, outFeatures: 4 }), new Linear({ inFeatures: 4, outFeatures: 1 })], { inputShape: [3] });
    const before = Float32Array.from(b.parameters().data);
    expect(() => b.loadWeights(file('small.safetensors').replace('small', 'nope'))).toThrow(/no such file/);
    saveModel(other, file('other.safetensors'));
    expect(() => b.loadWeights(file('other.safetensors'))).toThrow(
      `Expected the keys and shapes of the model's state dict for ${file('other.safetensors')} but received missing 1.running_mean, 1.running_var, 1.num_batches_tracked; ` +
        "mis-shaped 0.weight (shape [4, 3], the model's [2, 3]), 0.bias (shape [4], the model's [2]), 1.weight (shape [1, 4], the model's [2]), 1.bias (shape [1], the model's [2])",
    );
    expect(Array.from(b.parameters().data)).toEqual(Array.from(before));
    // another architecture's checkpoint into loadModel works (it is that architecture)
    expect(loadModel(file('other.safetensors')).layers.length).toBe(2);
  });

  it('clear errors for bad paths, files and options', () => {
    const a = small();
    saveModel(a, file('ok.safetensors'));
    expect(() => loadModel(file('none.safetensors'))).toThrow(`Expected an existing checkpoint file for path but received '${file('none.safetensors')}' (no such file)`);
    expect(() => loadModel(dir)).toThrow(`Expected a checkpoint file for path but received '${dir}', which is a folder`);
    fs.writeFileSync(file('text.safetensors'), 'hello, this is not a checkpoint');
    expect(() => loadModel(file('text.safetensors'))).toThrow(RangeError);
    fs.writeFileSync(file('bare.safetensors'), encodeSafetensors({ w: { shape: [1], data: new Float32Array(1) } }));
    expect(() => loadModel(file('bare.safetensors'))).toThrow(/without it: build the model in code and call model.loadWeights\(path\)/);
    expect(() => loadModel(a as never)).toThrow(TypeError);
    // a hostile config cannot make the loader allocate what the file does not hold
    const huge = { className: 'Sequential', inputShape: [100000], layers: [{ className: 'Linear', inFeatures: 100000, outFeatures: 100000 }] };
    fs.writeFileSync(file('huge.safetensors'), encodeSafetensors({ '0.weight': { shape: [1], data: new Float32Array(1) } }, { minibatch_config: JSON.stringify(huge) }));
    expect(() => loadModel(file('huge.safetensors'))).toThrow(`Expected a config whose weights are in the file (1 values) for ${file('huge.safetensors')} minibatch_config but received layers of 10000000000 weights`);
    fs.writeFileSync(file('v2.safetensors'), encodeSafetensors({}, { minibatch_format: '2', minibatch_config: '{}' }));
    expect(() => loadModel(file('v2.safetensors'))).toThrow(`Expected checkpoint format 1 (minibatch_format) for ${file('v2.safetensors')} but received format '2': written by another version of minibatch`);
    const unknownCls = { className: 'Sequential', inputShape: [1], layers: [{ className: 'Nope' }] };
    fs.writeFileSync(file('nope.safetensors'), encodeSafetensors({}, { minibatch_config: JSON.stringify(unknownCls) }));
    expect(() => loadModel(file('nope.safetensors'))).toThrow(/received 'Nope': call registerLayer\(Nope\) before loading/);
    const badArgs = { className: 'Sequential', inputShape: [2], layers: [{ className: 'Linear', inFeatures: 2, outFeatures: -1 }] };
    fs.writeFileSync(file('args.safetensors'), encodeSafetensors({}, { minibatch_config: JSON.stringify(badArgs) }));
    expect(() => loadModel(file('args.safetensors'))).toThrow('Expected integer >= 1 for outFeatures but received -1 of type number (in config.layers[0], a Linear)');
    expect(() => loadModel(42 as never)).toThrow('Expected file path string for path but received 42 of type number');
    expect(() => loadModel(file('ok.safetensors'), { strickt: true } as never)).toThrow("(did you mean 'strict'?)");
    expect(() => loadModel(file('ok.safetensors'), { strict: 'no' } as never)).toThrow("Expected boolean for strict but received 'no' of type string");
    expect(() => a.loadStateDict(a.stateDict(), { strict: 'no' } as never)).toThrow(TypeError);
    expect(() => a.loadStateDict(a.stateDict(), { stict: false } as never)).toThrow(/did you mean 'strict'/);
    expect(() => saveModel(null as never, file('n.safetensors'))).toThrow('Expected Sequential model for model but received null');
    expect(() => saveModel(a, 42 as never)).toThrow('Expected file path string for path but received 42 of type number');
    expect(() => saveModel(a, dir)).toThrow(/which is a folder/);
    expect(() => saveModel(a, file('no/such/m.safetensors'))).toThrow(`Expected a path in an existing folder for path but received '${file('no/such/m.safetensors')}' (no folder ${file('no/such')})`);
    expect(() => saveModel(a, file('o.safetensors'), { optimiser: 1 } as never)).toThrow(/did you mean 'optimizer'/);
    expect(() => saveModel(new Sequential([new ReLU()]), file('u.safetensors'))).toThrow(/a model that is not built/);
    expect(() => saveModel(a, file('e.safetensors'), { extra: { f: 1n } })).toThrow(TypeError);
    expect(fs.existsSync(file('e.safetensors'))).toBe(false);
  });
});
