// Recurrent loops (Keras LSTM / GRU / SimpleRNN, `tf.while_loop` over a sequence) run as one tfsvc op instead of
// tfjs-converter's functional While. Keras's TF2 `backend.rnn` lowers to a StatelessWhile whose loop state carries
// TensorLists (DT_VARIANT): an input list (TensorListFromTensor of the time-major sequence, read with
// TensorListGetItem(list, time) in the body) and an output list (TensorListReserve before the loop, TensorListSetItem
// (list, time, h) in the body, TensorListStack after it). tfjs-converter's While runs such loops through executeAsync
// (an await per node and per iteration) and, for real Keras exports, crashes in TensorList.stack on a tensor its
// disposal already freed.
//
// A loop whose TensorLists are used only that way is rewritten here:
//   - the body becomes a plain tensor graph (the "step"): each TensorListGetItem becomes a Placeholder fed with one
//     element of the input sequence, each TensorListSetItem goes and its value becomes a step output, and the cond
//     function is appended to it, computed on the body's outputs, so one iteration is one synchronous execute();
//   - the While node becomes the custom op `TfsvcRecurrentLoop` (run by src/core/engine/recurrent-loop-op.ts): it
//     takes the sequence tensors where the While took the input lists, and returns each output list already stacked,
//     so the TensorListStack after it becomes an Identity.
// Frozen variables the loop reads (bound resource arguments, see control-flow.ts) stay loop arguments fed from the main
// graph's weights, so no weight is stored twice. Anything else (lists used another way, nested control flow in the
// body, lists read back after the loop by other ops) keeps tfjs's While: the rewrite is an optimisation of a pattern,
// never a guess.
import { toArtifacts } from './artifacts.js';
import type { LoweredFunction } from './control-flow.js';
import { isFunctionalOp } from './control-flow.js';
import { pruneTo } from './prune.js';
import { constValue, splitRef, type WorkGraph } from './work-graph.js';
import type { io } from '@tensorflow/tfjs-core';
import type { NodeDef } from '../savedmodel/types.js';

/** The custom op a rewritten loop becomes. */
export const RECURRENT_LOOP_OP = 'TfsvcRecurrentLoop';
/** Its attr carrying the loop's id; the engine numbers loops per thread (see recurrent-loop-op.ts). */
export const RECURRENT_LOOP_ATTR = 'tfsvc_loop';

/** How the loop executor treats loop argument k. */
export type LoopArg =
  /** A tensor carried from one iteration to the next. `next` is the step output giving its next value, absent when the body returns it unchanged. */
  | { kind: 'tensor'; placeholder: string; condPlaceholder?: string; next?: string }
  /** A TensorList made from a tensor (the op's input k is that tensor), read one element per iteration. */
  | { kind: 'input-list' }
  /** A TensorList the body fills one element per iteration; the op returns it stacked. */
  | { kind: 'output-list'; elementShape?: number[] };

export interface RecurrentLoopPlan {
  /** The While node in the main graph (now a TfsvcRecurrentLoop) and its op, for messages. */
  node: string;
  op: string;
  args: LoopArg[];
  /** Step placeholders fed with element `args[index]` (an int scalar tensor argument) of input list `list`. */
  reads: { placeholder: string; list: number; index: number }[];
  /** Step outputs written at element `args[index]` (its value before the step) of output list `list`. */
  writes: { value: string; list: number; index: number }[];
  /** Step output: the cond function on the body's outputs (whether to run another iteration). */
  next: string;
  /** Cond graph output (on the loop's initial arguments). */
  first: string;
  step: io.ModelArtifacts;
  cond: io.ModelArtifacts;
}

/** Step/cond graphs of a plan before they become artifacts. */
interface PlanGraphs {
  plan: Omit<RecurrentLoopPlan, 'step' | 'cond'>;
  step: WorkGraph;
  cond: WorkGraph;
}

const WHILE_OPS = new Set(['While', 'StatelessWhile']);
const PASS = new Set(['Identity', 'Snapshot']);
const LIST_READ = 'TensorListGetItem';
const LIST_WRITE = 'TensorListSetItem';
const LIST_STACK = 'TensorListStack';

/**
 * Rewrites every While of `g` (the main graph, control flow already lowered) that has the recurrent pattern above.
 * Returns the plans and the functions still needed by the nodes that remain (the rewritten loops' cond/body functions
 * are dropped unless another node calls them). `roots` are the main graph's outputs and feeds, for pruning the list
 * constructors the loops no longer use.
 */
