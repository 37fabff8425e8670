// Functional control flow: TF2's While/StatelessWhile (tf.while_loop, Keras RNN layers) and If/StatelessIf (tf.cond)
// name their cond/body/branch functions in attrs. tfjs-converter's executor runs them when model.json's
// `modelTopology.library.function` holds those functions: it builds one function executor per function, sharing the
// model's weight map, and calls it per iteration or per branch. So these functions are not inlined; they are
// converted the way the main graph is:
//   - instantiated with their nodes renamed under a prefix (`<function>/<node>`), because every Const of every
//     function is looked up by name in the one weight map the model has, so names must be unique model-wide;
//   - function-internal names (`add:z:0`) flattened to `node:k` through the op registry, control inputs dropped,
//     stripped default attrs restored, nested PartitionedCalls inlined;
//   - variables frozen when nothing writes them (a write is kept, and the op check refuses it): a resource argument
//     that the caller binds to a frozen variable (TF2 passes captured variables as extra loop-carried arguments of a
//     While, or as branch arguments of an If) is read from a Const inside the function that has the variable's own
//     weight name, so the value is stored once. The argument itself is still passed (its type becomes the
//     variable's dtype) so the function's signature still matches the caller's, and a While body still returns it
//     unchanged;
//   - nested While/If nodes get the same treatment, recursively.
// A function whose argument bindings differ between callers is emitted once per binding (`name`, `name_1`, ...).
import type { HostTensor } from '../savedmodel/host-tensor.js';
import type { Checkpoint } from '../savedmodel/checkpoint.js';
import type { FunctionDef, NodeDef } from '../savedmodel/types.js';
import { ModelError } from '../errors.js';
import { freezeVariables, variableWrites } from './freeze.js';
import { inlineCalls, inlineOne } from './inline.js';
import type { OpRegistry } from './opdefs.js';
import { pruneTo } from './prune.js';
import { constValue, resolveRef, splitRef, type WorkGraph } from './work-graph.js';

/** Control-flow ops tfjs runs with library functions, and the attrs that name those functions. */
export const FUNCTIONAL_OPS: Readonly<Record<string, readonly string[]>> = {
  While: ['cond', 'body'],
  StatelessWhile: ['cond', 'body'],
  If: ['then_branch', 'else_branch'],
  StatelessIf: ['then_branch', 'else_branch'],
};

/** Whether `op` is a control-flow op whose functions are kept (see FUNCTIONAL_OPS). */
export function isFunctionalOp(op: string | undefined): boolean {
  return op !== undefined && Object.hasOwn(FUNCTIONAL_OPS, op);
}

/** One function of the emitted library. Its graph holds its body nodes and one Placeholder per argument. */
export interface LoweredFunction {
  name: string;
  /** Arguments in order: the Placeholder node names of `graph` (tfjs feeds them positionally) and their dtypes. */
  inputArgs: { name: string; type: string }[];
  outputArgs: { name: string; type: string }[];
  /** Output arg name → canonical `node:index` in `graph`. */
  ret: Record<string, string>;
  graph: WorkGraph;
}

export interface LowerContext {
  library: Map<string, FunctionDef>;
  ops: OpRegistry;
  variableKeys: Map<string, string>;
  checkpoint?: Checkpoint;
  variableCache: Map<string, HostTensor>;
}

/** Argument index → the frozen variable (a Const of the caller's graph) that the caller passes there. */
type Binding = Map<number, { name: string; dtype: string; value: HostTensor }>;

const RESOURCE_READS = new Set(['ReadVariableOp', 'ResourceGather']);
const PASS_THROUGH = new Set(['Identity', 'Snapshot']);

/**
 * Converts the functions that the control-flow nodes of `g` (already inlined, frozen and optimised) call, rewriting
 * those nodes' function attrs and resource types. Returns the functions in the order they were finished (callees
 * first). ModelError when a function is missing or reads a resource that is not a variable it can freeze.
 */
export function lowerControlFlow(g: WorkGraph, ctx: LowerContext): LoweredFunction[] {
  return new Lowering(g, ctx).run();
}

class Lowering {
  private readonly out: LoweredFunction[] = [];
  /** `function|binding` → emitted function name. */
  private readonly emitted = new Map<string, string>();
  private readonly usedNames = new Set<string>();
  /** Node-name prefixes taken (main graph names included), so function nodes never clash with a weight name. */
  private readonly reserved: Set<string>;

