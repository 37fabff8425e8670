// SavedModel signature → executable tfjs graph. The pipeline, per signature:
//   copy the meta graph's top-level nodes (control edges dropped, stripped default attrs restored)
//   → feeds become Placeholders → prune to the outputs → inline function calls recursively → prune again
//   → freeze variables from the checkpoint → name the outputs → [identity removal → constant folding → fusion]
//   → convert the cond/body/branch functions of While/If nodes (control-flow.ts) → check every op (functions
//   included) is one tfjs runs → tfjs ModelArtifacts (functions in modelTopology.library).
// One graph per signature: signatures of one SavedModel may feed tensors that another computes (TF1 half_plus_two
// feeds `x:0` to serving_default, which classify_x_to_y computes from tf.Example), so they cannot share a graph.
import type { io } from '@tensorflow/tfjs-core';
import { ModelError, UsageError } from '../errors.js';
import type { HostTensor, TensorSpec } from '../savedmodel/host-tensor.js';
import { openCheckpoint, type Checkpoint } from '../savedmodel/checkpoint.js';
import { readSavedModel, selectMetaGraph, type SavedModelFiles } from '../savedmodel/reader.js';
import { tensorSpec } from '../savedmodel/signatures.js';
import type { FunctionDef, MetaGraphDef, NodeDef, SignatureDef, TensorInfo } from '../savedmodel/types.js';
import { toArtifacts, type ArtifactSignature } from './artifacts.js';
import { lowerControlFlow } from './control-flow.js';
import { rewriteRecurrentLoops, type RecurrentLoopPlan } from './recurrent-loop.js';
import { foldConstants } from './fold.js';
import { freezeVariables, variableKeys, variableWrites } from './freeze.js';
import { inlineCalls } from './inline.js';
import { OpRegistry } from './opdefs.js';
import { foldBatchNorms, fuseBiasActivation, removeIdentities } from './optimize.js';
import { placeFeeds, pruneTo } from './prune.js';
import { describeUnsupported, findUnsupportedOps, type UnsupportedOp } from './support.js';
import { bindTables, loadTables, TABLE_OPS, TABLE_READ_OPS, tableError, type ModelTables } from './tables.js';
import { canonicalRef, graphDefRef, resolveRef, splitRef, type WorkGraph } from './work-graph.js';

/** A SavedModel opened for graph building; reuse it for every signature (variables are read once). */
export interface ModelSource {
  files: SavedModelFiles;
  meta: MetaGraphDef;
  checkpoint?: Checkpoint;
  ops: OpRegistry;
  library: Map<string, FunctionDef>;
  variableKeys: Map<string, string>;
  /** Checkpoint key → value, shared by the signatures built from this source. */
  variableCache: Map<string, HostTensor>;
  /** The lookup tables' contents, computed on the first signature that reads a table (see tables.ts). */
  tables?: Promise<ModelTables>;
}

/** Reads `dir` (a SavedModel directory) and selects the meta graph with `tags` (default serve). */
export async function openModelSource(dir: string, tags: string[] = ['serve']): Promise<ModelSource> {
  const files = await readSavedModel(dir);
  return modelSourceFrom(files, selectMetaGraph(files.savedModel, tags), files.variablesPrefix ? await openCheckpoint(files.variablesPrefix) : undefined);
}

export function modelSourceFrom(files: SavedModelFiles, meta: MetaGraphDef, checkpoint?: Checkpoint): ModelSource {
  return {
    files,
    meta,
    checkpoint,
    ops: new OpRegistry(meta.metaInfoDef?.strippedOpList?.op ?? []),
    library: new Map((meta.graphDef?.library?.function ?? []).map((f) => [f.signature?.name ?? '', f])),
    variableKeys: variableKeys(meta, checkpoint),
    variableCache: new Map(),
  };
}

export interface OptimizeOptions {
  /** Remove Identity/Snapshot/StopGradient nodes. */
  identities?: boolean;
  /** Compute constant subgraphs once at load time. */
  fold?: boolean;
  /** Fold inference batch norms into convolutions, then fuse Conv2D/MatMul + bias + activation. */
  fuse?: boolean;
}

export interface BuildOptions {
  /** Graph optimisations (default: all on). `false` turns all off, for equality tests and benchmarks. */
  optimize?: boolean | OptimizeOptions;
  /** Return a graph even when tfjs lacks some ops (listed in `unsupported`) instead of throwing. */
  allowUnsupported?: boolean;
  /**
   * Run recurrent While loops (Keras RNN layers) as tfsvc's loop op (recurrent-loop.ts) instead of tfjs's While.
   * Default off: the artifacts then need tfsvc's engine to run, so `export --format tfjs` leaves it off.
   */
  recurrentLoops?: boolean;
}

