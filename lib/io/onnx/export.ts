/**
 * ONNX export: a built Sequential as a standard ONNX model (opset 17 by default, up to 21), with a
 * dynamic batch dimension and evaluation-mode semantics (BatchNorm with running statistics, Dropout
 * as Identity). Each built-in layer maps to standard operators:
 *   Linear Gemm · Conv2d Conv · BatchNorm1d/2d BatchNormalization · LayerNorm LayerNormalization ·
 *   InstanceNorm2d InstanceNormalization (BatchNormalization with running statistics) ·
 *   GroupNorm Reshape + InstanceNormalization + Reshape + Mul + Add (exact: PyTorch's per-channel
 *   affine, which opset 18's GroupNormalization does not have) · ReLU/LeakyReLU/ELU/Sigmoid/Tanh ·
 *   Maxout Gemm + Reshape + ReduceMax · MaxPool2d/AvgPool2d (pads, count_include_pad, ceil_mode) ·
 *   Flatten · Dropout Identity.
 * Encoded with protobufjs over the ONNX project's own schema (schema.ts).
 */
import * as protobuf from 'protobufjs';
import { Sequential } from '../../model';
import type { Layer } from '../../layers/layer';
import { VERSION } from '../../version';
import { checkInt, checkOptions, describe, fail } from '../../validate';
import { atomicWrite, checkPath } from '../atomic';
import { GraphBuilder, FLOAT } from './graph';
import { ONNX_SCHEMA } from './schema';

export interface OnnxOptions {
  /** ONNX operator set, 17 to 21. Default 17. */
  opset?: number;
}

type Exporter = (b: GraphBuilder, layer: any, x: string, inShape: readonly number[]) => string;

const param = (l: Layer, name: string) => l.parameters().find((p) => p.name === name);
const buffer = (l: Layer, name: string) => l.buffers().find((p) => p.name === name)!;
const filled = (n: number, v: number) => new Float32Array(n).fill(v);

/** Scale and shift of a normalization layer (ones and zeros when it has none). */
function affine(b: GraphBuilder, l: Layer, shape: number[]): [string, string] {
  const n = shape.reduce((a, c) => a * c, 1);
  const w = param(l, 'weight');
  const bias = param(l, 'bias');
  return [b.float('scale', shape, w ? w.data : filled(n, 1)), b.float('shift', shape, bias ? bias.data : filled(n, 0))];
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
  const mean = b.float('running_mean', [c], buffer(l, 'running_mean').data);
  const v = b.float('running_var', [c], buffer(l, 'running_var').data);
  return b.node('BatchNormalization', [x, s, t, mean, v], { epsilon: { float: l.eps } });
}

const EXPORTERS: Record<string, Exporter> = {
  Linear: (b, l, x) => {
    const w = b.float('weight', [l.outFeatures, l.inFeatures], param(l, 'weight')!.data);
    const inputs = l.hasBias ? [x, w, b.float('bias', [l.outFeatures], param(l, 'bias')!.data)] : [x, w];
    return b.node('Gemm', inputs, { transB: 1 });
  },
  Conv2d: (b, l, x) => {
    const w = b.float('weight', [l.outChannels, l.inChannels / l.groups, ...l.kernelSize], param(l, 'weight')!.data);
    const inputs = l.hasBias ? [x, w, b.float('bias', [l.outChannels], param(l, 'bias')!.data)] : [x, w];
    const [pH, pW] = l.padding;
    return b.node('Conv', inputs, { kernel_shape: [...l.kernelSize], strides: [...l.stride], pads: [pH, pW, pH, pW], dilations: [...l.dilation], group: l.groups });
  },
  BatchNorm1d: batchNorm,
  BatchNorm2d: batchNorm,
  InstanceNorm2d: (b, l, x) => {
    if (l.trackRunningStats) return batchNorm(b, l, x, []);
    const [s, t] = affine(b, l, [l.numFeatures]);
    return b.node('InstanceNormalization', [x, s, t], { epsilon: { float: l.eps } });
  },
  LayerNorm: (b, l, x) => {
    const shape = [...l.normalizedShape];
    const [s, t] = affine(b, l, shape);
    return b.node('LayerNormalization', [x, s, t], { axis: -shape.length, epsilon: { float: l.eps } });
  },
  GroupNorm: (b, l, x, inShape) => {
    const g = l.numGroups;
    const grouped = b.node('Reshape', [x, b.ints('shape', [0, g, -1])]);
    const normed = b.node('InstanceNormalization', [grouped, b.float('ones', [g], filled(g, 1)), b.float('zeros', [g], filled(g, 0))], { epsilon: { float: l.eps } });
    const back = b.node('Reshape', [normed, b.node('Shape', [x])]);
    if (!l.affine) return back;
    const [s, t] = affine(b, l, [l.numChannels, ...inShape.slice(1).map(() => 1)]);
    return b.node('Add', [b.node('Mul', [back, s]), t]);
  },
  ReLU: (b, _l, x) => b.node('Relu', [x]),
  LeakyReLU: (b, l, x) => b.node('LeakyRelu', [x], { alpha: { float: l.alpha } }),
  ELU: (b, l, x) => b.node('Elu', [x], { alpha: { float: l.alpha } }),
  Sigmoid: (b, _l, x) => b.node('Sigmoid', [x]),
  Tanh: (b, _l, x) => b.node('Tanh', [x]),
  Maxout: (b, l, x) => {
    const rows = l.outFeatures * l.pieces;
    const z = b.node('Gemm', [x, b.float('weight', [rows, l.inFeatures], param(l, 'weight')!.data), b.float('bias', [rows], param(l, 'bias')!.data)], { transB: 1 });
    const pieces = b.node('Reshape', [z, b.ints('shape', [0, l.outFeatures, l.pieces])]);
    return b.reduce('ReduceMax', pieces, [2], 0);
  },
  MaxPool2d: (b, l, x) => {
    const [pH, pW] = l.padding;
    return b.node('MaxPool', [x], { kernel_shape: [...l.kernelSize], strides: [...l.stride], pads: [pH, pW, pH, pW], ceil_mode: l.ceilMode ? 1 : 0 });
  },
  AvgPool2d: (b, l, x) => {
    const [pH, pW] = l.padding;
    return b.node('AveragePool', [x], { kernel_shape: [...l.kernelSize], strides: [...l.stride], pads: [pH, pW, pH, pW], count_include_pad: l.countIncludePad ? 1 : 0, ceil_mode: l.ceilMode ? 1 : 0 });
  },
  Flatten: (b, _l, x) => b.node('Flatten', [x], { axis: 1 }),
  Dropout: (b, _l, x) => b.node('Identity', [x]),
};

