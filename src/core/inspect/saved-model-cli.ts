// saved_model_cli's `show` and `scan`, with its exact text (tensorflow/python/tools/saved_model_cli.py), for scripts
// and eyes used to it: `tfsvc inspect --dir D` lists the tag-sets, `--tag_set T` the SignatureDef keys,
// `--signature_def K` one signature's inputs and outputs, `--all` everything plus each meta graph's ops and the TF2
// "Concrete Functions" (from the object graph's canonicalized input signatures). `tfsvc scan --dir D` reports ops on
// the denylist (default ReadFile, WriteFile, PrintV2) in each meta graph, like saved_model_cli scan; Python's set and
// list reprs are printed with their items sorted (Python's own order is arbitrary).
import { UsageError } from '../errors.js';
import { readSavedModel, selectMetaGraph, tagSets } from '../savedmodel/reader.js';
import type { GraphDef, MetaGraphDef, NodeDef, SavedModel, TensorInfo, TensorShapeProto } from '../savedmodel/types.js';
import { shortDtype } from '../savedmodel/dtype.js';

/** saved_model_cli's default op denylist. */
export const DEFAULT_OP_DENYLIST = ['WriteFile', 'ReadFile', 'PrintV2'];

const pyStr = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const pyList = (items: string[]) => `[${items.map(pyStr).join(', ')}]`;
const pySet = (items: string[]) => (items.length ? `{${[...items].sort().map(pyStr).join(', ')}}` : 'set()');

/** "The given SavedModel contains the following tag-sets:" and each tag-set, as `'serve'`. */
export function showTagSets(sm: SavedModel): string {
  const sets = tagSets(sm).map((t) => [...t].sort().join(', ')).sort();
  return ['The given SavedModel contains the following tag-sets:', ...sets.map(pyStr)].join('\n') + '\n';
}

export function showSignatureKeys(meta: MetaGraphDef): string {
  const keys = Object.keys(meta.signatureDef ?? {}).sort();
  return ['The given SavedModel MetaGraphDef contains SignatureDefs with the following keys:', ...keys.map((k) => `SignatureDef key: "${k}"`)].join('\n') + '\n';
}

function tensorInfoLines(info: TensorInfo, indent: string): string[] {
  const shape = info.tensorShape?.unknownRank ? 'unknown_rank' : `(${(info.tensorShape?.dim ?? []).map((d) => String(d.size ?? 0)).join(', ')})`;
  return [`${indent}    dtype: ${info.dtype ?? 'DT_INVALID'}`, `${indent}    shape: ${shape}`, `${indent}    name: ${info.name ?? ''}`];
}

