// loadModel: a SavedModel directory → a LoadedModel that runs its signatures on this thread's tfjs backend. Each
// signature becomes its own tfjs GraphModel (src/core/graph/build.ts explains why). Requests are checked against the
// signature before anything runs, with TF Serving's wording where it has one, and fail with RequestError
// (INVALID_ARGUMENT); model problems fail the load with ModelError.
//
// Thread-safety: a LoadedModel belongs to the thread that loaded it (tfjs state is per thread). Worker pools load one
// per worker.
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { ModelError, RequestError, UsageError } from '../errors.js';
import { buildExecutableGraph, openModelSource, servableSignatureKeys, type BuildOptions, type ExecutableGraph, type ModelSource } from '../graph/build.js';
import { describeUnsupported, unsupportedAdvice } from '../graph/support.js';
import { signatureInfo } from '../savedmodel/signatures.js';
import type { SignatureDef } from '../savedmodel/types.js';
import { initBackend } from './backend.js';
import { ExampleParseError, HOST_READ_OPS, registerCustomOps } from './custom-ops.js';
import { quietExecuteAsyncAdvice } from './host-read.js';
import { fromTfjs, toTfjs } from './host-tensor.js';
import { WeightSharing, weightKeys } from './shared-weights.js';
import { AsyncRunCleanup } from './async-cleanup.js';
import { loadRecurrentLoops, type LoadedLoops } from './recurrent-loop-op.js';
import { failedNode, lastNode, resetLastNode, traceNodes } from './node-trace.js';
import { asStringValues, beyondInt32, carriesIds, idsToValues, planInt64, type GraphNode } from './int64-exact.js';
import type { HostTensor, LoadedModel, LoadOptions, SignatureInfo, TensorSpec } from './types.js';

/** Extra knobs for tests and benchmarks; LoadOptions is the public contract. */
export interface EngineLoadOptions extends LoadOptions {
  /** Graph optimisations (default all on); see BuildOptions. */
  optimize?: BuildOptions['optimize'];
  /**
   * The SavedModel already opened (openModelSource / modelSourceFrom), for callers that read it themselves first:
   * validate decodes saved_model.pb and reads every checkpoint tensor for its own checks, and hands both over so
   * nothing is decoded or read twice. Its meta graph is used as is (`tags` is then ignored) and `dir` only names the
   * model in messages. Tensors the caller already read may be put in `source.variableCache` (checkpoint key → value):
   * freezing takes them from there instead of reading the checkpoint again.
   */
  source?: ModelSource;
  /**
   * Run Keras-style recurrent While loops with tfsvc's loop op (default true); false leaves them to tfjs-converter's
   * own While (bench/engine compares the two).
   */
  recurrentLoops?: boolean;
  /** Sequences up to this length run unrolled (default 0: never; see recurrent-loop-op.ts). */
  unroll?: number;
}

interface PreparedSignature {
  info: SignatureInfo;
  graph: GraphSummary;
  model: GraphModel;
  /** Fixed per signature, so worked out once at load rather than per request. */
  inputs: { alias: string; spec: TensorSpec; node: string }[];
  outputAliases: string[];
  async: boolean;
  /** Frees what an executeAsync run that throws leaves allocated (tfjs-converter frees it only on success). */
  asyncCleanup: AsyncRunCleanup;
  /**
   * Ids of the model's weight tensors. A result can be a weight itself (a While that runs zero times returns its
   * initial arguments, an If branch may return its argument unchanged: tfjs passes those tensors through without a
   * copy), and disposing it would break every later request.
   */
  weightIds: Set<number>;
  /** Step graphs of the loops tfsvc runs itself (recurrent-loop-op.ts), freed with the model. */
  loops?: LoadedLoops;
  /** The tfjs graph's nodes (names, ops, inputs; attrs of AsString only): routes exact int64 values (int64-exact.ts). */
  nodes: GraphNode[];
}

/** An ExecutableGraph without its artifacts (a loaded model does not keep a second copy of the weights). */
export type GraphSummary = Omit<ExecutableGraph, 'artifacts' | 'loops'>;

/** A loaded model whose signatures that could not be prepared are listed with the reason. */
export interface EngineModel extends LoadedModel {
  /** Signature key → why it is not available (e.g. ops TensorFlow.js lacks). */
  readonly unavailable: Record<string, string>;
  /** What each signature's graph became (node counts, rewrites, feeds and fetches); the weights live in tfjs only. */
  readonly graphs: Record<string, GraphSummary>;
}

