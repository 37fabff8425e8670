// Which ops of a graph tfjs cannot execute, so a model fails at load time with every missing op named, never at the
// first request.
import type { NodeDef } from '../savedmodel/types.js';
import { writesVariable } from './freeze.js';
import { tfjsSupports } from './tfjs-ops.js';

export interface UnsupportedOp {
  op: string;
  /** Names of the nodes using it (after inlining: `call/inner` paths). */
  nodes: string[];
}

/**
 * Ops of `nodes` tfjs lacks, sorted by op name; empty when everything can run. Pass the nodes of the control-flow
 * functions too (their node names are `<function>/<node>`): a body op tfjs lacks fails the load like any other.
 */
export function findUnsupportedOps(nodes: Iterable<Pick<NodeDef, 'name' | 'op'>>): UnsupportedOp[] {
  const missing = new Map<string, string[]>();
  for (const n of nodes) {
    const op = n.op ?? '';
    if (tfjsSupports(op)) continue;
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

/** One line on what a user can do about `ops` (after describeUnsupported's list). */
export function unsupportedAdvice(ops: UnsupportedOp[]): string {
  if (ops.some(({ op }) => writesVariable(op))) {
    return 'the signature writes variables (a stateful RNN, a counter, a training step), which tfsvc cannot do (it runs variables as frozen constants): export a serving signature that does not update state (e.g. stateful=False), or serve this one with TensorFlow Serving';
  }
  return 'TensorFlow.js has no kernel for these ops: re-export the model without them (a supported equivalent, or the op moved out of the serving signature), or serve it with TensorFlow Serving';
}
