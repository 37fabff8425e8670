// The request gate: what happens to a request after its headers arrive and before any of its body is read or any
// work is done. In order:
//   1. health probes (GET /healthz, GET /readyz) are answered here, open to all;
//   2. the metrics path is open unless --auth_metrics;
//   3. authentication (401) and per-model authorisation (403), when auth is configured;
//   4. rate limits per client and global (429 + Retry-After);
//   5. the --max_concurrent_requests cap (429 + Retry-After).
// REST calls `admitRest` from its server (src/core/serving/rest/server.ts), gRPC `admitGrpc` around every
// PredictionService/ModelService call (grpc/gated.ts). Each outcome is counted in tfsvc_gate_requests_total.
import type http from 'node:http';
import type * as grpc from '@grpc/grpc-js';
import { RequestError } from '../errors.js';
import type { Authenticator, Principal } from './auth.js';
import { BoundCounter, type CounterChild } from './bound-metrics.js';
import type { Health } from './health.js';
import type { RateLimiter } from './rate-limit.js';
import type { GateVerdict } from './rest/server.js';
import { errorBody } from './rest/routes.js';
import type { Registry } from 'prom-client';

export interface GateOptions {
  health?: Health;
  auth?: Authenticator;
  /** Require a token for the metrics path too. */
  authMetrics?: boolean;
  /** The Prometheus path (open unless authMetrics). */
  metricsPath?: string;
  rateLimiter?: RateLimiter;
  /** Requests in flight at once, REST and gRPC together; 0 or undefined: no cap. */
  maxConcurrent?: number;
  /** Where tfsvc_gate_requests_total is registered (the serving metrics registry). */
  registry?: Registry;
}

type Outcome = 'admitted' | 'unauthenticated' | 'forbidden' | 'rate_limited' | 'over_concurrency';
const OUTCOMES: Outcome[] = ['admitted', 'unauthenticated', 'forbidden', 'rate_limited', 'over_concurrency'];

/** The model a REST path names (/v1/models/M...), decoded; undefined for other paths. */
const MODEL_RE = /^\/v1\/models\/([^/:]+)/i;
function restModel(path: string): string | undefined {
  const m = MODEL_RE.exec(path);
  if (!m) return undefined;
  if (!m[1]!.includes('%')) return m[1];
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return m[1];
  }
}

/** "ipv4:127.0.0.1:5555" / "ipv6:[::1]:5555" → the address without the port. */
function grpcPeerAddress(peer: string): string {
  const s = peer.replace(/^ipv[46]:/, '');
  const m = /^\[(.*)\]:\d+$/.exec(s) ?? /^(.*):\d+$/.exec(s);
  return m ? m[1]! : s;
}

const JSON_TYPE = 'application/json';
/** Answers that come with a body make the client's unread body be drained; above this size the connection closes. */
const DRAIN_LIMIT = 1024 * 1024;

export class Gate {
  private inFlight = 0;
  private readonly counters: Record<'REST' | 'gRPC', Record<Outcome, CounterChild>> | undefined;
  private readonly checks: boolean;

  constructor(private readonly options: GateOptions) {
    this.checks = Boolean(options.auth || options.rateLimiter?.enabled || (options.maxConcurrent ?? 0) > 0);
    if (options.registry) {
      const counter = new BoundCounter({
        name: 'tfsvc_gate_requests_total',
        help: 'Requests by what the gate (auth, rate limits, concurrency cap) decided, before any body was read.',
        labelNames: ['api', 'outcome'],
        registers: [options.registry],
      });
      const bind = (api: string) => Object.fromEntries(OUTCOMES.map((o) => [o, counter.labels(api, o)])) as Record<Outcome, CounterChild>;
      this.counters = { REST: bind('REST'), gRPC: bind('gRPC') };
    }
  }

  /** Whether any check (auth, rate limit, concurrency cap) is on; without one, gRPC calls need no gate at all. */
  get active(): boolean {
    return this.checks;
  }

  /** Requests admitted and not yet finished. */
  current(): number {
    return this.inFlight;
  }

