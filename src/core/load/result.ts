// One result per request: the attack emits these, metrics fold them. Times are milliseconds on the attack's
// monotonic clock (performance.now()), relative to the start of the run.

/**
 * Why a request failed: a non-2xx answer ('http'), an answer failing --expect-status/--expect-body ('check'), no answer
 * in time, no connection, a dropped connection, other.
 */
export type ErrorKind = 'http' | 'check' | 'timeout' | 'connect' | 'reset' | 'other';
export const ERROR_KINDS: readonly ErrorKind[] = ['http', 'check', 'timeout', 'connect', 'reset', 'other'];

export interface Result {
  /** When the schedule meant the request to start. Closed loop: equal to `start`. */
  intended: number;
  /** When the request was handed to a free connection (after any wait for one). */
  start: number;
  /** When the whole response body had arrived, or the error happened. */
  end: number;
  /** HTTP status; 0 when no response came. */
  status: number;
  bytesIn: number;
  bytesOut: number;
  /** Set when the request failed. */
  error?: ErrorKind;
  /** A short description of the failure (first bytes of an error body, or the transport error), for the report. */
  message?: string;
  /** True for requests in the --warmup period: sent, shown live, excluded from the results. */
  warmup?: boolean;
}

/**
 * Whether a result's time is a latency. Answers are (any status: a fast 503 is what the client saw), and so are
 * timeouts: they took at least --timeout, and leaving them out would hide the slowest requests. Failures with no
 * answer (no connection, a dropped one, other transport errors) are not: a refused connection fails in
 * microseconds, and recording that would make a server that died mid-run look faster. They count as errors only,
 * as wrk2 counts its connect/read/write errors.
 */
export function hasLatency(r: Pick<Result, 'error'>): boolean {
  return r.error === undefined || r.error === 'http' || r.error === 'check' || r.error === 'timeout';
}
