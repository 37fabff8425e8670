// Freezes variables into constants. TF1 graphs hold `VariableV2` (read through `<name>/read` Identity nodes); TF2 graphs
// hold resource variables: `VarHandleOp` nodes read by `ReadVariableOp`. Each variable node becomes a Const holding its
// checkpoint value and each read becomes an Identity (removed later by the identity pass).
//
// Which checkpoint tensor belongs to a TF2 variable handle is found the way TensorFlow's loader finds it: the handle
// is a captured input of a top-level call; the called concrete function's `bound_inputs` in the SavedObjectGraph names
// the SavedObject (by node id) of each captured input; the checkpoint's TrackableObjectGraph node with the same id
// holds the `VARIABLE_VALUE` attribute whose `checkpoint_key` locates the tensor. Keras 3 exports track every variable
// twice (as layer variables and again under `_all_variables`, with a second set of handles); the handles bound to
// the serving functions are the ones resolved, so their values are the ones the signatures compute with.
import type { HostTensor } from '../savedmodel/host-tensor.js';
import type { Checkpoint } from '../savedmodel/checkpoint.js';
import type { FunctionDef, MetaGraphDef, NodeDef } from '../savedmodel/types.js';
import { ModelError } from '../errors.js';
import { calledFunction } from './inline.js';
import type { WorkGraph } from './work-graph.js';

export const VARIABLE_OPS = new Set(['VariableV2', 'Variable', 'VarHandleOp']);

const WRITE_OPS = new Set([
  'Assign', 'AssignAdd', 'AssignSub', 'AssignVariableOp', 'AssignAddVariableOp', 'AssignSubVariableOp',
  'ScatterUpdate', 'ScatterAdd', 'ScatterSub', 'ScatterMul', 'ScatterDiv', 'ScatterMin', 'ScatterMax',
  'ScatterNdUpdate', 'ScatterNdAdd', 'ScatterNdSub', 'StridedSliceAssign', 'ResourceStridedSliceAssign',
]);
const WRITE_PREFIXES = ['ResourceScatter', 'ResourceApply', 'ResourceSparseApply', 'Apply', 'SparseApply'];

/** Whether `op` writes a variable (assignments, scatter updates, optimizer steps). */
export function writesVariable(op: string | undefined): boolean {
  return op !== undefined && (WRITE_OPS.has(op) || WRITE_PREFIXES.some((p) => op.startsWith(p)));
}

/**
 * Nodes of `g` that write a variable. Freezing is only right for variables nothing writes: a function that assigns a
 * variable (a counter, a stateful RNN's state) and reads it later, ordered by control edges, would silently compute
 * with the stale value once control edges are dropped. So these nodes are kept in the graph (as extra prune roots)
 * and, being no tfjs op, make the signature fail the op check with the write named.
 */
export function variableWrites(g: WorkGraph): string[] {
  return [...g.nodes.values()].filter((n) => writesVariable(n.op)).map((n) => `${n.name}:0`);
}

/**
 * Checkpoint keys of the top-level variable nodes of a meta graph: `VarHandleOp` name → key through bound inputs, and
 * TF1 `VariableV2` name → the same name. Handles it cannot place are absent (freeze then tries fallbacks).
 */
export function variableKeys(meta: MetaGraphDef, checkpoint: Checkpoint | undefined): Map<string, string> {
  const keys = new Map<string, string>();
  const nodes = meta.graphDef?.node ?? [];
  const library = new Map<string, FunctionDef>((meta.graphDef?.library?.function ?? []).map((f) => [f.signature?.name ?? '', f]));
  const byName = new Map(nodes.map((n) => [n.name!, n]));
  const tog = checkpoint?.objectGraph();
  const concrete = meta.objectGraphDef?.concreteFunctions ?? {};
  for (const n of nodes) {
    if (n.op === 'VariableV2' || n.op === 'Variable') keys.set(n.name!, n.name!);
  }
  if (!tog) return keys;
  const keyOfObject = (id: number): string | undefined =>
    tog.nodes?.[id]?.attributes?.find((a) => a.name === 'VARIABLE_VALUE')?.checkpointKey;
  for (const call of nodes) {
    const fname = calledFunction(call, library);
    const bound = fname ? concrete[fname]?.boundInputs : undefined;
    if (!bound || bound.length === 0) continue;
    const inputs = (call.input ?? []).filter((r) => !r.startsWith('^'));
    const captured = inputs.slice(inputs.length - bound.length);
    captured.forEach((ref, i) => {
      const handle = byName.get(ref.split(':')[0]!);
      if (handle?.op !== 'VarHandleOp') return;
      const key = keyOfObject(bound[i]!);
      if (key && !keys.has(handle.name!)) keys.set(handle.name!, key);
    });
  }
  return keys;
}

