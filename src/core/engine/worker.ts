// Inference worker thread: holds its own engine and the model versions loaded into it, and runs one request (a
// batch) at a time for the pool (pool.ts). Nothing here touches HTTP or queues: the main thread decides what runs where.
//
// Protocol (main → worker), each with a numeric `id` answered by exactly one `{id, ok, result | error, fault?}` message:
//   {op: 'load', key, dir, options, wantSignatureDefs, verify}  → {signatures, backend, signatureDefs?, unavailable}
//   {op: 'run', key, signature, inputs, outputFilter}           → outputs (typed-array buffers transferred back)
//   {op: 'unload', key}                                         → null
// `verify` first checks the SavedModel's files (savedmodel/integrity.ts: saved_model.pb parses, every checkpoint CRC32C
// matches); a failure there answers a DATA_LOSS error naming the file and variable. One worker per load does it.
// `fault: true` on an error answer means the engine may not have survived it (faults.ts): the pool discards this worker.
// Outputs are checked against the request before they leave (faults.ts checkOutputs): never an empty or truncated
// result for a request the model could not compute.
// `workerData.loaderModule` is the URL of a module exporting `loadModel(dir, options)` (the engine's, by default) and
// optionally `verifyModel(dir)`; tests pass a fake one so the pool and lifecycle run without TensorFlow models.
import { parentPort, workerData } from 'node:worker_threads';
import { checkOutputs, deliberateRequestError, EngineBrokenError, engineFault, TruncatedOutputError } from './faults.js';
import { canaryProblem, CanaryRunError, recordCanary, type Canary } from './health.js';
import { trimHeapWhenIdle } from './idle-heap.js';
import { lowerThisThreadPriority } from './thread-priority.js';
import type { HostTensor, LoadedModel, LoadOptions } from './types.js';

type LoadFn = (dir: string, options?: LoadOptions) => Promise<LoadedModel>;
type VerifyFn = (dir: string) => Promise<unknown>;

interface WorkerInit {
  loaderModule?: string;
  /** Steps nicer than the process this thread runs (pool.ts's `niceness`). */
  niceness?: number;
}

export interface WorkerError {
  name: string;
  message: string;
  /** RequestError code when the engine raised one. */
  code?: string;
  file?: string;
}

const init = (workerData ?? {}) as WorkerInit;
lowerThisThreadPriority(init.niceness ?? 0);
trimHeapWhenIdle();
const models = new Map<string, LoadedModel>();
/** Per loaded key: each signature's canary (health.ts), recorded when the key was loaded into this worker. */
const canaries = new Map<string, Map<string, Canary>>();
let enginePromise: Promise<{ load: LoadFn; verify: VerifyFn }> | undefined;

/**
 * The loader module's `loadModel`, and its `verifyModel(dir)` when it has one (a test engine whose models are not
 * SavedModels checks its own files), else the SavedModel integrity check.
 */
function engine(): Promise<{ load: LoadFn; verify: VerifyFn }> {
  enginePromise ??= import(init.loaderModule ?? new URL('./model.js', import.meta.url).href).then(async (m: { loadModel?: LoadFn; verifyModel?: VerifyFn }) => {
    if (typeof m.loadModel !== 'function') throw new Error(`${init.loaderModule ?? 'engine/model.js'} does not export loadModel`);
    const verify = m.verifyModel ?? (await import('../savedmodel/integrity.js')).verifySavedModel;
    return { load: m.loadModel, verify };
  });
  return enginePromise;
}

/** The meta graph's SignatureDefs (plain objects) for the metadata endpoint, read once per version by one worker. */
async function readSignatureDefs(dir: string, tags: string[]): Promise<Record<string, unknown>> {
  const { readSavedModel, selectMetaGraph } = await import('../savedmodel/reader.js');
  const files = await readSavedModel(dir);
  return (selectMetaGraph(files.savedModel, tags).signatureDef ?? {}) as Record<string, unknown>;
}

/**
 * The SignatureDefs metadata may list: those the loaded model can run, plus the `__`-prefixed entries TF Serving's
 * metadata also shows (`__saved_model_init_op`), which clients never call. A signature the engine cannot run must not be
 * advertised.
 */
function runnableDefs(defs: Record<string, unknown>, model: LoadedModel): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(defs)) if (k.startsWith('__') || Object.hasOwn(model.signatures, k)) out[k] = v;
  return out;
}

/** The files' integrity check of a load with `verify` (see the protocol above): DATA_LOSS naming file and variable. */
async function verifyFiles(dir: string): Promise<void> {
  const { verify } = await engine();
  try {
    await verify(dir);
  } catch (err) {
    if ((err as Error)?.name !== 'ModelError') throw err;
    throw Object.assign(new Error((err as Error).message), { name: 'RequestError', code: 'DATA_LOSS' });
  }
}

function serializeError(err: unknown): WorkerError {
  if (err instanceof TruncatedOutputError || err instanceof EngineBrokenError || engineFault(err)) {
    const e = err as Error;
    return { name: 'EngineFault', message: e.message };
  }
  const e = err as { name?: string; message?: string; code?: unknown; file?: string };
  return {
    name: e?.name ?? 'Error',
    message: e?.message ?? String(err),
    code: typeof e?.code === 'string' ? e.code : undefined,
    file: e?.file,
  };
}

/** Buffers of typed arrays that own their whole ArrayBuffer: those can move to the main thread without a copy. */
function transferList(tensors: Record<string, HostTensor>): ArrayBuffer[] {
  const list = new Set<ArrayBuffer>();
  for (const t of Object.values(tensors)) {
    const d = t.data;
    if (Array.isArray(d)) continue;
    const view = d as Exclude<HostTensor['data'], Uint8Array[]>;
    if (view.buffer instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === view.buffer.byteLength) list.add(view.buffer);
  }
  return [...list];
}

