// The batch scheduler: one queue per (model version, signature), shared workers (the pool) pulling batches from them.
// After TF Serving's SharedBatchScheduler:
//  - a task is one request's tensors; its size is dim 0 of its inputs (all inputs must agree);
//  - a queue holds at most max_enqueued_batches batches' worth of rows; a task that does not fit is refused at once
//    with UNAVAILABLE (HTTP 503), so overload sheds load instead of growing latency without bound;
//  - when a worker is idle, the next queue (round robin) with a ready batch hands it a batch of compatible tasks (same
//    input aliases, dtypes, inner shapes, output filter), up to max_batch_size rows. A batch is ready when it is full,
//    when its oldest task has waited batch_timeout_micros, or at once when that timeout is 0 (the default: adaptive
//    batching with no added wait, whatever is queued when a worker frees up forms the batch);
//  - a batch is padded up to the next allowed_batch_sizes entry with copies of its first row;
//  - a task larger than max_batch_size is split into chunks (enable_large_batch_splitting, on by default) or refused
//    with INVALID_ARGUMENT (HTTP 400); so is a task larger than the whole queue (max_enqueued_batches × max_batch_size
//    rows), which no amount of waiting would let in: a 503 would make clients retry it forever;
//  - a batch whose engine faulted (EngineFaultError: its worker was replaced) is not failed as a whole: each of its
//    tasks goes back to the front of the queue to run alone, so only a request that faults by itself fails (500), and
//    no task runs again after it was answered;
//  - outputs whose dim 0 is the batch size are split back by rows; each task gets its own copy.
// The HTTP thread only enqueues and concatenates; inference runs in the workers.
import { RequestError } from '../errors.js';
import { EngineFaultError, type Executor } from '../engine/pool.js';
import type { HostTensor } from '../engine/types.js';
import type { BatchingConfig } from './config.js';
import type { CancelSignal } from './cancel.js';
import { commonInnerShapes, padTo, paddedShapeKey } from './pad-inputs.js';

export interface BatchObserver {
  /** One batch finished (or failed): rows (before padding), padded size, per-task queue delays, inference time. */
  batch?(queue: QueueId, info: { size: number; paddedSize: number; queueDelaysMs: number[]; inferenceMs: number; ok: boolean }): void;
  rejected?(queue: QueueId): void;
}

export interface QueueId {
  /** Pool key of the model version. */
  key: string;
  name: string;
  version: number;
  signature: string;
  /**
   * false when the signature has an input whose dim 0 is not a free batch dimension (a fixed size such as [1, 28, 28],
   * or a scalar): joining two requests along dim 0 would hand the model a shape it rejects, so each runs alone,
   * unpadded and unsplit. Default true.
   */
  batchable?: boolean;
}

/** Whether requests to `inputs` (a signature's input specs) may be joined along dim 0: every dim 0 is unknown (-1). */
export function batchableSignature(inputs: Record<string, { shape: number[] | null }>): boolean {
  for (const k in inputs) {
    const shape = inputs[k]!.shape;
    if (shape !== null && (shape.length === 0 || shape[0] !== -1)) return false;
  }
  return true;
}

interface Task {
  inputs: Record<string, HostTensor>;
  outputFilter?: string[];
  /** Rows (dim 0), or -1 when the task cannot be batched with others (scalars, disagreeing dim 0). */
  size: number;
  /** Compatibility key: tasks batch together only when equal. */
  shapeKey: string;
  enqueuedAt: number;
  signal?: CancelSignal;
  /** Runs in a batch of its own: it was in a batch that faulted the engine (see the file comment). */
  alone?: boolean;
  resolve: (v: Record<string, HostTensor>) => void;
  reject: (e: unknown) => void;
}

class Queue {
  readonly tasks: Task[] = [];
  rows = 0;
  constructor(readonly id: QueueId) {}
}

type TypedArray = Exclude<HostTensor['data'], Uint8Array[]>;

