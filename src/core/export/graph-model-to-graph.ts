// Turns a TensorFlow.js graph model (model.json whose modelTopology is a GraphDef in protobuf-JSON form, weights in
// shards) back into a frozen TensorFlow GraphDef: each weight becomes its Const node's `value`, and the fused ops that
// tfjs-converter (or tfsvc's optimiser) introduce — `_FusedMatMul`, `_FusedConv2D`, `FusedDepthwiseConv2dNative` —
// are split back into the standard ops TF Serving's op registry guarantees (MatMul/Conv2D + BiasAdd + activation).
import { ModelError } from '../errors.js';
import { PLAIN, protoType } from '../proto/schema.js';
import type { AttrValue, GraphDef, NodeDef, SignatureDef, TensorInfo } from '../savedmodel/types.js';
import { attr, tensorName, tensorProto } from './graph-builder.js';
import type { TfjsModel } from './tfjs-model-file.js';
import type { FrozenGraph } from './types.js';

/** Plain-object form (schema.ts PLAIN) of a protobuf-JSON message: int64 strings → numbers, base64 → Buffer. */
function normalize<T>(typeName: string, json: unknown): T {
  const type = protoType(typeName);
  return type.toObject(type.fromObject(json as Record<string, unknown>), PLAIN) as T;
}

export function graphModelToGraph(model: TfjsModel): FrozenGraph {
  const graphDef = normalize<GraphDef>('tensorflow.GraphDef', model.json.modelTopology);
  const nodes = graphDef.node ?? [];
  if (model.json.modelInitializer && (model.json.modelInitializer.node ?? []).length) {
    throw new ModelError('tfjs graph models with a modelInitializer (hash tables) cannot be exported as a SavedModel yet');
  }
  // Function bodies (While/If branches) in model.json use GraphDef-style input names (`node:0`) and keep their weights
  // outside the body; a TF FunctionDef needs `node:output_arg:index` names and inline constants. Refuse rather than
  // write a SavedModel that TensorFlow would reject at load time.
  const functions = graphDef.library?.function ?? [];
  if (functions.length) {
    throw new ModelError(`tfjs graph models with functions (control flow: ${functions.slice(0, 3).map((f) => f.signature?.name).join(', ')}) cannot be exported as a SavedModel yet`);
  }
  const byName = new Map(nodes.map((n) => [n.name!, n]));
  for (const w of model.weights.values()) {
    const node = byName.get(w.name);
    if (!node) throw new ModelError(`weight ${w.name} in the weights manifest has no node in modelTopology`);
    if (node.op !== 'Const') throw new ModelError(`weight ${w.name} belongs to a ${node.op} node; only Const nodes hold weights`);
    // The node's declared dtype wins (tfjs stores int64 constants as int32 weights); values are widened to it.
    const declared = node.attr?.dtype?.type;
    const dtype = declared ?? (w.dtype === 'float32' ? 'DT_FLOAT' : w.dtype === 'int32' ? 'DT_INT32' : 'DT_BOOL');
    node.attr = { ...(node.attr ?? {}), dtype: attr.type(dtype), value: attr.tensor(tensorProto(dtype, w.shape, w.data)) };
  }
  const missing = nodes.filter((n) => n.op === 'Const' && !n.attr?.value?.tensor).map((n) => n.name);
  if (missing.length) throw new ModelError(`Const node${missing.length > 1 ? 's' : ''} ${missing.slice(0, 5).join(', ')} ha${missing.length > 1 ? 've' : 's'} no value in the weights manifest`);

  graphDef.node = nodes.flatMap(unfuse);
  graphDef.versions = graphDef.versions ?? { producer: 561, minConsumer: 12 };
  return { graphDef, signatures: { serving_default: signatureOf(model, graphDef) } };
}

const ACT_OPS = new Set(['Relu', 'Relu6', 'Elu', 'Selu', 'Sigmoid', 'Tanh', 'LeakyRelu']);

