// Which graph node an executor failure happened in. tfjs-converter's executor runs each node through
// `executeOp(node, ...)`, whose first step reads `node.category` to pick the op family; an error thrown inside has no
// node attached, so a user would see a bare JavaScript TypeError. Here each Node object of a loaded GraphModel (its
// main graph and the graphs of its control-flow functions) gets `category` as a getter that records the node as the
// one now running. The cost is one getter call per executed node, which is below the noise of any op; nothing is
// wrapped in try/catch on the hot path. After a run throws, lastNode() names the node that was started last, which
// is the failing one whenever nodes run one after another (every synchronous execute(), and a loop's step graph).
// Runs with async control flow (tfjs's own While/If) may interleave two loops; the node is then the last one started.
//
// Reaches into GraphModel's private executor (like shared-weights.ts); test/engine/node-trace.test.ts fails if a tfjs
// upgrade moves it.
import type { GraphModel } from '@tensorflow/tfjs-converter';

interface TfjsNode {
  name: string;
  op: string;
  category: string;
}
interface TfjsGraph {
  nodes?: Record<string, TfjsNode>;
  functions?: Record<string, TfjsGraph>;
}

export interface TracedNode {
  name: string;
  op: string;
}

let last: TfjsNode | undefined;
/** Nodes started since resetLastNode(), in order; kept only for async runs (see failedNode). */
let started: TfjsNode[] | undefined;

/** Starts tracking the nodes of `model`; true when its executor had the expected shape. */
export function traceNodes(model: GraphModel): boolean {
  const graph = (model as unknown as { executor?: { graph?: TfjsGraph } }).executor?.graph;
  if (!graph?.nodes) return false;
  const visit = (g: TfjsGraph) => {
    for (const node of Object.values(g.nodes ?? {})) {
      const category = node.category;
      Object.defineProperty(node, 'category', {
        configurable: true,
        enumerable: true,
        get() {
          last = node;
          started?.push(node);
          return category;
        },
      });
    }
    for (const f of Object.values(g.functions ?? {})) visit(f);
  };
  visit(graph);
  return true;
}

/**
 * Forgets the last node (call before a run). `async`: the run goes through executeAsync, where an op that fails
 * rejects its promise while the executor goes on starting other nodes; the nodes started are then kept in order.
 */
export function resetLastNode(async = false): void {
  last = undefined;
  started = async ? [] : undefined;
}

const CONTROL_FLOW = new Set(['While', 'StatelessWhile', 'If', 'StatelessIf']);

/**
 * The failing node of an async run, given the nodes that produced an output: the last one started that did not
 * (control-flow nodes excluded: a While still waiting on its body has no output either, and its body's failing node
 * was started after it).
 */
export function failedNode(computed: Set<string>): void {
  if (!started) return;
  for (let i = started.length - 1; i >= 0; i--) {
    const n = started[i]!;
    if (!computed.has(n.name) && !CONTROL_FLOW.has(n.op)) {
      last = n;
      break;
    }
  }
  started = undefined;
}

/** The node started last since resetLastNode(), if any. */
export function lastNode(): TracedNode | undefined {
  return last && { name: last.name, op: last.op };
}

/** Records `node` as the one running (for ops tfsvc runs itself, when their own checks fail). */
export function markNode(node: TracedNode): void {
  last = node as TfjsNode;
}
