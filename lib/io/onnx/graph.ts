/**
 * A small builder of ONNX graphs: unique value names, float32 and int64 initializers, nodes with
 * attributes, and the reduce operators whose `axes` moved from an attribute to an input in opset 18.
 * The messages are plain objects in the shape of onnx.proto; export.ts turns them into bytes.
 *
 * Names follow the model's tree: while a layer is exported the scope is its state-dict prefix
 * (`3.block.0`), so its weights are the initializers `3.block.0.weight` (the keys of
 * model.stateDict() and of PyTorch) and its values and nodes `3.block.0/conv_12`. A running
 * counter keeps every generated name unique, however deep the nesting.
 */

/** AttributeProto.AttributeType values. */
const ATTR = { FLOAT: 1, INT: 2, FLOATS: 6, INTS: 7 } as const;
/** TensorProto.DataType values. */
export const FLOAT = 1;
export const INT64 = 7;

export type AttrValue = number | number[] | { float: number } | { floats: number[] };

export interface NodeMsg {
  op_type: string;
  name: string;
  input: string[];
  output: string[];
  attribute: Record<string, unknown>[];
}

function attribute(name: string, v: AttrValue): Record<string, unknown> {
  if (typeof v === 'number') return { name, type: ATTR.INT, i: v };
  if (Array.isArray(v)) return { name, type: ATTR.INTS, ints: v };
  if ('float' in v) return { name, type: ATTR.FLOAT, f: v.float };
  return { name, type: ATTR.FLOATS, floats: v.floats };
}

function bytesOf(a: Float32Array | BigInt64Array): Uint8Array {
  const out = new Uint8Array(a.byteLength);
  const dv = new DataView(out.buffer);
  if (a instanceof Float32Array) for (let i = 0; i < a.length; i++) dv.setFloat32(4 * i, a[i], true);
  else for (let i = 0; i < a.length; i++) dv.setBigInt64(8 * i, a[i], true);
  return out;
}

export class GraphBuilder {
  readonly nodes: NodeMsg[] = [];
  readonly initializers: Record<string, unknown>[] = [];
  private count = 0;
  private readonly names = new Set<string>();
  /** The state-dict prefix of the layer being exported ('' at the top). */
  scope = '';

  constructor(readonly opset: number) {}

  /** A fresh value name (under the scope). */
  fresh(prefix: string): string {
    return `${this.scope ? `${this.scope}/` : ''}${prefix}_${this.count++}`;
  }

  /** Runs fn with the scope extended by one state-dict key segment, then restores it. */
  within<T>(segment: string, fn: () => T): T {
    const outer = this.scope;
    this.scope = outer ? `${outer}.${segment}` : segment;
    try {
      return fn();
    } finally {
      this.scope = outer;
    }
  }

  /** A float32 initializer named by the scope's state-dict key (`3.block.0.weight`); returns its name. */
  named(key: string, dims: readonly number[], data: Float32Array): string {
    const name = this.scope ? `${this.scope}.${key}` : key;
    if (this.names.has(name)) throw new Error(`GraphBuilder: initializer ${name} added twice`);
    this.names.add(name);
    this.initializers.push({ name, dims: [...dims], data_type: FLOAT, raw_data: bytesOf(data) });
    return name;
  }

  /** A float32 initializer of the given dims; returns its name. */
  float(prefix: string, dims: readonly number[], data: Float32Array): string {
    const name = this.fresh(prefix);
    this.initializers.push({ name, dims: [...dims], data_type: FLOAT, raw_data: bytesOf(data) });
    return name;
  }

  /** A 1-D int64 initializer (shapes, axes). */
  ints(prefix: string, values: readonly number[]): string {
    const name = this.fresh(prefix);
    this.initializers.push({ name, dims: [values.length], data_type: INT64, raw_data: bytesOf(BigInt64Array.from(values, (v) => BigInt(v))) });
    return name;
  }

  /** Adds a node; returns its (first) output's name. */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, output?: string): string {
    const out = output ?? this.fresh(op.toLowerCase());
    this.nodes.push({
      op_type: op,
      name: this.fresh(`${op}_node`),
      input: inputs,
      output: [out],
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return out;
  }

  /** ReduceMean/ReduceMax over `axes`: an attribute up to opset 17, an input from opset 18. */
  reduce(op: 'ReduceMean' | 'ReduceMax', x: string, axes: number[], keepdims: 0 | 1): string {
    if (this.opset >= 18) return this.node(op, [x, this.ints('axes', axes)], { keepdims });
    return this.node(op, [x], { axes, keepdims });
  }
}
