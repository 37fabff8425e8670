// tfjs-converter 4.22's executeAsync (graphs with While/If, TensorLists) frees its intermediate tensors only when a run
// succeeds: a run that throws halfway (a bad tf.Example, a shape a loop body cannot take) leaves every tensor it
// computed, and every TensorList it filled, allocated for ever. In a server that is a leak per failed request. This
// records the tensor maps and execution contexts the executor works on (its `processStack` gets both, for the graph
// and for every function a While/If calls) and, when the run throws, frees them as the executor would have.
//
// Like shared-weights.ts it reaches into GraphModel's private executor; test/engine/memory.test.ts fails if a tfjs
// change stops this from freeing them. Runs of one model that overlap (the engine's callers never do that) are not
// cleaned: with two in flight there is no telling whose tensors are whose, and freeing a live one would be worse.
import type * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';

type TensorMap = Record<string, (tf.Tensor | undefined)[] | undefined>;
interface Context {
  dispose(keepIds: Set<number>): void;
}
interface Executor {
  processStack?: (...args: unknown[]) => unknown;
  functionExecutorMap?: Record<string, Executor>;
}

export class AsyncRunCleanup {
  private readonly maps = new Set<TensorMap>();
  private readonly contexts = new Set<Context>();
  private inFlight = 0;

  constructor(model: GraphModel) {
    const root = (model as unknown as { executor?: Executor }).executor;
    if (!root) return;
    for (const executor of [root, ...Object.values(root.functionExecutorMap ?? {})]) this.watch(executor);
  }

  /**
   * Runs `execute` (one executeAsync); if it throws, frees what it allocated, except tensors in `keep` (weights).
   * `failed` is first told which nodes computed an output (names, all graphs and functions), so the caller can tell
   * which node failed (node-trace.ts).
   */
  async run<T>(execute: () => Promise<T>, keep: Set<number>, failed?: (computed: Set<string>) => void): Promise<T> {
    this.inFlight++;
    try {
      return await execute();
    } catch (err) {
      if (this.inFlight === 1) {
        failed?.(new Set([...this.maps].flatMap((m) => Object.keys(m).filter((k) => m[k]?.some((t) => t !== undefined)))));
        this.free(keep);
      }
      throw err;
    } finally {
      if (--this.inFlight === 0) {
        this.maps.clear();
        this.contexts.clear();
      }
    }
  }

  private watch(executor: Executor): void {
    const original = executor.processStack;
    if (typeof original !== 'function') return;
    // processStack(inputNodes, stack, context, tensorMap, ...): called for every step of an async run.
    executor.processStack = (...args: unknown[]) => {
      if (this.inFlight > 0) {
        this.contexts.add(args[2] as Context);
        this.maps.add(args[3] as TensorMap);
      }
      return original.apply(executor, args);
    };
  }

  private free(keep: Set<number>): void {
    for (const map of this.maps) {
      for (const tensors of Object.values(map)) {
        for (const t of tensors ?? []) if (t && !t.isDisposed && !keep.has(t.id)) t.dispose();
      }
    }
    for (const context of this.contexts) context.dispose(keep);
  }
}
