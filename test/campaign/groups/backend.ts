import { type Case } from '../case';
import { mb, F } from '../fixtures';

// Both raw backends: short, detached and wrong-kind buffers, bad sizes and params objects.
const conv = { n: 1, cIn: 1, h: 4, w: 4, cOut: 1, kH: 3, kW: 3, strideH: 1, strideW: 1, padH: 0, padW: 0, dilationH: 1, dilationW: 1, outH: 2, outW: 2 };
const pool = { n: 1, c: 1, h: 4, w: 4, kH: 2, kW: 2, strideH: 2, strideW: 2, padH: 0, padW: 0, outH: 2, outW: 2 };
const grouped = { ...conv, cIn: 2, cOut: 4, groups: 2 };
const D = (n: number) => new Float64Array(n);
type Raw = Record<string, (...a: unknown[]) => unknown>;
const calls: [string, (b: Raw) => unknown, 'TypeError' | 'RangeError', string][] = [
  ['gemm with a short c', (b) => b.gemm(false, false, 2, 2, 2, 1, F(4), F(4), 0, F(3)), 'RangeError', 'for c'],
  ['gemm with a Float64Array a', (b) => b.gemm(false, false, 2, 2, 2, 1, new Float64Array(4), F(4), 0, F(4)), 'TypeError', 'for a'],
  ['gemm with m 2.5', (b) => b.gemm(false, false, 2.5, 2, 2, 1, F(4), F(4), 0, F(4)), 'RangeError', 'for m'],
  ['gemm with alpha NaN', (b) => b.gemm(false, false, 2, 2, 2, NaN, F(4), F(4), 0, F(4)), 'RangeError', 'for alpha'],
  ["activation 'gelu'", (b) => b.activation('gelu', F(4), F(4), 4, 0), 'TypeError', 'for kind'],
  ['activation with a short y', (b) => b.activation('relu', F(2), F(4), 4, 0), 'RangeError', 'for y'],
  ['softmaxCrossEntropy with a label out of range', (b) => b.softmaxCrossEntropy(F(6), F(6), new Int32Array([0, 3]), 2, 3), 'RangeError', 'for labels[1]'],
  ['softmaxCrossEntropy with Float32Array labels', (b) => b.softmaxCrossEntropy(F(6), F(6), F(2), 2, 3), 'TypeError', 'for labels'],
  ['conv2dForward with a wrong outH', (b) => b.conv2dForward(F(4), F(16), F(9), null, F(36), { ...conv, outH: 3 }), 'RangeError', 'for outH'],
  ['conv2dForward with a short workspace', (b) => b.conv2dForward(F(4), F(16), F(9), null, F(3), conv), 'RangeError', 'for workspace'],
  ['conv2dForward with p null', (b) => b.conv2dForward(F(4), F(16), F(9), null, F(36), null), 'TypeError', 'for p'],
  ['maxPool2dForward with a Float32Array argmax', (b) => b.maxPool2dForward(F(4), F(4), F(16), pool), 'TypeError', 'for argmax'],
  ['maxPool2dBackward with an argmax out of range', (b) => b.maxPool2dBackward(F(16), new Int32Array([0, 1, 2, 99]), F(4), pool), 'RangeError', 'for argmax'],
  ['avgPool2dForward with padH 2 for a 2x2 window', (b) => b.avgPool2dForward(F(4), F(16), { ...pool, padH: 2 }), 'RangeError', 'for padH'],
  ['batchNormForward with one value per channel', (b) => b.batchNormForward(F(2), F(2), F(2), F(2), F(2), null, null, 1, 2, 1, 1e-5), 'RangeError', 'for n·inner'],
  ['batchNormInference with a short runningVar', (b) => b.batchNormInference(F(16), F(16), F(16), F(2), null, null, 1, 16, 1, 1e-5), 'RangeError', 'for runningVar'],
  ['batchNormInference with eps 0', (b) => b.batchNormInference(F(4), F(4), F(2), F(2), null, null, 2, 2, 1, 0), 'RangeError', 'for eps'],
  ['groupNormForward with groups 3 of 4 channels', (b) => b.groupNormForward(F(8), F(6), F(6), F(8), null, null, 2, 4, 1, 3, 1e-5), 'RangeError', 'for groups'],
  ['sgdStep with 9 arguments', (b) => b.sgdStep(F(4), F(4), F(4), 4, 0.1, 0, 0, 0, false), 'TypeError', 'for sgdStep'],
  ['sgdStep with a short grad', (b) => b.sgdStep(F(4), F(3), F(4), 4, 0.1, 0, 0, 0, false, true), 'RangeError', 'for grad'],
  ['adamStep with beta1 1', (b) => b.adamStep(F(4), F(4), F(4), F(4), 4, 0.1, 1, 0.999, 1e-8, 0, false, 1), 'RangeError', 'for beta1'],
  ['adamStep with step 0', (b) => b.adamStep(F(4), F(4), F(4), F(4), 4, 0.1, 0.9, 0.999, 1e-8, 0, false, 0), 'RangeError', 'for step'],
  ['rmspropStep with alpha 2', (b) => b.rmspropStep(F(4), F(4), F(4), F(4), 4, 0.1, 2, 1e-8, 0, 0), 'RangeError', 'for alpha'],
  ['biasAdd with a short bias', (b) => b.biasAdd(F(8), F(1), 2, 4, 1), 'RangeError', 'for bias'],
  ['maxoutForward with a short z', (b) => b.maxoutForward(F(4), new Int32Array(4), F(4), 2, 2, 2), 'RangeError', 'for z'],
  ['groupedConv2dForward with groups 3 of 2 input channels', (b) => b.groupedConv2dForward(F(16), F(32), F(36), null, { ...grouped, groups: 3 }), 'RangeError', 'for groups'],
  ['groupedConv2dForward with a short w', (b) => b.groupedConv2dForward(F(16), F(32), F(35), null, grouped), 'RangeError', 'for w'],
  ['groupedConv2dForward with a wrong outW', (b) => b.groupedConv2dForward(F(16), F(32), F(36), null, { ...grouped, outW: 4 }), 'RangeError', 'for outW'],
  ['groupedConv2dForward without groups', (b) => b.groupedConv2dForward(F(16), F(32), F(36), null, conv), 'TypeError', 'for groups'],
  ['groupedConv2dBackward with a short dy', (b) => b.groupedConv2dBackward(null, F(36), null, F(32), F(36), F(15), grouped), 'RangeError', 'for dy'],
  ['groupedConv2dBackward with an Int32Array dw', (b) => b.groupedConv2dBackward(null, new Int32Array(36), null, F(32), F(36), F(16), grouped), 'TypeError', 'for dw'],
  ['groupedConv2dBackward with sizes past 2^32 elements', (b) => b.groupedConv2dBackward(null, F(36), null, F(32), F(36), F(16), { ...grouped, n: 2 ** 30, cIn: 64, cOut: 64, groups: 64 }), 'RangeError', 'for x'],
  ['tensorStats with 9 arguments', (b) => b.tensorStats(D(8), null, null, F(4), 1, 4, 1, 0, 1), 'TypeError', 'for tensorStats'],
  ['tensorStats with a short out', (b) => b.tensorStats(D(7), null, null, F(4), 1, 4, 1, 0, 1, 0), 'RangeError', 'for out'],
  ['tensorStats with bins but no hist', (b) => b.tensorStats(D(8), null, null, F(4), 1, 4, 1, 0, 1, 4), 'TypeError', 'for hist'],
  ['tensorStats with hi not above lo', (b) => b.tensorStats(D(8), D(4), null, F(4), 1, 4, 1, 1, 1, 4), 'RangeError', 'for hi'],
  ['tensorStats with a short unitNonzero', (b) => b.tensorStats(D(8), null, new Int32Array(3), F(4), 1, 4, 1, 0, 1, 0), 'RangeError', 'for unitNonzero'],
  ['tensorStats with a Float32Array out', (b) => b.tensorStats(F(8), null, null, F(4), 1, 4, 1, 0, 1, 0), 'TypeError', 'for out'],
  ['paramStats with a short prev', (b) => b.paramStats(D(3), F(4), F(3), null, 4), 'RangeError', 'for prev'],
  ['paramStats with n -1', (b) => b.paramStats(D(3), F(4), null, null, -1), 'RangeError', 'for n'],
];

const raw = (name: 'js' | 'native'): Raw => (name === 'js' ? mb.testing.jsBackend() : mb.testing.nativeBackend()) as unknown as Raw;
const cases: Case[] = (['js', 'native'] as const).flatMap((backend) =>
  calls.map(([name, call, error, names]): Case => ({ name: `testing.${backend}Backend().${name}`, run: () => call(raw(backend)), error, names })),
);
export default cases;
