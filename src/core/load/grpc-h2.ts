// A minimal unary gRPC client over node:http2, for exactly what bench sends: one pre-encoded request message per
// call, the answer counted (send) or returned (call), many calls multiplexed as streams over a few HTTP/2 connections.
//
// Why by hand (a measured hot path; bench/grpc-client.ts prints the figures side by side): grpc-js builds a call stack
// of filters, a Metadata object, a deadline timer, a status object and several closures per call, and resolves a
// subchannel each time; at 3000 calls/s that cost more than a core, so bench's own generator fell behind (issue 9:
// generator lag p99 9 ms, 19.8% of requests waiting for a connection). Here a call is one http2 stream with a shared
// headers object, a request frame built once per body (the 5-byte prefix in front of the PredictRequest bytes, kept
// in a WeakMap) and one small state object; deadlines share one sweep timer instead of one timer per call.
// grpc-js stays the reference: test/load/grpc-h2.test.ts checks this client against it on the same server.
//
// Wire (gRPC over HTTP/2, PROTOCOL-HTTP2.md): POST /package.Service/Method, content-type application/grpc,
// te: trailers, grpc-timeout (the deadline, which the server enforces too), extra metadata as lower-case headers.
// Messages are length-prefixed: 1 byte compressed flag (always 0 here: no grpc-encoding is offered), 4 bytes
// big-endian length, the message. The status comes in trailers (grpc-status, grpc-message percent-encoded), or in
// the headers of a trailers-only answer. A non-200 HTTP status maps to a gRPC code as the spec's table says.
import http2 from 'node:http2';
import type { ClientOptions, Outcome } from './client.js';
import { grpcCodeName, httpStatusOf, PREDICTION_SERVICE, type GrpcMethod } from './grpc-client.js';

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