  constructor(
    private readonly g: WorkGraph,
    private readonly ctx: LowerContext,
  ) {
    this.reserved = new Set(g.nodes.keys());
  }

  run(): LoweredFunction[] {
    for (const node of [...this.g.nodes.values()]) if (isFunctionalOp(node.op)) this.lowerNode(node, this.g);
    return this.out;
  }

  /** Points `node`'s function attrs at emitted functions specialised for the variables it passes in. */
  private lowerNode(node: NodeDef, graph: WorkGraph): void {
    const isIf = node.op === 'If' || node.op === 'StatelessIf';
    const typesAttr = isIf ? 'Tin' : 'T';
    const types = [...(node.attr?.[typesAttr]?.list?.type ?? [])];
    const args = (node.input ?? []).slice(isIf ? 1 : 0);
    const binding: Binding = new Map();
    args.forEach((ref, i) => {
      // Only resource slots: a loop-carried value that starts as a constant changes from one iteration to the next.
      if (types[i] !== 'DT_RESOURCE') return;
      const src = this.sourceConst(graph, ref);
      if (!src) return;
      const value = constValue(graph, src);
      binding.set(i, { name: src, dtype: value.dtype, value });
      types[i] = value.dtype;
    });
    const lowered: LoweredFunction[] = [];
    for (const attrName of FUNCTIONAL_OPS[node.op!]!) {
      const fname = node.attr?.[attrName]?.func?.name;
      if (!fname) throw new ModelError(`${node.op} node ${node.name} has no ${attrName} function`);
      const fn = this.specialise(fname, binding);
      lowered.push(fn);
      node.attr![attrName] = { func: { name: fn.name } };
    }
    if (binding.size === 0) return;
    node.attr![typesAttr] = { list: { type: types } };
    if (isIf) {
      // A branch that returns a frozen variable returns its value now.
      node.attr!.Tout = { list: { type: lowered[0]!.outputArgs.map((a) => a.type) } };
    }
  }

  /** The frozen variable (Const node name) that `ref` carries, looking through identities; undefined otherwise. */
  private sourceConst(graph: WorkGraph, ref: string): string | undefined {
    let [name] = splitRef(ref);
    for (let hops = 0; hops < 1000; hops++) {
      const n = graph.nodes.get(name);
      if (!n) return undefined;
      if (n.op === 'Const') return name;
      if (!PASS_THROUGH.has(n.op ?? '') || !n.input?.[0]) return undefined;
      [name] = splitRef(n.input[0]);
    }
    return undefined;
  }

  private specialise(fname: string, binding: Binding): LoweredFunction {
    const key = `${fname}|${[...binding].map(([i, b]) => `${i}=${b.name}`).join(',')}`;
    const done = this.emitted.get(key);
    if (done !== undefined) {
      const fn = this.out.find((f) => f.name === done);
      if (!fn) throw new ModelError(`function ${fname} calls itself through control flow, which tfsvc cannot convert`);
      return fn;
    }
    const def = this.ctx.library.get(fname);
    if (!def) throw new ModelError(`control flow refers to function ${fname}, which the graph's library does not define`);
    let name = fname;
    for (let k = 1; this.usedNames.has(name); k++) name = `${fname}_${k}`;
    this.usedNames.add(name);
    this.emitted.set(key, name);
    const fn = this.instantiate(name, def, binding);
    this.out.push(fn);
    return fn;
  }