/** The layer classes exportOnnx knows. */
export const ONNX_LAYERS = Object.keys(EXPORTERS);

let modelType: protobuf.Type | null = null;
function ModelProto(): protobuf.Type {
  modelType ??= protobuf.Root.fromJSON(ONNX_SCHEMA as unknown as protobuf.INamespace).lookupType('onnx.ModelProto');
  return modelType;
}

function valueInfo(name: string, shape: readonly number[]): Record<string, unknown> {
  return {
    name,
    type: { tensor_type: { elem_type: FLOAT, shape: { dim: [{ dim_param: 'batch' }, ...shape.map((d) => ({ dim_value: d }))] } } },
  };
}

/** IR version of an opset (the oldest that carries it). */
const irVersion = (opset: number) => (opset <= 18 ? 8 : opset <= 20 ? 9 : 10);

/** The ONNX bytes of a built model (see the header). */
export function encodeOnnx(model: Sequential, options: OnnxOptions = {}): Uint8Array {
  if (!(model instanceof Sequential)) fail('type', 'Sequential model', 'model', describe(model));
  checkOptions(options, ['opset'], 'exportOnnx');
  const opset = checkInt(options.opset ?? 17, 'opset', 17, 21);
  if (!model.built) fail('range', 'a built model (give inputShape, call build(inputShape) or train it first)', 'model', 'a model that is not built');
  const unknown = model.layers.map((l, i) => [l, i] as const).filter(([l]) => !(l.className in EXPORTERS));
  if (unknown.length) {
    fail('range', `layers ONNX export knows (${ONNX_LAYERS.join(', ')})`, 'model', unknown.map(([l, i]) => `layers[${i}] ${l.className} '${l.name}'`).join(', '));
  }
  const b = new GraphBuilder(opset);
  let x = 'input';
  model.layers.forEach((l, i) => {
    const out = EXPORTERS[l.className](b, l, x, l.inputShape!);
    x = i === model.layers.length - 1 ? b.node('Identity', [out], {}, 'output') : out;
  });
  const msg = {
    ir_version: irVersion(opset),
    producer_name: 'minibatch',
    producer_version: VERSION,
    opset_import: [{ domain: '', version: opset }],
    graph: {
      name: 'minibatch',
      node: b.nodes,
      initializer: b.initializers,
      input: [valueInfo('input', model.inputShape!)],
      output: [valueInfo('output', model.outputShape!)],
    },
  };
  const T = ModelProto();
  return T.encode(T.fromObject(msg)).finish();
}

/** Writes the model as an ONNX file (atomically). */
export function exportOnnx(model: Sequential, path: string, options: OnnxOptions = {}): void {
  if (!(model instanceof Sequential)) fail('type', 'Sequential model', 'model', describe(model));
  checkPath(path, 'path');
  atomicWrite(path, encodeOnnx(model, options));
}
