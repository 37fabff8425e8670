// One gRPC call on one HTTP/2 stream of the node:http2 server (h2-server.ts), shaped like the grpc-js server call
// objects the handlers were written against (ServerUnaryCall / ServerWritableStream): `request`, `metadata` (a real
// grpc.Metadata), `getPeer()`, `getDeadline()`, `getPath()`, `cancelled` and the 'cancelled' event, `sendMetadata`, and
// for server-streaming methods `write` / `end`. The existing handlers, the gate (gated.ts), the admission guard
// (admission.ts) and grpc-health-check's HealthImplementation therefore run unchanged on either server.
//
// Contract: the status is sent exactly once (`sendStatus`); everything after it is ignored. 'cancelled' is emitted
// once, when the client went away (RST_STREAM, connection lost) or the deadline passed before the status was sent.
import { EventEmitter } from 'node:events';
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { ACCEPT_ENCODING, encodeGrpcMessage, frameMessage } from './h2-framing.js';

/** Response headers of every call (uncompressed replies; the encodings a request may use). */
const RESPONSE_HEADERS: http2.OutgoingHttpHeaders = Object.freeze({
  ':status': 200,
  'content-type': 'application/grpc+proto',
  'grpc-accept-encoding': ACCEPT_ENCODING,
});
const OK_TRAILERS: http2.OutgoingHttpHeaders = Object.freeze({ 'grpc-status': '0', 'grpc-message': 'OK' });

/** Request headers that are transport, not call metadata (grpc-js leaves them out of call.metadata too). */
const TRANSPORT_HEADERS = ['content-type', 'te', 'grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding', 'user-agent', 'content-length'];

export class H2ServerCall<Req = unknown, Res = unknown> extends EventEmitter {
  request!: Req;
  cancelled = false;
  /** Admission taken from the request's first bytes (h2-server.ts): the handler takes it over, else the server releases it. */
  admitted: { release(): void } | undefined;
  private statusSent = false;
  private headersSent = false;
  private extraHeaders: http2.OutgoingHttpHeaders | undefined;
  private trailers: http2.OutgoingHttpHeaders = OK_TRAILERS;
  private md: grpc.Metadata | undefined;

  constructor(
    readonly stream: http2.ServerHttp2Stream,
    private readonly headers: http2.IncomingHttpHeaders,
    private readonly path: string,
    private readonly serialize: (value: Res) => Buffer,
    /** Absolute deadline (Date.now() ms), or Infinity. */
    readonly deadline: number,
    private readonly deadlines: DeadlineSweep,
  ) {
    super();
    if (Number.isFinite(deadline)) deadlines.add(this);
  }