function product(dims: number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

function describeTask(inputs: Record<string, HostTensor>, outputFilter?: string[], padVariableLength = false): { size: number; shapeKey: string } {
  let size = -2;
  const parts: string[] = [];
  for (const k of Object.keys(inputs).sort()) {
    const t = inputs[k]!;
    if (t.shape.length === 0) return { size: -1, shapeKey: '' };
    const rows = t.shape[0]!;
    if (size === -2) size = rows;
    else if (size !== rows) return { size: -1, shapeKey: '' };
    parts.push(padVariableLength ? paddedShapeKey(k, t) : `${k}:${t.dtype}:${t.shape.slice(1).join('x')}`);
  }
  if (size < 1) return { size: -1, shapeKey: '' };
  parts.push(`|${outputFilter ? [...outputFilter].sort().join(',') : '*'}`);
  return { size, shapeKey: parts.join(';') };
}

/** Concatenates the tasks' tensors along dim 0 and pads to `padded` rows with copies of the first row. */
function concat(tasks: Task[], padded: number, padVariableLength = false): Record<string, HostTensor> {
  if (padVariableLength) tasks = padInnerDims(tasks);
  const out: Record<string, HostTensor> = {};
  for (const k of Object.keys(tasks[0]!.inputs)) {
    const first = tasks[0]!.inputs[k]!;
    const inner = product(first.shape.slice(1));
    const shape = [padded, ...first.shape.slice(1)];
    if (Array.isArray(first.data)) {
      const data: Uint8Array[] = [];
      for (const t of tasks) data.push(...(t.inputs[k]!.data as Uint8Array[]));
      for (let r = data.length / Math.max(inner, 1); r < padded; r++) data.push(...(first.data as Uint8Array[]).slice(0, inner));
      out[k] = { dtype: first.dtype, shape, data };
      continue;
    }
    const src = first.data as TypedArray;
    const Ctor = src.constructor as new (n: number) => TypedArray;
    const data = new Ctor(padded * inner);
    let off = 0;
    for (const t of tasks) {
      const d = t.inputs[k]!.data as TypedArray;
      (data as unknown as { set(a: ArrayLike<unknown>, o: number): void }).set(d, off);
      off += d.length;
    }
    for (; off < padded * inner; off += inner) {
      (data as unknown as { set(a: ArrayLike<unknown>, o: number): void }).set(src.subarray(0, inner), off);
    }
    out[k] = { dtype: first.dtype, shape, data };
  }
  return out;
}

/** pad_variable_length_inputs: every task's inputs padded to the batch's largest inner dims (pad-inputs.ts). */
function padInnerDims(tasks: Task[]): Task[] {
  const inner = commonInnerShapes(tasks.map((t) => t.inputs));
  return tasks.map((t) => {
    const inputs: Record<string, HostTensor> = {};
    for (const [k, x] of Object.entries(t.inputs)) inputs[k] = padTo(x, inner[k]!);
    return { ...t, inputs };
  });
}

/** Rows [start, start+rows) of `t`, copied (a request's own inputs, when a large request is split). */
function sliceRows(t: HostTensor, start: number, rows: number): HostTensor {
  const inner = product(t.shape.slice(1));
  const shape = [rows, ...t.shape.slice(1)];
  if (Array.isArray(t.data)) return { dtype: t.dtype, shape, data: t.data.slice(start * inner, (start + rows) * inner) };
  return { dtype: t.dtype, shape, data: (t.data as TypedArray).slice(start * inner, (start + rows) * inner) as TypedArray };
}

/**
 * Rows [start, start+rows) of a batched output as a view: the batch's output buffer came from the worker for this
 * batch alone, and each task's rows are disjoint, so the tasks share it without a copy (a measured saving per request,
 * bench/batch-path.ts). Encoders read views by their byteOffset; a view passed on to a worker is compacted (pool.ts).
 */
function rowsView(t: HostTensor, start: number, rows: number): HostTensor {
  const inner = product(t.shape.slice(1));
  const shape = [rows, ...t.shape.slice(1)];
  if (Array.isArray(t.data)) return { dtype: t.dtype, shape, data: t.data.slice(start * inner, (start + rows) * inner) };
  return { dtype: t.dtype, shape, data: (t.data as TypedArray).subarray(start * inner, (start + rows) * inner) as TypedArray };
}

function cloneTensor(t: HostTensor): HostTensor {
  return { dtype: t.dtype, shape: [...t.shape], data: Array.isArray(t.data) ? [...t.data] : ((t.data as TypedArray).slice() as TypedArray) };
}

/** Rows [start, start+rows) of a request's inputs (for splitting a task larger than max_batch_size). */
function sliceInputs(inputs: Record<string, HostTensor>, start: number, rows: number): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const [k, t] of Object.entries(inputs)) out[k] = sliceRows(t, start, rows);
  return out;
}

