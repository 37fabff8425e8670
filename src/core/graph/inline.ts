// Inlines function calls (PartitionedCall, StatefulPartitionedCall, and direct calls of library functions) into the
// calling graph, recursively, so the graph tfjs executes is flat. A body node `n` of a call node `c` becomes `c/n`;
// references to the function's arguments become the caller's inputs; function-internal names `n:out_arg:i` become flat
// `c/n:k` through the op registry; and consumers of the call's outputs `c:j` are redirected to what the body returns.
// The functions of While/If nodes are not calls: they run per iteration or branch and stay functions (control-flow.ts).
import type { FunctionDef, NodeDef } from '../savedmodel/types.js';
import { ModelError } from '../errors.js';
import { UnknownOpError, type OpRegistry } from './opdefs.js';
import { canonicalRef, rewriteInputs, type WorkGraph } from './work-graph.js';

const CALL_OPS = new Set(['PartitionedCall', 'StatefulPartitionedCall']);

/** The library function a node calls, or undefined when it is an ordinary op. */
export function calledFunction(node: NodeDef, library: Map<string, FunctionDef>): string | undefined {
  if (CALL_OPS.has(node.op ?? '')) return node.attr?.f?.func?.name;
  return library.has(node.op ?? '') ? node.op : undefined;
}

/**
 * Inlines every call in `g` (mutating it). Returns the alias map `call:j` → returned tensor, already applied to the
 * graph's inputs; callers resolve signature output names through it. `restoreDefaults` runs on every inlined node.
 */
export function inlineCalls(g: WorkGraph, library: Map<string, FunctionDef>, ops: OpRegistry): Map<string, string> {
  const alias = new Map<string, string>();
  const work = [...g.nodes.values()].filter((n) => calledFunction(n, library) !== undefined);
  let inlined = 0;
  while (work.length > 0) {
    const call = work.pop()!;
    const fname = calledFunction(call, library)!;
    const fn = library.get(fname);
    if (!fn) throw new ModelError(`node ${call.name} calls function ${fname}, which the graph's library does not define`);
    if (++inlined > 100000) throw new ModelError(`function inlining does not terminate (recursive function ${fname}?)`);
    g.nodes.delete(call.name!);
    for (const node of inlineOne(call, fn, ops, alias)) {
      // TF names nodes uniquely by scope, so this does not happen in exported graphs; if it did, overwriting the other
      // node would compute the wrong tensors silently.
      if (g.nodes.has(node.name!)) throw new ModelError(`inlining ${call.name} (function ${fname}) would create node ${node.name}, which the graph already has`);
      g.nodes.set(node.name!, node);
      if (calledFunction(node, library) !== undefined) work.push(node);
    }
  }
  rewriteInputs(g, alias);
  return alias;
}

/**
 * Body nodes of `fn` renamed under `call` (`call/n`), with inputs rewritten: argument names become the call's inputs,
 * `n:out_arg:i` becomes flat `call/n:k`, control inputs are dropped, stripped default attrs are restored. Records
 * `call:j` → what output j returns in `alias`. Also used to instantiate the functions control flow keeps (the call is
 * then a stand-in whose inputs are the function's own argument placeholders).
 */
export function inlineOne(call: NodeDef, fn: FunctionDef, ops: OpRegistry, alias: Map<string, string>): NodeDef[] {
  const prefix = call.name!;
  const sig = fn.signature ?? {};
  const callInputs = call.input ?? [];
  const args = new Map<string, string>();
  (sig.inputArg ?? []).forEach((arg, i) => {
    const ref = callInputs[i];
    if (ref === undefined) throw new ModelError(`node ${prefix} passes ${callInputs.length} inputs to ${sig.name}, which takes ${sig.inputArg!.length}`);
    args.set(arg.name!, ref);
  });
  const body = new Map<string, NodeDef>();
  for (const n of fn.nodeDef ?? []) {
    const copy: NodeDef = { ...n, attr: { ...(n.attr ?? {}) } };
    ops.restoreDefaults(copy);
    body.set(n.name!, copy);
  }
  // Body references: an argument name, or `node:out_arg:index` (function-internal form), or `node` alone.
  const translate = (ref: string): string | undefined => {
    if (ref.startsWith('^')) return undefined;
    if (args.has(ref)) return args.get(ref)!;
    const parts = ref.split(':');
    const node = body.get(parts[0]!);
    if (!node) throw new ModelError(`function ${sig.name}: body refers to unknown tensor ${ref}`);
    if (parts.length === 1) return `${prefix}/${parts[0]}:0`;
    if (parts.length === 2) return `${prefix}/${parts[0]}:${parts[1]}`;
    try {
      return `${prefix}/${parts[0]}:${ops.flatIndex(node, parts[1]!, Number(parts[2]))}`;
    } catch (err) {
      // An op nobody describes cannot run on tfjs either; keep the graph buildable so the load-time check can name
      // every such op at once (the index only matters for ops that run).
      if (err instanceof UnknownOpError) return `${prefix}/${parts[0]}:${parts[2]}`;
      throw new ModelError(`function ${sig.name}: ${(err as Error).message}`, undefined, { cause: err });
    }
  };
  const out: NodeDef[] = [];
  for (const node of body.values()) {
    const inputs: string[] = [];
    for (const ref of node.input ?? []) {
      const t = translate(ref);
      if (t !== undefined) inputs.push(t);
    }
    out.push({ ...node, name: `${prefix}/${node.name}`, input: inputs });
  }
  (sig.outputArg ?? []).forEach((arg, j) => {
    const ret = fn.ret?.[arg.name!];
    if (ret === undefined) throw new ModelError(`function ${sig.name} does not return its output ${arg.name}`);
    alias.set(`${prefix}:${j}`, canonicalRef(translate(ret)!)!);
  });
  return out;
}
