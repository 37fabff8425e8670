// A minimal unary gRPC client for exactly what bench sends: one pre-encoded request message per call, the answer
// counted (send) or returned (call), many calls multiplexed as streams over a few HTTP/2 connections.
//
// Why by hand, and why not over node:http2 (a measured hot path; bench/grpc-client.ts prints the figures side by
// side, docs/bench.md "How good is the gRPC client?" has the profiles): grpc-js builds a call stack of filters, a
// Metadata object, a deadline timer and a status object per call and cost ~460 µs of CPU per call on the project's
// VM; a client over node:http2 still cost ~220 µs, most of it inside Node's http2 layer (per-stream objects, header
// object conversion both ways, an AsyncResource bound per request, stream events) and the garbage it leaves. At
// 5000 calls/s on one core the generator has ~200 µs per call for everything. So this client speaks HTTP/2 itself
// over a socket (h2-connection.ts, h2-wire.ts, hpack-*.ts): a call is one header block encoded once per client
// (hpack-literal.ts), one request frame built once per body (the 5-byte gRPC prefix in front of the PredictRequest
// bytes, kept in a WeakMap), one small state object, and frames written once per event-loop turn for all calls;
// deadlines share one sweep timer. grpc-js stays the reference: test/load/grpc-h2.test.ts checks this client against
// it and against both tfsvc gRPC servers.
//
// Wire (gRPC over HTTP/2, PROTOCOL-HTTP2.md): POST /package.Service/Method, content-type application/grpc,
// te: trailers, grpc-timeout (the deadline, which the server enforces too), extra metadata as lower-case headers.
// Messages are length-prefixed: 1 byte compressed flag (always 0 here: no grpc-encoding is offered), 4 bytes
// big-endian length, the message. The status comes in trailers (grpc-status, grpc-message percent-encoded), or in
// the headers of a trailers-only answer. A non-200 HTTP status maps to a gRPC code as the spec's table says.
// Calls the server never saw (GOAWAY above their stream id, REFUSED_STREAM) are sent again on another connection,
// up to 3 times, within their deadline; any other loss is UNAVAILABLE with the transport failure kind.
import type tls from 'node:tls';
import type { ClientOptions, Outcome } from './client.js';
import { grpcCodeName, httpStatusOf, PREDICTION_SERVICE, type GrpcMethod } from './grpc-client.js';
import { H2Connection, type StreamAbort, type StreamListener } from './h2-connection.js';
import { H2Error } from './h2-wire.js';
import { literalHeaderBlock } from './hpack-literal.js';
import { NO_SECURITY, type ClientSecurity } from './security.js';
/** gRPC status codes used here (TF's canonical numbering). */
export const Code = { OK: 0, CANCELLED: 1, UNKNOWN: 2, DEADLINE_EXCEEDED: 4, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, PERMISSION_DENIED: 7, UNAUTHENTICATED: 16, RESOURCE_EXHAUSTED: 8 } as const;

/** How a call went wrong below the gRPC status: no connection, a dropped one, or our own deadline. */
export type TransportFailure = 'connect' | 'reset' | 'timeout' | undefined;

/** The end of one call. `code` is the gRPC status; `failure` says when the status came from the transport, not the server. */
export interface UnaryAnswer {
  code: number;
  details: string;
  /** Bytes of response body received (frames included). */
  bytesIn: number;
  failure: TransportFailure;
  /** The response message (only when asked for: `call`). */
  message?: Buffer;
}

export interface H2ClientOptions {
  /** host:port */
  address: string;
  /** HTTP/2 connections to spread calls over (each carries many concurrent streams). */
  sessions: number;
  /** Per-call deadline, ms. */
  timeoutMs: number;
  /** Metadata sent with every call (header names are lower-cased). */
  metadata?: Record<string, string>;
  /** gRPC over TLS (ALPN h2), trusting `ca` beyond the system's CAs and presenting `cert`/`key` when given. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** Our HTTP/2 receive window per stream and per connection, bytes (default 4 MiB; at least 65,535). */
  window?: number;
}

/** HTTP status → gRPC code, for answers that are not gRPC at all (a proxy's error page): gRPC's http-grpc-status-mapping. */
function codeOfHttpStatus(status: number): number {
  if (status === 400) return Code.INTERNAL;
  if (status === 401) return Code.UNAUTHENTICATED;
  if (status === 403) return Code.PERMISSION_DENIED;
  if (status === 404) return Code.UNIMPLEMENTED;
  if (status === 429 || status === 502 || status === 503 || status === 504) return Code.UNAVAILABLE;
  return Code.UNKNOWN;
}