/** Joins chunk outputs back along dim 0 (the inverse of splitting a large request). */
function joinOutputs(parts: Record<string, HostTensor>[]): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const k of Object.keys(parts[0]!)) {
    const first = parts[0]![k]!;
    if (first.shape.length === 0) {
      out[k] = first;
      continue;
    }
    const rows = parts.reduce((n, p) => n + p[k]!.shape[0]!, 0);
    const shape = [rows, ...first.shape.slice(1)];
    if (Array.isArray(first.data)) {
      out[k] = { dtype: first.dtype, shape, data: parts.flatMap((p) => p[k]!.data as Uint8Array[]) };
      continue;
    }
    const Ctor = first.data.constructor as new (n: number) => TypedArray;
    const data = new Ctor(parts.reduce((n, p) => n + (p[k]!.data as TypedArray).length, 0));
    let off = 0;
    for (const p of parts) {
      const d = p[k]!.data as TypedArray;
      (data as unknown as { set(a: ArrayLike<unknown>, o: number): void }).set(d, off);
      off += d.length;
    }
    out[k] = { dtype: first.dtype, shape, data };
  }
  return out;
}

/** A task that runs alone (batching off, or a signature without a free batch dimension). */
const UNBATCHED = { size: -1, shapeKey: '' };

/** The error a dropped task gets: the signal's own RequestError (a deadline, a client gone) or a plain CANCELLED. */
function cancelled(signal?: CancelSignal): RequestError {
  return signal?.reason instanceof RequestError ? signal.reason : new RequestError('CANCELLED', 'Request was cancelled');
}

export class BatchScheduler {
  private readonly queues = new Map<string, Queue>();
  private order: Queue[] = [];
  private rr = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;

  constructor(
    private readonly executor: Executor,
    private readonly config: BatchingConfig,
    private readonly observer: BatchObserver = {},
  ) {
    executor.onIdle(() => this.dispatch());
  }

  /**
   * Queues one request and resolves with its outputs. Rejects with UNAVAILABLE when the queue is full, CANCELLED when
   * `signal` aborts before the batch starts, or with the engine's error.
   */
  submit(id: QueueId, inputs: Record<string, HostTensor>, outputFilter?: string[], signal?: CancelSignal): Promise<Record<string, HostTensor>> {
    if (signal?.aborted) return Promise.reject(cancelled(signal));
    const described = this.config.enabled && id.batchable !== false ? describeTask(inputs, outputFilter, this.config.padVariableLengthInputs) : UNBATCHED;
    const size = described.size;
    const shapeKey = described.shapeKey;
    const max = this.config.maxBatchSize;
    const capacity = max * this.config.maxEnqueuedBatches;
    if (size > max) {
      if (!this.config.enableLargeBatchSplitting) {
        return Promise.reject(
          new RequestError(
            'INVALID_ARGUMENT',
            `Task size ${size} is larger than maximum input batch size ${max}: the request has ${size} rows and batches hold at most ${max} ` +
              `(max_batch_size) with enable_large_batch_splitting off; send at most ${max} rows per request`,
          ),
        );
      }
      if (size > capacity) {
        return Promise.reject(
          new RequestError(
            'INVALID_ARGUMENT',
            `Task size ${size} is larger than the batch queue: the request has ${size} rows and the queue holds at most ${capacity} ` +
              `(max_enqueued_batches ${this.config.maxEnqueuedBatches} × max_batch_size ${max}); send at most ${capacity} rows per request`,
          ),
        );
      }
      const q = this.queue(id);
      if (this.wouldOverflow(q, size)) return this.full(id);
      const chunks: Promise<Record<string, HostTensor>>[] = [];
      for (let start = 0; start < size; start += max) {
        chunks.push(this.submit(id, sliceInputs(inputs, start, Math.min(max, size - start)), outputFilter, signal));
      }
      // Settle every chunk before answering: the caller releases its handle on the version when this promise settles,
      // and a chunk still running in a worker must not outlive that handle (the version could be unloaded under it).
      return Promise.allSettled(chunks).then((results) => {
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
        return joinOutputs(results.map((r) => (r as PromiseFulfilledResult<Record<string, HostTensor>>).value));
      });
    }
    const q = this.queue(id);
    if (this.wouldOverflow(q, Math.max(size, 1))) return this.full(id);
    return new Promise((resolve, reject) => {
      const task: Task = { inputs, outputFilter, size, shapeKey, enqueuedAt: performance.now(), signal, resolve, reject };
      q.tasks.push(task);
      q.rows += Math.max(size, 1);
      signal?.addEventListener('abort', () => this.drop(q, task), { once: true });
      this.dispatch();
    });
  }