/** One signature's inputs, outputs and method; a missing key is a UsageError with saved_model_cli's ValueError text. */
export function showInputsOutputs(meta: MetaGraphDef, key: string, indent = 0): string {
  const sig = meta.signatureDef?.[key];
  if (!sig) {
    throw new UsageError(`Could not find signature "${key}". Please choose from: ${Object.keys(meta.signatureDef ?? {}).join(', ')}`);
  }
  const pad = '  '.repeat(indent);
  const lines = [`${pad}The given SavedModel SignatureDef contains the following input(s):`];
  for (const [alias, info] of Object.entries(sig.inputs ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
    lines.push(`${pad}  inputs['${alias}'] tensor_info:`, ...tensorInfoLines(info, '  '.repeat(indent + 1)));
  }
  lines.push(`${pad}The given SavedModel SignatureDef contains the following output(s):`);
  for (const [alias, info] of Object.entries(sig.outputs ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
    lines.push(`${pad}  outputs['${alias}'] tensor_info:`, ...tensorInfoLines(info, '  '.repeat(indent + 1)));
  }
  lines.push(`${pad}Method name is: ${sig.methodName ?? ''}`);
  return lines.join('\n') + '\n';
}


/**
 * meta_graph.ops_used_by_graph_def: the op types the graph runs, following function calls into the library. Besides
 * PartitionedCall's `f`, every function-valued attr is followed (While/If bodies, map_fn), so a denylisted op in a
 * loop body is found too; function names themselves are not ops.
 */
export function opsUsedByGraph(graph: GraphDef | undefined): Set<string> {
  const fns = new Map((graph?.library?.function ?? []).map((f) => [f.signature?.name ?? '', f]));
  const used = new Set<string>();
  const seenFns = new Set<string>();
  const queue: string[] = [];
  const call = (name: string | undefined) => {
    if (name && fns.has(name) && !seenFns.has(name)) {
      seenFns.add(name);
      queue.push(name);
    }
  };
  const visit = (n: NodeDef) => {
    if (fns.has(n.op ?? '')) call(n.op);
    else if (n.op) used.add(n.op);
    for (const a of Object.values(n.attr ?? {})) {
      call(a.func?.name);
      for (const f of a.list?.func ?? []) call(f.name);
    }
  };
  for (const n of graph?.node ?? []) visit(n);
  while (queue.length) for (const n of fns.get(queue.pop()!)!.nodeDef ?? []) visit(n);
  return used;
}

/** saved_model_cli scan for one meta graph. */
export function scanMetaGraph(meta: MetaGraphDef, denylist: string[] = DEFAULT_OP_DENYLIST): { found: string[]; text: string } {
  const ops = opsUsedByGraph(meta.graphDef);
  const found = denylist.filter((op) => ops.has(op)).sort();
  const tags = pyList(meta.metaInfoDef?.tags ?? []);
  const text = found.length
    ? `MetaGraph with tag set ${tags} contains the following denylisted ops: ${pySet(found)}\n`
    : `MetaGraph with tag set ${tags} does not contain the default denylisted ops: ${pySet(denylist)}\n`;
  return { found, text };
}

// --- "Concrete Functions" (TF2 object graph) ------------------------------------------------------------------------

type Structured = {
  noneValue?: object;
  float64Value?: number;
  int64Value?: number;
  stringValue?: string;
  boolValue?: boolean;
  tensorShapeValue?: TensorShapeProto;
  tensorDtypeValue?: string;
  tensorSpecValue?: { name?: string; shape?: TensorShapeProto; dtype?: string };
  boundedTensorSpecValue?: { name?: string; shape?: TensorShapeProto; dtype?: string };
  typeSpecValue?: { typeSpecClass?: string; typeSpecClassName?: string };
  listValue?: { values?: Structured[] };
  tupleValue?: { values?: Structured[] };
  dictValue?: { fields?: Record<string, Structured> };
  namedTupleValue?: { name?: string; values?: { key?: string; value?: Structured }[] };
};

/** TensorShape's repr inside a TensorSpec: (None, 1), (3,), (), or <unknown>. */
function shapeRepr(s: TensorShapeProto | undefined): string {
  if (!s || s.unknownRank) return '<unknown>';
  const dims = (s.dim ?? []).map((d) => (d.size === undefined || d.size < 0 ? 'None' : String(d.size)));
  return dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
}

/** tf.DType's repr: DT_FLOAT → tf.float32 (TF's Python names differ from the C++ enum's for a few types). */
const PY_DTYPE: Record<string, string> = { DT_FLOAT: 'float32', DT_DOUBLE: 'float64', DT_HALF: 'float16' };
const tfDtype = (d: string | undefined) => `tf.${PY_DTYPE[d ?? ''] ?? shortDtype(d ?? 'DT_INVALID')}`;

/** Python's repr of a value (what str()/repr() print for the argument kinds saved_model_cli shows). */
function pyRepr(v: Structured | undefined): string {
  if (!v || v.noneValue) return 'None';
  if (v.boolValue !== undefined) return v.boolValue ? 'True' : 'False';
  if (v.int64Value !== undefined) return String(v.int64Value);
  if (v.float64Value !== undefined) return Number.isInteger(v.float64Value) ? v.float64Value.toFixed(1) : String(v.float64Value);
  if (v.stringValue !== undefined) return pyStr(v.stringValue);
  const spec = v.tensorSpecValue ?? v.boundedTensorSpecValue;
  if (spec) return `TensorSpec(shape=${shapeRepr(spec.shape)}, dtype=${tfDtype(spec.dtype)}, name=${spec.name ? pyStr(spec.name) : 'None'})`;
  if (v.tensorShapeValue) return `TensorShape(${shapeRepr(v.tensorShapeValue).replace(/^\((.*?),?\)$/, '[$1]')})`;
  if (v.tensorDtypeValue) return tfDtype(v.tensorDtypeValue);
  if (v.listValue) return `[${(v.listValue.values ?? []).map(pyRepr).join(', ')}]`;
  if (v.tupleValue) {
    const items = (v.tupleValue.values ?? []).map(pyRepr);
    return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
  }
  if (v.dictValue) return `{${Object.entries(v.dictValue.fields ?? {}).map(([k, x]) => `${pyStr(k)}: ${pyRepr(x)}`).join(', ')}}`;
  if (v.namedTupleValue) return `${v.namedTupleValue.name ?? ''}(${(v.namedTupleValue.values ?? []).map((p) => `${p.key}=${pyRepr(p.value)}`).join(', ')})`;
  if (v.typeSpecValue) return `${v.typeSpecValue.typeSpecClassName || v.typeSpecValue.typeSpecClass || 'TypeSpec'}(...)`;
  return 'None';
}

/** Python's type name of a value, for "DType: ..." lines. */
function pyType(v: Structured): string {
  if (v.boolValue !== undefined) return 'bool';
  if (v.int64Value !== undefined) return 'int';
  if (v.float64Value !== undefined) return 'float';
  if (v.noneValue) return 'NoneType';
  if (v.listValue) return 'list';
  if (v.tupleValue) return 'tuple';
  if (v.dictValue) return 'dict';
  if (v.namedTupleValue) return v.namedTupleValue.name ?? 'tuple';
  return 'object';
}

/** saved_model_cli's _print_args(arguments, argument_type, indent=4). */
function argLines(args: Structured[], argumentType: string): string[] {
  const pad = '        '; // indent 4 → 8 spaces
  const lines: string[] = [];
  args.forEach((el, i) => {
    lines.push(`${pad}${argumentType} #${i + 1}`);
    const spec = el.tensorSpecValue ?? el.boundedTensorSpecValue;
    if (el.stringValue !== undefined) lines.push(`${pad}  ${el.stringValue}`);
    else if (spec) lines.push(`${pad}  ${spec.name ?? 'None'}: ${pyRepr(el)}`);
    else if (el.listValue || el.tupleValue) {
      const items = (el.listValue ?? el.tupleValue)!.values ?? [];
      lines.push(`${pad}  DType: ${pyType(el)}`, `${pad}  Value: [${items.map(pyRepr).join(', ')}]`);
    } else if (el.dictValue) {
      lines.push(`${pad}  DType: dict`, `${pad}  Value: {${Object.entries(el.dictValue.fields ?? {}).map(([k, x]) => `'${k}': ${pyRepr(x)}`).join(', ')}}`);
    } else lines.push(`${pad}  DType: ${pyType(el)}`, `${pad}  Value: ${pyRepr(el)}`);
  });
  return lines;
}

/** The "Concrete Functions:" section for a TF2 SavedModel (its root object's function children); '' for TF1. */
export function showConcreteFunctions(sm: SavedModel): string {
  const meta = (sm.metaGraphs ?? []).find((m) => m.objectGraphDef);
  const graph = meta?.objectGraphDef;
  if (!graph?.nodes?.length) return '';
  const concrete = (graph.concreteFunctions ?? {}) as Record<string, { canonicalizedInputSignature?: Structured }>;
  const lines = ['', 'Concrete Functions:'];
  const children = [...(graph.nodes[0]!.children ?? [])].sort((a, b) => ((a.localName ?? '') < (b.localName ?? '') ? -1 : 1));
  for (const child of children) {
    const node = graph.nodes[child.nodeId ?? 0];
    const names = node?.function ? [...(node.function.concreteFunctions ?? [])] : node?.bareConcreteFunction ? [node.bareConcreteFunction.concreteFunctionName ?? ''] : undefined;
    if (!names) continue;
    // saved_model_cli prints '\n  Function Name: ...' after lines that end in a newline: a blank line between functions.
    if (lines.length > 2) lines.push('');
    lines.push(`  Function Name: '${child.localName ?? ''}'`);
    names.sort().forEach((name, i) => {
      const sig = concrete[name]?.canonicalizedInputSignature?.tupleValue?.values ?? [];
      const args = sig[0]?.tupleValue?.values ?? sig[0]?.listValue?.values ?? [];
      const kwargs = Object.keys(sig[1]?.dictValue?.fields ?? {});
      if (args.length) lines.push(`    Option #${i + 1}`, '      Callable with:', ...argLines(args, 'Argument'));
      if (kwargs.length) lines.push(...argLines(kwargs.map((k) => ({ stringValue: k })), 'Named Argument'));
    });
  }
  return lines.join('\n') + '\n';
}

/** saved_model_cli show --all: every meta graph's signatures and ops, then the concrete functions. */
export function showAll(sm: SavedModel): string {
  const out: string[] = [];
  const metas = [...(sm.metaGraphs ?? [])].sort((a, b) => ((a.metaInfoDef?.tags ?? []).join(',') < (b.metaInfoDef?.tags ?? []).join(',') ? -1 : 1));
  for (const meta of metas) {
    const tags = meta.metaInfoDef?.tags ?? [];
    out.push(`\nMetaGraphDef with tag-set: '${tags.join(', ')}' contains the following SignatureDefs:\n`);
    for (const key of Object.keys(meta.signatureDef ?? {}).sort()) {
      out.push(`\nsignature_def['${key}']:\n`, showInputsOutputs(meta, key, 1));
    }
    out.push(`The MetaGraph with tag set ${pyList(tags)} contains the following ops: ${pySet([...opsUsedByGraph(meta.graphDef)])}\n`);
  }
  out.push(showConcreteFunctions(sm));
  return out.join('');
}

/** The text `saved_model_cli show --dir dir [--tag_set t [--signature_def k]] [--all]` prints. */
export async function savedModelCliShow(dir: string, o: { tagSet?: string[]; signatureDef?: string; all?: boolean }): Promise<string> {
  const { savedModel } = await readSavedModel(dir);
  if (o.all) return showAll(savedModel);
  if (!o.tagSet) return showTagSets(savedModel);
  const meta = selectMetaGraph(savedModel, o.tagSet);
  return o.signatureDef === undefined ? showSignatureKeys(meta) : showInputsOutputs(meta, o.signatureDef);
}

/** `saved_model_cli scan --dir dir [--tag_set t] [--op_denylist a,b]`: the text and whether any denylisted op was found. */
export async function savedModelCliScan(dir: string, o: { tagSet?: string[]; denylist?: string[] }): Promise<{ text: string; found: string[] }> {
  const { savedModel } = await readSavedModel(dir);
  const metas = o.tagSet ? [selectMetaGraph(savedModel, o.tagSet)] : (savedModel.metaGraphs ?? []);
  const results = metas.map((m) => scanMetaGraph(m, o.denylist));
  return { text: results.map((r) => r.text).join(''), found: [...new Set(results.flatMap((r) => r.found))].sort() };
}
