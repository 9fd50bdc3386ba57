// ONNX export proven with a real runtime: onnxruntime-node runs the exported MNIST CNN, the MLP and
// one model per layer kind (dynamic batch, eval mode), and its outputs equal ours to 1e-5; when
// Debian's python3-onnx is present, its checker accepts every exported file.
import { describe, it, expect } from 'vitest';
import * as path from 'path';
import {
  Sequential, Linear, ReLU, LeakyReLU, ELU, Sigmoid, Tanh, Maxout, Conv2d, MaxPool2d, AvgPool2d, Flatten, Dropout,
  BatchNorm1d, BatchNorm2d, LayerNorm, InstanceNorm2d, GroupNorm, tensor, exportOnnx, encodeOnnx,
} from '../../lib/index';
import type { Tensor } from '../../lib/index';
import { randn } from '../helpers';
import { loadOrt, hasOnnxChecker, tmpDir, randomizeBuffers, runOrt, expectOrtMatches, expectCheckerAccepts, Odd } from './onnx-helpers';

const ort = loadOrt('test/io/onnx.test.ts');
const hasOnnx = hasOnnxChecker('test/io/onnx.test.ts');
const dir = tmpDir('onnx');

const cases: [string, () => Sequential][] = [
  ['MNIST CNN', () => new Sequential([
    new Conv2d({ inChannels: 1, outChannels: 16, kernelSize: 3, padding: 1 }), new BatchNorm2d({ numFeatures: 16 }), new ReLU(), new MaxPool2d({ kernelSize: 2 }),
    new Conv2d({ inChannels: 16, outChannels: 32, kernelSize: 3, padding: 1 }), new BatchNorm2d({ numFeatures: 32 }), new ReLU(), new MaxPool2d({ kernelSize: 2 }),
    new Flatten(), new Linear({ inFeatures: 32 * 7 * 7, outFeatures: 10 }),
  ], { inputShape: [1, 28, 28], seed: 1 })],
  ['MNIST MLP', () => new Sequential([
    new Flatten(), new Linear({ inFeatures: 784, outFeatures: 256 }), new BatchNorm1d({ numFeatures: 256 }), new ReLU(),
    new Linear({ inFeatures: 256, outFeatures: 128 }), new BatchNorm1d({ numFeatures: 128 }), new ReLU(), new Linear({ inFeatures: 128, outFeatures: 10 }),
  ], { inputShape: [1, 28, 28], seed: 2 })],
  ['Linear without bias', () => new Sequential([new Linear({ inFeatures: 5, outFeatures: 3, bias: false })], { inputShape: [5] })],
  ['Conv2d with strides, pads, dilations', () => new Sequential([new Conv2d({ inChannels: 3, outChannels: 4, kernelSize: [3, 2], stride: [2, 1], padding: [1, 2], dilation: [2, 1] })], { inputShape: [3, 9, 7] })],
  ['Conv2d without bias', () => new Sequential([new Conv2d({ inChannels: 2, outChannels: 3, kernelSize: 1, bias: false })], { inputShape: [2, 4, 4] })],
  ['BatchNorm1d on (N, C, L)', () => new Sequential([new BatchNorm1d({ numFeatures: 3, eps: 1e-3 })], { inputShape: [3, 5] })],
  ['BatchNorm1d without affine', () => new Sequential([new BatchNorm1d({ numFeatures: 4, affine: false })], { inputShape: [4] })],
  ['BatchNorm2d without running statistics', () => new Sequential([new BatchNorm2d({ numFeatures: 3, trackRunningStats: false })], { inputShape: [3, 4, 5] })],
  ['LayerNorm over two dims', () => new Sequential([new LayerNorm({ normalizedShape: [4, 5] })], { inputShape: [3, 4, 5] })],
  ['LayerNorm without affine', () => new Sequential([new LayerNorm({ normalizedShape: [6], elementwiseAffine: false })], { inputShape: [6] })],
  ['InstanceNorm2d', () => new Sequential([new InstanceNorm2d({ numFeatures: 3, affine: true })], { inputShape: [3, 4, 5] })],
  ['InstanceNorm2d with running statistics', () => new Sequential([new InstanceNorm2d({ numFeatures: 3, trackRunningStats: true })], { inputShape: [3, 4, 5] })],
  ['GroupNorm', () => new Sequential([new GroupNorm({ numGroups: 2, numChannels: 6 })], { inputShape: [6, 3, 4] })],
  ['GroupNorm without affine on (N, C)', () => new Sequential([new GroupNorm({ numGroups: 3, numChannels: 6, affine: false })], { inputShape: [6] })],
  ['activations', () => new Sequential([new LeakyReLU({ alpha: 0.3 }), new ELU({ alpha: 0.6 }), new Tanh(), new Sigmoid(), new ReLU()], { inputShape: [4, 5] })],
  ['Maxout', () => new Sequential([new Maxout({ inFeatures: 6, outFeatures: 4, pieces: 3 })], { inputShape: [6] })],
  ['MaxPool2d with pads', () => new Sequential([new MaxPool2d({ kernelSize: 3, stride: 2, padding: 1 })], { inputShape: [2, 7, 6] })],
  ['AvgPool2d with pads (count_include_pad)', () => new Sequential([new AvgPool2d({ kernelSize: [2, 3], stride: 1, padding: [1, 1] })], { inputShape: [2, 5, 6] })],
  ['Flatten and Dropout', () => new Sequential([new Flatten(), new Dropout({ p: 0.5 }), new Linear({ inFeatures: 12, outFeatures: 2 })], { inputShape: [3, 2, 2] })],
];

