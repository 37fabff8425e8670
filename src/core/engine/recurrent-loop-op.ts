// The executor of tfsvc's recurrent loop op (src/core/graph/recurrent-loop.ts explains the rewrite): a While over
// a sequence whose TensorLists were turned into plain tensors. Each iteration is one synchronous execute() of the
// step graph (body + cond), fed with the loop state and one element of each input sequence; the values the body
// wrote to its output lists are kept in JS arrays and stacked once after the loop. Synchronous on purpose: tfjs's
// own While runs through executeAsync with an await per node and per iteration, which is what this replaces.
//
// Registry: the op finds its loop by the number in its `tfsvc_loop` attr. Numbers are given out per thread (tfjs
// state, and this module, are per thread), when a model's loops are loaded; a model disposes its loops with itself.
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, loadGraphModelSync, registerOp, type GraphModel } from '@tensorflow/tfjs-converter';
import { markNode, traceNodes } from './node-trace.js';
import { RECURRENT_LOOP_ATTR, RECURRENT_LOOP_OP, type RecurrentLoopPlan } from '../graph/recurrent-loop.js';
import { unrolledAsLooped, unrollLoop, type Unrolled } from './unrolled-loop.js';

interface OpNode {
  inputs: tf.Tensor[];
  attrs: Record<string, unknown>;
}

const programs = new Map<number, LoopProgram>();
let nextId = 1;
let registered = false;

/** The loops of one loaded model; dispose() frees their step graphs. */
export interface LoadedLoops {
  dispose(): void;
}

/**
 * Loads the step and cond graphs of `plans` and numbers them in `artifacts` (the main graph, before it is loaded),
 * so its loop nodes find them. Registers the op on first use.
 */
export async function loadRecurrentLoops(artifacts: tf.io.ModelArtifacts, plans: RecurrentLoopPlan[], opts: { unroll?: number } = {}): Promise<LoadedLoops> {
  if (!registered) {
    registerOp(RECURRENT_LOOP_OP, (node) => runLoop(node as OpNode));
    registered = true;
  }
  const ids: number[] = [];
  const dispose = () => {
    for (const id of ids) {
      programs.get(id)?.dispose();
      programs.delete(id);
    }
  };
  try {
    const nodes = (artifacts.modelTopology as { node: { name: string; attr: Record<string, unknown> }[] }).node;
    for (const plan of plans) {
      const node = nodes.find((n) => n.name === plan.node);
      if (!node) throw new Error(`recurrent loop ${plan.node} is not in the graph`);
      const step = await loadGraphModel(tf.io.fromMemory(plan.step));
      const cond = await loadGraphModel(tf.io.fromMemory(plan.cond)).catch((err) => {
        step.dispose();
        throw err;
      });
      traceNodes(step);
      traceNodes(cond);
      const id = nextId++;
      programs.set(id, new LoopProgram(plan, step, cond, opts.unroll ?? DEFAULT_UNROLL));
      ids.push(id);
      node.attr[RECURRENT_LOOP_ATTR] = { i: id };
    }
  } catch (err) {
    dispose();
    throw err;
  }
  return { dispose };
}

function runLoop(node: OpNode): tf.Tensor[] {
  const id = Number(node.attrs[RECURRENT_LOOP_ATTR]);
  const program = programs.get(id);
  if (!program) throw new Error(`recurrent loop ${id} is not loaded on this thread`);
  try {
    return program.run(node.inputs);
  } catch (err) {
    // The loop's own checks name the loop; a failure inside the step graph keeps the step node node-trace recorded.
    if (err instanceof LoopError) markNode({ name: program.plan.node, op: program.plan.op });
    throw err;
  }
}

/** A failure of the loop itself (list index, empty stack), not of an op of its step graph. */
class LoopError extends Error {}

/**
 * Sequences up to `unroll` steps run unrolled (unrolled-loop.ts), one graph per length seen, at most UNROLLED_LENGTHS
 * lengths per loop; longer ones, and loops the unrolled run does not reproduce, run the loop. Off by default: on
 * bench/engine's recurrent section unrolling was not measurably faster than the loop (0.8-1.1x on the 5-step LSTM),
 * and it costs a graph build on the first request of each length.
 */
export const DEFAULT_UNROLL = 0;
const UNROLLED_LENGTHS = 8;

const outRef = (ref: string) => (ref.endsWith(':0') ? ref.slice(0, -2) : ref);

class LoopProgram {
  /** Step outputs fetched per iteration: [cond, ...written values, ...next values of changing tensor arguments]. */
  private readonly fetch: string[];
  /** Argument k → index in `fetch` of its next value (changing tensor arguments only). */
  private readonly nextAt = new Map<number, number>();
  private readonly condFeeds: [number, string][] = [];
  private readonly stepFeeds: [number, string][] = [];

