// Builds a TensorFlow GraphDef node by node with unique names and fully spelled attributes. The exporters use it to
// write graphs that TensorFlow's own loader accepts: every attribute an op needs is set explicitly (we never rely on
// the reader restoring stripped defaults), and only attributes that existed in TF 2.4's op registry are written, so
// TF Serving releases from 2.4 on load the result.
import type { AttrValue, GraphDef, NodeDef, TensorProto } from '../savedmodel/types.js';
import { encodeElements } from '../savedmodel/dtype.js';

export type Dims = number[];

/** A tensor in the graph under construction, with its static shape (-1 for unknown dims) and TF dtype. */
export interface GraphTensor {
  /** `node` or `node:k`: what other nodes list as input. */
  ref: string;
  dtype: string;
  shape: Dims;
}

export const attr = {
  type: (t: string): AttrValue => ({ type: t }),
  ints: (v: number[]): AttrValue => ({ list: v.length ? { i: v } : {} }),
  int: (v: number): AttrValue => ({ i: v }),
  float: (v: number): AttrValue => ({ f: v }),
  str: (s: string): AttrValue => ({ s: Buffer.from(s, 'utf8') }),
  bool: (b: boolean): AttrValue => ({ b }),
  shape: (dims: Dims | null): AttrValue => ({ shape: shapeProto(dims) }),
  tensor: (t: TensorProto): AttrValue => ({ tensor: t }),
};

/** TensorShapeProto for `dims` (-1 = unknown), or an unknown-rank shape for null. */
export function shapeProto(dims: Dims | null): { dim?: { size: number }[]; unknownRank?: boolean } {
  if (dims === null) return { unknownRank: true };
  return dims.length ? { dim: dims.map((size) => ({ size })) } : {};
}

/** A TensorProto holding `data` (row-major) as tensor_content bytes. */
export function tensorProto(dtype: string, shape: Dims, data: Float32Array | Int32Array | Uint8Array | Float64Array): TensorProto {
  return { dtype, tensorShape: shapeProto(shape), tensorContent: Buffer.from(encodeElements(dtype, data)) };
}

export class GraphBuilder {
  readonly nodes: NodeDef[] = [];
  private readonly used = new Set<string>();

  /** `base` if no node has that name yet, else `base_1`, `base_2`, ... TF node names must be unique. */
  uniqueName(base: string): string {
    const clean = sanitizeName(base);
    let name = clean;
    for (let i = 1; this.used.has(name); i++) name = `${clean}_${i}`;
    this.used.add(name);
    return name;
  }

  placeholder(name: string, dtype: string, shape: Dims | null): GraphTensor {
    const n = this.add({ name: this.uniqueName(name), op: 'Placeholder', attr: { dtype: attr.type(dtype), shape: attr.shape(shape) } });
    return { ref: n, dtype, shape: shape ?? [] };
  }

  constant(name: string, dtype: string, shape: Dims, data: Float32Array | Int32Array | Uint8Array | Float64Array): GraphTensor {
    const n = this.add({
      name: this.uniqueName(name),
      op: 'Const',
      attr: { dtype: attr.type(dtype), value: attr.tensor(tensorProto(dtype, shape, data)) },
    });
    return { ref: n, dtype, shape };
  }

  /** Adds an op node with one output whose shape the caller computed. */
  op(op: string, name: string, inputs: GraphTensor[], attrs: Record<string, AttrValue>, out: { dtype: string; shape: Dims }): GraphTensor {
    const n = this.add({ name: this.uniqueName(name), op, input: inputs.map((t) => t.ref), attr: attrs });
    return { dtype: out.dtype, shape: out.shape, ref: n };
  }

  /** Appends a finished NodeDef (its name must already be reserved through uniqueName). */
  add(node: NodeDef): string {
    this.used.add(node.name!);
    this.nodes.push(node);
    return node.name!;
  }

  graphDef(): GraphDef {
    return { node: this.nodes, versions: { ...GRAPH_VERSIONS } };
  }
}

/**
 * GraphDef versions we declare. `producer` 561 is TF 2.4.1's GRAPH_DEF_VERSION: the graphs we write use only ops and
 * attributes that release knows, and every TF from 2.4 on accepts this producer (min_consumer 12 is TF's own value).
 */
export const GRAPH_VERSIONS = { producer: 561, minConsumer: 12 } as const;

/** TF node names match [A-Za-z0-9.][A-Za-z0-9_.\-/>]*; anything else becomes '_'. */
export function sanitizeName(s: string): string {
  let out = s.replace(/[^A-Za-z0-9_.\-/>]/g, '_');
  if (!/^[A-Za-z0-9.]/.test(out)) out = `n${out}`;
  return out;
}

/** TF's tensor name for output `k` of node `ref` (`node:0` for a bare node name). */
export function tensorName(ref: string): string {
  return ref.includes(':') ? ref : `${ref}:0`;
}
