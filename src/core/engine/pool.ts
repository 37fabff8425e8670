// A pool of inference worker threads (worker.ts), each with its own engine and its own copy of every loaded model
// version. The pool does not queue: the batch scheduler (serving/batcher.ts) asks how many workers are idle and hands
// each one a batch; the pool tells it when a worker frees up. That keeps batching policy in one place and lets a
// worker that frees up take "whatever is queued now" (adaptive batching).
//
// Faults: a worker whose engine reports a fault (faults.ts: a WASM trap, an allocation failure, a truncated output) or
// that dies is discarded at once and replaced by a fresh thread that reloads every model version the pool holds (from
// the version directories) before it takes work again; the other workers keep serving meanwhile. The batch that
// faulted fails with EngineFaultError (INTERNAL, HTTP 500); the batch scheduler re-runs each of its requests alone so
// only the one that faults fails. Loads and unloads the discarded worker still owed are re-sent to its replacement
// (a load at most once more, so a model that kills every worker it loads into fails its load instead of looping).
// Runs are never re-sent by the pool: a worker runs one batch at a time, so the faulting batch is all it held.
//
// Buffer ownership: `run` takes ownership of its inputs. A batch's numeric inputs (up to ARENA_MAX_BYTES in all) are
// copied into the worker's arena, a SharedArrayBuffer each worker owns, and the message carries views on it: posting
// those costs a few µs, where transferring a fresh ArrayBuffer costs ~12 µs each way on this machine (V8 must move it
// off its heap) and leaves garbage behind (bench/batch-path.ts measures it). The arena is reused by the worker's next
// batch, which can only be posted after this one's answer; the worker copies its inputs out before it runs them.
// Larger inputs are transferred: typed arrays that own their whole ArrayBuffer move without a copy (the caller's array
// becomes detached); views into a larger buffer are compacted first. Outputs come back transferred from the worker.
import { Worker } from 'node:worker_threads';
import { DEFAULT_WORKER_NICENESS } from './thread-priority.js';
import { workerExecArgv } from './worker-exec-argv.js';
import os from 'node:os';
import { ErrorCode, ModelError, RequestError, type ErrorCodeName } from '../errors.js';
import type { HostTensor, LoadOptions, SignatureInfo } from './types.js';
import type { WorkerError } from './worker.js';

export interface PoolOptions {
  /** Steps nicer than the process the worker threads run (thread-priority.ts); default DEFAULT_WORKER_NICENESS. */
  niceness?: number;
  /** Number of worker threads (TF Serving's num_batch_threads); default one per core. */
  size?: number;
  /** URL of a module exporting `loadModel(dir, options)`; default the engine's (engine/model.js). Tests inject fakes. */
  loaderModule?: string;
  /**
   * Told each time a worker is discarded and replaced: `reason` 'fault' (its engine reported a fault) or 'exit' (the
   * thread died); `detail` is the error or exit code. For metrics and logs.
   */
  onWorkerRestart?: (reason: 'fault' | 'exit', detail: string) => void;
  /** Told when a replacement worker could not reload a version (it then serves the others; see run()). */
  onReloadFailed?: (key: string, message: string) => void;
  /**
   * Batches each worker takes at once (default 1). A GPU engine takes 2: the next batch is assembled and posted while
   * the previous one runs, so the device never waits for the CPU between batches (engine/gpu-plan.ts).
   */
  depth?: number;
  /** WebGPU adapter name per worker (worker i gets gpuAdapters[i]); the engine reads it as workerData.gpuAdapter. */
  gpuAdapters?: string[];
}

/**
 * The engine may not have survived what this batch did (a WASM trap, an out-of-memory, a truncated result, its thread
 * died): the batch failed, its worker was replaced. INTERNAL (HTTP 500). The batch scheduler re-runs the batch's
 * requests one by one, so a request that faults alone is the only one to fail.
 */
export class EngineFaultError extends RequestError {
  constructor(message: string) {
    super('INTERNAL', message);
  }
}

/** A load or unload sent to a worker that was discarded before answering; re-sent to its replacement. */
class WorkerGone extends Error {}

export interface PoolLoadResult {
  signatures: Record<string, SignatureInfo>;
  signatureDefs: Record<string, unknown>;
  backend: string;
  /** Signatures of the SavedModel the engine cannot run, with the reason (left out of `signatures` and the metadata). */
  unavailable: Record<string, string>;
}

