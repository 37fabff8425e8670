// Inference worker thread: holds its own engine and the model versions loaded into it, and runs one request (a
// batch) at a time for the pool (pool.ts). Nothing here touches HTTP or queues: the main thread decides what runs where.
//
// Protocol (main → worker), each with a numeric `id` answered by exactly one `{id, ok, result | error}` message:
//   {op: 'load', key, dir, options, wantSignatureDefs}  → {signatures, backend, signatureDefs?}
//   {op: 'run', key, signature, inputs, outputFilter}   → outputs (typed-array buffers transferred back, not copied)
//   {op: 'unload', key}                                 → null
// `workerData.loaderModule` is the URL of a module exporting `loadModel(dir, options)` (the engine's, by default);
// tests pass a fake one so the pool and lifecycle run without TensorFlow models.
import { parentPort, workerData } from 'node:worker_threads';
import type { HostTensor, LoadedModel, LoadOptions } from './types.js';

type LoadFn = (dir: string, options?: LoadOptions) => Promise<LoadedModel>;

interface WorkerInit {
  loaderModule?: string;
}

export interface WorkerError {
  name: string;
  message: string;
  /** RequestError code when the engine raised one. */
  code?: string;
  file?: string;
}

const init = (workerData ?? {}) as WorkerInit;
const models = new Map<string, LoadedModel>();
let loadFnPromise: Promise<LoadFn> | undefined;

function loader(): Promise<LoadFn> {
  loadFnPromise ??= import(init.loaderModule ?? new URL('./model.js', import.meta.url).href).then((m: { loadModel?: LoadFn }) => {
    if (typeof m.loadModel !== 'function') throw new Error(`${init.loaderModule ?? 'engine/model.js'} does not export loadModel`);
    return m.loadModel;
  });
  return loadFnPromise;
}

/** The meta graph's SignatureDefs (plain objects) for the metadata endpoint, read once per version by one worker. */
async function readSignatureDefs(dir: string, tags: string[]): Promise<Record<string, unknown>> {
  const { readSavedModel, selectMetaGraph } = await import('../savedmodel/reader.js');
  const files = await readSavedModel(dir);
  return (selectMetaGraph(files.savedModel, tags).signatureDef ?? {}) as Record<string, unknown>;
}

function serializeError(err: unknown): WorkerError {
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

type Message =
  | { id: number; op: 'load'; key: string; dir: string; options?: LoadOptions; wantSignatureDefs?: boolean }
  | { id: number; op: 'run'; key: string; signature: string; inputs: Record<string, HostTensor>; outputFilter?: string[] }
  | { id: number; op: 'unload'; key: string };

async function handle(msg: Message): Promise<{ result: unknown; transfer?: ArrayBuffer[] }> {
  switch (msg.op) {
    case 'load': {
      const load = await loader();
      const model = await load(msg.dir, msg.options);
      models.get(msg.key)?.dispose();
      models.set(msg.key, model);
      const fake = model as LoadedModel & { signatureDefs?: Record<string, unknown> };
      const signatureDefs = msg.wantSignatureDefs ? fake.signatureDefs ?? (await readSignatureDefs(msg.dir, msg.options?.tags ?? ['serve'])) : undefined;
      return { result: { signatures: model.signatures, backend: model.backend, signatureDefs } };
    }
    case 'run': {
      const model = models.get(msg.key);
      if (!model) throw Object.assign(new Error(`model ${msg.key} is not loaded in this worker`), { name: 'RequestError', code: 'UNAVAILABLE' });
      const outputs = await model.run(msg.signature, msg.inputs, msg.outputFilter);
      return { result: outputs, transfer: transferList(outputs) };
    }
    case 'unload': {
      models.get(msg.key)?.dispose();
      models.delete(msg.key);
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
    (err) => parentPort!.postMessage({ id: msg.id, ok: false, error: serializeError(err) }),
  );
});