/**
 * Loads the SavedModel in `dir` (a version directory) on this thread. Signatures: `opts.signatures`, or every one the
 * backend can run (others are listed in `unavailable`); ModelError when none can run or a requested one cannot.
 */
export async function loadModel(dir: string, opts: EngineLoadOptions = {}): Promise<EngineModel> {
  const backend = await initBackend(opts.backend ?? 'wasm');
  registerCustomOps();
  const src = opts.source ?? (await openModelSource(dir, opts.tags ?? ['serve']));
  const all = servableSignatureKeys(src.meta);
  const wanted = opts.signatures ?? all;
  for (const key of wanted) {
    if (!all.includes(key)) throw new UsageError(`no signature "${key}" in ${src.files.file} (signatures: ${all.join(', ') || 'none'})`);
  }
  const prepared = new Map<string, PreparedSignature>();
  const unavailable: Record<string, string> = {};
  const sharing = new WeightSharing();
  try {
    for (const key of wanted) {
      let graph: ExecutableGraph;
      try {
        graph = await buildExecutableGraph(src, key, { optimize: opts.optimize, allowUnsupported: true, recurrentLoops: opts.recurrentLoops ?? true });
      } catch (err) {
        // Loading "every signature": one that cannot be converted (sparse inputs, ...) must not block the others.
        if (opts.signatures || !(err instanceof ModelError)) throw err;
        unavailable[key] = err.message;
        continue;
      }
      if (graph.unsupported.length > 0) {
        const why = `uses ops TensorFlow.js cannot run: ${describeUnsupported(graph.unsupported)}. What to do: ${unsupportedAdvice(graph.unsupported)}`;
        if (opts.signatures) throw new ModelError(`signature ${key} ${why}`, src.files.file);
        unavailable[key] = why;
        continue;
      }
      // The artifacts are dropped once loaded: the weights now live as tensors inside the GraphModel.
      const { artifacts, loops: plans, ...summary } = graph;
      if (backend === 'webgpu') (await import('./webgpu-fallback.js')).noteCpuFallbackOps(src.files.dir, key, artifacts.modelTopology);
      const keys = weightKeys(artifacts);
      const loops = plans.length > 0 ? await loadRecurrentLoops(artifacts, plans, { unroll: opts.unroll }) : undefined;
      let model: GraphModel;
      try {
        model = await loadGraphModel(tf.io.fromMemory(artifacts));
      } catch (err) {
        loops?.dispose();
        throw err;
      }
      sharing.adopt(model, keys);
      traceNodes(model);
      const weightIds = new Set(Object.values(model.weights).flatMap((ts) => ts.map((w) => w.id)));
      // On webgpu, ops that read values on the host may have to wait for a GPU read (host-read.ts): only
      // executeAsync accepts that. Elsewhere the graph tries the faster synchronous execute first.
      const hostReads = backend === 'webgpu' && graphUses(artifacts.modelTopology, HOST_READ_OPS);
      if (hostReads) quietExecuteAsyncAdvice();
      const info = fedSignatureInfo(key, src.meta.signatureDef![key]!, summary);
      prepared.set(key, {
        info,
        graph: summary,
        model,
        inputs: Object.entries(info.inputs).map(([alias, spec]) => ({ alias, spec, node: summary.inputs[alias]!.node })),
        outputAliases: Object.keys(info.outputs),
        async: hostReads,
        asyncCleanup: new AsyncRunCleanup(model),
        weightIds,
        loops,
        nodes: ((artifacts.modelTopology as { node?: GraphNode[] } | undefined)?.node ?? []).map((n) => ({
          name: n.name,
          op: n.op,
          input: n.input,
          attr: n.op === 'AsString' ? n.attr : undefined,
        })),
      });
    }
    if (prepared.size === 0) {
      const detail = Object.entries(unavailable).map(([k, why]) => `${k} ${why}`).join('; ');
      throw new ModelError(`${src.files.dir}: no signature can run on the ${backend} backend${detail ? `: ${detail}` : ''}`, src.files.file);
    }
  } catch (err) {
    for (const p of prepared.values()) disposeSignature(p);
    throw err;
  }
  return new TfjsModel(backend, prepared, unavailable);
}

