// The mutable graph the rewrites in src/core/graph work on: nodes by name (TensorFlow NodeDefs as decodePlain returns
// them) plus the values of Const nodes that tfsvc created or changed (frozen variables, folded constants). A Const
// node without an entry in `values` keeps its value in `attr.value.tensor` (a TensorProto).
//
// Tensor references are canonical `node:index` strings while rewriting; control inputs (`^node`) are dropped when a
// graph is loaded, since an inference graph without stateful ops has no ordering to preserve.
import type { HostTensor } from '../savedmodel/host-tensor.js';
import type { NodeDef } from '../savedmodel/types.js';
import { tensorProtoToHost } from '../savedmodel/tensor.js';

export interface WorkGraph {
  nodes: Map<string, NodeDef>;
  values: Map<string, HostTensor>;
}

/** `x` → `x:0`, `x:2` → `x:2`; control inputs (`^x`) give undefined. */
export function canonicalRef(ref: string): string | undefined {
  if (ref.startsWith('^')) return undefined;
  const i = ref.lastIndexOf(':');
  if (i < 0) return `${ref}:0`;
  return /^\d+$/.test(ref.slice(i + 1)) ? ref : `${ref}:0`;
}

/** Splits a canonical `node:index` reference. */
export function splitRef(ref: string): [node: string, index: number] {
  const i = ref.lastIndexOf(':');
  return [ref.slice(0, i), Number(ref.slice(i + 1))];
}

/** Canonical `node:index` → the form GraphDefs use (`node` for output 0, `node:k` otherwise). */
export function graphDefRef(ref: string): string {
  return ref.endsWith(':0') ? ref.slice(0, -2) : ref;
}

/** Value of a Const node: tfsvc's own table first, then the node's TensorProto. */
export function constValue(g: WorkGraph, name: string): HostTensor {
  const v = g.values.get(name);
  if (v) return v;
  const node = g.nodes.get(name);
  const proto = node?.attr?.value?.tensor;
  if (!proto) throw new Error(`Const node ${name} has no value`);
  const host = tensorProtoToHost(proto);
  g.values.set(name, host);
  return host;
}

/** Consumers of each node (by data edge), for rewrites that need fan-out counts. */
export function consumers(g: WorkGraph): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const node of g.nodes.values()) {
    for (const ref of node.input ?? []) {
      const [src] = splitRef(ref);
      let list = out.get(src);
      if (!list) out.set(src, (list = []));
      list.push(node.name!);
    }
  }
  return out;
}

/** Rewrites every input reference through `map` (canonical refs), following chains. */
export function rewriteInputs(g: WorkGraph, map: Map<string, string>): void {
  if (map.size === 0) return;
  for (const node of g.nodes.values()) if (node.input) node.input = node.input.map((r) => resolveRef(map, r));
}

/** Follows `map` from `ref` to its final target (identity when unmapped). */
export function resolveRef(map: Map<string, string>, ref: string): string {
  let r = ref;
  for (let hops = 0; map.has(r); hops++) {
    if (hops > 10000) throw new Error(`cyclic tensor alias at ${ref}`);
    r = map.get(r)!;
  }
  return r;
}