  private instantiate(name: string, def: FunctionDef, binding: Binding): LoweredFunction {
    const { library, ops } = this.ctx;
    const sig = def.signature ?? {};
    let prefix = name;
    while ([...this.reserved].some((r) => r === prefix || r.startsWith(`${prefix}/`))) prefix += '_';
    const graph: WorkGraph = { nodes: new Map(), values: new Map() };
    const inputArgs = (sig.inputArg ?? []).map((arg, i) => {
      const ph = `${prefix}/${arg.name}`;
      const type = binding.get(i)?.dtype ?? arg.type ?? 'DT_FLOAT';
      graph.nodes.set(ph, { name: ph, op: 'Placeholder', input: [], attr: { dtype: { type } } });
      return { name: ph, type };
    });
    const alias = new Map<string, string>();
    const standIn: NodeDef = { name: prefix, op: sig.name, input: inputArgs.map((a) => `${a.name}:0`) };
    for (const n of inlineOne(standIn, def, ops, alias)) {
      if (graph.nodes.has(n.name!)) throw new ModelError(`function ${sig.name}: node ${n.name} has the name of an argument`);
      graph.nodes.set(n.name!, n);
    }
    const inner = inlineCalls(graph, library, ops);
    const writes = variableWrites(graph);
    const rets = keepWrittenValues(graph, (sig.outputArg ?? []).map((_, j) => resolveRef(inner, resolveRef(alias, `${prefix}:${j}`))));

    // Reads of a bound argument read the variable's own Const (same name, same weight as in the caller).
    const redirect = new Map<string, string>();
    for (const [i, b] of binding) {
      graph.nodes.set(b.name, { name: b.name, op: 'Const', input: [], attr: { dtype: { type: b.dtype } } });
      graph.values.set(b.name, b.value);
      redirect.set(`${inputArgs[i]!.name}:0`, `${b.name}:0`);
    }
    for (const n of graph.nodes.values()) if (n.input) n.input = n.input.map((r) => redirect.get(r) ?? r);
    for (const n of graph.nodes.values()) {
      if (!RESOURCE_READS.has(n.op ?? '')) continue;
      const src = graph.nodes.get(splitRef(n.input?.[0] ?? ':0')[0]);
      if (src?.op === 'Placeholder') {
        throw new ModelError(
          `function ${sig.name} reads resource argument ${src.name!.slice(prefix.length + 1)}, which is not a variable tfsvc can freeze`,
        );
      }
    }
    freezeVariables(graph, this.ctx.variableKeys, this.ctx.checkpoint, this.ctx.variableCache);
    for (const n of [...graph.nodes.values()]) if (isFunctionalOp(n.op)) this.lowerNode(n, graph);

    // A write to a variable stays (see variableWrites): the op check then refuses it instead of freezing a variable
    // the loop changes.
    pruneTo(graph, [...rets, ...inputArgs.map((a) => `${a.name}:0`), ...writes]);
    // tfjs's function executor fetches each output as `node` + a default output index kept per node, so two outputs
    // of one node cannot both be returned directly: an output other than `:0` is returned through an Identity.
    const outputArgs = (sig.outputArg ?? []).map((arg, j) => {
      const passed = inputArgs.findIndex((a) => `${a.name}:0` === rets[j]);
      return { name: arg.name!, type: passed >= 0 && binding.has(passed) ? binding.get(passed)!.dtype : (arg.type ?? 'DT_FLOAT') };
    });
    const ret: Record<string, string> = {};
    outputArgs.forEach((arg, j) => {
      let ref = rets[j]!;
      if (splitRef(ref)[1] !== 0) {
        let idName = `${prefix}/ret_${arg.name}`;
        while (graph.nodes.has(idName)) idName += '_';
        graph.nodes.set(idName, { name: idName, op: 'Identity', input: [ref], attr: { T: { type: arg.type } } });
        ref = `${idName}:0`;
      }
      ret[arg.name] = ref;
    });
    for (const n of graph.nodes.keys()) this.reserved.add(n);
    return { name, inputArgs, outputArgs, ret, graph };
  }
}

const LIST_WRITES: Record<string, number> = { TensorListSetItem: 2, TensorListPushBack: 1 };

/**
 * tfjs-converter 4.22's function executor, when a function call ends, disposes every tensor it computed that is not
 * one of the call's inputs or outputs, even a tensor a TensorList holds (its `kept` flag is not checked there). A Keras
 * RNN body writes its new h to the output list and returns it through an Identity, which tfjs clones: the written
 * tensor is freed, and TensorListStack after the loop crashes ("reading 'backend'" of a disposed tensor). A function
 * output that is, through identities, a value written to a list is therefore returned as that very tensor.
 */
function keepWrittenValues(graph: WorkGraph, rets: string[]): string[] {
  const through = (ref: string) => {
    let r = ref;
    for (let hops = 0; hops < 1000; hops++) {
      const n = graph.nodes.get(splitRef(r)[0]);
      if (!n || !PASS_THROUGH.has(n.op ?? '') || !n.input?.[0]) break;
      r = n.input[0];
    }
    return r;
  };
  const written = new Set<string>();
  for (const n of graph.nodes.values()) {
    const at = LIST_WRITES[n.op ?? ''];
    if (at !== undefined && n.input?.[at]) written.add(through(n.input[at]!));
  }
  if (written.size === 0) return rets;
  return rets.map((r) => {
    const src = through(r);
    return written.has(src) && splitRef(src)[1] === 0 ? src : r;
  });
}
