// Emits a WorkGraph as tfjs ModelArtifacts: `modelTopology` is the GraphDef in the JSON form tfjs-converter's
// model.json uses (camelCase fields, bytes as base64), every Const value is a weight (tfjs reads Const nodes from the
// weight map, never from their attrs), and `signature` maps aliases to tensor names. The result loads with
// `tf.loadGraphModel(tf.io.fromMemory(artifacts))` and can be written to disk as model.json + a weights file.
//
// tfjs has no 64-bit or 8/16-bit integer tensors: integer weights are stored as int32 (int64 values clamped to the
// int32 range, as tensorflowjs_converter does), float16/64 as float32.
import type { io } from '@tensorflow/tfjs-core';
import type { HostTensor } from '../savedmodel/host-tensor.js';
import type { NodeDef, TensorInfo } from '../savedmodel/types.js';
import { ModelError } from '../errors.js';
import type { LoweredFunction } from './control-flow.js';
import { constValue, graphDefRef, type WorkGraph } from './work-graph.js';

export type TfjsDtype = 'float32' | 'int32' | 'bool' | 'string';

/** The tfjs dtype a TF dtype runs as (undefined when tfjs cannot hold it). */
export function tfjsDtype(tfDtype: string): TfjsDtype | undefined {
  switch (tfDtype.replace(/_REF$/, '')) {
    case 'DT_FLOAT': case 'DT_DOUBLE': case 'DT_HALF': case 'DT_BFLOAT16':
      return 'float32';
    case 'DT_INT32': case 'DT_INT64': case 'DT_INT16': case 'DT_INT8': case 'DT_UINT8': case 'DT_UINT16': case 'DT_UINT32':
    case 'DT_UINT64': case 'DT_QINT8': case 'DT_QUINT8': case 'DT_QINT32':
      return 'int32';
    case 'DT_BOOL':
      return 'bool';
    case 'DT_STRING':
      return 'string';
  }
  return undefined;
}

/** A signature as the artifacts carry it: alias → TensorInfo with the (rewritten) tensor name. */
export interface ArtifactSignature {
  methodName?: string;
  inputs: Record<string, TensorInfo>;
  outputs: Record<string, TensorInfo>;
}

/**
 * Builds the ModelArtifacts of `g`. Node order follows the map's insertion order. `functions` (the cond/body/branch
 * functions of While/If nodes, see control-flow.ts) go to `modelTopology.library.function`, in the FunctionDef JSON
 * form tfjs-converter's operation mapper reads (signature.inputArg/outputArg, nodeDef, ret); their Const nodes are
 * weights like the main graph's, one weight per name (a function reading a frozen variable uses the variable's own
 * weight name, so the value is stored once).
 */
export function toArtifacts(g: WorkGraph, signature: ArtifactSignature | undefined, producer = 0, functions: LoweredFunction[] = []): io.ModelArtifacts {
  const specs: io.WeightsManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  const weights = new Set<string>();
  const emitNodes = (graph: WorkGraph, skip: (n: NodeDef) => boolean): unknown[] => {
    const nodes: unknown[] = [];
    for (const node of graph.nodes.values()) {
      if (skip(node)) continue;
      if (node.op === 'Const') {
        const value = constValue(graph, node.name!);
        if (!weights.has(node.name!)) {
          const { spec, bytes } = encodeWeight(node.name!, value);
          specs.push(spec);
          chunks.push(bytes);
          weights.add(node.name!);
        }
        nodes.push({ name: node.name, op: 'Const', attr: { dtype: { type: value.dtype } } });
        continue;
      }
      nodes.push(nodeJson(node));
    }
    return nodes;
  };
  const nodes = emitNodes(g, () => false);
  const library = functions.map((fn) => {
    const args = new Set(fn.inputArgs.map((a) => a.name));
    return {
      signature: { name: fn.name, inputArg: fn.inputArgs, outputArg: fn.outputArgs },
      nodeDef: emitNodes(fn.graph, (n) => args.has(n.name!)),
      ret: Object.fromEntries(Object.entries(fn.ret).map(([k, r]) => [k, graphDefRef(r)])),
    };
  });
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  const weightData = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    weightData.set(c, off);
    off += c.byteLength;
  }
  return {
    format: 'graph-model',
    generatedBy: 'tfsvc',
    convertedBy: 'tfsvc',
    modelTopology: { node: nodes, library: library.length > 0 ? { function: library } : {}, versions: { producer } },
    weightSpecs: specs,
    weightData: weightData.buffer,
    ...(signature ? { signature: jsonValue(signature) as {} } : {}),
  };
}

/** A NodeDef in model.json form: inputs in GraphDef syntax, attrs without TF's private `_` attributes, bytes base64. */
function nodeJson(node: NodeDef): unknown {
  const attr: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node.attr ?? {})) if (!k.startsWith('_')) attr[k] = jsonValue(v);
  return { name: node.name, op: node.op, input: (node.input ?? []).map(graphDefRef), attr };
}

/** Deep copy with Uint8Array/Buffer values as base64 strings (model.json's encoding of proto bytes). */
export function jsonValue(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  if (Array.isArray(v)) return v.map(jsonValue);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonValue(x)]));
  return v;
}

/** One weight's manifest entry and bytes in tfjs's layout (strings: 4-byte LE length + bytes, each). */
export function encodeWeight(name: string, t: HostTensor): { spec: io.WeightsManifestEntry; bytes: Uint8Array } {
  const dtype = tfjsDtype(t.dtype);
  if (!dtype) throw new ModelError(`constant ${name} has dtype ${t.dtype}, which TensorFlow.js cannot hold`);
  const spec: io.WeightsManifestEntry = { name, shape: [...t.shape], dtype };
  const asBytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  switch (dtype) {
    case 'float32':
      return { spec, bytes: asBytes(t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>, Number)) };
    case 'int32': {
      if (t.data instanceof Int32Array) return { spec, bytes: asBytes(t.data) };
      const src = t.data as ArrayLike<number | bigint>;
      const out = new Int32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = clampInt32(src[i]!);
      return { spec, bytes: asBytes(out) };
    }
    case 'bool':
      return { spec, bytes: Uint8Array.from(t.data as ArrayLike<number>, (x) => (x ? 1 : 0)) };
    case 'string': {
      const items = t.data as Uint8Array[];
      const size = items.reduce((n, s) => n + 4 + s.byteLength, 0);
      const bytes = new Uint8Array(size);
      const view = new DataView(bytes.buffer);
      let off = 0;
      for (const s of items) {
        view.setUint32(off, s.byteLength, true);
        bytes.set(s, off + 4);
        off += 4 + s.byteLength;
      }
      return { spec, bytes };
    }
  }
}

/** int64/uint values → int32, clamped (int32 is what tfjs computes in). */
export function clampInt32(v: number | bigint): number {
  const n = typeof v === 'bigint' ? (v > 2147483647n ? 2147483647 : v < -2147483648n ? -2147483648 : Number(v)) : v;
  return Math.max(-2147483648, Math.min(2147483647, n));
}