/**
 * The signature as run() accepts it: the SignatureDef's view, except inputs the graph builder re-typed (a
 * classify/regress input that feeds serialized tf.Examples to ParseExample is DT_STRING whatever the SignatureDef
 * declares; see retypeExampleFeeds in src/core/graph/build.ts). Metadata answers keep the SignatureDef as written.
 */
function fedSignatureInfo(key: string, def: SignatureDef, graph: GraphSummary): SignatureInfo {
  const info = signatureInfo(key, def);
  for (const alias of graph.exampleInputs) info.inputs[alias] = graph.inputs[alias]!.spec;
  return info;
}

class TfjsModel implements EngineModel {
  readonly signatures: Record<string, SignatureInfo>;
  readonly graphs: Record<string, GraphSummary>;

  constructor(
    readonly backend: string,
    private readonly prepared: Map<string, PreparedSignature>,
    readonly unavailable: Record<string, string>,
  ) {
    this.signatures = Object.fromEntries([...prepared].map(([k, p]) => [k, p.info]));
    this.graphs = Object.fromEntries([...prepared].map(([k, p]) => [k, p.graph]));
  }

  async run(signature: string, inputs: Record<string, HostTensor>, outputFilter?: string[]): Promise<Record<string, HostTensor>> {
    const sig = this.prepared.get(signature);
    if (!sig) {
      const why = Object.hasOwn(this.unavailable, signature) ? this.unavailable[signature] : undefined;
      if (why) throw new RequestError('FAILED_PRECONDITION', `Serving signature key "${signature}" is not available: it ${why}`);
      throw new RequestError('INVALID_ARGUMENT', `Serving signature name: "${signature}" not found in signature def`);
    }
    const { info, graph } = sig;
    checkInputAliases(info, inputs);
    const aliases = outputFilter && outputFilter.length > 0 ? outputFilter : sig.outputAliases;
    for (const a of aliases) {
      if (!Object.hasOwn(info.outputs, a)) {
        throw new RequestError('INVALID_ARGUMENT', `output tensor alias not found in signature: ${a} Outputs expected to be in the set {${sig.outputAliases.join(',')}}.`);
      }
    }
    const feeds: Record<string, tf.Tensor> = {};
    let results: tf.Tensor[] = [];
    try {
      sig.inputs.forEach(({ alias, spec }, i) => checkInput(alias, i, spec, inputs[alias]!));
      // int64 values beyond int32 travel as element ids where the graph only moves them (int64-exact.ts).
      const big = sig.inputs.filter(({ alias, spec }) => spec.dtype === 'DT_INT64' && beyondInt32(inputs[alias]!));
      const plan = big.length ? planInt64(sig.nodes, big.map(({ alias, node }) => ({ alias, node, value: inputs[alias]! }))) : undefined;
      for (const { alias, spec, node } of sig.inputs) {
        const h = inputs[alias]!;
        const ids = plan?.feeds[alias];
        feeds[node] = ids ? tf.tensor(ids, [...h.shape], 'int32') : toTfjs(h, spec.dtype, `input ${alias}`);
      }
      resetLastNode(sig.async);
      if (plan?.asString.length) {
        const idTensors = await this.execute(sig, feeds, plan.asString.map((n) => n.input![0]!));
        for (const [i, n] of plan.asString.entries()) {
          const ids = idTensors[i]!;
          feeds[n.name] = tf.tensor(asStringValues(plan, n, (await ids.data()) as Int32Array), [...ids.shape], 'string');
        }
        for (const t of idTensors) if (!sig.weightIds.has(t.id)) t.dispose();
      }
      results = await this.execute(sig, feeds, aliases.map((a) => graph.outputs[a]!.tensor));
      // WebGPU results are read back asynchronously (Node has no synchronous GPU read), all outputs at once.
      const values = this.backend === 'webgpu' ? await Promise.all(results.map((t) => (t.dtype === 'string' ? undefined : t.data()))) : [];
      const out: Record<string, HostTensor> = {};
      aliases.forEach((a, i) => {
        const r = results[i]!;
        out[a] = plan && carriesIds(plan, graph.outputs[a]!.tensor) ? idsToValues(plan, r.dataSync() as Int32Array, [...r.shape]) : fromTfjs(r, info.outputs[a]!.dtype, values[i] as tf.TypedArray | undefined);
      });
      return out;
    } catch (err) {
      if (err instanceof RequestError) throw err;
      if (err instanceof ExampleParseError) throw new RequestError('INVALID_ARGUMENT', err.message, { cause: err });
      // Name the node that failed inside the executor (node-trace.ts); --debug prints the cause's stack.
      const node = lastNode();
      const where = node ? `node "${node.name}" (${node.op}) failed` : 'running the graph failed';
      throw new RequestError('INVALID_ARGUMENT', `signature ${signature}: ${where}: ${(err as Error).message}`, { cause: err });
    } finally {
      // A result may be a feed (an output that is an input) or appear twice (two aliases of one tensor): disposing a
      // tensor twice is a no-op in tfjs. A weight can be a result too and must live on.
      for (const t of Object.values(feeds)) t.dispose();
      for (const t of results) if (!sig.weightIds.has(t.id)) t.dispose();
    }
  }