/**
 * Replaces every variable node left in `g` by a Const with its checkpoint value, and every read by an Identity.
 * Throws ModelError naming the variable when no checkpoint value can be found for it.
 */
export function freezeVariables(g: WorkGraph, keys: Map<string, string>, checkpoint: Checkpoint | undefined, cache: Map<string, HostTensor>): number {
  let frozen = 0;
  for (const node of g.nodes.values()) {
    if (VARIABLE_OPS.has(node.op ?? '')) {
      const key = keyFor(node, keys, checkpoint);
      let value = cache.get(key);
      if (!value) {
        if (!checkpoint) throw new ModelError(`variable ${node.name} has no checkpoint: the SavedModel has no variables/ directory`);
        value = readVariable(checkpoint, node.name!, key);
        cache.set(key, value);
      }
      node.op = 'Const';
      node.input = [];
      node.attr = { dtype: { type: baseType(node.attr?.dtype?.type ?? value.dtype) } };
      g.values.set(node.name!, value);
      frozen++;
    } else if (node.op === 'ReadVariableOp') {
      node.op = 'Identity';
      node.attr = { T: { type: node.attr?.dtype?.type ?? 'DT_FLOAT' } };
    } else if (node.op === 'ResourceGather') {
      // Embedding lookups on a resource variable: gather rows of the frozen value.
      const batchDims = node.attr?.batch_dims?.i ?? 0;
      const axisName = `${node.name}/axis`;
      g.nodes.set(axisName, { name: axisName, op: 'Const', input: [], attr: { dtype: { type: 'DT_INT32' } } });
      g.values.set(axisName, { dtype: 'DT_INT32', shape: [], data: Int32Array.of(batchDims) });
      node.op = 'GatherV2';
      node.input = [node.input![0]!, node.input![1]!, `${axisName}:0`];
      node.attr = {
        Tparams: { type: node.attr?.dtype?.type ?? 'DT_FLOAT' },
        Tindices: node.attr?.Tindices ?? { type: 'DT_INT32' },
        Taxis: { type: 'DT_INT32' },
        batch_dims: { i: batchDims },
      };
    }
  }
  return frozen;
}

/**
 * The checkpoint value of `key`. A TF1 partitioned variable `w` is graph nodes `w/part_0`, `w/part_1`, ... while the
 * checkpoint stores `w` as slices under encoded keys: say that, rather than that `w/part_0` is missing.
 */
function readVariable(checkpoint: Checkpoint, name: string, key: string): HostTensor {
  const whole = key.replace(/\/part_\d+$/, '');
  if (whole !== key && !checkpoint.has(key) && checkpoint.has(whole) && checkpoint.entry(whole).slices?.length) {
    throw new ModelError(`variable ${name} is a partition of variable ${whole}, which the checkpoint stores in slices; tfsvc does not read partitioned variables`, checkpoint.indexFile);
  }
  return checkpoint.read(key);
}

function keyFor(node: NodeDef, keys: Map<string, string>, checkpoint: Checkpoint | undefined): string {
  const known = keys.get(node.name!);
  if (known) return known;
  // Fallbacks for graphs whose handles are not bound through the object graph: the handle's shared_name as a
  // checkpoint key or as a TrackableObjectGraph full_name, then the node name.
  const shared = node.attr?.shared_name?.s ? Buffer.from(node.attr.shared_name.s).toString('utf8') : '';
  const candidates = [shared, node.name!, `${shared}/.ATTRIBUTES/VARIABLE_VALUE`].filter(Boolean);
  for (const c of candidates) if (checkpoint?.has(c)) return c;
  const tog = checkpoint?.objectGraph();
  for (const obj of tog?.nodes ?? []) {
    for (const a of obj.attributes ?? []) {
      if (a.name === 'VARIABLE_VALUE' && a.fullName && (a.fullName === shared || a.fullName === node.name) && a.checkpointKey) return a.checkpointKey;
    }
  }
  throw new ModelError(`variable ${node.name}${shared && shared !== node.name ? ` (shared_name ${shared})` : ''} has no value in the checkpoint`);
}

function baseType(t: string): string {
  return t.endsWith('_REF') ? t.slice(0, -4) : t;
}
