// Cancellation of queued work. The serving stack only needs to know whether a request was abandoned (the client went
// away, its deadline passed) and to hear about it once. AbortSignal offers that, and gRPC passes one; the REST front
// end uses the much cheaper Cancellation below: an AbortController per request was a measurable share of the HTTP
// thread's time, and almost no request is ever cancelled.

/** What the batch scheduler and the routes need of a cancellation signal (AbortSignal has it too). */
export interface CancelSignal {
  readonly aborted: boolean;
  readonly reason?: unknown;
  /** Like AbortSignal: `listener` runs once when the signal aborts; a listener added after that never runs. */
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
}

/** A minimal AbortController + AbortSignal in one object. */
export class Cancellation implements CancelSignal {
  aborted = false;
  reason: unknown = undefined;
  private listeners: (() => void)[] | undefined;

  addEventListener(type: 'abort', listener: () => void): void {
    if (this.aborted || type !== 'abort') return;
    (this.listeners ??= []).push(listener);
  }

  /** Aborts with `reason` and runs every listener once (later calls do nothing). */
  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const l of listeners) l();
  }
}
