// Graph rewrites that pay off on tfjs's executor, which runs one kernel per node:
//  - identity removal: Identity/Snapshot/StopGradient (and frozen variable reads) forward their input;
//  - fusion: Conv2D/DepthwiseConv2dNative/MatMul + BiasAdd (or Add of a per-channel constant) [+ activation] become
//    one `_FusedConv2D` / `FusedDepthwiseConv2dNative` / `_FusedMatMul` node, which tfjs-converter's executor maps to
//    tf.fused.* (one pass over the output instead of three);
//  - batch-norm folding: an inference FusedBatchNorm after a Conv2D/DepthwiseConv2dNative with constant weights is
//    folded into the filter and a BiasAdd (w' = w·γ/√(σ²+ε), b = β − μ·γ/√(σ²+ε)), which fusion then absorbs. Only chains whose intermediate tensors nothing else reads are fused.
// Each rewrite keeps the name of the node whose output survives, so signature outputs keep pointing at the same tensor.
import type { AttrValue, NodeDef } from '../savedmodel/types.js';
import { constValue, consumers, rewriteInputs, splitRef, type WorkGraph } from './work-graph.js';

const IDENTITY_OPS = new Set(['Identity', 'Snapshot', 'StopGradient']);

/** Removes identity-like nodes except `keep` (signature outputs, placeholders). Returns how many were removed. */
export function removeIdentities(g: WorkGraph, keep: Set<string>): number {
  const alias = new Map<string, string>();
  for (const node of g.nodes.values()) {
    if (IDENTITY_OPS.has(node.op ?? '') && !keep.has(node.name!) && node.input?.length === 1) {
      alias.set(`${node.name}:0`, node.input[0]!);
    }
  }
  rewriteInputs(g, alias);
  for (const ref of alias.keys()) g.nodes.delete(splitRef(ref)[0]);
  return alias.size;
}

const BATCH_NORM_OPS = new Set(['FusedBatchNorm', 'FusedBatchNormV2', 'FusedBatchNormV3']);

/**
 * Folds inference batch norms into the convolution before them (see the header). Only when the convolution's filter
 * and all four batch-norm parameters are float constants, the convolution feeds nothing else, and nothing reads the
 * batch norm's other outputs. Returns the number folded.
 */
export function foldBatchNorms(g: WorkGraph, keep: Set<string>): number {
  const users = consumers(g);
  let folded = 0;
  for (const bn of [...g.nodes.values()]) {
    if (!BATCH_NORM_OPS.has(bn.op ?? '') || bn.attr?.is_training?.b !== false || dataFormat(bn) !== 'NHWC') continue;
    const [xRef, ...paramRefs] = bn.input ?? [];
    if (!xRef || paramRefs.length !== 4) continue;
    const [convName, convIndex] = splitRef(xRef);
    const conv = g.nodes.get(convName);
    if (!conv || convIndex !== 0 || (conv.op !== 'Conv2D' && conv.op !== 'DepthwiseConv2dNative') || dataFormat(conv) !== 'NHWC') continue;
    if (keep.has(convName) || users.get(convName)?.length !== 1) continue;
    const otherOutputsRead = [...g.nodes.values()].some((n) => n.input?.some((r) => r.startsWith(`${bn.name}:`) && r !== `${bn.name}:0`));
    if (otherOutputsRead) continue;
    const filterRef = conv.input?.[1];
    const filter = filterRef ? floatConst(g, filterRef) : undefined;
    const params = paramRefs.map((r) => floatConst(g, r));
    if (!filter || filter.shape.length !== 4 || params.some((p) => !p)) continue;
    const [scale, offset, mean, variance] = params.map((p) => p!.data);
    const channels = conv.op === 'Conv2D' ? filter.shape[3]! : filter.shape[2]! * filter.shape[3]!;
    if (params.some((p) => p!.data.length !== channels)) continue;
    const eps = bn.attr?.epsilon?.f ?? 0.0001;
    const factor = new Float32Array(channels);
    const bias = new Float32Array(channels);
    for (let c = 0; c < channels; c++) {
      factor[c] = scale![c]! / Math.sqrt(variance![c]! + eps);
      bias[c] = offset![c]! - mean![c]! * factor[c]!;
    }
    // HWIO (Conv2D) and HWCM (depthwise) filters both keep the output channel innermost-contiguous: index % channels.
    const w = new Float32Array(filter.data.length);
    for (let i = 0; i < w.length; i++) w[i] = filter.data[i]! * factor[i % channels]!;
    const filterName = uniqueName(g, `${convName}/bn_folded_filter`);
    const biasName = uniqueName(g, `${bn.name}/bn_folded_bias`);
    g.nodes.set(filterName, { name: filterName, op: 'Const', input: [], attr: { dtype: { type: 'DT_FLOAT' } } });
    g.values.set(filterName, { dtype: 'DT_FLOAT', shape: [...filter.shape], data: w });
    g.nodes.set(biasName, { name: biasName, op: 'Const', input: [], attr: { dtype: { type: 'DT_FLOAT' } } });
    g.values.set(biasName, { dtype: 'DT_FLOAT', shape: [channels], data: bias });
    conv.input = [conv.input![0]!, `${filterName}:0`];
    g.nodes.set(bn.name!, { name: bn.name, op: 'BiasAdd', input: [xRef, `${biasName}:0`], attr: { T: { type: 'DT_FLOAT' }, data_format: { s: Buffer.from('NHWC') } } });
    folded++;
  }
  return folded;
}

