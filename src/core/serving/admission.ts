// Admission control: whether the server takes on a request at all, decided BEFORE its body is read or parsed, so that
// overload is shed at the cost of a header read, not a JSON parse. Two limits, shared by REST and gRPC:
//  - the batch queue the request would join has no room (the batcher's hasRoom probe) → UNAVAILABLE, as TF Serving's
//    batcher says ("The batch scheduling queue to which this task was submitted is full");
//  - the request bytes held by admitted, unfinished requests would exceed --max_inflight_request_bytes →
//    RESOURCE_EXHAUSTED on gRPC (a server resource quota, gRPC's code for it).
// A REST request whose body is in but not yet in the batch queue (being decoded, possibly on a decode worker) counts
// against the queue's room as `rows` rows (the rows its target's recent requests had): a request waiting to be
// decoded is as much "queued" as one waiting for a batch. Without that, a 5x overload piled up in front of the
// decoders, never met a full queue, and was answered seconds late instead of refused at once (bench/chaos --queue).
// It counts from the end of its body, not from admission: counting requests still uploading starved the engine while
// their bodies trickled in (goodput fell from 42% to 26% of capacity in bench/chaos on the Keras 3 CNN, --queue 4).
// REST answers both with 503 and Retry-After: the client should come back, unlike a 413 (body over the limit, never
// admissible) or a 400. A request holds its bytes from admission until its answer is sent (the body, its decoded
// tensors and its batch all live that long), and bodies of unknown length (chunked) are charged as they stream.
import { RequestError } from '../errors.js';

/** Default --max_inflight_request_bytes: 1 GiB of request bodies being read, decoded or run at once. */
export const DEFAULT_MAX_INFLIGHT_BYTES = 1024 * 1024 * 1024;
/** Seconds a REST client is told to wait (Retry-After) after a 503 from admission control. */
export const RETRY_AFTER_SECONDS = 1;

/** What a request targets, when known before its body: the version it resolves to and the signature it names. */
export interface AdmissionTarget {
  model: string;
  version: number;
  signature: string;
}

export interface AdmissionOptions {
  /** Bound on the bytes of admitted, unfinished requests; 0 or Infinity: unbounded. */
  maxInFlightBytes?: number;
  /** The batcher's probe (BatchScheduler.hasRoom): false when the target's queue is full. */
  queueHasRoom?: (model: string, version: number, signature: string, rows?: number) => boolean;
}

/** An admitted request's claim on the in-flight byte budget. `release` is idempotent. */
export interface AdmissionTicket {
  /** Charges `bytes` more (a body of unknown length, as it streams); throws the overload error when over budget. */
  grow(bytes: number): void;
  /** The body is in (admitted with `untilQueued`): from now until queued() it counts against its queue's room. */
  bodyRead(): void;
  /** The request reached the batch queue with `rows` rows (admitted with `untilQueued`): it no longer counts as pending. */
  queued(rows: number): void;
  release(): void;
}

/** Requests of one target whose body is in and which are not yet in the batch queue, and the rows its requests have had lately. */
interface Pending {
  requests: number;
  rowsPerRequest: number;
  /** Whether rowsPerRequest was learnt from a request (else it is the first guess, 1). */
  seen: boolean;
}

export class Admission {
  private readonly maxBytes: number;
  private bytes = 0;
  /** Requests turned away, by reason (for tests and bench/chaos). */
  readonly rejected = { queueFull: 0, bytes: 0 };
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly options: AdmissionOptions = {}) {
    const m = options.maxInFlightBytes ?? DEFAULT_MAX_INFLIGHT_BYTES;
    this.maxBytes = m > 0 ? m : Infinity;
  }

  /** Bytes currently held by admitted requests. */
  inFlightBytes(): number {
    return this.bytes;
  }

  /**
   * Admits a request declaring `bytes` (0 when unknown yet) for `target` (undefined when not known before the body),
   * or throws the RequestError the client gets: UNAVAILABLE (queue full) or RESOURCE_EXHAUSTED (byte budget).
   * A single request larger than the whole budget is still admitted when nothing else is in flight, so the budget
   * never makes a body under the body limit impossible to send.
   */
  admit(bytes: number, target?: AdmissionTarget, opts: { untilQueued?: boolean } = {}): AdmissionTicket {
    const key = target && `${target.model}\u0000${target.version}\u0000${target.signature}`;
    const pending = key !== undefined && opts.untilQueued ? this.pendingOf(key) : undefined;
    if (target && this.options.queueHasRoom) {
      // The requests ahead of this one that are being decoded will want room too.
      const ahead = pending ? Math.ceil(pending.requests * pending.rowsPerRequest) : 0;
      const rows = ahead + Math.max(1, Math.round(pending?.rowsPerRequest ?? 1));
      if (!this.options.queueHasRoom(target.model, target.version, target.signature, rows)) {
        this.rejected.queueFull++;
        throw queueFullError();
      }
    }
    this.charge(bytes);
    let held = bytes;
    let released = false;
    let waiting = false;
    let left = false;
    const leaveQueue = () => {
      left = true;
      if (!waiting) return;
      waiting = false;
      pending!.requests--;
      if (pending!.requests === 0 && !pending!.seen) this.pending.delete(key!);
    };
    return {
      grow: (n: number) => {
        if (released) return;
        this.charge(n);
        held += n;
      },
      bodyRead: () => {
        if (!pending || waiting || left) return;
        waiting = true;
        pending.requests++;
      },
      queued: (rows: number) => {
        // Recent requests weigh most (a client changing its batch size is followed within a few requests).
        if (pending && rows > 0) {
          pending.rowsPerRequest = pending.seen ? 0.75 * pending.rowsPerRequest + 0.25 * rows : rows;
          pending.seen = true;
        }
        leaveQueue();
      },
      release: () => {
        leaveQueue();
        if (released) return;
        released = true;
        this.bytes -= held;
      },
    };
  }

  private pendingOf(key: string): Pending {
    let p = this.pending.get(key);
    if (!p) this.pending.set(key, (p = { requests: 0, rowsPerRequest: 1, seen: false }));
    return p;
  }

  private charge(n: number): void {
    if (n > 0 && this.bytes > 0 && this.bytes + n > this.maxBytes) {
      this.rejected.bytes++;
      throw withoutStack(() => new RequestError('RESOURCE_EXHAUSTED', `Server is overloaded: more than ${this.maxBytes} bytes of requests are in flight; retry later`));
    }
    this.bytes += n;
  }
}

/** The batcher's own words for a full queue (TF Serving's text), raised before the body is read. */
export function queueFullError(): RequestError {
  return withoutStack(() => new RequestError('UNAVAILABLE', 'The batch scheduling queue to which this task was submitted is full'));
}

/**
 * Builds an error without capturing a stack trace: at 5x overload most requests are refused here, and capturing the
 * stack cost about 90 µs of the HTTP thread per refusal on this project's machine (bench/chaos --cpu-prof), for a
 * trace nobody reads (the client gets the message, the log the code).
 */
function withoutStack<T>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Whether an error is admission control turning a request away (REST: 503 + Retry-After). */
export function isOverload(err: unknown): boolean {
  return err instanceof RequestError && (err.code === 'UNAVAILABLE' || err.code === 'RESOURCE_EXHAUSTED');
}