  /**
   * Decides on a REST request from its method, path and headers. Health probes, and every refusal, are answered here;
   * an admitted request gets a `release` to call once it is answered.
   */
  admitRest(req: http.IncomingMessage, method: string, path: string): GateVerdict | Promise<GateVerdict> {
    if (method === 'GET' && this.options.health) {
      if (path === '/healthz') return { answer: { status: 200, body: '{"status": "ok"}', contentType: JSON_TYPE } };
      if (path === '/readyz') {
        const r = this.options.health.readiness();
        return r.ready
          ? { answer: { status: 200, body: '{"status": "ready"}', contentType: JSON_TYPE } }
          : { answer: { status: 503, body: JSON.stringify({ status: 'not ready', not_ready: r.notReady }), contentType: JSON_TYPE } };
      }
    }
    if (!this.checks) return ADMITTED;
    const isMetrics = method === 'GET' && path === this.options.metricsPath;
    if (isMetrics && !this.options.authMetrics) return ADMITTED;
    const auth = this.options.auth;
    if (!auth) return this.restVerdict(undefined, undefined, req);
    const model = restModel(path);
    const authorization = header(req.headers.authorization);
    // A token seen before answers without a promise; only a new token waits for its signature check. The socket
    // remembers its last verified header, so a keep-alive client's repeat costs a string compare (auth.ts).
    const known = auth.cached(authorization, req.socket);
    if (known) return this.restVerdict(known, model, req);
    return auth.authenticate(authorization, req.socket).then(
      (principal) => this.restVerdict(principal, model, req),
      (err: unknown) => {
        this.count('REST', 'unauthenticated');
        return refusal(err, req);
      },
    );
  }

  private restVerdict(principal: Principal | undefined, model: string | undefined, req: http.IncomingMessage): GateVerdict {
    try {
      return { release: this.admit('REST', principal, model, req.socket.remoteAddress ?? 'unknown') };
    } catch (err) {
      return refusal(err, req);
    }
  }

  /**
   * Checks a gRPC call (its metadata, peer, the model its request names, and the connection it came on when the
   * server knows it). Resolves with the release to call when the call ends; rejects with RequestError
   * UNAUTHENTICATED, PERMISSION_DENIED or RESOURCE_EXHAUSTED.
   */
  async admitGrpc(metadata: grpc.Metadata, peer: string, model: string | undefined, connection?: object): Promise<() => void> {
    if (!this.checks) return NOOP;
    let principal: Principal | undefined;
    if (this.options.auth) {
      try {
        const v = metadata.get('authorization')[0];
        // `connection` (the h2 server's HTTP/2 session) remembers the header last verified on it, as the REST socket
        // does: a keep-alive channel's repeat costs a string compare, and the memo ends when the token expires.
        principal = await this.options.auth.authenticate(typeof v === 'string' ? v : v?.toString('utf8'), connection);
      } catch (err) {
        this.count('gRPC', 'unauthenticated');
        throw err;
      }
    }
    return this.admit('gRPC', principal, model, grpcPeerAddress(peer));
  }

  /** Authorisation, rate limit, concurrency; returns the release or throws RequestError. */
  private admit(api: 'REST' | 'gRPC', principal: Principal | undefined, model: string | undefined, address: string): () => void {
    const { auth, rateLimiter, maxConcurrent } = this.options;
    if (auth && principal && model !== undefined) {
      try {
        auth.authorize(principal, model);
      } catch (err) {
        this.count(api, 'forbidden');
        throw err;
      }
    }
    if (rateLimiter?.enabled) {
      const d = rateLimiter.take(principal?.subject !== undefined ? `sub:${principal.subject}` : `addr:${address}`);
      if (!d.ok) {
        this.count(api, 'rate_limited');
        throw new RateLimited(d.scope === 'client' ? 'Rate limit exceeded for this client' : 'Server rate limit exceeded', d.retryAfterSeconds);
      }
    }
    if (maxConcurrent && this.inFlight >= maxConcurrent) {
      this.count(api, 'over_concurrency');
      throw new RateLimited(`Too many concurrent requests (the limit is ${maxConcurrent})`, 1);
    }
    this.count(api, 'admitted');
    this.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
    };
  }

  private count(api: 'REST' | 'gRPC', outcome: Outcome): void {
    this.counters?.[api][outcome].inc();
  }
}

/** RESOURCE_EXHAUSTED with the seconds a client should wait (REST: Retry-After, rounded up). */
export class RateLimited extends RequestError {
  constructor(message: string, readonly retryAfterSeconds: number) {
    super('RESOURCE_EXHAUSTED', message);
  }
}

const NOOP = (): void => undefined;
const ADMITTED: GateVerdict = {};

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** A refusal as TF Serving's error body, with the headers RFC 6750 / RFC 9110 ask for. */
function refusal(err: unknown, req: http.IncomingMessage): GateVerdict {
  const e = err instanceof RequestError ? err : new RequestError('UNAUTHENTICATED', 'authentication failed');
  const headers: Record<string, string> = {};
  if (e.code === 'UNAUTHENTICATED') {
    headers['WWW-Authenticate'] = req.headers.authorization ? 'Bearer realm="tfsvc", error="invalid_token"' : 'Bearer realm="tfsvc"';
  }
  if (e instanceof RateLimited) headers['Retry-After'] = String(Math.max(1, Math.ceil(e.retryAfterSeconds)));
  const declared = Number(req.headers['content-length'] ?? 0);
  const closeConnection = declared > DRAIN_LIMIT || (req.headers['transfer-encoding'] !== undefined && declared === 0);
  return { answer: { status: e.httpStatus, body: errorBody(e.message), error: e.message, headers, closeConnection } };
}
