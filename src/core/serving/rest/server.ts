// The REST front end on node:http (keep-alive; no framework: routing is three regular expressions). This file is the
// HTTP plumbing: body limit (413), request timeout (504, --rest_api_timeout_in_ms), client disconnects (the request's
// AbortSignal fires so queued work is dropped), CORS, access logs and graceful draining. What each route does lives in
// routes.ts. Nothing here runs a model: handlers enqueue work for the worker pool and await it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RequestError } from '../../errors.js';
import { Cancellation } from '../cancel.js';
import { errorBody, handleRequest, type RouteContext, type RouteResult } from './routes.js';

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

class BodyTooLarge extends Error {}

const EMPTY = Buffer.alloc(0);

/**
 * Reads the whole body and calls `done` exactly once: with the body, or with BodyTooLarge / the stream's error. A body
 * that arrives in one chunk (most do) is used as it is, without a copy.
 */
function readBody(req: http.IncomingMessage, limit: number, done: (err: unknown, body?: Buffer) => void): void {
  const declared = Number(req.headers['content-length'] ?? -1);
  if (declared > limit) {
    done(new BodyTooLarge());
    return;
  }
  let first: Buffer | undefined;
  let chunks: Buffer[] | undefined;
  let size = 0;
  let settled = false;
  req.on('data', (c: Buffer) => {
    if (settled) return;
    size += c.length;
    if (size > limit) {
      settled = true;
      req.pause();
      done(new BodyTooLarge());
      return;
    }
    if (first === undefined) first = c;
    else (chunks ??= [first]).push(c);
  });
  req.on('end', () => {
    if (settled) return;
    settled = true;
    done(null, chunks ? Buffer.concat(chunks, size) : first ?? EMPTY);
  });
  req.on('error', (err) => {
    if (settled) return;
    settled = true;
    done(err);
  });
}

export function startRestServer(options: RestServerOptions): Promise<RestServer> {
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const timeoutMs = options.timeoutMs ?? 30000;
  let inFlight = 0;
  let draining = false;
  let drainedResolve: (() => void) | undefined;

  const create = options.createServer ?? ((o: http.ServerOptions, h: http.RequestListener) => http.createServer(o, h));
  const server = create({ keepAlive: true }, (req, res) => {
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
      if (draining || r.closeConnection) headers.Connection = 'close';
      if (!res.destroyed) {
        res.writeHead(r.status, headers);
        res.end(r.body);
      }
      done();
    };

    const done = (): void => {
      inFlight--;
      release?.();
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
        send({ status: err.httpStatus, body: errorBody(err.message), error: err.message });
      }, timeoutMs);
    }

    const fail = (err: unknown): void => {
      if (err instanceof BodyTooLarge) {
        const msg = `Request body too large: the limit is ${limit} bytes`;
        send({ status: 413, body: errorBody(msg), error: msg, closeConnection: true });
        return;
      }
      const msg = (err as Error)?.message ?? String(err);
      send({ status: 500, body: errorBody(msg), error: msg });
    };
    const proceed = (): void =>
      readBody(req, limit, (err, body) => {
        if (err !== null) {
          fail(err);
          return;
        }
        requestBytes = body!.length;
        handleRequest(options, { method, path, body: body!, signal: controller }).then(send, fail);
      });
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
  server.headersTimeout = 66_000;

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8501, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      const addr = server.address() as AddressInfo;
      resolve({
        port: addr.port,
        host: options.host ?? '0.0.0.0',
        inFlight: () => inFlight,
        close: (graceMs = 30_000) =>
          new Promise<void>((resolveClose) => {
            draining = true;
            const drained = new Promise<void>((r) => {
              drainedResolve = r;
              if (inFlight === 0) r();
            });
            const closed = new Promise<void>((r) => server.close(() => r()));
            server.closeIdleConnections();
            const force = setTimeout(() => server.closeAllConnections(), graceMs);
            void drained.then(() => {
              server.closeIdleConnections();
              return closed;
            }).then(() => {
              clearTimeout(force);
              resolveClose();
            });
          }),
      });
    });
  });
}
