// A gRPC server on node:http2 with the gRPC framing written here (h2-framing.ts), serving the same grpc-js service
// definitions and implementations as a grpc-js Server (`addService`, unary and server-streaming methods; calls are
// h2-call.ts objects shaped like grpc-js's). Why: grpc-js's per-call handling was about half of the main thread's time
// per gRPC call (docs/serve.md, "The gRPC path: where the time goes"); this server does per call one stream, one
// call object, no interceptor chain and no per-call Metadata unless a handler asks for it. grpc-js stays the
// reference implementation (`--grpc_impl grpc-js`); the test suites run against both.
//
// Protocol (gRPC's PROTOCOL-HTTP2.md): POST /Service/Method with content-type application/grpc[+proto] (anything else:
// HTTP 415); unknown method: UNIMPLEMENTED; grpc-timeout sets the deadline (DEADLINE_EXCEEDED, the call is cancelled);
// requests compressed with grpc-encoding gzip/deflate are inflated, replies go uncompressed; a message announced over
// the limit is refused (RESOURCE_EXHAUSTED) from its prefix; a unary call needs exactly one message. A client's
// RST_STREAM cancels the call. close(): GOAWAY on every connection, calls in flight finish, the rest is cut after grace.
// Connections over `maxConnections` get their first call answered UNAVAILABLE and are closed (the client reads why).
//
// Slow and idle clients (issue 8): a call whose request message is not all in within `bodyTimeoutMs` is answered
// DEADLINE_EXCEEDED and its stream reset; a connection with no call in flight for `idleTimeoutMs` gets GOAWAY and is
// closed; SETTINGS_MAX_CONCURRENT_STREAMS caps the calls one connection may have open (the client queues the rest);
// every `keepaliveTimeMs` the server PINGs each connection and cuts one whose peer does not answer within
// `keepaliveTimeoutMs` (its calls are cancelled). Client PINGs are answered by node:http2 itself.
// These timers are sweeps (one interval per server), not a timer per call: per-call timers were measurable churn.
//
// Admission from the first bytes (issue 8): a method definition may carry an EARLY_ADMISSION decision (admission.ts
// sets one on the inference methods). It is asked as DATA arrives, until it decides from the message's first bytes
// (the ModelSpec, field 1, comes first): a refused call is answered at once and its stream reset with NO_ERROR, so
// the client stops sending the rest (RFC 9113 8.1) and the server neither buffers it nor grants it flow-control
// window; an admitted call carries its ticket to the handler (`call.admitted`), released if the call ends before.
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { tlsServerOptions, type TlsSource } from '../tls.js';
import { DeadlineSweep, H2ServerCall } from './h2-call.js';
import { decompress, encodeGrpcMessage, MessageReader, MessageTooLarge, parseGrpcTimeout, type DecompressError } from './h2-framing.js';

interface Method {
  streaming: boolean;
  definition: grpc.MethodDefinition<unknown, unknown>;
  func: (call: H2ServerCall, callback?: grpc.sendUnaryData<unknown>) => void;
}

export interface H2GrpcServerOptions {
  /** Largest request message (after decompression too); -1: no limit. */
  maxReceiveMessageBytes: number;
  /** Open connections at most (0 or undefined: no cap). */
  maxConnections?: number;
  /** TLS (re-read when its files change); absent: plaintext HTTP/2 (h2c). */
  tls?: TlsSource;
  /** A call's request message must be all in within this (--body_timeout_ms); 0: no limit. Default 20 s. */
  bodyTimeoutMs?: number;
  /** A connection with no call in flight this long gets GOAWAY and is closed; 0: never. Default 65 s. */
  idleTimeoutMs?: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS: calls open at once on one connection. Default 100. */
  maxConcurrentStreams?: number;
  /** PING every connection this often (0: never); default 2 hours, as grpc-core's server (grpc.keepalive_time_ms). */
  keepaliveTimeMs?: number;
  /** A PING not answered within this cuts the connection; default 20 s, as grpc-core (grpc.keepalive_timeout_ms). */
  keepaliveTimeoutMs?: number;
}