const files: string[] = [];

describe('exportOnnx, run by ONNX Runtime', () => {
  cases.forEach(([name, make], ci) => {
    it.skipIf(!ort)(`${name}: ONNX Runtime's outputs equal ours to 1e-5 (batch 3 and 1)`, async () => {
      const file = path.join(dir, `case${ci}.onnx`);
      await expectOrtMatches(ort!, randomizeBuffers(make(), ci).eval(), file, ci);
      files.push(file);
    });
  });

  it.skipIf(!ort)('opset 18 (axes as inputs) runs too', async () => {
    const m = randomizeBuffers(new Sequential([new Maxout({ inFeatures: 4, outFeatures: 2 }), new BatchNorm1d({ numFeatures: 2, trackRunningStats: false })], { inputShape: [4] }), 3).eval();
    const file = path.join(dir, 'opset18.onnx');
    exportOnnx(m, file, { opset: 18 });
    const x = tensor(randn(12, 4), [3, 4]);
    const theirs = await runOrt(ort!, file, x);
    const ours = m.forward(x);
    for (let i = 0; i < ours.data.length; i++) expect(Math.abs(ours.data[i] - theirs.data[i])).toBeLessThanOrEqual(1e-5);
  });

  it('clear errors: unbuilt model, unknown layer, bad options', () => {
    expect(() => encodeOnnx(new Sequential([new ReLU()]))).toThrow('Expected a built model (give inputShape, call build(inputShape) or train it first) for model but received a model that is not built');
    const m = new Sequential([new ReLU(), new Odd({ name: 'odd' })], { inputShape: [2] });
    expect(() => encodeOnnx(m)).toThrow(/^Expected layers ONNX export knows \(Linear, .*\) for model but received layers\[1\] Odd 'odd'$/);
    expect(() => encodeOnnx(new Sequential([new ReLU()], { inputShape: [2] }), { opset: 13 })).toThrow('Expected integer between 17 and 21 for opset but received 13 of type number');
    expect(() => encodeOnnx(new Sequential([new ReLU()], { inputShape: [2] }), { opst: 17 } as never)).toThrow(/did you mean 'opset'/);
    expect(() => exportOnnx(null as never, path.join(dir, 'x.onnx'))).toThrow(TypeError);
    expect(() => exportOnnx(m, 42 as never)).toThrow(TypeError);
  });

  it.skipIf(!hasOnnx)("onnx's checker accepts every exported file (needs /usr/bin/python3 with onnx)", () => {
    if (!ort) cases.forEach(([, make], ci) => {
      files.push(path.join(dir, `case${ci}.onnx`));
      exportOnnx(make(), files[ci]);
    });
    expect(files.length).toBe(cases.length);
    expectCheckerAccepts(files);
  });
});
