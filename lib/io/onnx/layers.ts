/**
 * ONNX operators for each built-in leaf layer, in evaluation mode (containers are export.ts's).
 * Every exporter takes the value name of the layer's input and returns its output's; weights become
 * initializers named by their state-dict keys (GraphBuilder.named).
 *
 * Pooling in ceil mode is written as floor mode with extra end padding, not as ONNX's ceil_mode:
 * PyTorch drops a last window that would start in the right padding, ONNX's shape inference does
 * not (onnx.checker then rejects the declared output shape). The extra pads are ignored by MaxPool
 * and left out of AveragePool's divisor; for an average that counts its padding (PyTorch's divisor
 * is the window clipped to the padded input), an explicit zero Pad comes first and AveragePool
 * counts only what is inside it.
 */
import type { Layer } from '../../layers/layer';
import { Linear } from '../../layers/linear';
import { ReLU, LeakyReLU, ELU, Sigmoid, Tanh, Maxout } from '../../layers/activation';
import { Conv2d } from '../../layers/conv';
import { MaxPool2d, AvgPool2d } from '../../layers/pool';
import { Flatten, Dropout } from '../../layers/reshape';
import { BatchNorm1d, BatchNorm2d, LayerNorm, InstanceNorm2d, GroupNorm } from '../../layers/norm';
import { Identity, Softmax, GlobalAvgPool2d, AdaptiveAvgPool2d } from '../../layers/blocks';
import type { GraphBuilder } from './graph';

export type Exporter = (b: GraphBuilder, layer: any, x: string, inShape: readonly number[]) => string;

const param = (l: Layer, name: string) => l.parameters().find((p) => p.name === name);
const buffer = (l: Layer, name: string) => l.buffers().find((p) => p.name === name)!;
const filled = (n: number, v: number) => new Float32Array(n).fill(v);

/** A parameter as the initializer of its state-dict key. */
function weight(b: GraphBuilder, l: Layer, name: string, dims: readonly number[]): string {
  return b.named(name, dims, param(l, name)!.data);
}

/** Scale and shift of a normalization layer (ones and zeros when it has none). */
function affine(b: GraphBuilder, l: Layer, shape: number[]): [string, string] {
  const n = shape.reduce((a, c) => a * c, 1);
  const s = param(l, 'weight') ? weight(b, l, 'weight', shape) : b.float('scale', shape, filled(n, 1));
  const t = param(l, 'bias') ? weight(b, l, 'bias', shape) : b.float('shift', shape, filled(n, 0));
  return [s, t];
}

/** Normalization with batch statistics over every axis but the channel's (BatchNorm without running statistics). */
function batchStatsNorm(b: GraphBuilder, l: any, x: string, inShape: readonly number[]): string {
  const axes = [0, ...inShape.slice(1).map((_, i) => i + 2)];
  const mean = b.reduce('ReduceMean', x, axes, 1);
  const centered = b.node('Sub', [x, mean]);
  const variance = b.reduce('ReduceMean', b.node('Mul', [centered, centered]), axes, 1);
  const std = b.node('Sqrt', [b.node('Add', [variance, b.float('eps', [], new Float32Array([l.eps]))])]);
  const normed = b.node('Div', [centered, std]);
  const cshape = [l.numFeatures, ...inShape.slice(1).map(() => 1)];
  const [s, t] = affine(b, l, cshape);
  return b.node('Add', [b.node('Mul', [normed, s]), t]);
}

function batchNorm(b: GraphBuilder, l: any, x: string, inShape: readonly number[]): string {
  if (!l.trackRunningStats) return batchStatsNorm(b, l, x, inShape);
  const c = l.numFeatures;
  const [s, t] = affine(b, l, [c]);
  const mean = b.named('running_mean', [c], buffer(l, 'running_mean').data);
  const v = b.named('running_var', [c], buffer(l, 'running_var').data);
  return b.node('BatchNormalization', [x, s, t, mean, v], { epsilon: { float: l.eps } });
}

/** Extra end padding per axis that makes floor mode give the layer's (ceil-mode) output size. */
function ceilExtra(l: MaxPool2d | AvgPool2d): [number, number] {
  return [0, 1].map((i) => {
    const size = l.inputShape![i + 1];
    const [k, s, p, o] = [l.kernelSize[i], l.stride[i], l.padding[i], l.outputShape![i + 1]];
    return Math.max(0, (o - 1) * s + k - (size + 2 * p));
  }) as [number, number];
}

function maxPool(b: GraphBuilder, l: MaxPool2d, x: string): string {
  const [pH, pW] = l.padding;
  const [eH, eW] = ceilExtra(l);
  return b.node('MaxPool', [x], { kernel_shape: [...l.kernelSize], strides: [...l.stride], pads: [pH, pW, pH + eH, pW + eW] });
}