/** What the batch scheduler needs from a pool (a fake implements it in tests). */
export interface Executor {
  readonly size: number;
  idleCount(): number;
  /** Called whenever a worker becomes idle (after the result of its previous run was delivered). */
  onIdle(listener: () => void): void;
  /** Runs on an idle worker; callers check idleCount() first. */
  run(key: string, signature: string, inputs: Record<string, HostTensor>, outputFilter?: string[]): Promise<Record<string, HostTensor>>;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  /** The error this message's caller gets when the worker is discarded before it answers (`why` says how). */
  gone: (why: string) => Error;
  /** For runs: the error when the worker answers with a fault (a load that faults gets its own error). */
  faulted?: (message: string) => Error;
}

interface Slot {
  worker: Worker;
  /** Shared memory for this worker's batch inputs (see the file comment); grown on demand, never shrunk. */
  arena?: SharedArrayBuffer;
  /** Runs in flight (at most `depth`). */
  busy: number;
  ready: boolean;
  /** Discarded (faulted or died): its answers are ignored and it is no longer in `slots`. */
  retired: boolean;
  /** Pool keys loaded in this worker (a replacement that failed to reload a version lacks it). */
  keys: Set<string>;
  /** Replacements in a row at this position that died before they finished reloading (for the backoff). */
  crashes: number;
  pending: Map<number, Pending>;
}

const goneForLoad = (why: string): Error => new WorkerGone(why);

