/**
 * ONNX export: a built Sequential as a standard ONNX model (opset 17 by default, up to 21), with a
 * dynamic batch dimension and evaluation-mode semantics (BatchNorm with running statistics, Dropout
 * as Identity). Each built-in layer maps to standard operators (layers.ts):
 *   Linear Gemm · Conv2d Conv (group, dilations; padding 'same' as its symmetric pads) ·
 *   BatchNorm1d/2d BatchNormalization · LayerNorm LayerNormalization · InstanceNorm2d
 *   InstanceNormalization (BatchNormalization with running statistics) · GroupNorm Reshape +
 *   InstanceNormalization + Reshape + Mul + Add (exact: PyTorch's per-channel affine, which opset 18's
 *   GroupNormalization does not have) · ReLU/LeakyReLU/ELU/Sigmoid/Tanh · Softmax (axis 1) · Maxout
 *   Gemm + Reshape + ReduceMax · MaxPool2d/AvgPool2d (pads, count_include_pad, ceil mode as end
 *   padding) · GlobalAvgPool2d GlobalAveragePool + Flatten · AdaptiveAvgPool2d(1) GlobalAveragePool
 *   · Flatten · Dropout and Identity Identity.
 * Containers become subgraphs inline: a nested Sequential its layers in turn, Residual an Add of
 * block and shortcut (or the input), Concat a Concat on axis 1 of its branches. Initializers carry
 * the state-dict keys (`3.block.0.weight`). The weights are the layers' own: eval-mode fusion
 * (lib/fuse.ts) changes how we run the model, not what is exported.
 * Encoded with protobufjs over the ONNX project's own schema (schema.ts).
 */
import * as protobuf from 'protobufjs';
import { Sequential } from '../../model';
import type { Layer } from '../../layers/layer';
import { Block, Residual, Concat, Container } from '../../layers/containers';
import { VERSION } from '../../version';
import { checkInt, checkOptions, describe, fail } from '../../validate';
import { atomicWrite, checkPath } from '../atomic';
import { GraphBuilder, FLOAT } from './graph';
import { LEAF_EXPORTERS } from './layers';
import { ONNX_SCHEMA } from './schema';
export interface OnnxOptions {
  /** ONNX operator set, 17 to 21. Default 17. */
  opset?: number;
}

const CONTAINERS = new Map<Function, string>([[Block, 'Sequential'], [Residual, 'Residual'], [Concat, 'Concat']]);

/** The layer classes exportOnnx knows (containers included; a subclass of one is not matched). */
export const ONNX_LAYERS = [...[...LEAF_EXPORTERS.keys()].map((c) => c.name), ...CONTAINERS.values()];

/** Message label of a child's state-dict key segment: `[1]` for an index, `.block` for a name. */
const label = (key: string) => (/^\d+$/.test(key) ? `[${key}]` : `.${key}`);

/** Every layer of the tree export cannot write, as `layers[3].block[1] Odd 'odd'`. */
function unknownLayers(l: Layer, path: string, out: string[]): string[] {
  if (CONTAINERS.has(l.constructor)) {
    for (const [key, c] of (l as Container).childEntries()) unknownLayers(c, path + label(key), out);
  } else if (!LEAF_EXPORTERS.has(l.constructor)) {
    const cls = l.constructor.name && l.constructor.name !== l.className ? `${l.constructor.name} (className ${l.className})` : l.className;
    out.push(`${path} ${cls} '${l.name}'`);
  }
  return out;
}

/** Writes one layer (a container: its subgraph) on input x under the scope of its state-dict key; returns the output. */
function exportLayer(b: GraphBuilder, l: Layer, key: string, x: string): string {
  return b.within(key, () => {
    if (l instanceof Block) return l.layers.reduce((v, c, i) => exportLayer(b, c, String(i), v), x);
    if (l instanceof Residual) {
      const y = exportLayer(b, l.block, 'block', x);
      return b.node('Add', [y, l.shortcut ? exportLayer(b, l.shortcut, 'shortcut', x) : x]);
    }
    if (l instanceof Concat) return b.node('Concat', l.branches.map((c, i) => exportLayer(b, c, String(i), x)), { axis: 1 });
    return LEAF_EXPORTERS.get(l.constructor)!(b, l, x, l.inputShape!);
  });
}

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
  const unknown = model.layers.flatMap((l, i) => unknownLayers(l, `layers[${i}]`, []));
  if (unknown.length) fail('range', `layers ONNX export knows (${ONNX_LAYERS.join(', ')})`, 'model', unknown.join(', '));
  const b = new GraphBuilder(opset);
  const last = model.layers.reduce((x, l, i) => exportLayer(b, l, String(i), x), 'input');
  b.node('Identity', [last], {}, 'output');
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
