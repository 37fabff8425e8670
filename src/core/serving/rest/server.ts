// The REST front end on node:http (keep-alive; no framework: routing is three regular expressions). This file is the
// HTTP plumbing, in the order a request meets it: the connection cap (connections.ts), header and body read timeouts
// (408 and close, node:http's own), admission control before the body is read (413 for a declared body over the
// limit; 503 + Retry-After for a full queue or too many in-flight bytes: admission.ts), the body read (body-reader.ts),
// decoding (on this thread, or in a decode worker for large bodies: decode-pool.ts), the request timeout (504 and
// close, --rest_api_timeout_in_ms), client disconnects (queued work is dropped), CORS, access logs and draining
// (drain.ts). What each route does lives in routes.ts. Nothing here runs a model: handlers enqueue work and await it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RequestError } from '../../errors.js';
import { Cancellation } from '../cancel.js';
import { Admission, isOverload, RETRY_AFTER_SECONDS, type AdmissionTicket } from '../admission.js';
import { BodyTooLarge, declaredLength, readBody } from './body-reader.js';
import { ConnectionTracker, DEFAULT_MAX_CONNECTIONS } from './connections.js';
import { DecodePool, DEFAULT_OFFTHREAD_BYTES, splitDecoder } from './decode-pool.js';
import { drainHttpServer } from './drain.js';
import { skipUnreadBody } from './skip-body.js';
import { errorBody, handleRequest, inferenceTarget, type RouteContext, type RouteResult } from './routes.js';
import { DEFAULT_SIGNATURE } from './decode-body.js';

/** listen(2) backlog for the REST port. */
const LISTEN_BACKLOG = 4096;

/** The most unread body bytes stepped over after an early answer so that the connection stays open. */
const KEEP_ALIVE_UNREAD_BYTES = 2 * 1024 * 1024;

export interface AccessLogEntry {
  time: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  requestBytes: number;
  responseBytes: number;
  model?: string;
  version?: number;
  error?: string;
}

export interface RestServerOptions extends RouteContext {
  port?: number;
  host?: string;
  /** --rest_api_timeout_in_ms; 0 disables. TF Serving's default is 30000. */
  timeoutMs?: number;
  /** Request bodies larger than this get 413. */
  maxBodyBytes?: number;
  /** Adds Access-Control-Allow-* headers and answers preflight OPTIONS requests. */
  cors?: boolean;
  accessLog?: (entry: AccessLogEntry) => void;
  /** Health probes, auth, rate limits (src/core/serving/gate.ts): sees each request before its body is read. */
  gate?: RestGate;
  /** Makes the listening server (HTTPS: src/core/serving/tls.ts); default node:http. */
  createServer?: (options: http.ServerOptions, handler: http.RequestListener) => http.Server;
  /** Admission control shared with gRPC (in-flight bytes, queue probe); default: bytes bounded, no queue probe. */
  admission?: Admission;
  /** The whole request head must arrive within this (408 and close). Default 10 s. */
  headerTimeoutMs?: number;
  /** The whole request, body included, must arrive within this from its first byte (408 and close). Default 20 s. */
  bodyTimeoutMs?: number;
  /** Open connections beyond this get 503 + Connection: close on their first request. 0: no cap. */
  maxConnections?: number;
  /** Bodies of at least this many bytes are decoded on a worker thread. Default DEFAULT_OFFTHREAD_BYTES. */
  offThreadDecodeBytes?: number;
  /** Steps nicer than this thread the decode threads run (decode-pool.ts); default DEFAULT_WORKER_NICENESS. */
  workerNiceness?: number;
}

/** An answer sent without reading the body, or admission with a `release` called once the request is answered. */
export type GateVerdict = { answer: RouteResult; release?: undefined } | { answer?: undefined; release?: () => void };

export interface RestGate {
  admitRest(req: http.IncomingMessage, method: string, path: string): GateVerdict | Promise<GateVerdict>;
}

