// Constant folding: every node whose inputs are all constants is computed once, at load time, and replaced by a Const
// holding its value. In frozen Keras/TF2 graphs this removes the per-request work on weights (Keras 3's Conv2D bias
// arrives as ReadVariableOp → Reshape → Squeeze; TF1 reads go through Identity) and lets the fusion pass see the bias
// as a plain constant. Folding runs the subgraph on tfjs itself (the current backend), so folded values are exactly
// what the graph would have computed per request.
//
// Not folded: ops that produce fresh values per run (random ops), control flow and handles (TensorList/TensorArray),
// ops that expand small inputs into big outputs (Fill, Tile, BroadcastTo, ...: folding would bloat the weights), ops
// tfjs lacks, and ParseExample (its input is a request).
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { io } from '@tensorflow/tfjs-core';
import type { HostTensor } from '../savedmodel/host-tensor.js';
import { toArtifacts } from './artifacts.js';
import { TFSVC_OPS, tfjsSupports } from './tfjs-ops.js';
import { graphDefRef, rewriteInputs, splitRef, type WorkGraph } from './work-graph.js';

const NEVER_FOLD = new Set([
  'Placeholder', 'PlaceholderWithDefault', 'Const', 'RandomUniform', 'RandomUniformInt', 'RandomStandardNormal',
  'TruncatedNormal', 'Multinomial', 'Fill', 'Tile', 'BroadcastTo', 'Zeros', 'Ones', 'ZerosLike', 'OnesLike', 'Range',
  'OneHot', 'LinSpace', 'ParseExample', 'ParseExampleV2', 'Print', 'NoOp', 'HashTable', 'HashTableV2', 'LookupTableFindV2',
  'LookupTableImportV2', 'InitializeTableV2', 'TensorArrayV3', 'Enter', 'Exit', 'Merge', 'Switch', 'NextIteration', 'LoopCond',
  'If', 'StatelessIf', 'While', 'StatelessWhile',
]);

/**
 * TensorList/TensorArray ops return handles into per-execution state (Keras RNNs reserve their output lists from
 * constant shapes): a folded handle would point at nothing.
 */
function neverFold(op: string): boolean {
  // tfsvc's own ops are registered by the engine on its threads, not necessarily where the graph is built.
  return NEVER_FOLD.has(op) || TFSVC_OPS.has(op) || op.startsWith('TensorList') || op.startsWith('TensorArray');
}

/** tfjs dtype → the TF dtype a folded constant is recorded with. */
const TF_DTYPE: Record<string, string> = { float32: 'DT_FLOAT', int32: 'DT_INT32', bool: 'DT_BOOL', string: 'DT_STRING' };

/**
 * Folds constant subgraphs of `g` (mutating it); `keep` names nodes that must stay (signature outputs are kept as
 * Identity nodes over the folded value). Returns how many nodes were computed. Nodes left without consumers are
 * removed by the caller's next prune.
 */
export async function foldConstants(g: WorkGraph, keep: Set<string>): Promise<number> {
  const constant = new Set<string>();
  for (const n of g.nodes.values()) if (n.op === 'Const') constant.add(n.name!);
  // Fixpoint: a node is foldable once all its inputs are constant or foldable.
  const foldable = new Set<string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const n of g.nodes.values()) {
      const name = n.name!;
      if (constant.has(name) || foldable.has(name) || neverFold(n.op ?? '') || !tfjsSupports(n.op ?? '')) continue;
      if ((n.input ?? []).length === 0) continue;
      if ((n.input ?? []).every((r) => constant.has(splitRef(r)[0]) || foldable.has(splitRef(r)[0]))) {
        foldable.add(name);
        changed = true;
      }
    }
  }
  if (foldable.size === 0) return 0;
  // Boundary tensors: outputs of foldable nodes read by non-foldable nodes (or kept).
  const boundary = new Set<string>();
  for (const n of g.nodes.values()) {
    if (foldable.has(n.name!)) {
      if (keep.has(n.name!)) boundary.add(`${n.name}:0`);
      continue;
    }
    for (const r of n.input ?? []) if (foldable.has(splitRef(r)[0])) boundary.add(r);
  }
  if (boundary.size === 0) return 0;
  // Callers that never chose a backend (export, validate) get tfjs's default: the best one registered, cpu at least
  // (in production mode, without the cpu backend's "install tfjs-node" banner).
  if (!tf.env().getBool('PROD')) tf.env().set('PROD', true);
  await import('@tensorflow/tfjs-backend-cpu');
  await tf.ready();
  // Only the constants the folded nodes read: the others (most of a model's weights) would be copied into tfjs for
  // nothing, and on wasm the heap they grow stays grown for the life of the process.
  const needed = new Set(foldable);
  for (const name of foldable) for (const r of g.nodes.get(name)!.input ?? []) needed.add(splitRef(r)[0]);
  const sub: WorkGraph = { nodes: new Map(), values: g.values };
  for (const n of g.nodes.values()) if (needed.has(n.name!)) sub.nodes.set(n.name!, n);
  const refs = [...boundary];
  let results: tf.Tensor[];
  try {
    const model = await loadGraphModel(io.fromMemory(toArtifacts(sub, undefined)));
    try {
      const out = model.execute({}, refs.map(graphDefRef));
      results = Array.isArray(out) ? out : [out];
    } finally {
      model.dispose();
    }
  } catch {
    // A constant subgraph tfjs cannot evaluate is left as it is: if it fails for requests too, the request says so;
    // the load must not fail on an optimisation.
    return 0;
  }
  // Each boundary tensor becomes a Const: named like its node when it is output 0 of a node nobody must keep (so the
  // node itself turns into the constant), else `<node>/folded_<k>` with readers redirected to it.
  const alias = new Map<string, string>();
  // Read asynchronously: on webgpu the folded values are in GPU memory, which Node can only read that way.
  const data = await Promise.all(results.map(readTensor));
  refs.forEach((ref, i) => {
    const t = results[i]!;
    const [node, index] = splitRef(ref);
    let name = node;
    if (index !== 0 || keep.has(node)) {
      name = `${node}/folded_${index}`;
      while (g.nodes.has(name)) name += '_';
      alias.set(ref, `${name}:0`);
    }
    const value: HostTensor = { dtype: TF_DTYPE[t.dtype] ?? 'DT_FLOAT', shape: [...t.shape], data: data[i]! };
    t.dispose();
    g.nodes.set(name, { name, op: 'Const', input: [], attr: { dtype: { type: value.dtype } } });
    g.values.set(name, value);
  });
  // A kept node (a signature output) stays addressable as an Identity of its folded value.
  for (const name of foldable) {
    const folded = alias.get(`${name}:0`);
    if (keep.has(name) && folded) {
      g.nodes.set(name, { name, op: 'Identity', input: [folded], attr: { T: { type: g.values.get(splitRef(folded)[0])!.dtype } } });
      alias.delete(`${name}:0`);
    }
  }
  rewriteInputs(g, alias);
  return foldable.size;
}

/** A tensor's values in HostTensor layout for its tfjs dtype (strings as bytes), read as every backend allows. */
async function readTensor(t: tf.Tensor): Promise<HostTensor['data']> {
  if (t.dtype === 'string') return tf.engine().readSync(t.dataId) as unknown as Uint8Array[];
  const d = await t.data();
  if (t.dtype === 'bool') return Uint8Array.from(d as ArrayLike<number>);
  return d.slice() as Float32Array | Int32Array;
}