function decodeGrpcMessage(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/** grpc-timeout: at most 8 digits and a unit. */
function grpcTimeout(ms: number): string {
  const m = Math.max(1, Math.ceil(ms));
  return m < 1e8 ? `${m}m` : `${Math.min(99_999_999, Math.ceil(m / 1000))}S`;
}

const NO_MESSAGE = Buffer.alloc(0);
const MAX_ATTEMPTS = 3;

/** host:port (host may be [v6]) → parts. */
function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  const port = Number(address.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`not a host:port address: ${address}`);
  return { host, port };
}

/** A header value must not break the header block's framing on the server's side (RFC 7540 §10.3). */
function checkHeader(name: string, value: string): void {
  if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) throw new Error(`metadata name "${name.slice(0, 40)}" is not a valid lower-case header name`);
  if (/[\0\r\n]/.test(value)) throw new Error(`metadata "${name}" has a NUL, CR or LF in its value`);
}

/** The status of an answer that carried none: mapped from the RST_STREAM code as grpc-js maps it, else UNAVAILABLE. */
function codeOfReset(code: number | undefined): number {
  if (code === H2Error.CANCEL) return Code.CANCELLED;
  if (code === H2Error.ENHANCE_YOUR_CALM) return Code.RESOURCE_EXHAUSTED;
  if (code === H2Error.INADEQUATE_SECURITY) return Code.PERMISSION_DENIED;
  return Code.UNAVAILABLE;
}

/** One call in flight: the stream's listener, its deadline, and how it ends. */
class Call implements StreamListener {
  conn: H2Connection | undefined;
  stream = 0;
  attempts = 0;
  done = false;
  private httpStatus = 0;
  private code = -1;
  private details = '';
  bytesIn = 0;
  private chunks: Buffer[] | undefined;

  constructor(
    private readonly client: H2GrpcClient,
    readonly block: Buffer,
    readonly frame: Buffer,
    readonly deadline: number,
    keep: boolean,
    private readonly resolve: (a: UnaryAnswer) => void,
  ) {
    this.chunks = keep ? [] : undefined;
  }

  headers(f: string[], end: boolean): void {
    let status: string | undefined;
    let message = '';
    for (let i = 0; i < f.length; i += 2) {
      const name = f[i]!;
      if (name === ':status') this.httpStatus = Number(f[i + 1]);
      else if (name === 'grpc-status') status = f[i + 1];
      else if (name === 'grpc-message') message = f[i + 1]!;
    }
    // Trailers, or the headers of a trailers-only answer (an error before any message).
    if (status !== undefined) {
      this.code = Number(status);
      this.details = decodeGrpcMessage(message);
    }
    if (end) this.end();
  }

  data(payload: Buffer, end: boolean): void {
    this.bytesIn += payload.length;
    // The payload is a view into a read buffer that is reused: keep a copy.
    if (this.chunks && payload.length) this.chunks.push(Buffer.from(payload));
    if (end) this.end();
  }

  aborted(kind: StreamAbort, detail: string, rstCode?: number): void {
    if (this.done) return;
    if (kind === 'refused' && this.attempts < MAX_ATTEMPTS && performance.now() < this.deadline) {
      // The server never processed it: send it again, on another connection.
      this.client.start(this);
      return;
    }
    const code = kind === 'reset' ? codeOfReset(rstCode) : Code.UNAVAILABLE;
    this.finish({ code, details: detail, bytesIn: this.bytesIn, failure: kind === 'connect' ? 'connect' : 'reset' });
  }

  private end(): void {
    const { code, details, bytesIn } = this;
    if (code >= 0) {
      if (code !== Code.OK || !this.chunks) return this.finish({ code, details, bytesIn, failure: undefined });
      const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      this.chunks = undefined;
      if (body.length < 5) return this.finish({ code: Code.INTERNAL, details: 'OK status without a response message', bytesIn, failure: undefined });
      if (body[0] !== 0) return this.finish({ code: Code.INTERNAL, details: 'compressed response message, and no compression was offered', bytesIn, failure: undefined });
      const len = body.readUInt32BE(1);
      if (body.length !== 5 + len) return this.finish({ code: Code.INTERNAL, details: `response message framing: ${body.length - 5} bytes for a ${len}-byte message`, bytesIn, failure: undefined });
      return this.finish({ code, details, bytesIn, failure: undefined, message: len === 0 ? NO_MESSAGE : body.subarray(5) });
    }
    if (this.httpStatus && this.httpStatus !== 200) {
      return this.finish({ code: codeOfHttpStatus(this.httpStatus), details: `HTTP status ${this.httpStatus} without a gRPC status`, bytesIn, failure: undefined });
    }
    this.finish({ code: Code.UNKNOWN, details: 'the server ended the call without a grpc-status', bytesIn, failure: undefined });
  }

