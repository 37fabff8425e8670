// The HTTP side of an attack: one undici Pool with keep-alive connections to the target origin, POSTing JSON bodies.
// `send` never throws; it resolves to an Outcome with an error kind, so one bad request never stops a run.
import { Pool, errors as undiciErrors } from 'undici';
import type { ErrorKind } from './result.js';
import { connectOptions, NO_SECURITY, type ClientSecurity } from './security.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

export interface Outcome {
  status: number;
  bytesIn: number;
  error?: ErrorKind;
  message?: string;
  /** The response body, only when ClientOptions.keepBody asked for it (response checks). */
  body?: Buffer;
}

export interface ClientOptions {
  /** Most connections open at once; the attack never has more requests in flight than this. */
  connections: number;
  /** Per-request limit (headers and body each), ms. */
  timeoutMs: number;
  /** Keep each response body (up to 4 MiB) in Outcome.body, for --expect-body. Off on the hot path. */
  keepBody?: boolean;
}

const KEPT_BODY_LIMIT = 4 << 20;

/** Classifies a transport error (undici or socket) into an ErrorKind. */
export function errorKindOf(err: unknown): ErrorKind {
  const code = (err as { code?: string })?.code ?? '';
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) return 'timeout';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'ETIMEDOUT') return 'timeout';
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'EHOSTUNREACH') return 'connect';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED') return 'reset';
  return 'other';
}

export class HttpClient {
  private readonly pool: Pool;
  private readonly path: string;
  private readonly keepBody: boolean;
  private readonly postHeaders: Record<string, string>;
  private readonly getHeaders: Record<string, string>;

  /** `url` is the full endpoint URL (e.g. http://host:8501/v1/models/m:predict); `security`: TLS trust, headers. */
  constructor(readonly url: URL, options: ClientOptions, security: ClientSecurity = NO_SECURITY) {
    this.postHeaders = { ...JSON_HEADERS, ...security.headers };
    this.getHeaders = security.headers;
    const connect = connectOptions(security);
    this.pool = new Pool(url.origin, {
      ...(connect ? { connect } : {}),
      connections: options.connections,
      pipelining: 1,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connectTimeout: Math.min(options.timeoutMs, 10_000),
      keepAliveTimeout: 30_000,
    });
    this.path = url.pathname + url.search;
    this.keepBody = options.keepBody === true;
  }

  /**
   * POSTs `body` (JSON); resolves when the whole response has been read. Never rejects. Uses undici's dispatch
   * handler API rather than `request()`: no body stream or promise per chunk, which roughly halves the generator's
   * CPU per request (what lets one core hold thousands of requests per second).
   */
  send(body: Buffer, method: 'POST' | 'GET' = 'POST'): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      let status = 0;
      let bytesIn = 0;
      let errorText = '';
      const kept: Buffer[] | undefined = this.keepBody ? [] : undefined;
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        const code = (err as { code?: string }).code;
        resolve({ status: 0, bytesIn, error: errorKindOf(err), message: `${code ? `${code}: ` : ''}${err.message}` });
      };
      try {
        this.pool.dispatch(
          { path: this.path, method, headers: method === 'POST' ? this.postHeaders : this.getHeaders, body: method === 'POST' ? body : undefined },
          {
            // The classic handler callbacks: what undici's own request() uses on a Pool in undici 7.
            onConnect: () => {},
            onHeaders: (statusCode: number) => {
              status = statusCode;
              return true;
            },
            onData: (chunk: Buffer) => {
              if (kept && bytesIn + chunk.length <= KEPT_BODY_LIMIT) kept.push(Buffer.from(chunk));
              bytesIn += chunk.length;
              if ((status < 200 || status >= 300) && errorText.length < 300) errorText += chunk.toString('utf8');
              return true;
            },
            onComplete: () => {
              if (settled) return;
              settled = true;
              const body = kept ? { body: Buffer.concat(kept) } : {};
              if (status >= 200 && status < 300) resolve({ status, bytesIn, ...body });
              else resolve({ status, bytesIn, error: 'http', message: errorText.slice(0, 300), ...body });
            },
            onError: (err: Error) => fail(err),
          },
        );
      } catch (err) {
        fail(err as Error);
      }
    });
  }

  async close(): Promise<void> {
    await this.pool.close().catch(() => this.pool.destroy());
  }
}