function reviveError(e: WorkerError): Error {
  if (e.code && e.code in ErrorCode) return new RequestError(e.code as ErrorCodeName, e.message);
  if (e.name === 'ModelError') return new ModelError(e.message, e.file);
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

/** Batches whose numeric inputs total at most this many bytes go through the worker's arena; larger ones transfer. */
const ARENA_MAX_BYTES = 16 << 20;
const ARENA_MIN_BYTES = 64 << 10;

type NumericData = Exclude<HostTensor['data'], Uint8Array[]>;

/** Bytes `t` takes in an arena, 8-byte aligned (BigInt64Array views need it). */
function arenaBytes(t: HostTensor): number {
  return Array.isArray(t.data) ? 0 : ((t.data as NumericData).byteLength + 7) & ~7;
}

/**
 * `inputs` copied into `slot`'s arena (string tensors as they are: they are cloned either way), or undefined when they
 * do not fit ARENA_MAX_BYTES or do not fill their shapes (compact() reports those).
 */
function intoArena(slot: Slot, inputs: Record<string, HostTensor>): Record<string, HostTensor> | undefined {
  let bytes = 0;
  for (const k in inputs) {
    const t = inputs[k]!;
    let n = 1;
    for (const dim of t.shape) n *= dim;
    if (t.data.length !== n) return undefined;
    bytes += arenaBytes(t);
  }
  if (bytes > ARENA_MAX_BYTES) return undefined;
  if (!slot.arena || slot.arena.byteLength < bytes) {
    let size = Math.max(ARENA_MIN_BYTES, slot.arena?.byteLength ?? 0);
    while (size < bytes) size *= 2;
    slot.arena = new SharedArrayBuffer(size);
  }
  const out: Record<string, HostTensor> = {};
  let offset = 0;
  for (const k in inputs) {
    const t = inputs[k]!;
    if (Array.isArray(t.data)) {
      out[k] = t;
      continue;
    }
    const src = t.data as NumericData;
    const Ctor = src.constructor as new (buffer: SharedArrayBuffer, byteOffset: number, length: number) => NumericData;
    const view = new Ctor(slot.arena, offset, src.length);
    (view as unknown as { set(a: ArrayLike<unknown>): void }).set(src);
    out[k] = { dtype: t.dtype, shape: t.shape, data: view };
    offset += arenaBytes(t);
  }
  return out;
}

function compact(t: HostTensor, transfer: Set<ArrayBuffer>): HostTensor {
  const d = t.data;
  // A tensor whose values do not fill its shape must not be posted: a detached buffer (one already handed to another
  // thread) in a transfer list makes postMessage drop the message silently, and the worker would stay busy forever.
  let n = 1;
  for (const dim of t.shape) n *= dim;
  if (d.length !== n) throw new RequestError('INVALID_ARGUMENT', `an input tensor of shape [${t.shape.join(',')}] holds ${d.length} values, not ${n}`);
  if (Array.isArray(d)) return t;
  const view = d as Exclude<HostTensor['data'], Uint8Array[]>;
  if (view.buffer instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === view.buffer.byteLength && !transfer.has(view.buffer)) {
    transfer.add(view.buffer);
    return t;
  }
  const copy = view.slice() as typeof view;
  transfer.add(copy.buffer as ArrayBuffer);
  return { ...t, data: copy };
}

export class WorkerPool implements Executor {
  readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly loaded = new Map<string, { dir: string; options?: LoadOptions }>();
  private readonly idleListeners: (() => void)[] = [];
  private nextId = 1;
  private closed = false;
  private readonly workerUrl = new URL('./worker.js', import.meta.url);

  private readonly depth: number;

  constructor(private readonly options: PoolOptions = {}) {
    this.size = Math.max(1, options.size ?? os.availableParallelism());
    this.depth = Math.max(1, options.depth ?? 1);
    for (let i = 0; i < this.size; i++) this.slots.push(this.spawn(i));
  }

  private spawn(index: number): Slot {
    const execArgv = workerExecArgv();
    const gpuAdapter = this.options.gpuAdapters?.[index];
    const worker = new Worker(this.workerUrl, { workerData: { loaderModule: this.options.loaderModule, gpuAdapter, niceness: this.options.niceness ?? DEFAULT_WORKER_NICENESS }, execArgv });
    const slot: Slot = { worker, busy: 0, ready: true, retired: false, keys: new Set(), crashes: 0, pending: new Map() };
    worker.on('message', (m: { id: number; ok: boolean; result?: unknown; error?: WorkerError; fault?: boolean }) => {
      if (slot.retired) return;
      const p = slot.pending.get(m.id);
      if (!p) return;
      slot.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else if (m.fault) {
        // Fail this message first, then discard the worker before anything else can be handed to it.
        p.reject(p.faulted ? p.faulted(m.error!.message) : reviveError(m.error!));
        this.replace(slot, 'fault', m.error!.message);
      } else p.reject(reviveError(m.error!));
    });
    worker.on('error', (err) => this.replace(slot, 'exit', err.message));
    worker.on('exit', (code) => this.replace(slot, 'exit', `exit code ${code}`));
    return slot;
  }

  /**
   * Discards `slot` (see the file comment) and puts a fresh worker in its place, which reloads every version the pool
   * holds before it is offered work. Idempotent: a worker's 'error' and 'exit' both end up here.
   */
  private replace(slot: Slot, reason: 'fault' | 'exit', detail: string): void {
    if (slot.retired) return;
    slot.retired = true;
    const why = reason === 'fault' ? `the inference engine faulted (${detail})` : `inference worker stopped: ${detail}`;
    for (const p of slot.pending.values()) p.reject(p.gone(why));
    slot.pending.clear();
    if (reason === 'fault') void slot.worker.terminate();
    const i = this.slots.indexOf(slot);
    if (this.closed || i < 0) return;
    const fresh = this.spawn(i);
    fresh.ready = false;
    // A replacement that dies while reloading (a version that now kills every worker it loads into, memory exhausted)
    // is replaced again only after a growing pause, so that the pool does not spin reloading it.
    fresh.crashes = slot.ready ? 0 : slot.crashes + 1;
    this.slots[i] = fresh;
    try {
      this.options.onWorkerRestart?.(reason, detail);
    } catch {
      // an observer's failure must not stop the replacement
    }
    if (fresh.crashes === 0) this.reload(fresh);
    else setTimeout(() => this.reload(fresh), Math.min(30_000, 250 * 2 ** (fresh.crashes - 1))).unref();
  }

  /** Loads every version the pool holds into the replacement worker `fresh`, then offers it work. */
  private reload(fresh: Slot): void {
    if (fresh.retired || this.closed) return;
    const reloads = [...this.loaded].map(([key, l]) =>
      this.send(fresh, { op: 'load', key, dir: l.dir, options: l.options }).then(
        // Unloaded while this copy was loading: the unload reached the fresh worker first, so free the copy now.
        () => {
          if (this.loaded.has(key)) fresh.keys.add(key);
          else return this.send(fresh, { op: 'unload', key });
        },
        (err: unknown) => {
          if (!fresh.retired) this.options.onReloadFailed?.(key, (err as Error)?.message ?? String(err));
        },
      ),
    );
    void Promise.all(reloads).then(() => {
      fresh.ready = true;
      this.notifyIdle();
    });
  }

  private send(slot: Slot, msg: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject, gone: goneForLoad });
      slot.worker.postMessage({ ...msg, id }, transfer);
    });
  }

  /**
   * Sends a load or unload to whichever worker is at index `i`; when that worker is discarded before it answers, sends
   * it once more to its replacement.
   */
  private async sendAt(i: number, msg: Record<string, unknown>): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.send(this.slots[i]!, msg);
      } catch (err) {
        if (!(err instanceof WorkerGone)) throw err;
        if (attempt >= 1 || this.closed) throw new RequestError('INTERNAL', `${msg.op} of ${String(msg.key)} failed twice: ${err.message}`);
      }
    }
  }

  onIdle(listener: () => void): void {
    this.idleListeners.push(listener);
  }

  private notifyIdle(): void {
    for (const l of this.idleListeners) l();
  }

  idleCount(): number {
    let n = 0;
    for (const s of this.slots) if (s.ready) n += this.depth - s.busy;
    return n;
  }

  /** Loads a model version into every worker (in parallel). On any failure it is unloaded everywhere and the error thrown. */
  async load(key: string, dir: string, options?: LoadOptions): Promise<PoolLoadResult> {
    if (this.closed) throw new Error('worker pool is closed');
    // Worker 0 also checks the files' integrity and reads the SignatureDefs; its error comes first when several fail.
    const results = await Promise.allSettled(
      this.slots.map((_, i) => this.sendAt(i, { op: 'load', key, dir, options, wantSignatureDefs: i === 0, verify: i === 0 })),
    );
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) {
      await this.unload(key);
      throw failed.reason;
    }
    this.loaded.set(key, { dir, options });
    for (const s of this.slots) s.keys.add(key);
    const first = (results[0] as PromiseFulfilledResult<PoolLoadResult>).value;
    return { signatures: first.signatures, signatureDefs: first.signatureDefs ?? {}, backend: first.backend, unavailable: first.unavailable ?? {} };
  }

  async unload(key: string): Promise<void> {
    this.loaded.delete(key);
    for (const s of this.slots) s.keys.delete(key);
    await Promise.allSettled(this.slots.map((s) => this.send(s, { op: 'unload', key })));
  }

  run(key: string, signature: string, inputs: Record<string, HostTensor>, outputFilter?: string[]): Promise<Record<string, HostTensor>> {
    // A ready worker with room (depth 1: an idle one) that holds the version, the least busy first; failing that any
    // with room (it answers UNAVAILABLE: a replacement worker that could not reload this version, e.g. its files were
    // deleted since, while others still serve it).
    let slot: Slot | undefined;
    const better = (s: Slot, than: Slot): boolean =>
      s.keys.has(key) !== than.keys.has(key) ? s.keys.has(key) : s.busy < than.busy;
    for (const s of this.slots) {
      if (s.ready && s.busy < this.depth && (slot === undefined || better(s, slot))) slot = s;
    }
    if (!slot) return Promise.reject(new RequestError('UNAVAILABLE', 'no idle inference worker'));
    const transfer = new Set<ArrayBuffer>();
    // The arena holds one batch's inputs: with depth > 1 only a worker with nothing in flight may use it.
    let moved = slot.busy === 0 ? intoArena(slot, inputs) : undefined;
    if (!moved) {
      moved = {};
      try {
        for (const k in inputs) moved[k] = compact(inputs[k]!, transfer);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    slot.busy++;
    const free = slot;
    // The worker's answer settles the returned promise directly (no async wrapper: this is once per batch on the HTTP
    // thread). The freed worker is offered the next batch only after this result was delivered.
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const settle = (ok: boolean, v: unknown): void => {
        free.busy--;
        if (ok) resolve(v as Record<string, HostTensor>);
        else reject(v);
        queueMicrotask(this.notifyIdleBound);
      };
      const model = key.replace(/#\d+$/, '');
      free.pending.set(id, {
        resolve: (v) => settle(true, v),
        reject: (e) => settle(false, e),
        gone: (why) => new EngineFaultError(`${why} while running signature "${signature}" of model ${model}: this request failed and the worker was replaced`),
        faulted: (message) =>
          new EngineFaultError(`the inference engine faulted while running signature "${signature}" of model ${model} (${message}): this request failed and the worker was replaced`),
      });
      try {
        free.worker.postMessage({ op: 'run', key, signature, inputs: moved, outputFilter, id }, transfer.size > 0 ? [...transfer] : undefined);
      } catch (err) {
        // Inputs that cannot be posted (a detached buffer, a value structured clone refuses): the worker never saw the
        // message, so free it here rather than leave it busy forever.
        free.pending.delete(id);
        settle(false, new RequestError('INVALID_ARGUMENT', `cannot send the request to an inference worker: ${(err as Error).message}`));
      }
    });
  }

  private readonly notifyIdleBound = (): void => this.notifyIdle();

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
