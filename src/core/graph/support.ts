// Which ops of a graph tfjs cannot execute, so a model fails at load time with every missing op named, never at the
// first request.
import type { NodeDef } from '../savedmodel/types.js';
import { tfjsSupports } from './tfjs-ops.js';

/**
 * Functional control flow (tf.while_loop / tf.cond in TF2, Keras RNN layers): tfjs can run these only with their
 * branch/body functions in the model's function library, which tfsvc does not convert yet, so they are refused at load
 * time like missing ops rather than failing on the first request.
 */
const FUNCTIONAL_CONTROL_FLOW = new Set(['While', 'StatelessWhile', 'If', 'StatelessIf']);

export interface UnsupportedOp {
  op: string;
  /** Names of the nodes using it (after inlining: `call/inner` paths). */
  nodes: string[];
}

/** Ops of `nodes` tfjs lacks, sorted by op name; empty when everything can run. */
export function findUnsupportedOps(nodes: Iterable<Pick<NodeDef, 'name' | 'op'>>): UnsupportedOp[] {
  const missing = new Map<string, string[]>();
  for (const n of nodes) {
    const op = n.op ?? '';
    if (tfjsSupports(op) && !FUNCTIONAL_CONTROL_FLOW.has(op)) continue;
    let list = missing.get(op);
    if (!list) missing.set(op, (list = []));
    list.push(n.name ?? '?');
  }
  return [...missing.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([op, names]) => ({ op, nodes: names }));
}

/** One line per op: `Foo (2 nodes: a/b, c)`, at most 5 names each. */
export function describeUnsupported(ops: UnsupportedOp[]): string {
  return ops
    .map(({ op, nodes }) => {
      const shown = nodes.slice(0, 5).join(', ') + (nodes.length > 5 ? `, ... ${nodes.length - 5} more` : '');
      return `${op} (${nodes.length} node${nodes.length === 1 ? '' : 's'}: ${shown})`;
    })
    .join('; ');
}