function decodeGrpcMessage(v: unknown): string {
  if (typeof v !== 'string') return '';
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

interface Session {
  h2: http2.ClientHttp2Session;
  active: number;
  connected: boolean;
}

interface Call {
  deadline: number;
  stream: http2.ClientHttp2Stream;
  finish(a: UnaryAnswer): void;
}

const NO_MESSAGE = Buffer.alloc(0);

export class H2GrpcClient {
  private readonly sessions: (Session | undefined)[];
  private readonly authority: string;
  /** In-flight calls in start order, which is deadline order (one timeout for all). */
  private readonly calls = new Set<Call>();
  private sweep: NodeJS.Timeout | undefined;
  private readonly frames = new WeakMap<Buffer, Buffer>();
  private closed = false;
  private readonly headersByPath = new Map<string, http2.OutgoingHttpHeaders>();

  constructor(private readonly o: H2ClientOptions) {
    this.sessions = new Array<Session | undefined>(Math.max(1, o.sessions)).fill(undefined);
    this.authority = `http://${o.address}`;
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

  private headersFor(path: string): http2.OutgoingHttpHeaders {
    let h = this.headersByPath.get(path);
    if (!h) {
      h = {
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': grpcTimeout(this.o.timeoutMs),
        'user-agent': 'tfsvc-bench',
      };
      for (const [k, v] of Object.entries(this.o.metadata ?? {})) h[k.toLowerCase()] = v;
      this.headersByPath.set(path, h);
    }
    return h;
  }

  /** The least busy connection, opened (again) when it is not there or was lost. */
  private session(): Session {
    let best = -1;
    for (let i = 0; i < this.sessions.length; i++) {
      const s = this.sessions[i];
      if (!s || s.h2.closed || s.h2.destroyed) {
        best = i;
        break;
      }
      if (best < 0 || s.active < this.sessions[best]!.active) best = i;
    }
    let s = this.sessions[best];
    if (!s || s.h2.closed || s.h2.destroyed) {
      const h2 = http2.connect(this.authority, { settings: { enablePush: false } });
      const made: Session = { h2, active: 0, connected: false };
      h2.once('connect', () => (made.connected = true));
      // Errors reach each stream too ('error' / 'close'); without a listener a session error would throw.
      h2.on('error', () => {});
      h2.once('close', () => {
        if (this.sessions[best] === made) this.sessions[best] = undefined;
      });
      this.sessions[best] = s = made;
    }
    return s;
  }

  /**
   * One unary call of `path` (/package.Service/Method) with the encoded `message`. Resolves with the status; never
   * rejects. With `keep`, the answer's message comes back too.
   */
  unary(path: string, message: Buffer, keep = false): Promise<UnaryAnswer> {
    return new Promise<UnaryAnswer>((resolve) => {
      if (this.closed) return resolve({ code: Code.CANCELLED, details: 'client closed', bytesIn: 0, failure: 'reset' });
      const s = this.session();
      let stream: http2.ClientHttp2Stream;
      try {
        stream = s.h2.request(this.headersFor(path), { endStream: false });
      } catch (err) {
        return resolve({ code: Code.UNAVAILABLE, details: (err as Error).message, bytesIn: 0, failure: s.connected ? 'reset' : 'connect' });
      }
      s.active++;
      let bytesIn = 0;
      let httpStatus = 0;
      let code = -1;
      let details = '';
      let chunks: Buffer[] | undefined = keep ? [] : undefined;
      let transportError: Error | undefined;
      let done = false;
      const call: Call = {
        deadline: performance.now() + this.o.timeoutMs,
        stream,
        finish: (a) => {
          if (done) return;
          done = true;
          s.active--;
          this.calls.delete(call);
          resolve(a);
        },
      };
      const status = (h: http2.IncomingHttpHeaders) => {
        const g = h['grpc-status'];
        if (g !== undefined) {
          code = Number(g);
          details = decodeGrpcMessage(h['grpc-message']);
        }
      };
      stream.on('response', (h) => {
        httpStatus = Number(h[':status']);
        status(h); // trailers-only answer (an error before any message)
      });
      stream.on('data', (c: Buffer) => {
        bytesIn += c.length;
        chunks?.push(c);
      });
      stream.on('trailers', status);
      stream.on('error', (err) => (transportError = err));
      stream.on('close', () => {
        if (done) return;
        if (code >= 0) {
          if (code !== Code.OK || !chunks) return call.finish({ code, details, bytesIn, failure: undefined });
          const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
          chunks = undefined;
          if (body.length < 5) return call.finish({ code: Code.INTERNAL, details: 'OK status without a response message', bytesIn, failure: undefined });
          if (body[0] !== 0) return call.finish({ code: Code.INTERNAL, details: 'compressed response message, and no compression was offered', bytesIn, failure: undefined });
          const len = body.readUInt32BE(1);
          if (body.length !== 5 + len) return call.finish({ code: Code.INTERNAL, details: `response message framing: ${body.length - 5} bytes for a ${len}-byte message`, bytesIn, failure: undefined });
          return call.finish({ code, details, bytesIn, failure: undefined, message: len === 0 ? NO_MESSAGE : body.subarray(5) });
        }
        if (httpStatus && httpStatus !== 200) {
          return call.finish({ code: codeOfHttpStatus(httpStatus), details: `HTTP status ${httpStatus} without a gRPC status`, bytesIn, failure: undefined });
        }
        // No status at all: the stream or the connection went away.
        const why = transportError ? `${(transportError as NodeJS.ErrnoException).code ?? ''} ${transportError.message}`.trim() : `stream closed (RST_STREAM code ${stream.rstCode ?? 0})`;
        call.finish({ code: Code.UNAVAILABLE, details: why, bytesIn, failure: s.connected ? 'reset' : 'connect' });
      });
      this.calls.add(call);
      this.armSweep();
      stream.end(this.frame(message));
    });
  }

  /** One timer checks deadlines for all calls (a timer per call is the churn this client avoids). */
  private armSweep(): void {
    if (this.sweep) return;
    const every = Math.max(1, Math.min(50, Math.floor(this.o.timeoutMs / 10)));
    this.sweep = setInterval(() => {
      const now = performance.now();
      for (const c of this.calls) {
        if (c.deadline > now) break; // start order is deadline order
        c.stream.close(http2.constants.NGHTTP2_CANCEL);
        c.finish({ code: Code.DEADLINE_EXCEEDED, details: `Deadline exceeded after ${this.o.timeoutMs}ms`, bytesIn: 0, failure: 'timeout' });
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
    for (const c of [...this.calls]) {
      c.stream.close(http2.constants.NGHTTP2_CANCEL);
      c.finish({ code: Code.CANCELLED, details: 'client closed', bytesIn: 0, failure: 'reset' });
    }
    if (this.sweep) clearInterval(this.sweep);
    this.sweep = undefined;
    await Promise.all(
      this.sessions.map((s) => (s && !s.h2.closed ? new Promise<void>((r) => s.h2.close(() => r())) : undefined)),
    );
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

  constructor(address: string, method: GrpcMethod, options: ClientOptions, metadata?: Record<string, string>) {
    this.path = `/${PREDICTION_SERVICE}/${method}`;
    this.client = new H2GrpcClient({ address, sessions: sessionsFor(options.connections), timeoutMs: options.timeoutMs, metadata });
  }

  async send(body: Buffer): Promise<Outcome> {
    const a = await this.client.unary(this.path, body);
    if (a.code === Code.OK) return { status: 200, bytesIn: a.bytesIn };
    return {
      status: httpStatusOf(a.code),
      bytesIn: a.bytesIn,
      // A deadline is a timeout whether our sweep or the server (grpc-timeout) called it.
      error: a.code === Code.DEADLINE_EXCEEDED ? 'timeout' : a.failure ?? 'http',
      message: `${grpcCodeName(a.code)}: ${a.details}`.slice(0, 300),
    };
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