export interface BuildStats {
  /** Nodes of the final graph. */
  nodes: number;
  /** Function calls inlined (nested calls included). */
  callsInlined: number;
  variablesFrozen: number;
  identitiesRemoved: number;
  constantsFolded: number;
  /** Inference batch norms folded into the convolution before them (part of `fuse`). */
  batchNormsFolded: number;
  fused: number;
  /** Functions of While/If nodes emitted in the artifacts' library (nested ones and per-binding copies included). */
  functions: number;
  /** While loops that run as tfsvc's recurrent loop op (BuildOptions.recurrentLoops). */
  recurrentLoops: number;
}

/** The runnable form of one signature. */
export interface ExecutableGraph {
  signatureKey: string;
  methodName: string;
  artifacts: io.ModelArtifacts;
  /** Input alias → Placeholder node name to feed, and the signature's spec. */
  inputs: Record<string, { node: string; spec: TensorSpec }>;
  /** Output alias → tensor to fetch (GraphDef syntax: `node` or `node:k`), and the signature's spec. */
  outputs: Record<string, { tensor: string; spec: TensorSpec }>;
  unsupported: UnsupportedOp[];
  stats: BuildStats;
  /**
   * Input aliases of a classify/regress signature that feed ParseExample(V2)'s `serialized` input but are declared
   * with another dtype; they are fed (and their `spec` says) DT_STRING. See retypeExampleFeeds.
   */
  exampleInputs: string[];
  /** Loops the engine runs itself (BuildOptions.recurrentLoops): their step graphs as artifacts of their own. */
  loops: RecurrentLoopPlan[];
}

/** Signature keys a model serves (the `__saved_model_init_op` pseudo-signature excluded). */
export function servableSignatureKeys(meta: MetaGraphDef): string[] {
  return Object.keys(meta.signatureDef ?? {}).filter((k) => !k.startsWith('__'));
}

/**
 * Builds the executable graph of signature `key`. UsageError for an unknown signature; ModelError for graphs that
 * cannot be converted (missing variables, sparse signature tensors, ops tfjs lacks unless allowUnsupported).
 */
