// ONNX export of containers and of the layers residual and branch models use: nested Sequential,
// Residual (identity and projection shortcuts, nested), Concat over channels and features,
// Identity, Softmax, GlobalAvgPool2d, AdaptiveAvgPool2d(1), grouped and depthwise Conv2d, padding
// 'same', ceil-mode pooling and countIncludePad: false, and examples/resnet.ts's ResNet end to end.
// ONNX Runtime's outputs equal ours to 1e-5 at batch 3 and 1 (eval mode: fused where fusion
// applies, and the plain layer-by-layer pass too); onnx.checker accepts every file when Debian's
// python3-onnx is installed. Errors name the layer at fault by its container path.
import { describe, it, expect } from 'vitest';
import * as fs from 'fs';
import * as path from 'path';
import * as protobuf from 'protobufjs';
import {
  Sequential, Linear, ReLU, Conv2d, MaxPool2d, AvgPool2d, Flatten, BatchNorm2d, BatchNorm1d, Identity, Softmax,
  GlobalAvgPool2d, AdaptiveAvgPool2d, Residual, Concat, tensor, exportOnnx, encodeOnnx,
} from '../../lib/index';
import type { Tensor } from '../../lib/index';
import { ONNX_SCHEMA } from '../../lib/io/onnx/schema';
import { resnet } from '../../examples/resnet';
import { randn } from '../helpers';
import { loadOrt, hasOnnxChecker, tmpDir, randomizeBuffers, runOrt, expectOrtMatches, expectCheckerAccepts, Odd } from './onnx-helpers';

const ort = loadOrt('test/io/onnx-containers.test.ts');
const hasOnnx = hasOnnxChecker('test/io/onnx-containers.test.ts');
const dir = tmpDir('onnx-containers');

const conv = (i: number, o: number, k: number, extra: Record<string, unknown> = {}) => new Conv2d({ inChannels: i, outChannels: o, kernelSize: k, ...extra });

