// Output-argument layouts of TensorFlow ops, used to translate function-internal tensor names (`MatMul:product:0`,
// `ParseExampleV2:dense_values:1`) into flat output indices (`MatMul:0`, `ParseExampleV2:N`) when function bodies are
// inlined, and default attributes that SavedModels strip (`meta_info_def.stripped_default_attrs`) or that an older
// exporter never wrote.
//
// The model's own `stripped_op_list` wins: it lists every op the graph uses with its exact OpDef. The built-in table
// below covers ops a model's list may lack (hand-written graphs, ops added by tfsvc's own rewrites); names and list
// attributes are copied from TensorFlow's public op registrations (tensorflow/core/ops/*.cc).
import type { NodeDef, OpDef } from '../savedmodel/types.js';
import { OP_REGISTRY_DEFAULTS } from './op-registry-defaults.js';

/** One output argument: its name and, for list outputs, the attr that gives the count (`n:`) or type list (`l:`). */
type OutArg = string | [name: string, count: `n:${string}` | `l:${string}`];

const unary = ['y'];
const binary = ['z'];
const out = ['output'];
const acts = ['activations'];

/** Output args of common ops (TensorFlow's op registry), for ops missing from a model's stripped_op_list. */
const BUILTIN_OUTPUTS: Record<string, OutArg[]> = {
  Const: out, Placeholder: out, PlaceholderWithDefault: out, Identity: out, Snapshot: out, StopGradient: out,
  IdentityN: [['output', 'l:T']], ReadVariableOp: ['value'], VarHandleOp: ['resource'], VariableV2: ['ref'],
  MatMul: ['product'], BatchMatMul: ['output'], BatchMatMulV2: ['output'], BatchMatMulV3: ['output'], _FusedMatMul: ['product'],
  Conv2D: out, Conv3D: out, DepthwiseConv2dNative: out, Conv2DBackpropInput: out, _FusedConv2D: out, FusedDepthwiseConv2dNative: out,
  BiasAdd: out, BiasAddV1: out,
  Relu: acts, Relu6: acts, Elu: acts, Selu: acts, LeakyRelu: acts, Softplus: acts, Softsign: acts,
  Softmax: ['softmax'], LogSoftmax: ['logsoftmax'],
  Sigmoid: unary, Tanh: unary, Exp: unary, Log: unary, Log1p: unary, Expm1: unary, Sqrt: unary, Rsqrt: unary, Square: unary,
  Neg: unary, Abs: unary, Floor: unary, Ceil: unary, Round: unary, Sign: unary, Reciprocal: unary, Erf: unary, Cos: unary,
  Sin: unary, Tan: unary, Cosh: unary, Sinh: unary, Acos: unary, Asin: unary, Atan: unary, IsNan: unary, IsInf: unary,
  IsFinite: unary, LogicalNot: unary, ZerosLike: unary, OnesLike: unary, Cast: unary, Transpose: unary, Inv: unary,
  Add: binary, AddV2: binary, Sub: binary, Mul: binary, Div: binary, RealDiv: binary, DivNoNan: binary, FloorDiv: binary,
  FloorMod: binary, Mod: binary, Maximum: binary, Minimum: binary, Pow: binary, SquaredDifference: binary, Atan2: binary,
  Equal: binary, NotEqual: binary, Less: binary, LessEqual: binary, Greater: binary, GreaterEqual: binary,
  LogicalAnd: binary, LogicalOr: binary, BitwiseAnd: binary,
  AddN: ['sum'], ClipByValue: out, Select: out, SelectV2: out,
  Reshape: out, Squeeze: out, ExpandDims: out, Shape: out, ShapeN: [['output', 'n:N']], Size: out, Rank: out,
  Pack: out, Unpack: [['output', 'n:num']], ConcatV2: out, Concat: out, Split: [['output', 'n:num_split']],
  SplitV: [['output', 'n:num_split']], StridedSlice: out, Slice: out, GatherV2: out, Gather: out, GatherNd: out,
  Fill: out, Tile: out, Pad: out, PadV2: out, MirrorPad: out, BroadcastTo: out, BroadcastArgs: ['r0'], Range: out,
  OneHot: out, Einsum: out, EnsureShape: out, ReverseV2: out, ScatterNd: out, TensorScatterUpdate: out, Where: ['index'],
  Mean: out, Sum: out, Max: out, Min: out, Prod: out, All: out, Any: out, ArgMax: out, ArgMin: out, Cumsum: ['out'],
  Cumprod: ['out'], MaxPool: out, AvgPool: out, MaxPool3D: out, AvgPool3D: out,
  FusedBatchNorm: ['y', 'batch_mean', 'batch_variance', 'reserve_space_1', 'reserve_space_2'],
  FusedBatchNormV2: ['y', 'batch_mean', 'batch_variance', 'reserve_space_1', 'reserve_space_2'],
  FusedBatchNormV3: ['y', 'batch_mean', 'batch_variance', 'reserve_space_1', 'reserve_space_2', 'reserve_space_3'],
  TopKV2: ['values', 'indices'], Unique: ['y', 'idx'], ResizeBilinear: ['resized_images'], ResizeNearestNeighbor: ['resized_images'],
  MatrixBandPart: ['band'], LRN: out, StringJoin: out, StaticRegexFullMatch: out, StaticRegexReplace: out,
  ParseExample: [
    ['sparse_indices', 'n:Nsparse'], ['sparse_values', 'l:sparse_types'], ['sparse_shapes', 'n:Nsparse'], ['dense_values', 'l:Tdense'],
  ],
  ParseExampleV2: [
    ['sparse_indices', 'n:num_sparse'], ['sparse_values', 'l:sparse_types'], ['sparse_shapes', 'n:num_sparse'],
    ['dense_values', 'l:Tdense'], ['ragged_values', 'l:ragged_value_types'], ['ragged_row_splits', 'l:ragged_split_types'],
  ],
  PartitionedCall: [['output', 'l:Tout']], StatefulPartitionedCall: [['output', 'l:Tout']],
  While: [['output', 'l:T']], StatelessWhile: [['output', 'l:T']], If: [['output', 'l:Tout']], StatelessIf: [['output', 'l:Tout']],
  EmptyTensorList: ['handle'], TensorListReserve: ['handle'], TensorListFromTensor: ['output_handle'],
  TensorListSetItem: ['output_handle'], TensorListGetItem: ['item'], TensorListPushBack: ['output_handle'],
  TensorListPopBack: ['output_handle', 'tensor'], TensorListStack: ['tensor'], TensorListLength: ['length'],
  TensorListConcat: ['tensor', 'lengths'], TensorListConcatV2: ['tensor', 'lengths'], TensorListSplit: ['output_handle'],
  TensorListGather: ['values'], TensorListScatter: ['output_handle'], TensorListScatterV2: ['output_handle'],
  TensorListResize: ['output_handle'], TensorListElementShape: ['element_shape'],
  Enter: out, Exit: out, NextIteration: out, LoopCond: out, Merge: ['output', 'value_index'], Switch: ['output_false', 'output_true'],
  NoOp: [],
};

