// Cuts a graph down to what a signature computes: the nodes its outputs depend on (by data edges), stopping at its
// inputs. A signature input that is not a Placeholder (TF1 half_plus_two feeds `x:0`, an Identity of a ParseExample
// output) becomes a Placeholder of the signature's dtype and shape, as TensorFlow's feed semantics imply.
import type { NodeDef } from '../savedmodel/types.js';
import { ModelError } from '../errors.js';
import { splitRef, type WorkGraph } from './work-graph.js';

export interface FeedSpec {
  /** Canonical `node:index` the signature feeds. */
  ref: string;
  dtype: string;
}

/**
 * Replaces each fed tensor by a Placeholder and returns, per feed, the placeholder's node name. A feed of output 0
 * turns its node into the placeholder (keeping its name); a feed of output k>0 gets a new `node_k` placeholder and
 * its consumers are redirected.
 */
export function placeFeeds(g: WorkGraph, feeds: FeedSpec[]): string[] {
  return feeds.map((feed) => {
    const [name, index] = splitRef(feed.ref);
    const node = g.nodes.get(name);
    if (!node) throw new ModelError(`signature input ${feed.ref} names no node of the graph`);
    // No shape attr: TensorFlow's C++ runtime (what TF Serving runs) does not check fed shapes against the
    // signature, and tfjs would reject every shape the placeholder does not declare.
    const attr: NodeDef['attr'] = { dtype: { type: feed.dtype } };
    if (index === 0) {
      if (node.op !== 'Placeholder') g.values.delete(name);
      g.nodes.set(name, { name, op: 'Placeholder', input: [], attr });
      return name;
    }
    let pname = `${name}_${index}`;
    while (g.nodes.has(pname)) pname += '_';
    g.nodes.set(pname, { name: pname, op: 'Placeholder', input: [], attr });
    for (const n of g.nodes.values()) n.input = n.input?.map((r) => (r === feed.ref ? `${pname}:0` : r));
    return pname;
  });
}

/** Keeps only the nodes the `outputs` (canonical refs) depend on through data edges. Returns how many were removed. */
export function pruneTo(g: WorkGraph, outputs: string[]): number {
  const keep = new Set<string>();
  const stack = outputs.map((r) => splitRef(r)[0]);
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (keep.has(name)) continue;
    const node = g.nodes.get(name);
    if (!node) throw new ModelError(`tensor ${name} is used but no node defines it`);
    keep.add(name);
    for (const ref of node.input ?? []) stack.push(splitRef(ref)[0]);
  }
  let removed = 0;
  for (const name of [...g.nodes.keys()]) {
    if (!keep.has(name)) {
      g.nodes.delete(name);
      g.values.delete(name);
      removed++;
    }
  }
  return removed;
}
