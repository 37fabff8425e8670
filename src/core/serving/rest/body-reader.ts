// Reading a request body within limits. The declared Content-Length is checked before any byte is read; a body of
// unknown length (chunked) is measured as it streams, so neither can grow past `limit` in memory, and each chunk is
// charged to the request's admission ticket (a chunked body can push the server over its in-flight byte budget).
import type http from 'node:http';
import type { AdmissionTicket } from '../admission.js';

/** The body is larger than the limit: 413, never admissible, retrying does not help. */
export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`Request body too large: the limit is ${limit} bytes (--max_body_bytes)`);
  }
}

const EMPTY = Buffer.alloc(0);

/** Declared bodies from this size are read into one preallocated buffer (smaller ones mostly arrive in one chunk). */
const PREALLOCATE_FROM = 1024 * 1024;

/** The declared body length, or -1 when the request has none (chunked, or no body). */
export function declaredLength(req: http.IncomingMessage): number {
  const v = req.headers['content-length'];
  if (v === undefined) return -1;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : -1;
}

/**
 * Bodies declared at PACE_FROM bytes or more (the decode pool's bulk lane) are read at most PACE_SLICE bytes per
 * PACE_GAP_MS (about 100 MiB/s): the HTTP thread paused between slices lets the inference and decode threads, which
 * run nicer than it, serve other clients. Read at full speed, a 50 MB body took the HTTP thread 140 ms of CPU in one
 * burst, and other clients' P99 rose by 45-125 ms (bench/chaos --only huge); its decode takes seconds anyway.
 */
const PACE_FROM = 8 * 1024 * 1024;
const PACE_SLICE = 1024 * 1024;
const PACE_GAP_MS = 10;

/**
 * Reads the whole body and calls `done` exactly once: with the body, or with BodyTooLarge, the ticket's overload
 * error or the stream's error. `ticket` was charged the declared length already; only undeclared bytes are added.
 * A body that arrives in one chunk (most do) is used as it is, without a copy; a declared body of 1 MiB or more is
 * copied chunk by chunk into one buffer of its declared size.
 */
export function readBody(req: http.IncomingMessage, limit: number, ticket: AdmissionTicket | undefined, done: (err: unknown, body?: Buffer) => void): void {
  const declared = declaredLength(req);
  if (declared > limit) {
    done(new BodyTooLarge(limit));
    return;
  }
  let first: Buffer | undefined;
  let chunks: Buffer[] | undefined;
  // A large declared body is copied into one buffer of its size as it arrives: collecting the chunks and joining them
  // at the end held the body twice at the peak (bench/chaos --big-valid-mb). node:http delivers exactly the declared
  // length, or an error.
  let whole = declared >= PREALLOCATE_FROM ? Buffer.allocUnsafeSlow(declared) : undefined;
  let size = 0;
  let settled = false;
  const paced = declared >= PACE_FROM;
  let sincePause = 0;
  const stop = (err: unknown): void => {
    settled = true;
    // Stop buffering: the rest of the body is discarded by node:http once the answer is sent.
    first = undefined;
    chunks = undefined;
    whole = undefined;
    done(err);
  };
  req.on('data', (c: Buffer) => {
    if (settled) return;
    if (whole && size + c.length <= whole.length) {
      c.copy(whole, size);
      size += c.length;
      if (paced && (sincePause += c.length) >= PACE_SLICE) {
        sincePause = 0;
        req.pause();
        setTimeout(() => {
          if (!settled) req.resume();
        }, PACE_GAP_MS);
      }
      return;
    }
    size += c.length;
    if (size > limit) {
      stop(new BodyTooLarge(limit));
      return;
    }
    if (ticket && size > declared) {
      try {
        ticket.grow(size - Math.max(declared, size - c.length));
      } catch (err) {
        stop(err);
        return;
      }
    }
    if (whole) {
      // More than declared (node:http does not let this happen): fall back to collecting.
      first = whole.subarray(0, size - c.length);
      whole = undefined;
    }
    if (first === undefined) first = c;
    else (chunks ??= [first]).push(c);
  });
  req.on('end', () => {
    if (settled) return;
    settled = true;
    if (whole) done(null, size === whole.length ? whole : whole.subarray(0, size));
    else done(null, chunks ? Buffer.concat(chunks, size) : first ?? EMPTY);
  });
  req.on('error', (err) => {
    if (settled) return;
    stop(err);
  });
}