const cases: [string, () => Sequential][] = [
  ['nested Sequential, two deep', () => new Sequential([
    new Sequential([conv(2, 4, 3, { padding: 1 }), new BatchNorm2d({ numFeatures: 4 }), new Sequential([new ReLU(), new MaxPool2d({ kernelSize: 2 })])]),
    new Flatten(), new Linear({ inFeatures: 4 * 3 * 3, outFeatures: 5 }),
  ], { inputShape: [2, 6, 6], seed: 1 })],
  ['Residual with the identity shortcut', () => new Sequential([
    new Residual([conv(3, 3, 3, { padding: 'same' }), new BatchNorm2d({ numFeatures: 3 }), new ReLU(), conv(3, 3, 3, { padding: 'same', bias: false }), new BatchNorm2d({ numFeatures: 3 })]),
    new ReLU(),
  ], { inputShape: [3, 5, 6], seed: 2 })],
  ['Residual with a 1×1 stride-2 projection shortcut', () => new Sequential([
    new Residual([conv(2, 4, 3, { stride: 2, padding: 1 }), new BatchNorm2d({ numFeatures: 4 })], { shortcut: [conv(2, 4, 1, { stride: 2, bias: false }), new BatchNorm2d({ numFeatures: 4 })] }),
  ], { inputShape: [2, 7, 7], seed: 3 })],
  ['Residual inside a Residual, Identity shortcut layer', () => new Sequential([
    new Residual([new Residual(conv(2, 2, 1)), new ReLU()], { shortcut: new Identity() }),
  ], { inputShape: [2, 3, 4], seed: 4 })],
  ['Concat of conv, pool and identity branches (channels)', () => new Sequential([
    new Concat([conv(3, 2, 1), [conv(3, 4, 3, { padding: 'same' }), new ReLU()], new MaxPool2d({ kernelSize: 3, stride: 1, padding: 1 }), new Identity()]),
    conv(12, 2, 1),
  ], { inputShape: [3, 5, 5], seed: 5 })],
  ['Concat of Linear branches (features), Residual on [N, F]', () => new Sequential([
    new Concat([new Linear({ inFeatures: 6, outFeatures: 3 }), [new Linear({ inFeatures: 6, outFeatures: 4 }), new BatchNorm1d({ numFeatures: 4 })]]),
    new Residual(new Linear({ inFeatures: 7, outFeatures: 7 })),
  ], { inputShape: [6], seed: 6 })],
  ['Softmax on [N, C] and on [N, C, H, W]', () => new Sequential([new Softmax(), conv(4, 3, 1), new Softmax(), new Flatten(), new Softmax()], { inputShape: [4, 2, 3], seed: 7 })],
  ['GlobalAvgPool2d', () => new Sequential([conv(2, 3, 3), new GlobalAvgPool2d(), new Linear({ inFeatures: 3, outFeatures: 2 })], { inputShape: [2, 6, 5], seed: 8 })],
  ['AdaptiveAvgPool2d(1)', () => new Sequential([new AdaptiveAvgPool2d(1), new Flatten()], { inputShape: [3, 4, 7], seed: 9 })],
  ['grouped Conv2d (groups 2), padding same with a [3, 5] kernel', () => new Sequential([conv(4, 6, 3, { kernelSize: [3, 5], groups: 2, padding: 'same' })], { inputShape: [4, 5, 6], seed: 10 })],
  ['depthwise Conv2d with dilation 2, padding same, then pointwise', () => new Sequential([
    conv(4, 4, 3, { groups: 4, dilation: 2, padding: 'same', bias: false }), new BatchNorm2d({ numFeatures: 4 }), new ReLU(), conv(4, 8, 1),
  ], { inputShape: [4, 7, 6], seed: 11 })],
  ['MaxPool2d ceilMode (a last window PyTorch drops)', () => new Sequential([new MaxPool2d({ kernelSize: 2, stride: 2, padding: 1, ceilMode: true })], { inputShape: [2, 5, 6] })],
  ['MaxPool2d ceilMode k3 s2', () => new Sequential([new MaxPool2d({ kernelSize: 3, stride: 2, ceilMode: true })], { inputShape: [2, 8, 9] })],
  ['AvgPool2d ceilMode with padding counted', () => new Sequential([new AvgPool2d({ kernelSize: 3, stride: 2, padding: 1, ceilMode: true })], { inputShape: [2, 8, 7] })],
  ['AvgPool2d ceilMode without padding', () => new Sequential([new AvgPool2d({ kernelSize: [3, 2], stride: 2, ceilMode: true })], { inputShape: [2, 8, 7] })],
  ['AvgPool2d ceilMode, countIncludePad false', () => new Sequential([new AvgPool2d({ kernelSize: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false })], { inputShape: [2, 8, 7] })],
  ['MaxPool2d and AvgPool2d ceilMode, stride beyond the kernel', () => new Sequential([
    new Concat([new MaxPool2d({ kernelSize: 3, stride: 4, padding: 1, ceilMode: true }), new AvgPool2d({ kernelSize: 3, stride: 4, padding: 1, ceilMode: true })]),
  ], { inputShape: [2, 8, 9] })],
  ['AvgPool2d countIncludePad false', () => new Sequential([new AvgPool2d({ kernelSize: 2, stride: 1, padding: 1, countIncludePad: false })], { inputShape: [2, 4, 5] })],
  ['examples/resnet.ts (the small ResNet)', () => resnet(3)],
];

/** The plain layer-by-layer eval forward (no fusion). */
function plainForward(m: Sequential, x: Tensor): Tensor {
  return m.layers.reduce((v, l) => l.forward(v), x);
}

const files: string[] = [];