  finish(a: UnaryAnswer): void {
    if (this.done) return;
    this.done = true;
    this.client.calls.delete(this);
    this.resolve(a);
  }
}

export class H2GrpcClient {
  private readonly conns: (H2Connection | undefined)[];
  private readonly host: string;
  private readonly port: number;
  private readonly scheme: 'http' | 'https';
  /** In-flight calls in start order, which is deadline order (one timeout for all). */
  readonly calls = new Set<Call>();
  /** Calls waiting for a stream (every connection at the server's SETTINGS_MAX_CONCURRENT_STREAMS). */
  private readonly waiting: Call[] = [];
  private sweep: NodeJS.Timeout | undefined;
  private readonly frames = new WeakMap<Buffer, Buffer>();
  private closed = false;
  private readonly blocks = new Map<string, Buffer>();

  constructor(private readonly o: H2ClientOptions) {
    this.conns = new Array<H2Connection | undefined>(Math.max(1, o.sessions)).fill(undefined);
    ({ host: this.host, port: this.port } = splitAddress(o.address));
    this.scheme = o.tls ? 'https' : 'http';
    for (const [k, v] of Object.entries(o.metadata ?? {})) checkHeader(k.toLowerCase(), v);
  }

  /** The request frame for `message`: built once per distinct body Buffer (bench sends a fixed set round-robin). */
  frame(message: Buffer): Buffer {
    let f = this.frames.get(message);
    if (!f) {
      f = Buffer.allocUnsafe(5 + message.length);
      f[0] = 0;
      f.writeUInt32BE(message.length, 1);
      message.copy(f, 5);
      this.frames.set(message, f);
    }
    return f;
  }

  /** The request header block of `path`, encoded once. */
  private blockFor(path: string): Buffer {
    let b = this.blocks.get(path);
    if (!b) {
      const fields: [string, string][] = [
        [':path', path],
        [':authority', this.o.address],
        ['content-type', 'application/grpc'],
        ['te', 'trailers'],
        ['grpc-timeout', grpcTimeout(this.o.timeoutMs)],
        ['user-agent', 'tfsvc-bench'],
      ];
      for (const [k, v] of Object.entries(this.o.metadata ?? {})) fields.push([k.toLowerCase(), v]);
      b = literalHeaderBlock(this.scheme, fields);
      this.blocks.set(path, b);
    }
    return b;
  }

  private connect(slot: number): H2Connection {
    const c: H2Connection = new H2Connection({
      host: this.host,
      port: this.port,
      window: this.o.window ?? 4 << 20,
      tls: this.o.tls ? { ca: this.o.tls.ca, cert: this.o.tls.cert, key: this.o.tls.key } satisfies tls.ConnectionOptions : undefined,
      onClose: () => {
        if (this.conns[slot] === c) this.conns[slot] = undefined;
        this.startWaiting();
      },
      onRoom: () => this.startWaiting(),
    });
    this.conns[slot] = c;
    return c;
  }

  /** The least busy connection that can take a stream, opened (again) where one is missing or going away. */
  private connection(): H2Connection | undefined {
    let best: H2Connection | undefined;
    for (let i = 0; i < this.conns.length; i++) {
      const c = this.conns[i];
      if (!c || c.draining) return this.connect(i);
      if (c.canOpen && (!best || c.active < best.active)) best = c;
    }
    return best;
  }

  /** Starts (or restarts) `call` on a connection, or queues it until a stream is free. */
  start(call: Call): void {
    if (this.closed) return call.finish({ code: Code.CANCELLED, details: 'client closed', bytesIn: call.bytesIn, failure: 'reset' });
    const c = this.connection();
    if (!c) return void this.waiting.push(call);
    call.attempts++;
    call.conn = c;
    call.stream = c.open(call.block, call.frame, call);
  }