export async function buildExecutableGraph(src: ModelSource, key: string, opts: BuildOptions = {}): Promise<ExecutableGraph> {
  const def: SignatureDef | undefined = src.meta.signatureDef?.[key];
  if (!def || key.startsWith('__')) {
    throw new UsageError(`no signature "${key}" (signatures: ${servableSignatureKeys(src.meta).join(', ') || 'none'})`);
  }
  const opt = normalizeOptimize(opts.optimize);
  const inputAliases = Object.keys(def.inputs ?? {}).sort();
  const outputAliases = Object.keys(def.outputs ?? {}).sort();
  const refOf = (alias: string, info: TensorInfo, what: string) => {
    if (!info.name) throw new ModelError(`signature ${key}: ${what} "${alias}" is a sparse or composite tensor, which tfsvc cannot run`);
    return canonicalRef(info.name)!;
  };

  const g: WorkGraph = { nodes: new Map(), values: new Map() };
  for (const n of src.meta.graphDef?.node ?? []) g.nodes.set(n.name!, copyNode(n, src.ops));

  // A signature output that is a fed tensor echoes the feed, as TensorFlow returns a fed tensor when it is fetched.
  const placed = placeFeeds(
    g,
    inputAliases.map((a) => ({ ref: refOf(a, def.inputs![a]!, 'input'), dtype: def.inputs![a]!.dtype ?? 'DT_FLOAT' })),
    outputAliases.map((a) => refOf(a, def.outputs![a]!, 'output')),
  );
  const placeholders = placed.placeholders;
  // Placeholders stay even when no output needs them: requests may feed every signature input.
  const feeds = placeholders.map((p) => `${p}:0`);
  let outputRefs = placed.outputs;
  pruneTo(g, [...outputRefs, ...feeds]);
  const alias = inlineCalls(g, src.library, src.ops);
  outputRefs = outputRefs.map((r) => resolveRef(alias, r));
  // Variable writes inside the called functions (reached only by control edges) stay, so the op check refuses them.
  const writes = variableWrites(g);
  pruneTo(g, [...outputRefs, ...feeds, ...writes]);
  const exampleInputs = retypeExampleFeeds(g, def, inputAliases, placeholders);
  const variablesFrozen = freezeVariables(g, src.variableKeys, src.checkpoint, src.variableCache);
  // Lookup tables: filled once per model as TF's loader would (init op, checkpoint, assets/), read as constants.
  if ([...g.nodes.values()].some((n) => TABLE_OPS.has(n.op ?? ''))) {
    src.tables ??= loadTables(src);
    const refused = bindTables(g, await src.tables);
    if (refused.size > 0) throw tableError(key, refused, src.files.file);
  }

  // Name each output: reuse the node that already produces it under the signature's own name, else add an Identity.
  const outputNodes: string[] = [];
  outputAliases.forEach((a, i) => {
    const original = splitRef(canonicalRef(def.outputs![a]!.name!)!)[0];
    const ref = outputRefs[i]!;
    if (ref === `${original}:0` && g.nodes.get(original)?.op !== 'Placeholder') {
      outputNodes.push(original);
      return;
    }
    let name = g.nodes.has(original) ? `${original}/output_${a}` : original;
    while (g.nodes.has(name)) name += '_';
    g.nodes.set(name, { name, op: 'Identity', input: [ref], attr: { T: { type: def.outputs![a]!.dtype ?? 'DT_FLOAT' } } });
    outputNodes.push(name);
  });
  const outRefs = outputNodes.map((n) => `${n}:0`);
  const roots = [...outRefs, ...feeds, ...writes];
  const keep = new Set([...outputNodes, ...placeholders]);

  const callsInlined = new Set([...alias.keys()].map((r) => splitRef(r)[0])).size;
  const stats: BuildStats = { nodes: 0, callsInlined, variablesFrozen, identitiesRemoved: 0, constantsFolded: 0, batchNormsFolded: 0, fused: 0, functions: 0, recurrentLoops: 0 };
  if (opt.identities) stats.identitiesRemoved += removeIdentities(g, keep);
  if (opt.fold) {
    stats.constantsFolded = await foldConstants(g, keep);
    pruneTo(g, roots);
    if (opt.identities) stats.identitiesRemoved += removeIdentities(g, keep);
  }
  if (opt.fuse) {
    stats.batchNormsFolded = foldBatchNorms(g, keep);
    stats.fused = fuseBiasActivation(g, keep);
  }
  pruneTo(g, roots);
  // While/If keep their functions (run per iteration/branch by tfjs), converted like the main graph.
  let functions = lowerControlFlow(g, src);
  let loops: RecurrentLoopPlan[] = [];
  if (opts.recurrentLoops) ({ plans: loops, functions } = rewriteRecurrentLoops(g, functions, roots));
  stats.recurrentLoops = loops.length;
  stats.nodes = g.nodes.size;
  stats.functions = functions.length;

  const allNodes = [g, ...functions.map((f) => f.graph)].flatMap((graph) => [...graph.nodes.values()]);
  refuseUnfilledTables(key, allNodes, src.files.file);
  const unsupported = findUnsupportedOps(allNodes);
  if (unsupported.length > 0 && !opts.allowUnsupported) {
    throw new ModelError(`signature ${key} uses ops TensorFlow.js cannot run: ${describeUnsupported(unsupported)}`, src.files.file);
  }

  const inputs: ExecutableGraph['inputs'] = {};
  const fedDtype = (a: string) => (exampleInputs.includes(a) ? { dtype: 'DT_STRING' as const } : {});
  inputAliases.forEach((a, i) => (inputs[a] = { node: placeholders[i]!, spec: fedSpec(def.inputs![a]!, exampleInputs.includes(a)) }));
  const outputs: ExecutableGraph['outputs'] = {};
  outputAliases.forEach((a, i) => (outputs[a] = { tensor: graphDefRef(outRefs[i]!), spec: tensorSpec(def.outputs![a]!) }));
  const signature: ArtifactSignature = {
    methodName: def.methodName,
    inputs: Object.fromEntries(inputAliases.map((a, i) => [a, { ...def.inputs![a]!, ...fedDtype(a), name: `${placeholders[i]}:0` }])),
    outputs: Object.fromEntries(outputAliases.map((a, i) => [a, { ...def.outputs![a]!, name: outRefs[i]! }])),
  };
  const producer = src.meta.graphDef?.versions?.producer ?? 0;
  return {
    signatureKey: key,
    methodName: def.methodName ?? '',
    artifacts: toArtifacts(g, signature, producer, functions),
    inputs,
    outputs,
    unsupported,
    stats,
    exampleInputs,
    loops,
  };
}