describe('exportOnnx of containers and residual-model layers, run by ONNX Runtime', () => {
  cases.forEach(([name, make], ci) => {
    it.skipIf(!ort)(`${name}: ONNX Runtime's outputs equal ours to 1e-5 (batch 3 and 1)`, async () => {
      const m = randomizeBuffers(make(), 20 + ci).eval();
      const file = path.join(dir, `case${ci}.onnx`);
      await expectOrtMatches(ort!, m, file, ci);
      files.push(file);
      const x = tensor(randn(2 * m.inputShape!.reduce((a, b) => a * b, 1), 90 + ci, -2, 2), [2, ...m.inputShape!]);
      const theirs = await runOrt(ort!, file, x);
      const plain = plainForward(m, x).data;
      for (let i = 0; i < plain.length; i++) expect(Math.abs(plain[i] - theirs.data[i])).toBeLessThanOrEqual(1e-5);
    });
  });

  it.skipIf(!ort)('opsets 18 to 21 run too (a branch model with ceil-mode pools and softmax)', async () => {
    const m = randomizeBuffers(new Sequential([
      new Concat([[conv(2, 3, 3, { padding: 'same', groups: 1 }), new BatchNorm2d({ numFeatures: 3 })], new Identity()]),
      new AvgPool2d({ kernelSize: 3, stride: 2, padding: 1, ceilMode: true }), new MaxPool2d({ kernelSize: 2, ceilMode: true }),
      new Residual(conv(5, 5, 1, { groups: 5 })), new GlobalAvgPool2d(), new Softmax(),
    ], { inputShape: [2, 8, 7] }), 40).eval();
    const x = tensor(randn(3 * 2 * 8 * 7, 41, -2, 2), [3, 2, 8, 7]);
    const ours = m.forward(x).data;
    for (const opset of [18, 19, 20, 21]) {
      const file = path.join(dir, `opset${opset}.onnx`);
      exportOnnx(m, file, { opset });
      const theirs = await runOrt(ort!, file, x);
      expect(theirs.dims).toEqual([3, 5]);
      for (let i = 0; i < ours.length; i++) expect(Math.abs(ours[i] - theirs.data[i]), `opset ${opset}`).toBeLessThanOrEqual(1e-5);
    }
  });

  it('initializers carry the state-dict keys; every value and node name is unique; fusion leaves the bytes alone', () => {
    const m = randomizeBuffers(resnet(1), 5).eval();
    const before = encodeOnnx(m);
    m.forward(tensor(randn(2 * 784, 3), [2, 1, 28, 28])); // fused eval forward
    expect(Buffer.from(encodeOnnx(m)).equals(Buffer.from(before))).toBe(true);
    const T = protobuf.Root.fromJSON(ONNX_SCHEMA as unknown as protobuf.INamespace).lookupType('onnx.ModelProto');
    const g = (T.toObject(T.decode(before)) as { graph: { node: { name: string; output: string[] }[]; initializer: { name: string }[] } }).graph;
    const inits = new Set(g.initializer.map((t) => t.name));
    const keys = Object.keys(m.stateDict()).filter((k) => !k.endsWith('num_batches_tracked'));
    expect(keys).toContain('4.block.0.weight');
    expect(keys).toContain('6.shortcut.1.running_var');
    for (const k of keys) expect(inits.has(k), k).toBe(true);
    expect(inits.size).toBe(keys.length); // no other constants in this model
    const outputs = g.node.flatMap((n) => n.output);
    expect(new Set(outputs).size).toBe(outputs.length);
    expect(new Set(g.node.map((n) => n.name)).size).toBe(g.node.length);
    expect(outputs.some((o) => o.startsWith('6.block.3/'))).toBe(true);
    expect(g.node.filter((n) => n.name.includes('/Add_node')).length).toBe(3);
  });

  it('errors name the layer at fault by its container path; nothing is written', () => {
    class MyReLU extends ReLU {}
    const m = new Sequential([
      new ReLU(),
      new Residual([new Identity(), new Odd({ name: 'odd' })], { shortcut: new Sequential([new MyReLU({ name: 'mine' })]) }),
      new Concat([new Identity(), [new ReLU(), new Odd({ name: 'odd2' })]]),
    ], { inputShape: [2] });
    const file = path.join(dir, 'never.onnx');
    expect(() => exportOnnx(m, file)).toThrow(new RegExp(
      "^Expected layers ONNX export knows \\(Linear, .*, Identity, Softmax, GlobalAvgPool2d, AdaptiveAvgPool2d, Sequential, Residual, Concat\\) for model but received " +
        "layers\\[1\\]\\.block\\[1\\] Odd 'odd', layers\\[1\\]\\.shortcut\\[0\\] MyReLU \\(className ReLU\\) 'mine', layers\\[2\\]\\[1\\]\\[1\\] Odd 'odd2'$",
    ));
    expect(() => exportOnnx(m, file)).toThrow(RangeError);
    expect(fs.existsSync(file)).toBe(false);
    const unbuilt = new Sequential([new Residual([conv(1, 1, 1)]), new GlobalAvgPool2d()]);
    expect(() => exportOnnx(unbuilt, file)).toThrow('Expected a built model (give inputShape, call build(inputShape) or train it first) for model but received a model that is not built');
    expect(fs.existsSync(file)).toBe(false);
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