export function rewriteRecurrentLoops(g: WorkGraph, functions: LoweredFunction[], roots: string[]): { plans: RecurrentLoopPlan[]; functions: LoweredFunction[] } {
  const byName = new Map(functions.map((f) => [f.name, f]));
  const plans: RecurrentLoopPlan[] = [];
  for (const node of [...g.nodes.values()]) {
    if (!WHILE_OPS.has(node.op ?? '')) continue;
    const planned = planLoop(g, node, byName);
    if (!planned) continue;
    applyPlan(g, node, planned.plan);
    plans.push({ ...planned.plan, step: toArtifacts(planned.step, undefined), cond: toArtifacts(planned.cond, undefined) });
  }
  if (plans.length === 0) return { plans, functions };
  pruneTo(g, roots);
  return { plans, functions: functionsInUse(g, functions) };
}

/** The functions that the remaining control-flow nodes (and, transitively, the functions they call) name. */
function functionsInUse(g: WorkGraph, functions: LoweredFunction[]): LoweredFunction[] {
  const byName = new Map(functions.map((f) => [f.name, f]));
  const used = new Set<string>();
  const visit = (graph: WorkGraph) => {
    for (const n of graph.nodes.values()) {
      if (!isFunctionalOp(n.op)) continue;
      for (const a of Object.values(n.attr ?? {})) {
        const name = a.func?.name;
        if (!name || used.has(name)) continue;
        used.add(name);
        const f = byName.get(name);
        if (f) visit(f.graph);
      }
    }
  };
  visit(g);
  return functions.filter((f) => used.has(f.name));
}

/** `ref` with Identity/Snapshot nodes of `graph` looked through. */
function source(graph: WorkGraph, ref: string): string {
  let r = ref;
  for (let hops = 0; hops < 1000; hops++) {
    const n = graph.nodes.get(splitRef(r)[0]);
    if (!n || !PASS.has(n.op ?? '') || !n.input?.[0]) return r;
    r = n.input[0];
  }
  return r;
}

/** Non-pass-through nodes of `graph` reading `ref` (through identities), with the input position they read it at. */
function readers(graph: WorkGraph, ref: string): { node: NodeDef; at: number }[] {
  const out: { node: NodeDef; at: number }[] = [];
  for (const n of graph.nodes.values()) {
    if (PASS.has(n.op ?? '')) continue;
    (n.input ?? []).forEach((r, at) => {
      if (source(graph, r) === ref) out.push({ node: n, at });
    });
  }
  return out;
}