/** A float32 constant's value (DT_FLOAT Const at output 0), else undefined. */
function floatConst(g: WorkGraph, ref: string): { shape: number[]; data: Float32Array } | undefined {
  const [name, index] = splitRef(ref);
  if (g.nodes.get(name)?.op !== 'Const' || index !== 0) return undefined;
  try {
    const v = constValue(g, name);
    return v.data instanceof Float32Array && v.dtype === 'DT_FLOAT' ? { shape: v.shape, data: v.data } : undefined;
  } catch {
    return undefined;
  }
}

function uniqueName(g: WorkGraph, base: string): string {
  let name = base;
  while (g.nodes.has(name)) name += '_';
  return name;
}

/** Activations tfjs's fused kernels apply (tfjs-core `Activation`), by TF op name. */
const FUSABLE_ACTIVATIONS: Record<string, string> = { Relu: 'Relu', Relu6: 'Relu6', Elu: 'Elu', Sigmoid: 'Sigmoid', LeakyRelu: 'LeakyRelu' };

const FUSED_OP: Record<string, string> = {
  Conv2D: '_FusedConv2D',
  DepthwiseConv2dNative: 'FusedDepthwiseConv2dNative',
  MatMul: '_FusedMatMul',
};

/**
 * Fuses X + BiasAdd [+ activation] chains (X in Conv2D, DepthwiseConv2dNative, MatMul). `keep` holds nodes whose own
 * output must stay addressable (signature outputs). Returns the number of chains fused.
 */
export function fuseBiasActivation(g: WorkGraph, keep: Set<string>): number {
  const users = consumers(g);
  const onlyUser = (name: string): NodeDef | undefined => {
    const u = users.get(name);
    if (!u || u.length !== 1 || keep.has(name)) return undefined;
    return g.nodes.get(u[0]!);
  };
  let fused = 0;
  for (const base of [...g.nodes.values()]) {
    const fusedOp = FUSED_OP[base.op ?? ''];
    if (!fusedOp || !g.nodes.has(base.name!)) continue;
    if (base.op === 'MatMul' && (base.attr?.T?.type ?? 'DT_FLOAT') !== 'DT_FLOAT') continue;
    if (dataFormat(base) !== 'NHWC') continue;
    const bias = onlyUser(base.name!);
    const biasRef = bias && biasOperand(g, base, bias);
    if (!bias || !biasRef) continue;
    const actNode = onlyUser(bias.name!);
    const act = actNode && FUSABLE_ACTIVATIONS[actNode.op ?? ''] && actNode.input?.[0] === `${bias.name}:0` ? actNode : undefined;
    const last = act ?? bias;
    const ops = ['BiasAdd', ...(act ? [FUSABLE_ACTIVATIONS[act.op!]!] : [])];
    const attr: Record<string, AttrValue> = {
      ...base.attr,
      num_args: { i: 1 },
      fused_ops: { list: { s: ops.map((o) => Buffer.from(o)) } },
      epsilon: { f: 0 },
    };
    if (act?.op === 'LeakyRelu') attr.leakyrelu_alpha = { f: act.attr?.alpha?.f ?? 0.2 };
    g.nodes.delete(base.name!);
    g.nodes.delete(bias.name!);
    g.nodes.set(last.name!, { name: last.name, op: fusedOp, input: [base.input![0]!, base.input![1]!, biasRef], attr });
    fused++;
  }
  return fused;
}

/**
 * The bias `next` adds to `base`'s output: BiasAdd's second input, or for Add/AddV2 (how hand-written graphs add a
 * bias) the other operand when it is a rank-1 constant as long as `base`'s output channels — the only case where
 * Add broadcasts exactly like BiasAdd.
 */
function biasOperand(g: WorkGraph, base: NodeDef, next: NodeDef): string | undefined {
  const out = `${base.name}:0`;
  if (next.op === 'BiasAdd') {
    if (next.input?.[0] !== out || dataFormat(next) !== 'NHWC') return undefined;
    return next.input[1];
  }
  if ((next.op !== 'Add' && next.op !== 'AddV2') || next.input?.length !== 2) return undefined;
  const other = next.input[0] === out ? next.input[1]! : next.input[1] === out ? next.input[0]! : undefined;
  if (!other || other === out) return undefined;
  const biasShape = constShape(g, other);
  const channels = outputChannels(g, base);
  return biasShape?.length === 1 && channels !== undefined && biasShape[0] === channels ? other : undefined;
}

/** Shape of a constant tensor reference (output 0 of a Const node), else undefined. */
function constShape(g: WorkGraph, ref: string): number[] | undefined {
  const [name, index] = splitRef(ref);
  const node = g.nodes.get(name);
  if (node?.op !== 'Const' || index !== 0) return undefined;
  try {
    return constValue(g, name).shape;
  } catch {
    return undefined;
  }
}

/** Output channels of a Conv2D / DepthwiseConv2dNative / MatMul whose weights are constant. */
function outputChannels(g: WorkGraph, base: NodeDef): number | undefined {
  const w = base.input?.[1] ? constShape(g, base.input[1]) : undefined;
  if (!w) return undefined;
  if (base.op === 'Conv2D' && w.length === 4) return w[3];
  if (base.op === 'DepthwiseConv2dNative' && w.length === 4) return w[2]! * w[3]!;
  if (base.op === 'MatMul' && w.length === 2) return base.attr?.transpose_b?.b ? w[0] : w[1];
  return undefined;
}

function dataFormat(node: NodeDef): string {
  const s = node.attr?.data_format?.s;
  return s ? Buffer.from(s).toString('utf8') : 'NHWC';
}