  /**
   * Admission probe for the transports, asked before a request's body is read: false when the queue of (model
   * `name`, `version`, `signature`) could not take `rows` more rows right now. A queue that does not exist yet has
   * room. Cheap (no allocation) and advisory: submit() still makes the binding decision.
   */
  hasRoom(name: string, version: number, signature: string, rows = 1): boolean {
    for (const q of this.order) {
      if (q.id.name === name && q.id.version === version && q.id.signature === signature) return !this.wouldOverflow(q, rows);
    }
    return true;
  }

  private full(id: QueueId): Promise<never> {
    this.observer.rejected?.(id);
    return Promise.reject(new RequestError('UNAVAILABLE', 'The batch scheduling queue to which this task was submitted is full'));
  }

  private wouldOverflow(q: Queue, rows: number): boolean {
    return Math.ceil((q.rows + rows) / this.config.maxBatchSize) > this.config.maxEnqueuedBatches;
  }

  private drop(q: Queue, task: Task): void {
    const i = q.tasks.indexOf(task);
    if (i < 0) return; // already running: its result is simply not used
    q.tasks.splice(i, 1);
    q.rows -= Math.max(task.size, 1);
    task.reject(cancelled(task.signal));
  }

  private queue(id: QueueId): Queue {
    const k = `${id.key}\u0000${id.signature}`;
    let q = this.queues.get(k);
    if (!q) {
      q = new Queue(id);
      this.queues.set(k, q);
      this.order.push(q);
    }
    return q;
  }

  /** Drops the queues of a model version (after it drained); tasks still queued there are refused with UNAVAILABLE. */
  removeQueues(key: string): void {
    for (const [k, q] of this.queues) {
      if (q.id.key !== key) continue;
      for (const t of q.tasks) t.reject(new RequestError('UNAVAILABLE', `model version ${q.id.name}/${q.id.version} was unloaded`));
      this.queues.delete(k);
    }
    this.order = [...this.queues.values()];
  }

  /** Rows waiting across all queues (for metrics and draining). */
  queuedRows(): number {
    let n = 0;
    for (const q of this.order) n += q.rows;
    return n;
  }

  private ready(q: Queue, now: number): boolean {
    if (q.tasks.length === 0) return false;
    const timeout = this.config.batchTimeoutMicros / 1000;
    return timeout <= 0 || q.rows >= this.config.maxBatchSize || now - q.tasks[0]!.enqueuedAt >= timeout;
  }

  private dispatch(): void {
    while (this.executor.idleCount() > 0) {
      const now = performance.now();
      let picked: Queue | undefined;
      for (let i = 0; i < this.order.length; i++) {
        const q = this.order[(this.rr + i) % this.order.length]!;
        if (this.ready(q, now)) {
          picked = q;
          this.rr = (this.rr + i + 1) % this.order.length;
          break;
        }
      }
      if (!picked) break;
      this.runBatch(picked, this.takeBatch(picked));
    }
    this.armTimer();
  }

