// Exact int64 values beyond the 32-bit integers TensorFlow.js computes DT_INT64 in. Ids, hashes and timestamps often
// only travel through a graph (Identity, Reshape, Gather, Concat) or are turned into strings (AsString, before a
// string lookup or hash bucket), and TF Serving returns them digit for digit. For such a request the engine feeds each
// big int64 input as element ids (0, 1, 2, ... across all big inputs), lets tfjs move the ids around, and maps them
// back: an int64 output reached only by data movement gets the original values exactly; an AsString of such data is
// computed on the host from the original values and fed to tfjs in place of the AsString node. Any other op computing
// on a big value (arithmetic, comparisons, casts, lookups by int64 key) cannot be exact in int32: the request is
// refused naming that node, never answered wrongly. Values inside int32 never take this path.
import { RequestError } from '../errors.js';
import type { HostTensor } from './types.js';

/** A node of the tfjs graph, as the artifacts' modelTopology lists it. */
export interface GraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, { i?: number | string; s?: string } | undefined>;
}

/** Ops that move elements without computing on them: which inputs carry the data (the rest are shapes or indices). */
const MOVE_OPS: Record<string, (n: GraphNode) => number[]> = {
  Identity: () => [0],
  Snapshot: () => [0],
  StopGradient: () => [0],
  PreventGradient: () => [0],
  IdentityN: (n) => dataInputs(n).map((_, i) => i),
  Reshape: () => [0],
  ExpandDims: () => [0],
  Squeeze: () => [0],
  Transpose: () => [0],
  Gather: () => [0],
  GatherV2: () => [0],
  GatherNd: () => [0],
  Slice: () => [0],
  StridedSlice: () => [0],
  Tile: () => [0],
  Reverse: () => [0],
  ReverseV2: () => [0],
  Unpack: () => [0],
  Split: () => [1],
  SplitV: () => [0],
  Pack: (n) => dataInputs(n).map((_, i) => i),
  ConcatV2: (n) => dataInputs(n).slice(0, -1).map((_, i) => i),
  BroadcastTo: () => [0],
};

/** Ops whose output does not depend on the input's values (only its shape). */
const SHAPE_OPS = new Set(['Shape', 'ShapeN', 'Size', 'Rank']);

const INT32_MIN = -(2n ** 31n);
const INT32_MAX = 2n ** 31n - 1n;

function dataInputs(n: GraphNode): string[] {
  return (n.input ?? []).filter((i) => !i.startsWith('^'));
}

const nodeOf = (tensor: string) => tensor.replace(/^\^/, '').replace(/:\d+$/, '');

/** Whether any value of an int64 tensor is outside int32 (then the exact path is needed). */
export function beyondInt32(h: HostTensor): boolean {
  if (h.dtype !== 'DT_INT64' || !(h.data instanceof BigInt64Array)) return false;
  for (const v of h.data) if (v < INT32_MIN || v > INT32_MAX) return true;
  return false;
}

export interface Int64Plan {
  /** Input alias → int32 element ids to feed in place of its values. */
  feeds: Record<string, Int32Array>;
  /** Element id → original value. */
  values: BigInt64Array;
  /** Nodes the ids flow through (their outputs hold ids). */
  tainted: Set<string>;
  /** AsString nodes on tainted data: fetch their input (ids), feed their output (exact strings). */
  asString: GraphNode[];
}

/**
 * The plan for a request whose `big` inputs (alias → its Placeholder node and value) hold int64 values beyond int32,
 * or RequestError naming the node that would compute on them.
 */
