// Large request bodies are decoded off the HTTP thread. JSON.parse and the tensor decoders are synchronous: a 50 MB
// body parsed on the event loop stalls every other client for seconds. Bodies of at least `thresholdBytes` go to a
// small pool of worker threads running the same decoder (decode-body.ts); smaller ones stay on the fast path on the
// HTTP thread, where a round trip to a worker would cost more than the parse (see bench/decode-offthread.ts for the
// measured crossover). Bodies of at least `bulkBytes` (8 MiB) take a lane of their own: one worker that runs nicer
// than the serving threads, so a body that takes seconds to decode neither holds up the ordinary bodies queued for
// the other workers nor takes CPU from the inference workers and the HTTP thread (bench/chaos, huge body phase; see
// docs/serve.md "Limits and failure behaviour"). Ordinary bodies decode at normal priority: for image models they are
// most of the serving work. Workers start on first use; a worker that dies is replaced and its jobs fail with a clear
// error.
import { availableParallelism } from 'node:os';
import { DEFAULT_WORKER_NICENESS } from '../../engine/thread-priority.js';
import { workerExecArgv } from '../../engine/worker-exec-argv.js';
import { Worker } from 'node:worker_threads';
import type { SignatureInfo } from '../../engine/types.js';
import { decodeInferenceBody, deserializeError, type BodyDecoder, type DecodedBody, type InferenceVerb, type SerializedError } from './decode-body.js';

/**
 * Default body size from which decoding leaves the HTTP thread. bench/decode-offthread (shared, noisy 2-core machine):
 * decoding inline costs the thread ~0.4 ms at 28 KiB, ~3 ms at 114 KiB, ~8-15 ms at 456 KiB, ~50-80 ms at 1.8 MiB;
 * handing a body to a worker costs the thread ~0.1-0.4 ms below 128 KiB but adds ~0.3-1 ms of latency to that
 * request. At 256 KiB an inline parse stalls other clients by under ~10 ms, well inside the 50 ms budget.
 */
export const DEFAULT_OFFTHREAD_BYTES = 256 * 1024;

interface Pending {
  resolve: (d: DecodedBody) => void;
  reject: (e: Error) => void;
  bytes: number;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  /** Body bytes of the jobs it holds: the measure of how long a new job would wait behind them. */
  pendingBytes: number;
  /** Set after a very large body: the worker is retired once idle, returning its grown heap to the system. */
  retire?: boolean;
}

/** Default body size from which decoding takes the bulk lane. */
export const DEFAULT_BULK_BYTES = 8 * 1024 * 1024;

/** How much nicer than the process the bulk lane's thread runs (Linux; see decode-worker.ts). */
export const BULK_NICENESS = 10;

/** Bodies from this size make their worker retire when idle (a parse of N bytes can leave several N of heap behind). */
const RETIRE_AFTER_BYTES = 32 * 1024 * 1024;

export class DecodePool {
  private readonly slots: (Slot | undefined)[];
  private next = 0;
  private ids = 0;
  private closed = false;

  /** Index of the bulk lane's slot (after the `size` ordinary ones). */
  private readonly bulk: number;

  /**
   * `size` ordinary workers plus the bulk lane's one. Before the bulk lane, ordinary bodies queued behind a 50 MB one
   * in the only worker of a 2-core machine (bench/chaos measured a 2.5-4.9 s stall for other clients).
   */
  constructor(
    size = Math.max(1, Math.min(4, Math.floor(availableParallelism() / 2))),
    private readonly bulkBytes = DEFAULT_BULK_BYTES,
    /** Steps nicer than the process the decode threads run (the bulk lane BULK_NICENESS more). */
    private readonly niceness = DEFAULT_WORKER_NICENESS,
  ) {
    this.bulk = size;
    this.slots = new Array<Slot | undefined>(size + 1).fill(undefined);
  }

  /**
   * Decodes on the worker with the fewest body bytes queued. Takes `bytes` over: when it owns its whole ArrayBuffer it
   * is transferred (detached here), so callers read its length before and never use it after.
   */
  decode(verb: InferenceVerb, bytes: Buffer, signatures: Record<string, SignatureInfo>): Promise<DecodedBody> {
    if (this.closed) return Promise.reject(new Error('decode pool is closed'));
    const slot = bytes.byteLength >= this.bulkBytes ? (this.slots[this.bulk] ??= this.spawn(this.bulk)) : this.pick();
    const id = ++this.ids;
    const size = bytes.byteLength;
    if (bytes.byteLength >= RETIRE_AFTER_BYTES) slot.retire = true;
    // A body that owns its whole ArrayBuffer (any body read in more than one chunk: Buffer.concat allocates it) moves
    // to the worker without a copy, and `bytes` is detached: a 240 MB body is not held twice. A view on a larger
    // (pooled or shared) buffer is copied exactly and the copy moves.
    let own: Uint8Array = bytes;
    if (!(bytes.buffer instanceof ArrayBuffer) || bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength) {
      own = new Uint8Array(bytes.byteLength);
      own.set(bytes);
    }
    return new Promise<DecodedBody>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject, bytes: size });
      slot.pendingBytes += size;
      try {
        slot.worker.postMessage({ id, verb, bytes: own, signatures }, [own.buffer as ArrayBuffer]);
      } catch {
        // An ArrayBuffer Node keeps from being transferred: send a copy.
        const copy = new Uint8Array(size);
        copy.set(own);
        slot.worker.postMessage({ id, verb, bytes: copy, signatures }, [copy.buffer]);
      }
    });
  }

  private pick(): Slot {
    let best = -1;
    for (let i = 0; i < this.bulk; i++) {
      const j = (this.next + i) % this.bulk;
      const s = this.slots[j];
      if (!s) {
        best = j;
        break;
      }
      if (best < 0 || s.pendingBytes < this.slots[best]!.pendingBytes) best = j;
    }
    this.next = (best + 1) % this.bulk;
    return (this.slots[best] ??= this.spawn(best));
  }

  private spawn(index: number): Slot {
    const worker = new Worker(new URL('./decode-worker.js', import.meta.url), { workerData: { niceness: this.niceness + (index === this.bulk ? BULK_NICENESS : 0) }, execArgv: workerExecArgv() });
    worker.unref();
    const slot: Slot = { worker, pending: new Map(), pendingBytes: 0 };
    worker.on('message', (m: { id: number; decoded?: DecodedBody; error?: SerializedError }) => {
      const p = slot.pending.get(m.id);
      if (!p) return;
      slot.pending.delete(m.id);
      slot.pendingBytes -= p.bytes;
      if (m.error) p.reject(deserializeError(m.error));
      else p.resolve(m.decoded!);
      if (slot.retire && slot.pending.size === 0) {
        if (this.slots[index] === slot) this.slots[index] = undefined;
        void worker.terminate();
      }
    });
    const fail = (why: string): void => {
      if (this.slots[index] === slot) this.slots[index] = undefined;
      for (const p of slot.pending.values()) p.reject(new Error(`request decoder thread failed: ${why}`));
      slot.pending.clear();
      slot.pendingBytes = 0;
    };
    worker.on('error', (err) => fail(err.message));
    worker.on('exit', (code) => fail(`exited with code ${code}`));
    return slot;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s?.worker.terminate()));
  }
}

/** The routes' decoder: bodies under `thresholdBytes` on this thread, larger ones in `pool`. */
export function splitDecoder(pool: DecodePool, thresholdBytes: number): BodyDecoder {
  return (verb, bytes, signatures) =>
    bytes.byteLength >= thresholdBytes ? pool.decode(verb, bytes, signatures) : decodeInferenceBody(verb, bytes, signatures);
}