/** As the REST server's keep-alive timeout (rest/server.ts). */
export const DEFAULT_GRPC_IDLE_TIMEOUT_MS = 65_000;
/**
 * grpc-core and nghttp2 advertise no limit by default; RFC 9113 (6.5.2) asks for at least 100 and nginx (128) and Go's
 * http2 server (250) pick a few hundred. 100 is enough for a multiplexing client at thousands of calls per second
 * (each call is in flight for milliseconds) and bounds what one connection can start at once.
 */
export const DEFAULT_MAX_CONCURRENT_STREAMS = 100;
const DEFAULT_BODY_TIMEOUT_MS = 20_000;
export const DEFAULT_KEEPALIVE_TIME_MS = 2 * 3_600_000;
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 20_000;

/** What an EARLY_ADMISSION decision hands the handler: released by whoever ends the call. */
export interface EarlyTicket {
  release(): void;
}

/**
 * The key of a method definition's admission decision from a request message's first bytes: `prefix` (bytes in so
 * far) and `announced` (the message's length from its 5-byte prefix). Undefined: cannot tell from these bytes (asked
 * again with more, until EARLY_PREFIX_MAX bytes or the whole message; then the handler decides as usual).
 */
export const EARLY_ADMISSION = Symbol('tfsvc.earlyAdmission');
export type EarlyAdmission = (prefix: Buffer, announced: number) => { admitted: EarlyTicket } | { refused: { code: grpc.status; details: string } } | undefined;

/** Bytes of a message after which its admission is left to the handler (a ModelSpec takes tens of bytes). */
const EARLY_PREFIX_MAX = 64 * 1024;

/**
 * Receive windows: how much a client may send before the server acknowledges it. HTTP/2's default (65,535 bytes, per
 * stream and per connection) made a 200 KB Predict wait for 3-4 WINDOW_UPDATEs, each a turn of the event loop, and
 * capped a connection at 64 KB per turn for all its calls (bench/chaos --overload-grpc). gRPC C-core grows its windows
 * to several MB by BDP probing; these are fixed. What arrives is read at once (admission decides from the first bytes,
 * and an admitted call is charged its whole announced size), so a larger window buffers nothing unaccounted.
 */
const STREAM_WINDOW = 1 << 20;
const CONNECTION_WINDOW = 16 << 20;

const OVER_CAP = Symbol('tfsvc.overCap');
const ACTIVE = Symbol('tfsvc.activeStreams');
const IDLE_SINCE = Symbol('tfsvc.idleSince');
/** When the last keepalive PING was answered (or the connection opened), and when the one in flight was sent (0: none). */
const PINGED = Symbol('tfsvc.pinged');
const PING_SENT = Symbol('tfsvc.pingSent');
/** When the server sent GOAWAY (0: not yet), and the connection's socket (node:http2 gives only a proxy of it). */
const CLOSING_SINCE = Symbol('tfsvc.closingSince');
const SOCKET = Symbol('tfsvc.socket');
type Session = http2.ServerHttp2Session & {
  [OVER_CAP]?: boolean;
  [ACTIVE]: number;
  [IDLE_SINCE]: number;
  [PINGED]: number;
  [PING_SENT]: number;
  [CLOSING_SINCE]: number;
  [SOCKET]?: Socket;
};

/**
 * After GOAWAY, node:http2 ends its side of the socket and waits for the peer to close the other; a peer that never
 * does (or never reads) would hold the socket for ever. With no call left, it gets this long, then the socket is
 * destroyed.
 */
const CLOSE_GRACE_MS = 1000;

/** Trailers-Only status for a stream that never became a call. */
function refuse(stream: http2.ServerHttp2Stream, code: grpc.status, details: string): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  stream.respond(
    { ':status': 200, 'content-type': 'application/grpc+proto', 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(details) },
    { endStream: true },
  );
}