  private async execute(sig: PreparedSignature, feeds: Record<string, tf.Tensor>, fetch: string[]): Promise<tf.Tensor[]> {
    if (!sig.async) {
      try {
        const r = sig.model.execute(feeds, fetch);
        return Array.isArray(r) ? r : [r];
      } catch (err) {
        // Graphs with control flow (While/If, TensorArrays) only run asynchronously; remember and retry.
        if (!/executeAsync/.test((err as Error).message)) throw err;
        sig.async = true;
      }
    }
    resetLastNode(true);
    const r = await sig.asyncCleanup.run(() => sig.model.executeAsync(feeds, fetch), sig.weightIds, failedNode);
    return Array.isArray(r) ? r : [r];
  }

  dispose(): void {
    for (const p of this.prepared.values()) disposeSignature(p);
    this.prepared.clear();
  }
}

/** Whether a tfjs graph (modelTopology: GraphDef JSON with its function library) has a node running one of `ops`. */
function graphUses(topology: unknown, ops: ReadonlySet<string>): boolean {
  const t = topology as { node?: { op?: string }[]; library?: { function?: { nodeDef?: { op?: string }[] }[] } } | undefined;
  const has = (nodes: { op?: string }[] | undefined) => (nodes ?? []).some((n) => ops.has(n.op ?? ''));
  return has(t?.node) || (t?.library?.function ?? []).some((f) => has(f.nodeDef));
}

function disposeSignature(p: PreparedSignature): void {
  p.model.dispose();
  p.loops?.dispose();
}

/** TF Serving's check that a request names exactly the signature's inputs. */
function checkInputAliases(info: SignatureInfo, inputs: Record<string, HostTensor>): void {
  const want = Object.keys(info.inputs);
  const got = Object.keys(inputs);
  // hasOwn, not `in`: an alias such as "constructor" must not be found on Object.prototype.
  if (got.length === want.length && want.every((a) => Object.hasOwn(inputs, a))) return;
  want.sort();
  got.sort();
  const missing = want.filter((a) => !Object.hasOwn(inputs, a));
  const extra = got.filter((a) => !Object.hasOwn(info.inputs, a));
  throw new RequestError(
    'INVALID_ARGUMENT',
    `input size does not match signature: ${got.length}!=${want.length} len({${got.join(',')}}) != len({${want.join(',')}}). ` +
      `Sent extra: {${extra.join(',')}}. Missing but required: {${missing.join(',')}}.`,
  );
}

function shortType(dtype: string): string {
  return dtype.replace(/^DT_/, '').toLowerCase();
}

/**
 * dtype must match exactly and the data must fill the shape. Shapes are not checked against the signature: TensorFlow's
 * C++ runtime (what TF Serving runs) does not either — `{"instances": [1.0, 2.0, 5.0]}` feeds shape [3] to
 * half_plus_two's [?,1] input and broadcasting answers it — and ops reject shapes they cannot compute with.
 */
function checkInput(alias: string, index: number, spec: TensorSpec, h: HostTensor): void {
  if (h.dtype !== spec.dtype) {
    throw new RequestError('INVALID_ARGUMENT', `Expects arg[${index}] to be ${shortType(spec.dtype)} but ${shortType(h.dtype)} is provided`);
  }
  const n = h.shape.reduce((a, b) => a * b, 1);
  if (h.data.length !== n) {
    throw new RequestError('INVALID_ARGUMENT', `input ${alias}: shape [${h.shape.join(',')}] needs ${n} values, got ${h.data.length}`);
  }
}
