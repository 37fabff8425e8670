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
}

const OVER_CAP = Symbol('tfsvc.overCap');
type Session = http2.ServerHttp2Session & { [OVER_CAP]?: boolean };

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
  /** Connections turned away because the cap was reached. */
  rejected = 0;

  constructor(private readonly options: H2GrpcServerOptions) {}

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
      settings: { enablePush: false },
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
      setTimeout(() => session.close(), 10_000).unref();
    }
    this.sessions.add(session);
    session.on('error', () => {});
    session.once('close', () => this.sessions.delete(session));
  }

  /** Open HTTP/2 connections (over-cap ones included until they close). */
  connections(): number {
    return this.sessions.size;
  }

  private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    // Errors also close the stream, which is where a call learns it was cancelled.
    stream.on('error', () => {});
    const session = stream.session as Session | undefined;
    if (session?.[OVER_CAP]) {
      refuse(stream, grpc.status.UNAVAILABLE, `Too many open connections (the limit is ${this.options.maxConnections}, --max_connections); retry later`);
      session.close();
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
    stream.on('data', (chunk: Buffer) => {
      if (failed) return;
      try {
        reader.push(chunk);
      } catch (err) {
        if (err instanceof MessageTooLarge) return fail(grpc.status.RESOURCE_EXHAUSTED, err.message);
        throw err;
      }
      if (reader.messages.length > 1) fail(grpc.status.UNIMPLEMENTED, `Received a second request message for ${kind} method ${path}`);
    });
    stream.once('end', () => {
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
    stream.once('close', () => call.closed());
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
    return new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        for (const s of this.sessions) s.destroy();
      }, graceMs);
      force.unref();
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
      for (const s of this.sessions) s.close();
    });
  }
}