/** Whether a content-type names gRPC's protobuf encoding: application/grpc, application/grpc+proto, with parameters. */
function isGrpcProto(ct: string | undefined): boolean {
  if (!ct) return false;
  const base = ct.split(';', 1)[0]!.trim().toLowerCase();
  return base === 'application/grpc' || base === 'application/grpc+proto';
}

export class H2GrpcServer {
  private readonly methods = new Map<string, Method>();
  private readonly sessions = new Set<Session>();
  private server: http2.Http2Server | http2.Http2SecureServer | undefined;
  private readonly deadlines = new DeadlineSweep();
  /** Read deadlines of calls whose request message is not all in yet (--body_timeout_ms). */
  private readonly reads: DeadlineSweep;
  private sessionTimer: NodeJS.Timeout | undefined;
  private readonly idleTimeoutMs: number;
  private readonly keepaliveTimeMs: number;
  private readonly keepaliveTimeoutMs: number;
  private readonly bodyTimeoutMs: number;
  /** Connections turned away because the cap was reached. */
  rejected = 0;
  /** Connections closed for being idle. */
  idleClosed = 0;
  /** Connections cut because a keepalive PING went unanswered. */
  keepaliveClosed = 0;
  /** Calls ended because their request message did not arrive within bodyTimeoutMs. */
  slowCalls = 0;
  /** Streams open now (every session). */
  private openStreams = 0;
  /** The session created last: its socket is the next 'connection' / 'secureConnection' (see listen). */
  private newest: Session | undefined;

  constructor(private readonly options: H2GrpcServerOptions) {
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_GRPC_IDLE_TIMEOUT_MS;
    this.keepaliveTimeMs = options.keepaliveTimeMs ?? DEFAULT_KEEPALIVE_TIME_MS;
    this.keepaliveTimeoutMs = options.keepaliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS;
    this.bodyTimeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
    // A call expires at most a tenth of the timeout late (between 10 ms and 1 s).
    this.reads = new DeadlineSweep(Math.max(10, Math.min(1000, Math.floor(this.bodyTimeoutMs / 10))));
  }

  /** Registers a service like grpc.Server#addService (handlers keyed by method name or its original name). */
  addService(service: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation): void {
    for (const [name, definition] of Object.entries(service)) {
      const d = definition as grpc.MethodDefinition<unknown, unknown> & { originalName?: string };
      if (d.requestStream) throw new Error(`${d.path}: client-streaming methods are not supported by the h2 gRPC server`);
      const func = (implementation[name] ?? (d.originalName ? implementation[d.originalName] : undefined)) as unknown as Method['func'] | undefined;
      if (!func) continue; // grpc-js answers UNIMPLEMENTED for a method without a handler: so does an unknown path
      this.methods.set(d.path, { streaming: d.responseStream, definition: d, func });
    }
  }