/** A fused node → the equivalent chain of standard nodes; the last keeps the original name so consumers still match. */
function unfuse(node: NodeDef): NodeDef[] {
  const base: Record<string, string> = { _FusedMatMul: 'MatMul', _FusedConv2D: 'Conv2D', FusedDepthwiseConv2dNative: 'DepthwiseConv2dNative' };
  const op = base[node.op ?? ''];
  if (!op) return [node];
  const a = node.attr ?? {};
  const fused = (a.fused_ops?.list?.s ?? []).map((s) => Buffer.from(s).toString('utf8'));
  const data = (node.input ?? []).filter((i) => !i.startsWith('^'));
  const control = (node.input ?? []).filter((i) => i.startsWith('^'));
  const name = node.name!;
  const [first, ...acts] = fused;
  if (first !== 'BiasAdd' || acts.length > 1 || (acts[0] && !ACT_OPS.has(acts[0]))) {
    throw new ModelError(`node ${name}: ${node.op} with fused ops [${fused.join(', ')}] cannot be split into standard TF ops`);
  }
  const T = a.T ?? attr.type('DT_FLOAT');
  const keep: Record<string, AttrValue> = {};
  const wanted: Record<string, string[]> = {
    MatMul: ['transpose_a', 'transpose_b'],
    Conv2D: ['strides', 'padding', 'explicit_paddings', 'data_format', 'dilations', 'use_cudnn_on_gpu'],
    DepthwiseConv2dNative: ['strides', 'padding', 'explicit_paddings', 'data_format', 'dilations'],
  };
  for (const k of wanted[op]!) if (a[k]) keep[k] = a[k]!;
  const dataFormat = a.data_format ?? attr.str('NHWC');
  const coreName = `${name}/${op}`;
  const biasName = acts.length ? `${name}/BiasAdd` : name;
  const out: NodeDef[] = [
    { name: coreName, op, input: [data[0]!, data[1]!, ...control], attr: { T, ...keep }, ...(node.device ? { device: node.device } : {}) },
    { name: biasName, op: 'BiasAdd', input: [coreName, data[2]!], attr: { T, data_format: op === 'MatMul' ? attr.str('NHWC') : dataFormat } },
  ];
  if (acts[0]) {
    const actAttr: Record<string, AttrValue> = { T };
    if (acts[0] === 'LeakyRelu') actAttr.alpha = attr.float(a.leakyrelu_alpha?.f ?? 0.2);
    out.push({ name, op: acts[0], input: [biasName], attr: actAttr });
  }
  return out;
}

/** The signature from model.json's `signature` (what tfjs-converter writes), or inferred from the graph's ends. */
function signatureOf(model: TfjsModel, graphDef: GraphDef): SignatureDef {
  const sig = model.json.signature as { inputs?: Record<string, unknown>; outputs?: Record<string, unknown>; methodName?: string } | undefined;
  const nodes = graphDef.node ?? [];
  const byName = new Map(nodes.map((n) => [n.name!, n]));
  if (sig?.inputs && sig?.outputs && Object.keys(sig.outputs).length) {
    const norm = (m: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(m).map(([k, v]) => [k, normalize<TensorInfo>('tensorflow.TensorInfo', v)]));
    const inputs = norm(sig.inputs);
    const outputs = norm(sig.outputs);
    for (const info of [...Object.values(inputs), ...Object.values(outputs)]) {
      if (!byName.has((info.name ?? '').replace(/:\d+$/, ''))) throw new ModelError(`model.json signature names ${info.name}, which is not in the graph`);
    }
    return { inputs, outputs, methodName: sig.methodName ?? 'tensorflow/serving/predict' };
  }
  // No signature: placeholders are the inputs and nodes nothing consumes are the outputs (tfjs's own inference).
  const consumed = new Set(nodes.flatMap((n) => (n.input ?? []).map((i) => i.replace(/^\^/, '').replace(/:\d+$/, ''))));
  const inputs: Record<string, TensorInfo> = {};
  const outputs: Record<string, TensorInfo> = {};
  for (const n of nodes) {
    if (n.op === 'Placeholder') {
      inputs[n.name!] = { name: tensorName(n.name!), dtype: n.attr?.dtype?.type ?? 'DT_FLOAT', tensorShape: n.attr?.shape?.shape ?? { unknownRank: true } };
    } else if (!consumed.has(n.name!) && !['Const', 'NoOp', 'Assert'].includes(n.op!)) {
      outputs[n.name!] = { name: tensorName(n.name!), dtype: n.attr?.T?.type ?? n.attr?.dtype?.type ?? 'DT_FLOAT', tensorShape: { unknownRank: true } };
    }
  }
  if (!Object.keys(outputs).length) throw new ModelError('tfjs graph model has no signature and no output node');
  return { inputs, outputs, methodName: 'tensorflow/serving/predict' };
}