function avgPool(b: GraphBuilder, l: AvgPool2d, x: string): string {
  const [pH, pW] = l.padding;
  const [eH, eW] = ceilExtra(l);
  const attrs = { kernel_shape: [...l.kernelSize], strides: [...l.stride] };
  if (!l.countIncludePad) return b.node('AveragePool', [x], { ...attrs, pads: [pH, pW, pH + eH, pW + eW], count_include_pad: 0 });
  if (eH === 0 && eW === 0) return b.node('AveragePool', [x], { ...attrs, pads: [pH, pW, pH, pW], count_include_pad: 1 });
  const padded = pH || pW ? b.node('Pad', [x, b.ints('pads', [0, 0, pH, pW, 0, 0, pH, pW])]) : x;
  return b.node('AveragePool', [padded], { ...attrs, pads: [0, 0, eH, eW], count_include_pad: 0 });
}

/** The exporter of each stock leaf class (a subclass may change forward, so it is not matched). */
export const LEAF_EXPORTERS = new Map<Function, Exporter>([
  [Linear, (b, l, x) => {
    const w = weight(b, l, 'weight', [l.outFeatures, l.inFeatures]);
    return b.node('Gemm', l.hasBias ? [x, w, weight(b, l, 'bias', [l.outFeatures])] : [x, w], { transB: 1 });
  }],
  [Conv2d, (b, l: Conv2d, x) => {
    const w = weight(b, l, 'weight', [l.outChannels, l.inChannels / l.groups, ...l.kernelSize]);
    const inputs = l.hasBias ? [x, w, weight(b, l, 'bias', [l.outChannels])] : [x, w];
    const [pH, pW] = l.padding; // padding: 'same' is symmetric, already resolved
    return b.node('Conv', inputs, { kernel_shape: [...l.kernelSize], strides: [...l.stride], pads: [pH, pW, pH, pW], dilations: [...l.dilation], group: l.groups });
  }],
  [BatchNorm1d, batchNorm],
  [BatchNorm2d, batchNorm],
  [InstanceNorm2d, (b, l, x) => {
    if (l.trackRunningStats) return batchNorm(b, l, x, []);
    const [s, t] = affine(b, l, [l.numFeatures]);
    return b.node('InstanceNormalization', [x, s, t], { epsilon: { float: l.eps } });
  }],
  [LayerNorm, (b, l, x) => {
    const shape = [...l.normalizedShape];
    const [s, t] = affine(b, l, shape);
    return b.node('LayerNormalization', [x, s, t], { axis: -shape.length, epsilon: { float: l.eps } });
  }],
  [GroupNorm, (b, l, x, inShape) => {
    const g = l.numGroups;
    const grouped = b.node('Reshape', [x, b.ints('shape', [0, g, -1])]);
    const normed = b.node('InstanceNormalization', [grouped, b.float('ones', [g], filled(g, 1)), b.float('zeros', [g], filled(g, 0))], { epsilon: { float: l.eps } });
    const back = b.node('Reshape', [normed, b.node('Shape', [x])]);
    if (!l.affine) return back;
    const [s, t] = affine(b, l, [l.numChannels, ...inShape.slice(1).map(() => 1)]);
    return b.node('Add', [b.node('Mul', [back, s]), t]);
  }],
  [ReLU, (b, _l, x) => b.node('Relu', [x])],
  [LeakyReLU, (b, l, x) => b.node('LeakyRelu', [x], { alpha: { float: l.alpha } })],
  [ELU, (b, l, x) => b.node('Elu', [x], { alpha: { float: l.alpha } })],
  [Sigmoid, (b, _l, x) => b.node('Sigmoid', [x])],
  [Tanh, (b, _l, x) => b.node('Tanh', [x])],
  [Maxout, (b, l, x) => {
    const rows = l.outFeatures * l.pieces;
    const z = b.node('Gemm', [x, weight(b, l, 'weight', [rows, l.inFeatures]), weight(b, l, 'bias', [rows])], { transB: 1 });
    const pieces = b.node('Reshape', [z, b.ints('shape', [0, l.outFeatures, l.pieces])]);
    return b.reduce('ReduceMax', pieces, [2], 0);
  }],
  [MaxPool2d, (b, l, x) => maxPool(b, l, x)],
  [AvgPool2d, (b, l, x) => avgPool(b, l, x)],
  [Flatten, (b, _l, x) => b.node('Flatten', [x], { axis: 1 })],
  [Dropout, (b, _l, x) => b.node('Identity', [x])],
  [Identity, (b, _l, x) => b.node('Identity', [x])],
  [Softmax, (b, _l, x) => b.node('Softmax', [x], { axis: 1 })],
  [GlobalAvgPool2d, (b, _l, x) => b.node('Flatten', [b.node('GlobalAveragePool', [x])], { axis: 1 })],
  [AdaptiveAvgPool2d, (b, _l, x) => b.node('GlobalAveragePool', [x])],
]);