  /** Starts listening; resolves with the port (0 picks a free one). */
  listen(host: string, port: number): Promise<number> {
    const settings: http2.ServerOptions = {
      // A large Predict may be in flight on a connection at once; the default 10 MB session cap would refuse streams.
      maxSessionMemory: 1 << 30,
      settings: { enablePush: false, maxConcurrentStreams: this.options.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS, initialWindowSize: STREAM_WINDOW },
    };
    const tls = this.options.tls;
    let server: http2.Http2Server | http2.Http2SecureServer;
    if (tls) {
      const secure = http2.createSecureServer({ ...settings, ...tlsServerOptions(tls.current), allowHTTP1: false });
      // New connections get the new certificate; open ones keep theirs (as the HTTPS server does).
      tls.onChange((m) => secure.setSecureContext(tlsServerOptions(m)));
      server = secure;
    } else server = http2.createServer(settings);
    this.server = server;
    server.on('session', (session: Session) => this.onSession(session));
    // node:http2 creates a connection's session in its own 'connection' ('secureConnection' with TLS) listener,
    // registered before this one: the session just created is this socket's. Kept to cut a peer that ignores GOAWAY.
    server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
      if (this.newest && !this.newest[SOCKET]) this.newest[SOCKET] = socket;
      this.newest = undefined;
    });
    server.on('stream', (stream, headers) => this.onStream(stream, headers));
    // A client that speaks something else (HTTP/1.1 on the TLS port, a broken preface) only loses its own connection.
    server.on('sessionError', () => {});
    server.on('unknownProtocol', (socket: Socket) => socket.destroy());
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.on('error', () => {});
        resolve((server.address() as { port: number }).port);
      });
    });
  }

  private onSession(session: Session): void {
    const max = this.options.maxConnections ?? 0;
    if (max > 0 && this.sessions.size >= max) {
      session[OVER_CAP] = true;
      this.rejected++;
      // A connection that never sends a call is not kept either.
      setTimeout(() => this.goAway(session), 10_000).unref();
    }
    // The connection's window can only be enlarged this way (RFC 9113 6.9.2: SETTINGS covers streams only).
    try {
      session.setLocalWindowSize(CONNECTION_WINDOW);
    } catch {
      // a session already closing
    }
    session[ACTIVE] = 0;
    session[IDLE_SINCE] = session[PINGED] = Date.now();
    session[PING_SENT] = 0;
    session[CLOSING_SINCE] = 0;
    this.newest = session;
    this.sessions.add(session);
    session.on('error', () => {});
    session.once('close', () => this.sessions.delete(session));
    const periods = [CLOSE_GRACE_MS, this.idleTimeoutMs, this.keepaliveTimeMs > 0 ? this.keepaliveTimeoutMs : 0].filter((ms) => ms > 0);
    if (!this.sessionTimer) {
      // Checked every quarter of the shortest timeout (10 ms to 1 s): a connection is closed at most that late.
      this.sessionTimer = setInterval(() => this.sweepSessions(), Math.max(10, Math.min(1000, Math.floor(Math.min(...periods) / 4))));
      this.sessionTimer.unref();
    }
  }

  /** GOAWAY: no new calls; the connection closes once its calls are done (and its peer closes its side). */
  private goAway(s: Session): void {
    if (s.closed || s.destroyed) return;
    s[CLOSING_SINCE] = Date.now();
    s.close();
  }

  /**
   * GOAWAY and close for every connection with no call in flight for idleTimeoutMs; a keepalive PING to those not
   * pinged for keepaliveTimeMs; cut those whose PING went unanswered for keepaliveTimeoutMs, and those told GOAWAY
   * with no call left whose peer has not closed its side within CLOSE_GRACE_MS.
   */
  private sweepSessions(): void {
    if (this.sessions.size === 0) {
      clearInterval(this.sessionTimer);
      this.sessionTimer = undefined;
      return;
    }
    const now = Date.now();
    for (const s of this.sessions) {
      if (s.closed || s.destroyed) {
        if (s[CLOSING_SINCE] > 0 && s[ACTIVE] === 0 && now - Math.max(s[CLOSING_SINCE], s[IDLE_SINCE]) >= CLOSE_GRACE_MS) s[SOCKET]?.destroy();
        continue;
      }
      if (s[PING_SENT] > 0 && now - s[PING_SENT] >= this.keepaliveTimeoutMs) {
        this.keepaliveClosed++;
        // The peer is gone (or stuck): GOAWAY could not be read either. Its calls see 'cancelled'.
        s.destroy();
        continue;
      }
      if (this.idleTimeoutMs > 0 && s[ACTIVE] === 0 && now - s[IDLE_SINCE] >= this.idleTimeoutMs) {
        this.idleClosed++;
        // GOAWAY (NO_ERROR) naming the last stream seen, then the socket is ended (no stream is open).
        this.goAway(s);
        continue;
      }
      if (this.keepaliveTimeMs > 0 && s[PING_SENT] === 0 && now - s[PINGED] >= this.keepaliveTimeMs) {
        s[PING_SENT] = now;
        s.ping((err) => {
          if (err) return; // the session is closing anyway
          s[PING_SENT] = 0;
          s[PINGED] = Date.now();
        });
      }
    }
  }

  /** Open HTTP/2 connections (over-cap ones included until they close). */
  connections(): number {
    return this.sessions.size;
  }

  /** Open HTTP/2 streams, every connection together. */
  streams(): number {
    return this.openStreams;
  }

  private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    // Errors also close the stream, which is where a call learns it was cancelled.
    stream.on('error', () => {});
    const session = stream.session as Session | undefined;
    this.openStreams++;
    if (session) session[ACTIVE]++;
    // One 'close' listener per stream: the counts, and once the stream became a call, its read deadline and the call.
    let opened: { call: H2ServerCall; read: { deadline: number; expire(): void } | undefined } | undefined;
    stream.once('close', () => {
      this.openStreams--;
      if (session && --session[ACTIVE] === 0) session[IDLE_SINCE] = Date.now();
      if (opened) {
        if (opened.read) this.reads.delete(opened.read);
        // Admitted from its first bytes but never handed to its handler (reset, timed out, malformed).
        opened.call.admitted?.release();
        opened.call.admitted = undefined;
        opened.call.closed();
      }
    });
    if (session?.[OVER_CAP]) {
      refuse(stream, grpc.status.UNAVAILABLE, `Too many open connections (the limit is ${this.options.maxConnections}, --max_connections); retry later`);
      this.goAway(session);
      return;
    }
    if (!isGrpcProto(headers['content-type'])) {
      stream.respond({ ':status': 415 }, { endStream: true });
      return;
    }
    const path = headers[':path'] ?? '';
    const method = this.methods.get(path);
    if (!method) {
      refuse(stream, grpc.status.UNIMPLEMENTED, `The server does not implement the method ${path}`);
      return;
    }
    let deadline = Infinity;
    const timeout = headers['grpc-timeout'];
    if (timeout !== undefined) {
      const ms = parseGrpcTimeout(String(timeout));
      if (ms === undefined) {
        refuse(stream, grpc.status.INTERNAL, `Invalid grpc-timeout value "${timeout}"`);
        return;
      }
      deadline = Date.now() + ms;
    }
    const call = new H2ServerCall(stream, headers, path, method.definition.responseSerialize as (v: unknown) => Buffer, deadline, this.deadlines);
    const reader = new MessageReader(this.options.maxReceiveMessageBytes);
    const kind = method.streaming ? 'server streaming' : 'unary';
    let failed = false;
    const fail = (code: grpc.status, details: string): void => {
      failed = true;
      call.sendStatus(code, details); // Trailers-Only; its headers advertise grpc-accept-encoding
      // Nothing more of this request is read (a large refused body is not buffered).
      stream.removeAllListeners('data');
      stream.resume();
    };
    // The request message must be all in within bodyTimeoutMs. Past it the call ends DEADLINE_EXCEEDED: it is the code
    // gRPC servers send when a time limit on the call runs out (grpc-timeout), and the client did not cancel anything
    // (CANCELLED says it did); REST answers 408 for the same. The stream is then reset (RST_STREAM CANCEL), so nothing
    // more of the request is read or buffered, and the connection goes idle (closed after idleTimeoutMs).
    const read = this.bodyTimeoutMs > 0 ? {
      deadline: Date.now() + this.bodyTimeoutMs,
      expire: () => {
        this.reads.delete(read!);
        if (!failed) {
          this.slowCalls++;
          fail(grpc.status.DEADLINE_EXCEEDED, `The request message did not arrive within ${this.bodyTimeoutMs} ms (--body_timeout_ms)`);
        }
        // Also ends the draining of a refused message's remaining bytes (fail() reads them to nowhere).
        stream.close(http2.constants.NGHTTP2_CANCEL);
      },
    } : undefined;
    if (read) this.reads.add(read);
    opened = { call, read };
    let early = (method.definition as { [EARLY_ADMISSION]?: EarlyAdmission })[EARLY_ADMISSION];
    stream.on('data', (chunk: Buffer) => {
      if (failed) return;
      try {
        reader.push(chunk);
      } catch (err) {
        if (err instanceof MessageTooLarge) return fail(grpc.status.RESOURCE_EXHAUSTED, err.message);
        throw err;
      }
      if (reader.messages.length > 1) return fail(grpc.status.UNIMPLEMENTED, `Received a second request message for ${kind} method ${path}`);
      if (early) {
        const first = reader.firstMessagePrefix(EARLY_PREFIX_MAX);
        if (!first) return;
        // A compressed message is decided once inflated, by the handler.
        const decision = first.compressed ? undefined : early(first.bytes, first.announced);
        if (decision || first.compressed || first.bytes.length >= Math.min(EARLY_PREFIX_MAX, first.announced)) early = undefined;
        if (decision && 'refused' in decision) {
          fail(decision.refused.code, decision.refused.details);
          // Ask the client to stop sending the rest: RST_STREAM NO_ERROR after a complete response.
          stream.close(http2.constants.NGHTTP2_NO_ERROR);
        } else if (decision) call.admitted = decision.admitted;
      }
    });
    stream.once('end', () => {
      if (read) this.reads.delete(read);
      if (failed) return;
      const wire = reader.messages[0];
      if (!wire || reader.partial) return fail(grpc.status.UNIMPLEMENTED, `Received no request message for ${kind} method ${path}`);
      if (!wire.compressed) return this.dispatch(call, method, wire.data);
      const encoding = String(headers['grpc-encoding'] ?? 'identity');
      if (encoding === 'identity') return fail(grpc.status.INTERNAL, 'Received a compressed message without grpc-encoding');
      decompress(wire.data, encoding, this.options.maxReceiveMessageBytes).then(
        (data) => this.dispatch(call, method, data),
        (e: DecompressError) => {
          if (e.kind === 'unsupported') fail(grpc.status.UNIMPLEMENTED, `Received message compressed with unsupported encoding "${encoding}"`);
          else if (e.kind === 'too-large') fail(grpc.status.RESOURCE_EXHAUSTED, `Received message that decompresses to a size larger than ${this.options.maxReceiveMessageBytes}`);
          else fail(grpc.status.INTERNAL, 'Failed to decompress message');
        },
      );
    });
  }

  private dispatch(call: H2ServerCall, method: Method, data: Buffer): void {
    if (call.cancelled) return;
    try {
      call.request = method.definition.requestDeserialize(data);
    } catch (err) {
      call.sendStatus(grpc.status.INTERNAL, `Error deserializing request: ${(err as Error).message}`);
      return;
    }
    try {
      if (method.streaming) method.func(call);
      else {
        method.func(call, (err, value, trailer) => {
          if (err) {
            const e = err as Partial<grpc.StatusObject> & { message?: string; metadata?: grpc.Metadata };
            const code = typeof e.code === 'number' && Number.isInteger(e.code) ? e.code : grpc.status.UNKNOWN;
            const details = typeof e.code === 'number' && typeof e.details === 'string' ? e.details : (e.message ?? 'Unknown Error');
            call.sendStatus(code, details, trailer ?? e.metadata ?? null);
          } else call.reply(value, trailer ?? undefined);
        });
      }
    } catch (err) {
      call.sendStatus(grpc.status.UNKNOWN, `Server method handler threw error ${(err as Error).message}`);
    }
  }

  /**
   * Stops accepting connections and sends GOAWAY on every open one; calls in flight finish. After `graceMs` whatever
   * is still open is cut (its calls see 'cancelled'). Resolves when every connection is closed.
   */
  close(graceMs = 30_000): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    this.server = undefined;
    // The session sweep goes on while connections drain: it cuts those whose peer ignores GOAWAY once their calls end.
    return new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        for (const s of this.sessions) {
          s.destroy();
          s[SOCKET]?.destroy(); // a session closed gracefully only ended its side: destroy() alone would not cut it
        }
      }, graceMs);
      force.unref();
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
      for (const s of this.sessions) this.goAway(s);
    });
  }
}