  constructor(
    readonly plan: RecurrentLoopPlan,
    private readonly step: GraphModel,
    private readonly cond: GraphModel,
    private readonly unroll: number,
  ) {
    this.fetch = [outRef(plan.next), ...plan.writes.map((w) => outRef(w.value))];
    plan.args.forEach((a, k) => {
      if (a.kind !== 'tensor') return;
      this.stepFeeds.push([k, a.placeholder]);
      if (a.condPlaceholder) this.condFeeds.push([k, a.condPlaceholder]);
      if (a.next) {
        this.nextAt.set(k, this.fetch.length);
        this.fetch.push(outRef(a.next));
      }
    });
  }

  /** Unrolled graphs by sequence length; undefined where unrolling was tried and did not reproduce the loop. */
  private readonly unrolled = new Map<number, { u: Unrolled; model: GraphModel } | undefined>();

  dispose(): void {
    this.step.dispose();
    this.cond.dispose();
    for (const x of this.unrolled.values()) x?.model.dispose();
    this.unrolled.clear();
  }

  /** The unrolled graph for `steps`, built on first use; undefined when unrolling does not apply. */
  private unrolledFor(steps: number): { u: Unrolled; model: GraphModel } | undefined {
    if (steps < 1 || steps > this.unroll) return undefined;
    if (this.unrolled.has(steps)) return this.unrolled.get(steps);
    if (this.unrolled.size >= UNROLLED_LENGTHS) return undefined;
    const u = unrollLoop(this.plan, steps);
    // Loaded while the caller's executor runs inside tf.tidy: the weights must outlive that scope.
    const model = loadGraphModelSync(u.artifacts) as unknown as GraphModel;
    for (const ts of Object.values(model.weights)) for (const t of ts) tf.keep(t);
    traceNodes(model);
    this.unrolled.set(steps, { u, model });
    return { u, model };
  }

  /**
   * Runs the loop unrolled when every input sequence has the same length T (<= the unroll limit) and the unrolled
   * run shows exactly T iterations at indices 0..T-1; otherwise undefined (nothing kept) and the loop runs.
   */
  private runUnrolled(state: tf.Tensor[], sequences: Map<number, tf.Tensor[]>): tf.Tensor[] | undefined {
    if (sequences.size === 0 || this.plan.writes.length + this.plan.reads.length === 0) return undefined;
    const lengths = new Set([...sequences.values()].map((s) => s.length));
    if (lengths.size !== 1) return undefined;
    const steps = [...lengths][0]!;
    const x = this.unrolledFor(steps);
    if (!x) return undefined;
    const feeds: Record<string, tf.Tensor> = {};
    for (const [k, ph] of x.u.stateFeeds) feeds[ph] = state[k]!;
    for (const f of x.u.elementFeeds) feeds[f.placeholder] = sequences.get(f.list)![f.element]!;
    const outs = many(x.model.execute(feeds, x.u.fetch));
    const ok = unrolledAsLooped(outs[0]!.dataSync() as Int32Array, steps, x.u.indexArgs.length);
    outs[0]!.dispose();
    const results = this.plan.args.map((a, k) => {
      if (a.kind === 'output-list') return outs[1 + this.plan.writes.findIndex((w) => w.list === k)]!;
      const at = x.u.finalAt.get(k);
      return at === undefined ? state[k]! : outs[at]!;
    });
    if (ok) return results;
    // Not the loop this unrolling assumes (another trip count, other indices): free it, never use this length again.
    const keep = new Set([...state, ...[...sequences.values()].flat()]); // a fetched feed is not ours to free
    for (const t of outs.slice(1)) if (!keep.has(t)) t.dispose();
    x.model.dispose();
    this.unrolled.set(steps, undefined);
    return undefined;
  }

