// The production envelope around the serving stack, built in one place from its options so server.ts only plugs it
// in: TLS for REST and gRPC (tls.ts, grpc/tls-credentials.ts), JWT auth (auth.ts), rate limits and the concurrency
// cap (rate-limit.ts) behind one request gate (gate.ts), and the lookup clients see (redact.ts: no filesystem paths
// unless debug). Everything that can be wrong with it (a certificate, a key, a JWKS) fails here, at startup.
import type http from 'node:http';
import type * as grpc from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import { Authenticator, type AuthOptions } from './auth.js';
import { Gate } from './gate.js';
import { grpcServerCredentials } from './grpc/tls-credentials.js';
import type { Health } from './health.js';
import { RateLimiter, type RateLimitOptions } from './rate-limit.js';
import { redactingLookup } from './redact.js';
import { httpsServerFactory, TlsSource, type TlsFiles } from './tls.js';
import type { ServableLookup } from './types.js';

export interface EnvelopeOptions {
  /** HTTPS for REST (--ssl_cert_file/--ssl_key_file[/--ssl_ca_file], or --ssl_config_file). */
  restTls?: TlsFiles;
  /** TLS for gRPC (--ssl_config_file). */
  grpcTls?: TlsFiles;
  /** How often certificate files are checked for changes (default 2000 ms; 0: never). */
  tlsPollMs?: number;
  /** JWT authentication on REST and gRPC. */
  auth?: AuthOptions;
  /** The metrics path needs a token too. */
  authMetrics?: boolean;
  rateLimit?: RateLimitOptions;
  maxConcurrentRequests?: number;
  /** Serve error messages with filesystem paths as they are (--debug). */
  debug?: boolean;
}

export interface Envelope {
  /** What REST and gRPC look servables up in (paths redacted unless debug). */
  readonly lookup: ServableLookup;
  readonly gate: Gate;
  readonly createRestServer?: (options: http.ServerOptions, handler: http.RequestListener) => http.Server;
  readonly grpcCredentials?: grpc.ServerCredentials;
  /** The same gRPC TLS material for the node:http2 gRPC server. */
  readonly grpcTlsSource?: TlsSource;
  readonly restScheme: 'http' | 'https';
  close(): void;
}

export interface EnvelopeDeps {
  lookup: ServableLookup;
  health: Health;
  registry?: Registry;
  metricsPath?: string;
  /** Base directory → model name, for redaction. */
  basePaths: () => ReadonlyMap<string, string>;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export async function openEnvelope(options: EnvelopeOptions, deps: EnvelopeDeps): Promise<Envelope> {
  const sources: TlsSource[] = [];
  const tlsEvents = (api: string) => ({
    reloaded: (files: string[]) => deps.log('info', `${api} TLS certificate reloaded from ${files.join(', ')}`),
    error: (message: string) => deps.log('error', `${api}: ${message}`),
  });
  try {
    const restSource = options.restTls ? new TlsSource(options.restTls, tlsEvents('REST'), options.tlsPollMs) : undefined;
    if (restSource) sources.push(restSource);
    const grpcSource = options.grpcTls ? new TlsSource(options.grpcTls, tlsEvents('gRPC'), options.tlsPollMs) : undefined;
    if (grpcSource) sources.push(grpcSource);
    const auth = options.auth ? await Authenticator.create(options.auth, (m) => deps.log('warn', m)) : undefined;
    const rateLimiter = options.rateLimit ? new RateLimiter(options.rateLimit) : undefined;
    const gate = new Gate({
      health: deps.health,
      auth,
      authMetrics: options.authMetrics,
      metricsPath: deps.metricsPath,
      rateLimiter,
      maxConcurrent: options.maxConcurrentRequests,
      registry: deps.registry,
    });
    return {
      lookup: options.debug ? deps.lookup : redactingLookup(deps.lookup, deps.basePaths),
      gate,
      createRestServer: restSource ? httpsServerFactory(restSource) : undefined,
      grpcCredentials: grpcSource ? grpcServerCredentials(grpcSource) : undefined,
      grpcTlsSource: grpcSource,
      restScheme: restSource ? 'https' : 'http',
      close: () => sources.forEach((s) => s.close()),
    };
  } catch (err) {
    sources.forEach((s) => s.close());
    throw err;
  }
}
