// A pool of inference worker threads (worker.ts), each with its own engine and its own copy of every loaded model
// version. The pool does not queue: the batch scheduler (serving/batcher.ts) asks how many workers are idle and hands
// each one a batch; the pool tells it when a worker frees up. That keeps batching policy in one place and lets a
// worker that frees up take "whatever is queued now" (adaptive batching).
//
// Buffer ownership: `run` takes ownership of its inputs. Typed arrays that own their whole ArrayBuffer are transferred
// (zero-copy, the caller's array becomes detached); views into a larger buffer are compacted first so that the
// structured clone does not copy the whole underlying buffer. Outputs come back transferred from the worker.
import { Worker } from 'node:worker_threads';
import os from 'node:os';
import { ErrorCode, ModelError, RequestError, type ErrorCodeName } from '../errors.js';
import type { HostTensor, LoadOptions, SignatureInfo } from './types.js';
import type { WorkerError } from './worker.js';

export interface PoolOptions {
  /** Number of worker threads (TF Serving's num_batch_threads); default one per core. */
  size?: number;
  /** URL of a module exporting `loadModel(dir, options)`; default the engine's (engine/model.js). Tests inject fakes. */
  loaderModule?: string;
  /**
   * Batches each worker takes at once (default 1). A GPU engine takes 2: the next batch is assembled and posted while
   * the previous one runs, so the device never waits for the CPU between batches (engine/gpu-plan.ts).
   */
  depth?: number;
  /** WebGPU adapter name per worker (worker i gets gpuAdapters[i]); the engine reads it as workerData.gpuAdapter. */
  gpuAdapters?: string[];
}

export interface PoolLoadResult {
  signatures: Record<string, SignatureInfo>;
  signatureDefs: Record<string, unknown>;
  backend: string;
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
}

interface Slot {
  worker: Worker;
  /** Runs in flight (at most `depth`). */
  busy: number;
  ready: boolean;
  pending: Map<number, Pending>;
}

function reviveError(e: WorkerError): Error {
  if (e.code && e.code in ErrorCode) return new RequestError(e.code as ErrorCodeName, e.message);
  if (e.name === 'ModelError') return new ModelError(e.message, e.file);
  const err = new Error(e.message);
  err.name = e.name;
  return err;
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
    // Workers inherit the parent's execArgv; flags that only make sense for a main script (--input-type, --eval) would
    // make every worker fail at startup, so they are left out.
    const execArgv = process.execArgv.filter((a) => !/^--(input-type|eval|print|test)/.test(a));
    const gpuAdapter = this.options.gpuAdapters?.[index];
    const worker = new Worker(this.workerUrl, { workerData: { loaderModule: this.options.loaderModule, gpuAdapter }, execArgv });
    const slot: Slot = { worker, busy: 0, ready: true, pending: new Map() };
    worker.on('message', (m: { id: number; ok: boolean; result?: unknown; error?: WorkerError }) => {
      const p = slot.pending.get(m.id);
      if (!p) return;
      slot.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(reviveError(m.error!));
    });
    // A worker that dies (out of memory, an engine abort) fails what it was doing and is replaced with a fresh one that
    // reloads every model version the pool holds before it takes work again.
    const onDeath = (why: string): void => {
      for (const p of slot.pending.values()) p.reject(new RequestError('INTERNAL', `inference worker stopped: ${why}`));
      slot.pending.clear();
      if (this.closed) return;
      const i = this.slots.indexOf(slot);
      if (i < 0) return;
      const fresh = this.spawn(i);
      fresh.ready = false;
      this.slots[i] = fresh;
      const reloads = [...this.loaded].map(([key, l]) =>
        this.send(fresh, { op: 'load', key, dir: l.dir, options: l.options }).then(
          // Unloaded while this copy was loading: the unload reached the fresh worker first, so free the copy now.
          () => (this.loaded.has(key) ? undefined : this.send(fresh, { op: 'unload', key })),
        ).catch(() => undefined),
      );
      void Promise.all(reloads).then(() => {
        fresh.ready = true;
        this.notifyIdle();
      });
    };
    worker.on('error', (err) => onDeath(err.message));
    worker.on('exit', (code) => onDeath(`exit code ${code}`));
    return slot;
  }

  private send(slot: Slot, msg: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ ...msg, id }, transfer);
    });
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
    const results = await Promise.allSettled(
      this.slots.map((s, i) => this.send(s, { op: 'load', key, dir, options, wantSignatureDefs: i === 0 })),
    );
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) {
      await this.unload(key);
      throw failed.reason;
    }
    this.loaded.set(key, { dir, options });
    const first = (results[0] as PromiseFulfilledResult<PoolLoadResult>).value;
    return { signatures: first.signatures, signatureDefs: first.signatureDefs ?? {}, backend: first.backend };
  }

  async unload(key: string): Promise<void> {
    this.loaded.delete(key);
    await Promise.allSettled(this.slots.map((s) => this.send(s, { op: 'unload', key })));
  }

  run(key: string, signature: string, inputs: Record<string, HostTensor>, outputFilter?: string[]): Promise<Record<string, HostTensor>> {
    // The least busy ready worker (with depth 1: an idle one).
    let slot: Slot | undefined;
    for (const s of this.slots) {
      if (s.ready && s.busy < this.depth && (!slot || s.busy < slot.busy)) slot = s;
    }
    if (!slot) return Promise.reject(new RequestError('UNAVAILABLE', 'no idle inference worker'));
    const transfer = new Set<ArrayBuffer>();
    const moved: Record<string, HostTensor> = {};
    try {
      for (const k in inputs) moved[k] = compact(inputs[k]!, transfer);
    } catch (err) {
      return Promise.reject(err);
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
      free.pending.set(id, { resolve: (v) => settle(true, v), reject: (e) => settle(false, e) });
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