/**
 * After a run failed inside the engine, replays a canary of the model (the failing signature's, else any): throws
 * EngineBrokenError (a fault: the pool replaces this worker) when the engine no longer answers it as at load.
 */
async function checkHealth(key: string, model: LoadedModel, signature: string, err: unknown): Promise<void> {
  const mine = canaries.get(key);
  const canary = mine?.get(signature) ?? mine?.values().next().value;
  if (!canary) return;
  const name = mine!.has(signature) ? signature : [...mine!.keys()][0]!;
  const problem = await canaryProblem(model, name, canary);
  if (problem) throw new EngineBrokenError(`${(err as Error)?.message ?? String(err)}; the engine did not survive it: ${problem}`);
}

type Message =
  | { id: number; op: 'load'; key: string; dir: string; options?: LoadOptions; wantSignatureDefs?: boolean; verify?: boolean }
  | { id: number; op: 'run'; key: string; signature: string; inputs: Record<string, HostTensor>; outputFilter?: string[] }
  | { id: number; op: 'unload'; key: string };

/** Whether a TypeError or ReferenceError (a bug the engine hit, not a refused input) is in `err`'s cause chain. */
function programError(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e && depth < 8; depth++) {
    if (e instanceof TypeError || e instanceof ReferenceError) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

async function handle(msg: Message): Promise<{ result: unknown; transfer?: ArrayBuffer[] }> {
  switch (msg.op) {
    case 'load': {
      if (msg.verify) await verifyFiles(msg.dir);
      const { load } = await engine();
      const model = await load(msg.dir, msg.options);
      // Every signature runs once before the version is reported loaded; the answers become the canaries.
      const mine = new Map<string, Canary>();
      try {
        for (const signature of Object.keys(model.signatures)) {
          try {
            const canary = await recordCanary(model, signature);
            if (canary) mine.set(signature, canary);
          } catch (err) {
            // A kernel that refuses the zeros themselves (a Gather whose indices must name rows that zero-filled inputs
            // do not have) says nothing about the signature: it keeps no canary. A crash of the engine's own code (a
            // TypeError or ReferenceError inside the executor) or a fault is what fails the load.
            if (err instanceof CanaryRunError && !engineFault(err) && !programError(err)) continue;
            throw err;
          }
        }
      } catch (err) {
        model.dispose();
        if (err instanceof CanaryRunError && !engineFault(err)) {
          throw Object.assign(new Error(err.message), { name: 'RequestError', code: 'FAILED_PRECONDITION' });
        }
        throw err;
      }
      models.get(msg.key)?.dispose();
      models.set(msg.key, model);
      canaries.set(msg.key, mine);
      const fake = model as LoadedModel & { signatureDefs?: Record<string, unknown> };
      const signatureDefs = msg.wantSignatureDefs ? runnableDefs(fake.signatureDefs ?? (await readSignatureDefs(msg.dir, msg.options?.tags ?? ['serve'])), model) : undefined;
      return { result: { signatures: model.signatures, backend: model.backend, signatureDefs, unavailable: model.unavailable ?? {} } };
    }
    case 'run': {
      const model = models.get(msg.key);
      if (!model) throw Object.assign(new Error(`model ${msg.key} is not loaded in this worker`), { name: 'RequestError', code: 'UNAVAILABLE' });
      // Inputs on the pool's shared arena are copied out first: the arena takes this worker's next batch as soon as this
      // answer is sent, and an engine may keep a reference to an input array (the cpu backend does, until disposal).
      for (const k in msg.inputs) {
        const t = msg.inputs[k]!;
        if (!Array.isArray(t.data) && t.data.buffer instanceof SharedArrayBuffer) msg.inputs[k] = { dtype: t.dtype, shape: t.shape, data: t.data.slice() as HostTensor['data'] };
      }
      let outputs: Record<string, HostTensor>;
      try {
        outputs = await model.run(msg.signature, msg.inputs, msg.outputFilter);
        checkOutputs(model.signatures[msg.signature], msg.signature, msg.inputs, outputs);
      } catch (err) {
        if (!deliberateRequestError(err) && !engineFault(err) && !(err instanceof TruncatedOutputError)) await checkHealth(msg.key, model, msg.signature, err);
        throw err;
      }
      return { result: outputs, transfer: transferList(outputs) };
    }
    case 'unload': {
      models.get(msg.key)?.dispose();
      models.delete(msg.key);
      canaries.delete(msg.key);
      return { result: null };
    }
  }
}

// Loads run one at a time per worker. Backend initialisation is safe to run concurrently now (backend.ts serialises
// it), but one load at a time still bounds memory during a reload. Runs and unloads are not queued behind loads.
let loadChain: Promise<unknown> = Promise.resolve();

parentPort?.on('message', (msg: Message) => {
  let work: Promise<{ result: unknown; transfer?: ArrayBuffer[] }>;
  if (msg.op === 'load') {
    work = loadChain.then(() => handle(msg));
    loadChain = work.catch(() => undefined);
  } else work = handle(msg);
  work.then(
    ({ result, transfer }) => parentPort!.postMessage({ id: msg.id, ok: true, result }, transfer ?? []),
    (err) => {
      const error = serializeError(err);
      parentPort!.postMessage({ id: msg.id, ok: false, error, fault: error.name === 'EngineFault' });
    },
  );
});