export function planInt64(nodes: GraphNode[], big: Array<{ alias: string; node: string; value: HostTensor }>): Int64Plan {
  const consumers = new Map<string, Array<{ node: GraphNode; slot: number }>>();
  const byName = new Map(nodes.map((n) => [n.name, n]));
  for (const n of nodes) {
    dataInputs(n).forEach((input, slot) => {
      const src = nodeOf(input);
      let list = consumers.get(src);
      if (!list) consumers.set(src, (list = []));
      list.push({ node: n, slot });
    });
  }
  const tainted = new Set<string>();
  const asString: GraphNode[] = [];
  const queue: Array<{ name: string; alias: string }> = [];
  for (const b of big) {
    tainted.add(b.node);
    queue.push({ name: b.node, alias: b.alias });
  }
  const refuse = (alias: string, n: GraphNode, why: string): never => {
    const v = big.find((b) => b.alias === alias)!;
    const sample = Array.from(v.value.data as BigInt64Array).find((x) => x < INT32_MIN || x > INT32_MAX);
    throw new RequestError(
      'INVALID_ARGUMENT',
      `input ${alias}: value ${sample} is beyond the 32-bit integers the TensorFlow.js engine computes DT_INT64 in, and node ` +
        `"${n.name}" (${n.op}) ${why}; such values pass exactly only through data movement (Identity, Reshape, Gather, ` +
        'Concat, ...) and AsString',
    );
  };
  while (queue.length) {
    const { name, alias } = queue.shift()!;
    for (const { node, slot } of consumers.get(name) ?? []) {
      if (SHAPE_OPS.has(node.op)) continue;
      if (node.op === 'AsString') {
        if (!asString.includes(node)) asString.push(node);
        continue;
      }
      const move = MOVE_OPS[node.op];
      if (!move) refuse(alias, node, 'computes on it');
      if (!move!(node).includes(slot)) refuse(alias, node, 'uses it as a shape or index');
      if (!tainted.has(node.name)) {
        tainted.add(node.name);
        queue.push({ name: node.name, alias });
      }
    }
  }
  // Concat and Pack mix their inputs: ids only map back when every piece carries ids (no constants among them).
  for (const name of tainted) {
    const node = byName.get(name);
    if (!node || (node.op !== 'ConcatV2' && node.op !== 'Pack')) continue;
    const pieces = MOVE_OPS[node.op]!(node).map((i) => nodeOf(dataInputs(node)[i]!));
    if (!pieces.every((p) => tainted.has(p))) refuse(big[0]!.alias, node, 'mixes it with other values');
  }
  let total = 0;
  for (const b of big) total += b.value.data.length;
  const values = new BigInt64Array(total);
  const feeds: Record<string, Int32Array> = {};
  let next = 0;
  for (const b of big) {
    const ids = new Int32Array(b.value.data.length);
    for (let i = 0; i < ids.length; i++) {
      ids[i] = next;
      values[next++] = (b.value.data as BigInt64Array)[i]!;
    }
    feeds[b.alias] = ids;
  }
  return { feeds, values, tainted, asString };
}

/** Whether output tensor `tensor` (GraphDef syntax) carries ids under `plan`. */
export function carriesIds(plan: Int64Plan, tensor: string): boolean {
  return plan.tainted.has(nodeOf(tensor));
}

/** Ids back to the original int64 values. */
export function idsToValues(plan: Int64Plan, ids: ArrayLike<number>, shape: number[]): HostTensor {
  const out = new BigInt64Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!(id >= 0 && id < plan.values.length)) throw new RequestError('INTERNAL', `exact int64 pass-through lost track of element ${id}`);
    out[i] = plan.values[id]!;
  }
  return { dtype: 'DT_INT64', shape, data: out };
}

/** TF's AsString of int64 ids' original values: decimal, padded to `width` with `fill` (attrs of the node). */
export function asStringValues(plan: Int64Plan, node: GraphNode, ids: ArrayLike<number>): Uint8Array[] {
  const width = Number(node.attr?.width?.i ?? -1);
  const fillAttr = node.attr?.fill?.s;
  // tfjs JSON attrs hold bytes base64-encoded.
  const fill = fillAttr ? Buffer.from(fillAttr, 'base64').toString('utf8') || ' ' : ' ';
  const enc = new TextEncoder();
  return Array.from(ids, (id) => {
    let s = plan.values[id]!.toString();
    if (width > s.length) s = fill === '0' && s.startsWith('-') ? `-${s.slice(1).padStart(width - 1, '0')}` : s.padStart(width, fill);
    return enc.encode(s);
  });
}
