// Unrolling a recurrent loop (src/core/graph/recurrent-loop.ts) for one sequence length: the step graph repeated T
// times in one graph, iteration i reading element i of each input sequence and the state iteration i-1 computed, the
// written values stacked in the graph. One synchronous execute() then runs the whole loop, where the loop executor
// pays tfjs's execute() set-up and two scalar read-backs per iteration.
//
// Unrolling assumes what a Keras RNN loop does: exactly T iterations (T = the input sequences' length), element i read
// and written at iteration i. The unrolled graph proves it as it runs: it also computes every iteration's cond and
// list indices, packed into one int32 vector read back once, and the caller falls back to the loop when they are not
// [true, ..., true, false] and 0, 1, ..., T-1.
import type * as tf from '@tensorflow/tfjs-core';
import type { RecurrentLoopPlan } from '../graph/recurrent-loop.js';

interface TopoNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, unknown>;
}

/** What the loop executor feeds and fetches to run an unrolled graph. */
export interface Unrolled {
  steps: number;
  artifacts: tf.io.ModelArtifacts;
  /** Placeholder → loop argument k (the initial state). */
  stateFeeds: [k: number, placeholder: string][];
  /** Placeholder → element `element` of the input sequence of argument `list`. */
  elementFeeds: { placeholder: string; list: number; element: number }[];
  /** Fetched: [check, ...stacked written values per plan.writes, ...final values of changing arguments]. */
  fetch: string[];
  /** Argument k → index in `fetch` of its final value. */
  finalAt: Map<number, number>;
  /** Index arguments whose values `check` carries after the T conds, T values each, in this order. */
  indexArgs: number[];
}

const canonical = (ref: string) => (/:\d+$/.test(ref) ? ref : `${ref}:0`);
const graphDefRef = (ref: string) => (ref.endsWith(':0') ? ref.slice(0, -2) : ref);
const nodeOf = (ref: string) => ref.slice(0, ref.lastIndexOf(':'));

/** The step graph of `plan` unrolled `steps` (>= 1) times. */
export function unrollLoop(plan: RecurrentLoopPlan, steps: number): Unrolled {
  const topology = plan.step.modelTopology as { node: TopoNode[]; versions?: unknown };
  const nodes = topology.node;
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const argOf = new Map<string, number>();
  plan.args.forEach((a, k) => {
    if (a.kind === 'tensor') argOf.set(a.placeholder, k);
  });
  const reads = new Map(plan.reads.map((r) => [r.placeholder, r]));
  const out: TopoNode[] = nodes.filter((n) => n.op === 'Const' || argOf.has(n.name));
  let current = new Map<number, string>([...argOf].map(([ph, k]) => [k, `${ph}:0`]));
  const indexArgs = [...new Set([...plan.reads.map((r) => r.index), ...plan.writes.map((w) => w.index)])];
  const conds: string[] = [];
  const indices = new Map<number, string[]>(indexArgs.map((k) => [k, []]));
  const written = plan.writes.map(() => [] as string[]);
  const elementFeeds: Unrolled['elementFeeds'] = [];

  for (let i = 0; i < steps; i++) {
    const at = (ref: string): string => {
      const c = canonical(ref);
      const name = nodeOf(c);
      const node = byName.get(name);
      if (!node) throw new Error(`step graph of ${plan.node} has no node ${name}`);
      if (node.op === 'Const') return c;
      const k = argOf.get(name);
      if (k !== undefined) return current.get(k)!;
      if (reads.has(name)) return `${name}@${i}:0`;
      return `i${i}/${c}`;
    };
    for (const k of indexArgs) indices.get(k)!.push(current.get(k)!);
    for (const r of plan.reads) {
      out.push({ ...byName.get(r.placeholder)!, name: `${r.placeholder}@${i}`, input: [] });
      elementFeeds.push({ placeholder: `${r.placeholder}@${i}`, list: r.list, element: i });
    }
    for (const n of nodes) {
      if (n.op === 'Const' || n.op === 'Placeholder') continue;
      out.push({ ...n, name: `i${i}/${n.name}`, input: (n.input ?? []).map((r) => graphDefRef(at(r))) });
    }
    conds.push(at(plan.next));
    plan.writes.forEach((w, j) => written[j]!.push(at(w.value)));
    const next = new Map(current);
    plan.args.forEach((a, k) => {
      if (a.kind === 'tensor' && a.next) next.set(k, at(a.next));
    });
    current = next;
  }

  // One int32 vector: every iteration's cond, then every index argument's value at every iteration.
  const packed: string[] = conds.map((c, i) => {
    const name = `check/cond_${i}`;
    out.push({ name, op: 'Cast', input: [graphDefRef(c)], attr: { SrcT: { type: 'DT_BOOL' }, DstT: { type: 'DT_INT32' } } });
    return name;
  });
  for (const k of indexArgs) packed.push(...indices.get(k)!.map(graphDefRef));
  out.push({ name: 'check', op: 'Pack', input: packed, attr: { N: { i: packed.length }, T: { type: 'DT_INT32' }, axis: { i: 0 } } });
  const fetch = ['check'];
  written.forEach((refs, j) => {
    const name = `written_${j}`;
    out.push({ name, op: 'Pack', input: refs.map(graphDefRef), attr: { N: { i: refs.length }, axis: { i: 0 } } });
    fetch.push(name);
  });
  const finalAt = new Map<number, number>();
  plan.args.forEach((a, k) => {
    if (a.kind !== 'tensor' || !a.next) return;
    finalAt.set(k, fetch.length);
    fetch.push(graphDefRef(current.get(k)!));
  });
  return {
    steps,
    artifacts: { ...plan.step, modelTopology: { ...topology, node: out } },
    stateFeeds: [...argOf].map(([ph, k]) => [k, ph]),
    elementFeeds,
    fetch,
    finalAt,
    indexArgs,
  };
}

/** Whether `check` (read back from an unrolled run) shows the loop ran exactly `steps` times at indices 0..steps-1. */
export function unrolledAsLooped(check: ArrayLike<number>, steps: number, indexArgs: number): boolean {
  if (check.length !== steps * (1 + indexArgs)) return false;
  for (let i = 0; i < steps; i++) if ((check[i] !== 0) !== (i < steps - 1)) return false;
  for (let j = 0; j < indexArgs; j++) for (let i = 0; i < steps; i++) if (check[steps + j * steps + i] !== i) return false;
  return true;
}