  run(inputs: tf.Tensor[]): tf.Tensor[] {
    const { plan } = this;
    const given = new Set(inputs);
    const sequences = new Map<number, tf.Tensor[]>();
    const written = new Map<number, (tf.Tensor | undefined)[]>();
    let state = [...inputs];
    let results: tf.Tensor[] = [];
    // How many list slots hold each tensor (a value stays alive while written, whatever the loop state does).
    const held = new Map<tf.Tensor, number>();
    // Frees a tensor this loop made, unless it is a loop input (owned by the caller), in `alive`, or held by a list.
    const release = (t: tf.Tensor | undefined, alive: Set<tf.Tensor>) => {
      if (t && !given.has(t) && !alive.has(t) && !held.has(t)) t.dispose();
    };
    try {
      plan.args.forEach((a, k) => {
        if (a.kind === 'input-list') sequences.set(k, tf.unstack(inputs[k]!));
        else if (a.kind === 'output-list') written.set(k, []);
      });
      const condFeeds: Record<string, tf.Tensor> = {};
      for (const [k, ph] of this.condFeeds) condFeeds[ph] = state[k]!;
      const c0 = one(this.cond.execute(condFeeds, outRef(plan.first)));
      let go = c0.dataSync()[0] !== 0;
      release(c0, new Set(state));
      const unrolled = go ? this.runUnrolled(state, sequences) : undefined;
      if (unrolled) {
        state = unrolled; // output-list positions hold the stacked lists
        go = false;
      }
      while (go) {
        const feeds: Record<string, tf.Tensor> = {};
        for (const [k, ph] of this.stepFeeds) feeds[ph] = state[k]!;
        // Each index argument is read back once per iteration (a readSync per scalar is this loop's main overhead).
        const indices = new Map<number, number>();
        const index = (k: number) => {
          let v = indices.get(k);
          if (v === undefined) indices.set(k, (v = scalarInt(state[k]!)));
          return v;
        };
        for (const r of plan.reads) {
          const seq = sequences.get(r.list)!;
          const i = index(r.index);
          if (!(i >= 0 && i < seq.length)) throw new LoopError(`TensorListGetItem: index ${i} is out of range for a list of ${seq.length} elements`);
          feeds[r.placeholder] = seq[i]!;
        }
        const outs = many(this.step.execute(feeds, this.fetch));
        const next = [...state];
        for (const [k, at] of this.nextAt) next[k] = outs[at]!;
        const alive = new Set(next);
        plan.writes.forEach((w, j) => {
          const list = written.get(w.list)!;
          const i = index(w.index);
          if (i < 0) throw new LoopError(`TensorListSetItem: index ${i} is negative`);
          const prev = list[i];
          const value = outs[1 + j]!;
          list[i] = value;
          held.set(value, (held.get(value) ?? 0) + 1);
          if (prev) {
            const n = held.get(prev)! - 1;
            if (n > 0) held.set(prev, n);
            else held.delete(prev);
            release(prev, alive);
          }
        });
        for (const t of state) release(t, alive);
        go = outs[0]!.dataSync()[0] !== 0;
        release(outs[0], alive);
        // A fetched value that is neither state nor written (the same tensor fetched twice) is freed too.
        for (const t of outs) if (!t.isDisposed) release(t, alive);
        state = next;
      }
      // Results: a returned loop input (or sequence element) is cloned, so the caller's executor counts and frees it
      // as a tensor of its own; the element tensors are freed below.
      const elements = new Set([...sequences.values()].flat());
      const seen = new Set<tf.Tensor>();
      const fresh = (t: tf.Tensor) => {
        const r = given.has(t) || seen.has(t) || elements.has(t) ? t.clone() : t;
        seen.add(r);
        return r;
      };
      results = plan.args.map((a, k) => {
        if (a.kind === 'tensor') return fresh(state[k]!);
        if (a.kind === 'input-list') return fresh(inputs[k]!);
        return unrolled ? fresh(state[k]!) : stackWritten(plan, k, written.get(k)!, a.elementShape);
      });
      return results;
    } catch (err) {
      for (const t of state) release(t, new Set());
      throw err;
    } finally {
      const out = new Set(results);
      for (const seq of sequences.values()) for (const t of seq) t.dispose();
      for (const list of written.values()) for (const t of list) if (t && !given.has(t) && !out.has(t)) t.dispose();
    }
  }
}

function stackWritten(plan: RecurrentLoopPlan, k: number, list: (tf.Tensor | undefined)[], elementShape: number[] | undefined): tf.Tensor {
  if (list.length === 0) {
    if (!elementShape) {
      throw new LoopError(`TensorListStack: the loop ${plan.node} ran zero times and its list's element shape is not fully defined`);
    }
    return tf.zeros([0, ...elementShape]);
  }
  const missing = list.findIndex((t) => t === undefined);
  if (missing >= 0 || list.includes(undefined)) throw new LoopError(`TensorListStack: element ${missing} of the list the loop ${plan.node} fills (output ${k}) was never set`);
  return tf.stack(list as tf.Tensor[]);
}

function scalarInt(t: tf.Tensor): number {
  return Number(t.dataSync()[0]);
}

function one(r: tf.Tensor | tf.Tensor[] | tf.NamedTensorMap): tf.Tensor {
  return many(r)[0]!;
}

function many(r: tf.Tensor | tf.Tensor[] | tf.NamedTensorMap): tf.Tensor[] {
  if (r instanceof tf.Tensor) return [r];
  return Array.isArray(r) ? r : Object.values(r);
}