function planLoop(g: WorkGraph, loop: NodeDef, fns: Map<string, LoweredFunction>): PlanGraphs | undefined {
  const body = fns.get(loop.attr?.body?.func?.name ?? '');
  const cond = fns.get(loop.attr?.cond?.func?.name ?? '');
  if (!body || !cond) return undefined;
  for (const f of [body, cond]) for (const n of f.graph.nodes.values()) if (isFunctionalOp(n.op)) return undefined;
  const inputs = loop.input ?? [];
  const n = inputs.length;
  if (body.inputArgs.length !== n || body.outputArgs.length !== n || cond.inputArgs.length !== n) return undefined;
  const bodyIn = body.inputArgs.map((a) => `${a.name}:0`);
  const condIn = cond.inputArgs.map((a) => `${a.name}:0`);
  const bodyOut = body.outputArgs.map((a) => source(body.graph, body.ret[a.name]!));
  const condOut = source(cond.graph, cond.ret[cond.outputArgs[0]?.name ?? '']!);
  if (!condOut || cond.outputArgs.length !== 1) return undefined;

  // Main-graph readers of each loop output.
  const loopReaders = (k: number) => readers(g, `${loop.name}:${k}`);
  const isIntArg = (k: number) => k >= 0 && body.inputArgs[k]!.type !== 'DT_VARIANT';

  const args: LoopArg[] = [];
  const reads: RecurrentLoopPlan['reads'] = [];
  const writes: RecurrentLoopPlan['writes'] = [];
  const readNodes = new Set<string>();
  const writeNodes = new Map<string, string>(); // SetItem node → its value ref
  for (let k = 0; k < n; k++) {
    if (body.inputArgs[k]!.type !== 'DT_VARIANT') {
      args.push({ kind: 'tensor', placeholder: body.inputArgs[k]!.name });
      continue;
    }
    if (readers(cond.graph, condIn[k]!).length > 0) return undefined;
    const init = g.nodes.get(splitRef(source(g, inputs[k]!))[0]);
    const uses = readers(body.graph, bodyIn[k]!);
    if (init?.op === 'TensorListFromTensor') {
      // An input list: returned unchanged, only read at an index that is a loop argument.
      if (bodyOut[k] !== bodyIn[k] || loopReaders(k).length > 0) return undefined;
      for (const { node: r, at } of uses) {
        if (r.op !== LIST_READ || at !== 0) return undefined;
        const index = bodyIn.indexOf(source(body.graph, r.input![1]!));
        if (!isIntArg(index)) return undefined;
        reads.push({ placeholder: r.name!, list: k, index });
        readNodes.add(r.name!);
      }
      args.push({ kind: 'input-list' });
      continue;
    }
    if (init?.op === 'TensorListReserve' || init?.op === 'EmptyTensorList') {
      // An output list: written once per iteration at an index that is a loop argument, stacked after the loop.
      if (uses.length !== 1) return undefined;
      const set = uses[0]!.node;
      if (set.op !== LIST_WRITE || uses[0]!.at !== 0 || bodyOut[k] !== `${set.name}:0`) return undefined;
      if (readers(body.graph, `${set.name}:0`).length > 0) return undefined;
      const index = bodyIn.indexOf(source(body.graph, set.input![1]!));
      if (!isIntArg(index)) return undefined;
      const after = loopReaders(k);
      if (after.length === 0 || after.some(({ node: r, at }) => r.op !== LIST_STACK || at !== 0)) return undefined;
      writes.push({ value: set.input![2]!, list: k, index });
      writeNodes.set(set.name!, set.input![2]!);
      args.push({ kind: 'output-list', elementShape: knownShape(g, after[0]!.node) });
      continue;
    }
    return undefined;
  }

  // Frozen variables the functions read from Consts named like the main graph's weight (control-flow.ts) are read
  // from the loop argument again: the step model is fed the main graph's weight tensor instead of storing a copy.
  const bound = new Map<string, number>(); // const name → arg index
  inputs.forEach((ref, k) => {
    const src = g.nodes.get(splitRef(source(g, ref))[0]);
    if (src?.op === 'Const' && body.inputArgs[k]!.type !== 'DT_VARIANT') bound.set(src.name!, k);
  });

  // The step graph: the body with lists replaced, then the cond on the body's outputs.
  const step: WorkGraph = { nodes: new Map(), values: new Map() };
  const bodyMap = (r: string) => {
    const [name] = splitRef(r);
    const k = bound.get(name);
    return k !== undefined && body.graph.nodes.get(name)?.op === 'Const' ? bodyIn[k]! : r;
  };
  for (const node of body.graph.nodes.values()) {
    if (writeNodes.has(node.name!)) continue;
    if (bound.has(node.name!) && node.op === 'Const') continue;
    if (node.op === 'Placeholder' && node.attr?.dtype?.type === 'DT_VARIANT') continue;
    if (readNodes.has(node.name!)) {
      const dtype = node.attr?.element_dtype?.type ?? 'DT_FLOAT';
      step.nodes.set(node.name!, { name: node.name, op: 'Placeholder', input: [], attr: { dtype: { type: dtype } } });
      continue;
    }
    step.nodes.set(node.name!, { ...node, input: (node.input ?? []).map(bodyMap), attr: { ...(node.attr ?? {}) } });
    if (body.graph.values.has(node.name!)) step.values.set(node.name!, body.graph.values.get(node.name!)!);
  }
  const nextOf = (k: number) => bodyMap(bodyOut[k]!);
  const condPrefix = uniquePrefix(step, 'cond');
  const condMap = (r: string) => {
    const [name] = splitRef(r);
    const k = cond.inputArgs.findIndex((a) => a.name === name);
    if (k >= 0) return nextOf(k);
    const b = bound.get(name);
    if (b !== undefined && cond.graph.nodes.get(name)?.op === 'Const') return nextOf(b);
    return `${condPrefix}/${r}`;
  };
  for (const node of cond.graph.nodes.values()) {
    if (node.op === 'Placeholder' || (bound.has(node.name!) && node.op === 'Const')) continue;
    const name = `${condPrefix}/${node.name}`;
    step.nodes.set(name, { ...node, name, input: (node.input ?? []).map(condMap), attr: { ...(node.attr ?? {}) } });
    if (cond.graph.values.has(node.name!)) step.values.set(name, cond.graph.values.get(node.name!)!);
  }
  const next = condMap(condOut);
  args.forEach((a, k) => {
    if (a.kind !== 'tensor') return;
    const out = nextOf(k);
    if (out !== bodyIn[k]) a.next = out;
  });
  const stepOutputs = [next, ...writes.map((w) => bodyMap(w.value)), ...args.flatMap((a) => (a.kind === 'tensor' && a.next ? [a.next] : []))];
  // Placeholders stay whether or not anything reads them: the executor feeds every tensor argument.
  const stepRoots = [...stepOutputs, ...args.flatMap((a) => (a.kind === 'tensor' ? [`${a.placeholder}:0`] : [])), ...reads.map((r) => `${r.placeholder}:0`)];
  for (const w of writes) w.value = bodyMap(w.value);
  pruneTo(step, stepRoots);

  // The cond graph on the initial arguments.
  const condGraph: WorkGraph = { nodes: new Map(), values: new Map() };
  for (const node of cond.graph.nodes.values()) {
    if (node.op === 'Placeholder' && node.attr?.dtype?.type === 'DT_VARIANT') continue;
    const k = bound.get(node.name!);
    if (k !== undefined && node.op === 'Const') continue;
    const map = (r: string) => {
      const b = bound.get(splitRef(r)[0]);
      return b !== undefined && cond.graph.nodes.get(splitRef(r)[0])?.op === 'Const' ? condIn[b]! : r;
    };
    condGraph.nodes.set(node.name!, { ...node, input: (node.input ?? []).map(map) });
    if (cond.graph.values.has(node.name!)) condGraph.values.set(node.name!, cond.graph.values.get(node.name!)!);
  }
  const first = (() => {
    const b = bound.get(splitRef(condOut)[0]);
    return b !== undefined ? condIn[b]! : condOut;
  })();
  args.forEach((a, k) => {
    if (a.kind === 'tensor' && condGraph.nodes.get(cond.inputArgs[k]!.name)?.op === 'Placeholder') a.condPlaceholder = cond.inputArgs[k]!.name;
  });
  pruneTo(condGraph, [first, ...args.flatMap((a) => (a.kind === 'tensor' && a.condPlaceholder ? [`${a.condPlaceholder}:0`] : []))]);

  return { plan: { node: loop.name!, op: loop.op!, args, reads, writes, next, first }, step, cond: condGraph };
}