  /** Wakes the scheduler when the oldest waiting task's batch_timeout_micros runs out. */
  private armTimer(): void {
    const timeout = this.config.batchTimeoutMicros / 1000;
    // With every worker busy there is nothing to wake up for: the next idle worker dispatches (onIdle). Arming here
    // would re-arm a timer already in the past, spinning the event loop for as long as the workers stay busy.
    if (timeout <= 0 || this.executor.idleCount() === 0) return;
    let next = Infinity;
    for (const q of this.order) if (q.tasks.length > 0) next = Math.min(next, q.tasks[0]!.enqueuedAt + timeout);
    if (next === Infinity || next >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.dispatch();
    }, Math.max(0, next - performance.now()));
  }

  private takeBatch(q: Queue): Task[] {
    const head = q.tasks.shift()!;
    q.rows -= Math.max(head.size, 1);
    const batch = [head];
    if (head.size < 0 || head.alone) return batch;
    let rows = head.size;
    for (let i = 0; i < q.tasks.length && rows < this.config.maxBatchSize; ) {
      const t = q.tasks[i]!;
      if (t.size > 0 && !t.alone && t.shapeKey === head.shapeKey && rows + t.size <= this.config.maxBatchSize) {
        q.tasks.splice(i, 1);
        q.rows -= t.size;
        rows += t.size;
        batch.push(t);
      } else i++;
    }
    return batch;
  }

  private paddedSize(rows: number): number {
    for (const s of this.config.allowedBatchSizes) if (s >= rows) return s;
    return rows;
  }

  private runBatch(q: Queue, tasks: Task[]): void {
    const started = performance.now();
    const queueDelaysMs = tasks.map((t) => started - t.enqueuedAt);
    const single = tasks.length === 1 && (tasks[0]!.size < 0 || this.paddedSize(tasks[0]!.size) === tasks[0]!.size);
    const rows = tasks.reduce((n, t) => n + Math.max(t.size, 1), 0);
    const padded = single ? rows : this.paddedSize(rows);
    let inputs: Record<string, HostTensor>;
    try {
      inputs = single ? tasks[0]!.inputs : concat(tasks, padded, this.config.padVariableLengthInputs);
    } catch (err) {
      for (const t of tasks) t.reject(err);
      return;
    }
    const report = (ok: boolean): void =>
      this.observer.batch?.(q.id, { size: rows, paddedSize: padded, queueDelaysMs, inferenceMs: performance.now() - started, ok });
    let running: Promise<Record<string, HostTensor>>;
    try {
      running = this.executor.run(q.id.key, q.id.signature, inputs, tasks[0]!.outputFilter);
    } catch (err) {
      // An executor that throws instead of rejecting must not strand the batch (nor escape into an onIdle callback).
      running = Promise.reject(err);
    }
    running.then(
      (outputs) => {
        report(true);
        if (single) {
          tasks[0]!.resolve(outputs);
          return;
        }
        let start = 0;
        for (const t of tasks) {
          const mine: Record<string, HostTensor> = {};
          for (const [k, o] of Object.entries(outputs)) {
            mine[k] = o.shape.length > 0 && o.shape[0] === padded ? rowsView(o, start, t.size) : cloneTensor(o);
          }
          start += t.size;
          t.resolve(mine);
        }
      },
      (err) => {
        report(false);
        if (err instanceof EngineFaultError && tasks.length > 1) {
          this.isolate(q, tasks, err);
          return;
        }
        for (const t of tasks) t.reject(err);
      },
    );
  }

  /** Puts the tasks of a batch that faulted back at the front of their queue, each to run alone (file comment). */
  private isolate(q: Queue, tasks: Task[], err: unknown): void {
    if (!this.order.includes(q)) {
      // The queue was removed meanwhile (scheduler closed): nowhere to re-run them.
      for (const t of tasks) t.reject(err);
      return;
    }
    for (let i = tasks.length - 1; i >= 0; i--) {
      const t = tasks[i]!;
      if (t.signal?.aborted) {
        t.reject(cancelled(t.signal));
        continue;
      }
      t.alone = true;
      q.tasks.unshift(t);
      q.rows += Math.max(t.size, 1);
    }
    this.dispatch();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const q of this.order) for (const t of q.tasks) t.reject(new RequestError('UNAVAILABLE', 'Server is shutting down'));
    this.queues.clear();
    this.order = [];
  }
}