  /** The deadline passed (DeadlineSweep): DEADLINE_EXCEEDED, and the call's work is told it is cancelled. */
  expire(): void {
    this.sendStatus(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded');
    this.cancel();
  }

  /** The request metadata, built on first use (most calls never look at it when no gate is configured). */
  get metadata(): grpc.Metadata {
    if (!this.md) {
      const md = grpc.Metadata.fromHttp2Headers(this.headers);
      for (const h of TRANSPORT_HEADERS) md.remove(h);
      this.md = md;
    }
    return this.md;
  }

  /** The HTTP/2 session (connection) the call came on: what per-connection memos key on (gate.ts). */
  get connection(): object | undefined {
    return this.stream.session;
  }

  getPeer(): string {
    const s = this.stream.session?.socket;
    if (!s?.remoteAddress) return 'unknown';
    return s.remotePort ? `${s.remoteAddress}:${s.remotePort}` : s.remoteAddress;
  }

  getDeadline(): Date | number {
    return Number.isFinite(this.deadline) ? new Date(this.deadline) : Infinity;
  }

  getPath(): string {
    return this.path;
  }

  /** Response metadata, sent with the response headers (before the first message or the status). */
  sendMetadata(md: grpc.Metadata): void {
    if (this.headersSent || this.statusSent) return;
    this.extraHeaders = { ...this.extraHeaders, ...md.toHttp2Headers() };
  }

  private respond(): void {
    this.headersSent = true;
    const headers = this.extraHeaders ? { ...this.extraHeaders, ...RESPONSE_HEADERS } : RESPONSE_HEADERS;
    this.stream.respond(headers, { waitForTrailers: true });
    this.stream.once('wantTrailers', () => this.stream.sendTrailers(this.trailers));
  }

  private get open(): boolean {
    return !this.statusSent && !this.stream.destroyed && !this.stream.closed;
  }

  /** One response message (server streaming; unary calls use `reply`). Returns false when the call is over. */
  write(value: Res): boolean {
    if (!this.open) return false;
    const frame = frameMessage(this.serialize(value));
    if (!this.headersSent) this.respond();
    return this.stream.write(frame);
  }

  /** Ends a server-streaming call with OK (and `trailer` metadata). */
  end(trailer?: grpc.Metadata): void {
    this.sendStatus(grpc.status.OK, 'OK', trailer);
  }

  /** The unary answer: one message, then OK. */
  reply(value: Res, trailer?: grpc.Metadata): void {
    if (!this.open) return;
    let frame: Buffer;
    try {
      frame = frameMessage(this.serialize(value));
    } catch (err) {
      this.sendStatus(grpc.status.INTERNAL, `Error serializing response: ${(err as Error).message}`);
      return;
    }
    if (!this.headersSent) this.respond();
    this.finish(trailer ? { ...OK_TRAILERS, ...trailer.toHttp2Headers() } : OK_TRAILERS, frame);
  }

  /**
   * Sends the status: in trailers after a response has begun, or as a Trailers-Only response (headers carrying
   * grpc-status, the stream ended) when nothing was sent yet. Later calls do nothing.
   */
  sendStatus(code: grpc.status, details: string, trailer?: grpc.Metadata | null): void {
    if (!this.open) return;
    const status: http2.OutgoingHttpHeaders = { 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(details) };
    const all = trailer ? { ...trailer.toHttp2Headers(), ...status } : status;
    if (this.headersSent) {
      this.finish(all);
      return;
    }
    this.statusSent = true;
    this.clearDeadline();
    this.headersSent = true;
    this.stream.respond({ ...this.extraHeaders, ...RESPONSE_HEADERS, ...all }, { endStream: true });
  }

  private finish(trailers: http2.OutgoingHttpHeaders, last?: Buffer): void {
    this.statusSent = true;
    this.clearDeadline();
    this.trailers = trailers;
    if (last) this.stream.end(last);
    else this.stream.end();
  }

  private clearDeadline(): void {
    if (Number.isFinite(this.deadline)) this.deadlines.delete(this);
  }

  /** The stream closed: a call whose status was never sent was cancelled (client reset, connection lost). */
  closed(): void {
    this.clearDeadline();
    if (this.statusSent) return;
    this.statusSent = true;
    this.cancel();
  }

  private cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.emit('cancelled', 'cancelled');
  }
}

/**
 * The deadlines of a server's calls, checked by one timer every `everyMs` while any call has one (a timer per call was
 * measurable churn: bench clients send grpc-timeout on every call). A call expires at most `everyMs` late.
 */
interface Expiring {
  readonly deadline: number;
  expire(): void;
}

export class DeadlineSweep {
  private readonly calls = new Set<Expiring>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly everyMs = 5) {}

  add(call: Expiring): void {
    this.calls.add(call);
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), this.everyMs);
      this.timer.unref();
    }
  }

  delete(call: Expiring): void {
    this.calls.delete(call);
  }

  private sweep(): void {
    const now = Date.now();
    for (const c of this.calls) if (c.deadline <= now) c.expire(); // expire() deletes c (clearDeadline)
    if (this.calls.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