/** The element shape a TensorListStack states, when every dimension is known (for a loop that runs zero times). */
function knownShape(g: WorkGraph, stack: NodeDef): number[] | undefined {
  const ref = stack.input?.[1];
  if (!ref) return undefined;
  const src = g.nodes.get(splitRef(source(g, ref))[0]);
  if (src?.op !== 'Const') return undefined;
  const dims = Array.from(constValue(g, src.name!).data as ArrayLike<number>, Number);
  return dims.every((d) => d >= 0) ? dims : undefined;
}

function uniquePrefix(g: WorkGraph, base: string): string {
  let p = base;
  while ([...g.nodes.keys()].some((k) => k === p || k.startsWith(`${p}/`))) p += '_';
  return p;
}

/** Turns the While into the loop op and its TensorListStack readers into Identities. */
function applyPlan(g: WorkGraph, loop: NodeDef, plan: RecurrentLoopPlan | Omit<RecurrentLoopPlan, 'step' | 'cond'>): void {
  const inputs = [...(loop.input ?? [])];
  const types = [...(loop.attr?.T?.list?.type ?? [])];
  plan.args.forEach((a, k) => {
    if (a.kind === 'input-list') {
      const from = g.nodes.get(splitRef(source(g, inputs[k]!))[0])!;
      inputs[k] = from.input![0]!;
      types[k] = from.attr?.element_dtype?.type ?? 'DT_FLOAT';
    } else if (a.kind === 'output-list') {
      // The slot stays so argument positions match; it carries the first argument, which the executor ignores here.
      inputs[k] = inputs[0]!;
      types[k] = types[0]!;
    }
  });
  const outTypes = plan.args.map((a, k) => (a.kind === 'output-list' ? loop.attr?.T?.list?.type?.[k] : types[k]));
  plan.args.forEach((a, k) => {
    if (a.kind !== 'output-list') return;
    for (const { node } of readers(g, `${loop.name}:${k}`)) {
      const dtype = node.attr?.element_dtype?.type ?? 'DT_FLOAT';
      outTypes[k] = dtype;
      node.op = 'Identity';
      node.input = [node.input![0]!];
      node.attr = { T: { type: dtype } };
    }
  });
  loop.op = RECURRENT_LOOP_OP;
  loop.input = inputs;
  loop.attr = { T: { list: { type: types } }, Tout: { list: { type: outTypes as string[] } }, [RECURRENT_LOOP_ATTR]: { i: 0 } };
}