  private startWaiting(): void {
    while (this.waiting.length && !this.closed) {
      const c = this.connection();
      if (!c) return;
      const call = this.waiting.shift()!;
      if (call.done) continue;
      call.attempts++;
      call.conn = c;
      call.stream = c.open(call.block, call.frame, call);
    }
  }

  /**
   * One unary call of `path` (/package.Service/Method) with the encoded `message`. Resolves with the status; never
   * rejects. With `keep`, the answer's message comes back too.
   */
  unary(path: string, message: Buffer, keep = false): Promise<UnaryAnswer> {
    return new Promise<UnaryAnswer>((resolve) => this.call(path, message, keep, resolve));
  }

  /** `unary` with a callback (bench's hot path makes one promise per call, not two). */
  call(path: string, message: Buffer, keep: boolean, done: (a: UnaryAnswer) => void): void {
    if (this.closed) return done({ code: Code.CANCELLED, details: 'client closed', bytesIn: 0, failure: 'reset' });
    const call = new Call(this, this.blockFor(path), this.frame(message), performance.now() + this.o.timeoutMs, keep, done);
    this.calls.add(call);
    this.armSweep();
    this.start(call);
  }

  /** Ends `c` from our side (RST_STREAM CANCEL) with answer `a`. */
  private cancel(c: Call, a: UnaryAnswer): void {
    if (c.conn && c.stream) c.conn.reset(c.stream, H2Error.CANCEL);
    c.finish(a);
  }

  /** One timer checks deadlines for all calls (a timer per call is the churn this client avoids). */
  private armSweep(): void {
    if (this.sweep) return;
    const every = Math.max(1, Math.min(50, Math.floor(this.o.timeoutMs / 10)));
    this.sweep = setInterval(() => {
      const now = performance.now();
      for (const c of this.calls) {
        if (c.deadline > now) break; // start order is deadline order
        this.cancel(c, { code: Code.DEADLINE_EXCEEDED, details: `Deadline exceeded after ${this.o.timeoutMs}ms`, bytesIn: c.bytesIn, failure: 'timeout' });
      }
      if (this.calls.size === 0) {
        clearInterval(this.sweep);
        this.sweep = undefined;
      }
    }, every);
    this.sweep.unref();
  }

  /** Cancels calls in flight and closes every connection. */
  async close(): Promise<void> {
    this.closed = true;
    for (const c of [...this.calls]) this.cancel(c, { code: Code.CANCELLED, details: 'client closed', bytesIn: c.bytesIn, failure: 'reset' });
    this.waiting.length = 0;
    if (this.sweep) clearInterval(this.sweep);
    this.sweep = undefined;
    await Promise.all(this.conns.map((c) => c?.close()));
  }
}

/** HTTP/2 connections for an attack with `inFlight` calls at most: one per 32 streams, 1 to 8. */
export function sessionsFor(inFlight: number): number {
  return Math.min(8, Math.max(1, Math.ceil(inFlight / 32)));
}

/**
 * bench's gRPC sender (endpoint.ts): `connections` (--connections) bounds the calls in flight, as over REST, and they
 * are multiplexed over sessionsFor(connections) HTTP/2 connections. Outcomes read like GrpcClient's (grpc-client.ts):
 * the gRPC status mapped to TF Serving's REST status, the error kind from the transport.
 */
export class GrpcH2Sender {
  private readonly client: H2GrpcClient;
  private readonly path: string;

  constructor(address: string, method: GrpcMethod, options: ClientOptions, security: ClientSecurity = NO_SECURITY) {
    this.path = `/${PREDICTION_SERVICE}/${method}`;
    this.client = new H2GrpcClient({
      address,
      sessions: sessionsFor(options.connections),
      timeoutMs: options.timeoutMs,
      metadata: security.headers,
      tls: security.grpcTls ? { ca: security.ca, cert: security.cert, key: security.key } : undefined,
    });
  }

  send(body: Buffer): Promise<Outcome> {
    return new Promise<Outcome>((resolve) =>
      this.client.call(this.path, body, false, (a) => {
        if (a.code === Code.OK) return resolve({ status: 200, bytesIn: a.bytesIn });
        resolve({
          status: httpStatusOf(a.code),
          bytesIn: a.bytesIn,
          // A deadline is a timeout whether our sweep or the server (grpc-timeout) called it.
          error: a.code === Code.DEADLINE_EXCEEDED ? 'timeout' : a.failure ?? 'http',
          message: `${grpcCodeName(a.code)}: ${a.details}`.slice(0, 300),
        });
      }),
    );
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