export interface RestServer {
  readonly port: number;
  readonly host: string;
  /** Requests received and not yet answered. */
  inFlight(): number;
  /** Open connections. */
  connections(): number;
  /**
   * Shutdown is coming (the drain delay): keep accepting and answering, but every answer says Connection: close, so
   * keep-alive clients open their next connection elsewhere (a load balancer no longer routes here).
   */
  announceClose(): void;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`, then cuts connections), resolves when closed. */
  close(graceMs?: number): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 256 * 1024 * 1024;

const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
  'Access-Control-Allow-Headers': 'Content-Type, Authorization',
  'Access-Control-Max-Age': '86400',
};

/** Default header read timeout (ms). */
export const DEFAULT_HEADER_TIMEOUT_MS = 10_000;
/** Default whole-request read timeout (ms): headers and body. */
export const DEFAULT_BODY_TIMEOUT_MS = 20_000;

export function startRestServer(options: RestServerOptions): Promise<RestServer> {
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const timeoutMs = options.timeoutMs ?? 30000;
  let inFlight = 0;
  let draining = false;
  /** Answers carry Connection: close (draining, or the drain delay before it). */
  let closing = false;
  let drainedResolve: (() => void) | undefined;
  const admission = options.admission ?? new Admission();
  const headerTimeoutMs = options.headerTimeoutMs ?? DEFAULT_HEADER_TIMEOUT_MS;
  // node:http requires the request timeout to be at least the header timeout.
  const bodyTimeoutMs = Math.max(options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS, headerTimeoutMs);
  const decodePool = new DecodePool(undefined, undefined, options.workerNiceness);
  const decode = splitDecoder(decodePool, options.offThreadDecodeBytes ?? DEFAULT_OFFTHREAD_BYTES);

  const create = options.createServer ?? ((o: http.ServerOptions, h: http.RequestListener) => http.createServer(o, h));
  const server = create({
    keepAlive: true,
    // node:http answers 408 and closes the connection when a request's head (headersTimeout) or whole request
    // (requestTimeout) is not in by then; it checks every connectionsCheckingInterval.
    headersTimeout: headerTimeoutMs,
    requestTimeout: bodyTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(Math.min(headerTimeoutMs, bodyTimeoutMs) / 4))),
  }, (req, res) => {
    const started = performance.now();
    inFlight++;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q >= 0 ? url.slice(0, q) : url;
    const method = req.method ?? 'GET';
    const controller = new Cancellation();
    let requestBytes = 0;
    let finished = false;
    let result: RouteResult | undefined;
    let timer: NodeJS.Timeout | undefined;
    let release: (() => void) | undefined;
    let ticket: AdmissionTicket | undefined;
    let bodyTaken = false;

    // The client went away before the answer: drop its queued work.
    res.on('close', () => {
      if (!res.writableFinished) controller.abort(new RequestError('CANCELLED', 'Client closed the connection'));
    });

    const send = (r: RouteResult): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      result = r;
      const headers: Record<string, string | number> = { 'Content-Type': r.contentType ?? 'application/json', 'Content-Length': Buffer.byteLength(r.body) };
      if (options.cors) Object.assign(headers, CORS_HEADERS);
      if (r.headers) Object.assign(headers, r.headers);
      // Overloaded: tell the client when to come back (TF Serving clients retry UNAVAILABLE).
      if (r.status === 503) headers['Retry-After'] = RETRY_AFTER_SECONDS;
      if (closing || r.closeConnection) headers.Connection = 'close';
      // Answered before its body was read (admission, auth, limits): the rest of the body is stepped over, not copied.
      if (!bodyTaken) skipUnreadBody(req);
      if (!res.destroyed) {
        res.writeHead(r.status, headers);
        res.end(r.body);
      }
      done();
    };

    const done = (): void => {
      inFlight--;
      release?.();
      ticket?.release();
      if (options.accessLog) {
        options.accessLog({
          time: new Date().toISOString(),
          method,
          path,
          status: result?.status ?? 499,
          durationMs: Math.round((performance.now() - started) * 1000) / 1000,
          requestBytes,
          responseBytes: result ? Buffer.byteLength(result.body) : 0,
          model: result?.model,
          version: result?.version,
          error: result?.error,
        });
      }
      if (draining && inFlight === 0) drainedResolve?.();
    };

    if (method === 'OPTIONS') {
      // TF Serving answers every CORS preflight, whatever the path (http_server.cc): 200 when the Origin header names
      // an http(s) origin, else FAILED_PRECONDITION (400); the Access-Control headers only with CORS enabled.
      const origin = req.headers.origin ?? '';
      if (/https?:\/\//.test(origin)) send({ status: 200, body: '', contentType: 'text/plain' });
      else send({ status: 400, body: errorBody('Origin header is missing in CORS preflight'), error: 'Origin header is missing in CORS preflight' });
      return;
    }

    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        const err = new RequestError('DEADLINE_EXCEEDED', 'Deadline Exceeded');
        controller.abort(err);
        // Close the connection: the client may still be sending its body (a slow client must not keep the socket).
        send({ status: err.httpStatus, body: errorBody(err.message), error: err.message, closeConnection: true });
      }, timeoutMs);
    }

    const fail = (err: unknown): void => {
      if (err instanceof BodyTooLarge) {
        send({ status: 413, body: errorBody(err.message), error: err.message, closeConnection: true });
        return;
      }
      if (err instanceof RequestError) {
        // Turned away mid-body (a chunked body over the byte budget): close, the rest of the body is not wanted.
        send({ status: isOverload(err) ? 503 : err.httpStatus, body: errorBody(err.message), error: err.message, closeConnection: !req.complete });
        return;
      }
      const msg = (err as Error)?.message ?? String(err);
      send({ status: 500, body: errorBody(msg), error: msg });
    };
    const proceed = (): void => {
      if (ConnectionTracker.overCap(req)) {
        const msg = `Too many open connections (the limit is ${options.maxConnections}, --max_connections); retry later`;
        send({ status: 503, body: errorBody(msg), error: msg, closeConnection: true });
        return;
      }
      // Admission before the body is read: nothing is buffered or parsed for a request that will be turned away.
      const declared = declaredLength(req);
      if (declared > limit) {
        fail(new BodyTooLarge(limit));
        return;
      }
      const target = admissionTarget(method, path);
      try {
        ticket = admission.admit(Math.max(declared, 0), target, { untilQueued: true });
      } catch (err) {
        // Counted like TF Serving's batcher refusals (request_count status UNAVAILABLE / RESOURCE_EXHAUSTED).
        if (target && err instanceof RequestError) options.metrics?.request(target.model, target.api, 'REST', err.code, (performance.now() - started) * 1000);
        // 503 at once. An unread body of up to 2 MiB (Tomcat's maxSwallowSize) is stepped over (skip-body.ts) to keep
        // the connection for the client's retry; for a larger or unknown one the connection is closed after the
        // answer. Closing sooner (over 256 KiB, Go net/http's rule) was measured and dropped: at
        // 5x overload with 600 KB bodies every refused client reconnected, and the accepts cost the HTTP thread more
        // than the reads they saved (time to reject p99 at the client 2 s instead of 0.2-0.3 s, bench/chaos
        // --only overload, same goodput).
        const e = err as RequestError;
        send({ status: isOverload(e) ? 503 : e.httpStatus ?? 500, body: errorBody(e.message), error: e.message, closeConnection: declared < 0 || declared > KEEP_ALIVE_UNREAD_BYTES });
        return;
      }
      bodyTaken = true;
      readBody(req, limit, ticket, (err, body) => {
        if (err !== null) {
          fail(err);
          return;
        }
        requestBytes = body!.length;
        ticket?.bodyRead();
        handleRequest(options, { method, path, body: body!, signal: controller, decode, queued: (rows) => ticket?.queued(rows) }).then(send, fail);
      });
    };
    if (!options.gate) {
      proceed();
      return;
    }
    const admit = (v: GateVerdict): void => {
      if (v.answer) send(v.answer);
      else if (finished) v.release?.();
      else {
        release = v.release;
        proceed();
      }
    };
    const verdict = options.gate.admitRest(req, method, path);
    if (verdict instanceof Promise) verdict.then(admit, fail);
    else admit(verdict);
  });
  server.keepAliveTimeout = 65_000;
  const tracker = new ConnectionTracker(server, options.maxConnections ?? DEFAULT_MAX_CONNECTIONS);

  /** The queue an inference request would join (its version resolved now, signature assumed the default one). */
  const admissionTarget = (method: string, path: string) => {
    let t: ReturnType<typeof inferenceTarget>;
    try {
      t = inferenceTarget(method, path);
    } catch {
      return undefined; // the route answers the bad URL
    }
    if (!t) return undefined;
    try {
      const h = options.lookup.acquire(t.model, t.selector);
      const version = h.version;
      h.release();
      return { model: t.model, version, signature: DEFAULT_SIGNATURE, api: t.api };
    } catch {
      return undefined; // unknown model or version: the route answers 404 after a bounded body read
    }
  };

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // A deep accept queue (the kernel caps it at net.core.somaxconn): under overload, clients whose large refused
    // bodies made us close their connection reconnect at once, and with node's default of 511 the queue overflowed;
    // each dropped SYN costs that client a 1 s (then 3 s) retransmit, which showed as seconds of time to reject at the
    // client while the server refused in under a millisecond (bench/chaos --only overload).
    server.listen({ port: options.port ?? 8501, host: options.host ?? '0.0.0.0', backlog: LISTEN_BACKLOG }, () => {
      server.off('error', reject);
      const addr = server.address() as AddressInfo;
      resolve({
        port: addr.port,
        host: options.host ?? '0.0.0.0',
        inFlight: () => inFlight,
        connections: () => tracker.count(),
        announceClose: () => {
          closing = true;
        },
        close: async (graceMs = 30_000) => {
          draining = true;
          closing = true;
          await drainHttpServer(server, {
            graceMs,
            drained: () =>
              new Promise<void>((r) => {
                drainedResolve = r;
                if (inFlight === 0) r();
              }),
          });
          await decodePool.close();
        },
      });
    });
  });
}