/**
 * The spec of an input as run() accepts it. A re-typed tf.Example input is DT_STRING; when its SignatureDef entry
 * records no shape at all (the same exports that get the dtype wrong), its shape is unknown (null), not the scalar an
 * empty TensorShapeProto would mean: it takes a batch of serialized Examples, as TF Serving sends.
 */
export function fedSpec(info: TensorInfo, example: boolean): TensorSpec {
  const spec = tensorSpec(info);
  if (!example) return spec;
  return { ...spec, dtype: 'DT_STRING', shape: info.tensorShape ? spec.shape : null };
}

const EXAMPLE_METHODS = ['tensorflow/serving/classify', 'tensorflow/serving/regress'];
const PARSE_EXAMPLE_OPS = new Set(['ParseExample', 'ParseExampleV2']);
const PASS_THROUGH_OPS = new Set(['Identity', 'Snapshot', 'StopGradient']);

/**
 * Classify and regress requests carry serialized tf.Examples: TF Serving's classifier and regressor (and its REST
 * :classify / :regress) always feed a DT_STRING tensor to the signature's input, whatever dtype the SignatureDef
 * declares, and TensorFlow checks a feed against the graph's placeholder, not the SignatureDef. Some exports declare
 * another dtype (TF Serving's own half_plus_three testdata declares DT_FLOAT for its DT_STRING `tf_example`
 * placeholder). For a classify/regress signature, every input whose placeholder reaches input 0 (`serialized`) of a
 * ParseExample/ParseExampleV2 node (directly or through identities; after inlining, so TF2 function bodies count) is
 * re-typed DT_STRING. Returns the re-typed aliases; other signatures and inputs are left as declared.
 */
function retypeExampleFeeds(g: WorkGraph, def: SignatureDef, aliases: string[], placeholders: string[]): string[] {
  if (!EXAMPLE_METHODS.includes(def.methodName ?? '')) return [];
  const serializedFrom = new Set<string>();
  for (const n of g.nodes.values()) {
    if (!PARSE_EXAMPLE_OPS.has(n.op ?? '') || !n.input?.[0]) continue;
    let [name] = splitRef(n.input[0]);
    for (let hops = 0; hops < 1000; hops++) {
      const src = g.nodes.get(name);
      if (!src || !PASS_THROUGH_OPS.has(src.op ?? '') || !src.input?.[0]) break;
      [name] = splitRef(src.input[0]);
    }
    serializedFrom.add(name);
  }
  const retyped: string[] = [];
  aliases.forEach((alias, i) => {
    const node = g.nodes.get(placeholders[i]!);
    if (!node || !serializedFrom.has(node.name!) || def.inputs?.[alias]?.dtype === 'DT_STRING') return;
    node.attr = { ...node.attr, dtype: { type: 'DT_STRING' } };
    retyped.push(alias);
  });
  return retyped;
}

/**
 * Tables are bound to constants in the main graph (bindTables); a table or table read still present is one tfsvc could
 * not bind (inside a control-flow function, or a handle it cannot trace): refused rather than answering every lookup
 * with the default.
 */
function refuseUnfilledTables(key: string, nodes: NodeDef[], file: string): void {
  const left = nodes.filter((n) => TABLE_OPS.has(n.op ?? '') || TABLE_READ_OPS.has(n.op ?? '')).map((n) => n.name!);
  if (left.length === 0) return;
  throw new ModelError(
    `signature ${key} reads a lookup table tfsvc cannot bind to its contents (${left.slice(0, 5).join(', ')}: inside a ` +
      'While/If function, or through a handle that does not lead to a table of the graph); every lookup would return the default value',
    file,
  );
}

function normalizeOptimize(o: BuildOptions['optimize']): Required<OptimizeOptions> {
  if (o === false) return { identities: false, fold: false, fuse: false };
  if (o === true || o === undefined) return { identities: true, fold: true, fuse: true };
  return { identities: o.identities ?? true, fold: o.fold ?? true, fuse: o.fuse ?? true };
}

/** A private copy of a top-level node: canonical data inputs, no control inputs, stripped defaults restored. */
function copyNode(n: NodeDef, ops: OpRegistry): NodeDef {
  const copy: NodeDef = { name: n.name, op: n.op, input: [], attr: { ...(n.attr ?? {}) } };
  for (const r of n.input ?? []) {
    const c = canonicalRef(r);
    if (c) copy.input!.push(c);
  }
  ops.restoreDefaults(copy);
  return copy;
}