/** The op is in neither the model's stripped_op_list nor the built-in table. */
export class UnknownOpError extends Error {}

/** Op layouts for one model: its stripped_op_list first, the built-in table second. */
export class OpRegistry {
  private readonly defs = new Map<string, OpDef>();

  constructor(opList: OpDef[] = []) {
    for (const op of opList) if (op.name) this.defs.set(op.name, op);
  }

  has(op: string): boolean {
    return this.defs.has(op) || op in BUILTIN_OUTPUTS;
  }

  /**
   * Flat index of output `argName`[`index`] of `node`, e.g. ParseExampleV2 `dense_values`, 1 → num_sparse*3 + 1.
   * Throws when the op or the argument is unknown: a wrong index would silently compute the wrong tensor.
   */
  flatIndex(node: NodeDef, argName: string, index: number): number {
    const args = this.outputArgs(node.op ?? '');
    if (!args) throw new UnknownOpError(`unknown op ${node.op} (node ${node.name}): cannot resolve output "${argName}"`);
    let flat = 0;
    for (const [name, count] of args) {
      if (name === argName) return flat + index;
      flat += countOf(node, count);
    }
    throw new Error(`op ${node.op} has no output "${argName}" (node ${node.name})`);
  }

  /** Output args as [name, count spec] pairs (count spec undefined for a single tensor). */
  private outputArgs(op: string): [string, string | undefined][] | undefined {
    const def = this.defs.get(op);
    if (def) {
      return (def.outputArg ?? []).map((a) => [
        a.name ?? '',
        a.numberAttr ? `n:${a.numberAttr}` : a.typeListAttr ? `l:${a.typeListAttr}` : undefined,
      ]);
    }
    const builtin = BUILTIN_OUTPUTS[op];
    return builtin?.map((a) => (typeof a === 'string' ? [a, undefined] : [a[0], a[1]]));
  }

  /**
   * Fills in attributes at their default that the node leaves out (mutates `node.attr`): the model's own OpDef first,
   * then TensorFlow's op registry (op-registry-defaults.ts, generated), which covers ops a stripped_op_list lacks
   * (TF 2.0-era exports list only the ops of the main graph, not those used inside functions).
   */
  restoreDefaults(node: NodeDef): void {
    const attr = (node.attr ??= {});
    const def = this.defs.get(node.op ?? '');
    if (def) {
      for (const a of def.attr ?? []) {
        if (a.name && a.defaultValue && !(a.name in attr)) attr[a.name] = a.defaultValue;
      }
    }
    const registry = OP_REGISTRY_DEFAULTS[node.op ?? ''];
    if (registry) for (const [k, v] of Object.entries(registry)) if (!(k in attr)) attr[k] = v;
  }
}

function countOf(node: NodeDef, spec: string | undefined): number {
  if (!spec) return 1;
  const attr = node.attr?.[spec.slice(2)];
  if (spec.startsWith('n:')) return attr?.i ?? 0;
  return attr?.list?.type?.length ?? 0;
}
