// PyTorch both ways for containers (nested Sequential, Residual, Concat) and the layers residual and
// branch models use (Identity, Softmax, GlobalAvgPool2d, AdaptiveAvgPool2d, grouped and depthwise
// convolutions with padding 'same', ceil-mode pooling). "PyTorch wrote it": committed files made by
// test/fixtures/make_torch_containers.py load with loadModel and their outputs match PyTorch's, no
// Python needed. "We wrote it": when /usr/bin/python3 has torch, test/fixtures/check_torch.py
// rebuilds our trained models from the file alone (examples/to_pytorch.py) and compares outputs.
import { describe, it, expect } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import {
  loadModel, saveModel, decodeSafetensors, encodeSafetensors, tensor, Sequential, Conv2d, BatchNorm2d, ReLU, MaxPool2d, AvgPool2d,
  Flatten, Linear, Identity, Softmax, GlobalAvgPool2d, AdaptiveAvgPool2d, Residual, Concat, fit, SGD, CrossEntropyLoss,
} from '../../lib/index';
import { basicBlock } from '../../examples/resnet';
import { randn } from '../helpers';
import { PY, maxRel, missingTorch } from './torch-helpers';

const fixtures = path.join(__dirname, '..', 'fixtures');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minibatch-torch-containers-'));
const missing = missingTorch('test/io/torch-containers.test.ts');

describe('PyTorch wrote it (containers)', () => {
  const expected = decodeSafetensors(fs.readFileSync(path.join(fixtures, 'torch_containers_expect.safetensors'))).tensors;
  for (const name of ['resnet', 'branches']) {
    it(`${name}: loadModel gives a ready model whose outputs match PyTorch's (<= 1e-5 relative)`, () => {
      const m = loadModel(path.join(fixtures, `torch_${name}.safetensors`));
      const x = expected[`${name}.input`];
      const y = m.forward(tensor(x.data, x.shape));
      expect(y.shape).toEqual(expected[`${name}.logits`].shape);
      expect(maxRel(y.data, expected[`${name}.logits`].data)).toBeLessThanOrEqual(1e-5);
    });
  }

  it('the ResNet file holds what the model says: residual blocks with PyTorch key names', () => {
    const m = loadModel(path.join(fixtures, 'torch_resnet.safetensors'));
    expect(m.layers.map((l) => l.className)).toEqual(['Conv2d', 'BatchNorm2d', 'ReLU', 'Residual', 'ReLU', 'Residual', 'ReLU', 'GlobalAvgPool2d', 'Linear']);
    const sd = m.stateDict();
    expect(sd['5.shortcut.1.num_batches_tracked'].data[0]).toBe(37);
    expect(sd['5.shortcut.0.weight'].shape).toEqual([16, 8, 1, 1]);
    expect(sd['3.block.3.weight'].shape).toEqual([8, 8, 3, 3]);
    expect(Object.keys(sd).some((k) => k.startsWith('3.shortcut'))).toBe(false);
  });
});

/** A two-block ResNet (examples/resnet.ts's blocks) and a model of branches, ceil-mode pools and grouped convolutions. */
function models(): Record<string, Sequential> {
  const resnet = new Sequential([
    new Conv2d({ inChannels: 1, outChannels: 8, kernelSize: 3, padding: 1, bias: false }), new BatchNorm2d({ numFeatures: 8 }), new ReLU(),
    ...basicBlock(8, 8, 1), ...basicBlock(8, 16, 2), new GlobalAvgPool2d(), new Linear({ inFeatures: 16, outFeatures: 4 }),
  ], { inputShape: [1, 12, 12], seed: 4 });
  const branches = new Sequential([
    new Conv2d({ inChannels: 3, outChannels: 6, kernelSize: 3, padding: 'same', groups: 3 }),
    new Concat([new Sequential([new Conv2d({ inChannels: 6, outChannels: 4, kernelSize: 1 }), new ReLU()]), new MaxPool2d({ kernelSize: 3, stride: 1, padding: 1 }), new Identity()]),
    new MaxPool2d({ kernelSize: 3, stride: 2, ceilMode: true }),
    new AvgPool2d({ kernelSize: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false }),
    new AvgPool2d({ kernelSize: 2, stride: 2, padding: 1, ceilMode: true }),
    new Residual([new Conv2d({ inChannels: 16, outChannels: 16, kernelSize: 3, padding: 'same', groups: 16, bias: false }), new BatchNorm2d({ numFeatures: 16 })], { shortcut: new Identity() }),
    new AdaptiveAvgPool2d(1), new Flatten(), new Linear({ inFeatures: 16, outFeatures: 4 }), new Softmax(),
  ], { inputShape: [3, 12, 12], seed: 5 });
  return { resnet, branches };
}

describe.skipIf(missing !== null)('We wrote it, containers (needs /usr/bin/python3 with torch)', () => {
  it('PyTorch rebuilds our trained ResNet and branch model from the file alone; outputs match ours (<= 1e-5 relative)', async () => {
    for (const [k, m] of Object.entries(models())) {
      const shape = [10, ...m.inputShape!];
      const x = tensor(randn(shape.reduce((a, b) => a * b, 1), 7), shape);
      const y = new Int32Array(10).map((_, i) => i % 4);
      await fit(m, x, y, { epochs: 2, batchSize: 5, loss: new CrossEntropyLoss(), optimizer: new SGD(m.parameters(), { lr: 0.05, momentum: 0.9 }), verbose: 0 });
      const ckpt = path.join(dir, `${k}.safetensors`);
      saveModel(m, ckpt);
      const out = Float32Array.from(m.eval().forward(x).data);
      const io = path.join(dir, `${k}.io.safetensors`);
      fs.writeFileSync(io, encodeSafetensors({ input: x, logits: { shape: [10, 4], data: out } }));
      const r = spawnSync(PY, [path.join(fixtures, 'check_torch.py'), ckpt, io], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      const { maxRel: rel, shape: got } = JSON.parse(r.stdout.trim().split('\n').pop()!);
      expect(got).toEqual([10, 4]);
      expect(rel, k).toBeLessThanOrEqual(1e-5);
    }
  }, 60_000);

  it('examples/to_pytorch.py trains the ResNet on in PyTorch and writes a file loadModel reads back', () => {
    const src = path.join(fixtures, 'torch_resnet.safetensors');
    const m = loadModel(src);
    const out = path.join(dir, 'resnet-more.safetensors');
    const r = spawnSync(PY, [path.join(__dirname, '..', '..', 'examples', 'to_pytorch.py'), src, '--steps', '2', '--out', out], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Residual\(/);
    expect(r.stdout).toMatch(/2 steps, last loss/);
    const back = loadModel(out);
    expect(back.layers.map((l) => l.className)).toEqual(m.layers.map((l) => l.className));
    expect(Array.from(back.parameters().data)).not.toEqual(Array.from(m.parameters().data));
    expect(back.stateDict()['5.shortcut.1.num_batches_tracked'].data[0]).toBe(37 + 2);
  }, 60_000);
});
