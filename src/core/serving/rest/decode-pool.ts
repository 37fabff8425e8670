// Large request bodies are decoded off the HTTP thread. JSON.parse and the tensor decoders are synchronous: a 50 MB
// body parsed on the event loop stalls every other client for seconds. Bodies of at least `thresholdBytes` go to a
// small pool of worker threads running the same decoder (decode-body.ts); smaller ones stay on the fast path on the
// HTTP thread, where a round trip to a worker would cost more than the parse (see bench/decode-offthread.ts for the
// measured crossover). Workers start on first use; a worker that dies is replaced and its jobs fail with a clear error.
import { availableParallelism } from 'node:os';
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
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  /** Set after a very large body: the worker is retired once idle, returning its grown heap to the system. */
  retire?: boolean;
}

/** Bodies from this size make their worker retire when idle (a parse of N bytes can leave several N of heap behind). */
const RETIRE_AFTER_BYTES = 32 * 1024 * 1024;

export class DecodePool {
  private readonly slots: (Slot | undefined)[];
  private next = 0;
  private ids = 0;
  private closed = false;

  constructor(size = Math.max(1, Math.min(4, Math.floor(availableParallelism() / 2)))) {
    this.slots = new Array<Slot | undefined>(size).fill(undefined);
  }

  /** Decodes on the least-loaded worker. The body's bytes are copied once into the job (the socket's buffers stay). */
  decode(verb: InferenceVerb, bytes: Buffer, signatures: Record<string, SignatureInfo>): Promise<DecodedBody> {
    if (this.closed) return Promise.reject(new Error('decode pool is closed'));
    const slot = this.pick();
    const id = ++this.ids;
    if (bytes.byteLength >= RETIRE_AFTER_BYTES) slot.retire = true;
    // A Buffer may be a view on a larger (pooled or shared) ArrayBuffer: send an exact copy and transfer that.
    const own = new Uint8Array(bytes.byteLength);
    own.set(bytes);
    return new Promise<DecodedBody>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, verb, bytes: own, signatures }, [own.buffer]);
    });
  }

  private pick(): Slot {
    let best = -1;
    for (let i = 0; i < this.slots.length; i++) {
      const j = (this.next + i) % this.slots.length;
      const s = this.slots[j];
      if (!s) {
        best = j;
        break;
      }
      if (best < 0 || s.pending.size < this.slots[best]!.pending.size) best = j;
    }
    this.next = (best + 1) % this.slots.length;
    return (this.slots[best] ??= this.spawn(best));
  }

  private spawn(index: number): Slot {
    const worker = new Worker(new URL('./decode-worker.js', import.meta.url));
    worker.unref();
    const slot: Slot = { worker, pending: new Map() };
    worker.on('message', (m: { id: number; decoded?: DecodedBody; error?: SerializedError }) => {
      const p = slot.pending.get(m.id);
      if (!p) return;
      slot.pending.delete(m.id);
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
