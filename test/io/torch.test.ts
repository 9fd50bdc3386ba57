// PyTorch both ways. "PyTorch wrote it": committed files made by test/fixtures/make_torch_checkpoints.py
// (float32, and float64/float16/bfloat16 weights) load with loadModel into ready models whose logits
// match PyTorch's — no Python needed. "We wrote it": when /usr/bin/python3 has torch,
// test/fixtures/check_torch.py rebuilds our saved models in PyTorch from the file alone and compares
// logits, and examples/to_pytorch.py trains one on and writes it back.
import { describe, it, expect } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import {
  loadModel, saveModel, decodeSafetensors, encodeSafetensors, tensor, Sequential, Conv2d, BatchNorm2d, ReLU, MaxPool2d,
  Flatten, Linear, LayerNorm, GroupNorm, InstanceNorm2d, AvgPool2d, LeakyReLU, ELU, Tanh, Sigmoid, Maxout, BatchNorm1d, Dropout,
  fit, SGD, CrossEntropyLoss,
} from '../../lib/index';
import { randn } from '../helpers';
import { PY, maxRel, missingTorch } from './torch-helpers';

const fixtures = path.join(__dirname, '..', 'fixtures');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minibatch-torch-'));
const missing = missingTorch('test/io/torch.test.ts');

describe('PyTorch wrote it', () => {
  const expected = decodeSafetensors(fs.readFileSync(path.join(fixtures, 'torch_expect.safetensors'))).tensors;
  for (const name of ['cnn', 'mlp']) {
    it(`${name}: loadModel gives a ready model whose logits match PyTorch's (<= 1e-5 relative)`, () => {
      const m = loadModel(path.join(fixtures, `torch_${name}.safetensors`));
      const x = expected[`${name}.input`];
      const y = m.forward(tensor(x.data, x.shape));
      expect(y.shape).toEqual(expected[`${name}.logits`].shape);
      expect(maxRel(y.data, expected[`${name}.logits`].data)).toBeLessThanOrEqual(1e-5);
    });
  }
});

/** Every layer kind, trained a little so nothing is at its initial value. */
async function trained(): Promise<{ models: Record<string, Sequential>; inputs: Record<string, Float32Array> }> {
  const cnn = new Sequential([
    new Conv2d({ inChannels: 2, outChannels: 6, kernelSize: 3, padding: [1, 2], stride: [2, 1], dilation: [1, 2] }),
    new BatchNorm2d({ numFeatures: 6 }), new ReLU(), new MaxPool2d({ kernelSize: 3, stride: 2, padding: 1 }),
    new GroupNorm({ numGroups: 3, numChannels: 6 }), new InstanceNorm2d({ numFeatures: 6, affine: true, trackRunningStats: true }),
    new AvgPool2d({ kernelSize: 2, stride: 1, padding: 1 }), new ELU(), new Flatten(), new Dropout({ p: 0.1 }),
    new Linear({ inFeatures: 6 * 4 * 9, outFeatures: 5 }),
  ], { inputShape: [2, 9, 16], seed: 2 });
  const mlp = new Sequential([
    new Linear({ inFeatures: 7, outFeatures: 12 }), new BatchNorm1d({ numFeatures: 12, momentum: null }), new Tanh(),
    new LayerNorm({ normalizedShape: [12] }), new Maxout({ inFeatures: 12, outFeatures: 6, pieces: 2 }), new LeakyReLU({ alpha: 0.2 }),
    new Linear({ inFeatures: 6, outFeatures: 4, bias: false }), new Sigmoid(),
  ], { inputShape: [7], seed: 3 });
  const inputs = { cnn: randn(10 * 2 * 9 * 16, 5), mlp: randn(10 * 7, 6) };
  const shapes = { cnn: [10, 2, 9, 16], mlp: [10, 7] };
  for (const [k, m] of Object.entries({ cnn, mlp })) {
    const x = tensor(inputs[k as 'cnn'], shapes[k as 'cnn']);
    const y = new Int32Array(10).map((_, i) => i % 4);
    await fit(m, x, y, { epochs: 2, batchSize: 5, loss: new CrossEntropyLoss(), optimizer: new SGD(m.parameters(), { lr: 0.05, momentum: 0.9 }), verbose: 0 });
  }
  return { models: { cnn, mlp }, inputs };
}

describe.skipIf(missing !== null)('We wrote it (needs /usr/bin/python3 with torch)', () => {
  it('PyTorch rebuilds every layer kind from our file alone; its logits match ours (<= 1e-5 relative)', async () => {
    const { models, inputs } = await trained();
    const shapes = { cnn: [10, 2, 9, 16], mlp: [10, 7] };
    for (const [k, m] of Object.entries(models)) {
      const ckpt = path.join(dir, `${k}.safetensors`);
      saveModel(m, ckpt);
      const x = tensor(inputs[k as 'cnn'], shapes[k as 'cnn']);
      const logits = Float32Array.from(m.eval().forward(x).data);
      const io = path.join(dir, `${k}.io.safetensors`);
      fs.writeFileSync(io, encodeSafetensors({ input: x, logits: { shape: [10, logits.length / 10], data: logits } }));
      const r = spawnSync(PY, [path.join(fixtures, 'check_torch.py'), ckpt, io], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      const { maxRel: rel, shape } = JSON.parse(r.stdout.trim().split('\n').pop()!);
      expect(shape).toEqual([10, logits.length / 10]);
      expect(rel).toBeLessThanOrEqual(1e-5);
    }
  }, 60_000);

  it('examples/to_pytorch.py trains on in PyTorch and writes a file loadModel reads back', () => {
    const m = loadModel(path.join(fixtures, 'torch_cnn.safetensors'));
    const out = path.join(dir, 'more.safetensors');
    const r = spawnSync(PY, [path.join(__dirname, '..', '..', 'examples', 'to_pytorch.py'), path.join(fixtures, 'torch_cnn.safetensors'), '--steps', '3', '--out', out], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/3 steps, last loss/);
    const back = loadModel(out);
    expect(back.getConfig()).toEqual({ ...m.getConfig(), layers: back.getConfig().layers });
    expect(Array.from(back.parameters().data)).not.toEqual(Array.from(m.parameters().data));
    expect(back.stateDict()['1.num_batches_tracked'].data[0]).toBe(37 + 3);
  }, 60_000);
});
