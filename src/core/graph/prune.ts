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

/** What placeFeeds did: the placeholder of each feed, and where each signature output now reads from. */
export interface PlacedFeeds {
  /** Per feed, in order: the Placeholder node to feed. Feeds of one tensor share one placeholder. */
  placeholders: string[];
  /** The `outputs` given, each rewired to the placeholder's `p:0` when it is a fed tensor (a fed output echoes the feed). */
  outputs: string[];
}

/**
 * Replaces each fed tensor by a Placeholder standing for that tensor only: its consumers (graph inputs and signature
 * `outputs`, canonical refs) are rewired to the placeholder, and consumers of the node's other outputs are untouched.
 * A node fed at output 0 whose other outputs nobody uses becomes the placeholder itself (keeping its name, so the
 * common case, a signature input that is an Identity or a single-output op, is fed under its own name). Otherwise the
 * placeholder is a new node `<node>_<k>` and the node stays for its other outputs (pruning drops it when unused).
 */
export function placeFeeds(g: WorkGraph, feeds: FeedSpec[], outputs: string[] = []): PlacedFeeds {
  const placed = new Map<string, string>(); // fed ref → placeholder node
  let outs = [...outputs];
  const placeholders = feeds.map((feed) => {
    const done = placed.get(feed.ref);
    if (done) return done;
    const [name, index] = splitRef(feed.ref);
    const node = g.nodes.get(name);
    if (!node) throw new ModelError(`signature input ${feed.ref} names no node of the graph`);
    // No shape attr: TensorFlow's C++ runtime (what TF Serving runs) does not check fed shapes against the
    // signature, and tfjs would reject every shape the placeholder does not declare.
    const attr: NodeDef['attr'] = { dtype: { type: feed.dtype } };
    const otherOutputUsed = (ref: string) => {
      const [n, k] = splitRef(ref);
      return n === name && k !== index;
    };
    const inPlace =
      index === 0 &&
      ![...g.nodes.values()].some((n) => n.input?.some(otherOutputUsed)) &&
      !outs.some(otherOutputUsed);
    if (inPlace) {
      if (node.op !== 'Placeholder') g.values.delete(name);
      g.nodes.set(name, { name, op: 'Placeholder', input: [], attr });
      placed.set(feed.ref, name);
      return name;
    }
    let pname = `${name}_${index}`;
    while (g.nodes.has(pname)) pname += '_';
    g.nodes.set(pname, { name: pname, op: 'Placeholder', input: [], attr });
    const rewire = (r: string) => (r === feed.ref ? `${pname}:0` : r);
    for (const n of g.nodes.values()) n.input = n.input?.map(rewire);
    outs = outs.map(rewire);
    placed.set(feed.ref, pname);
    return pname;
  });
  return { placeholders, outputs: outs };
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
