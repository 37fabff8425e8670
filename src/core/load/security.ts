// How tfsvc's clients (bench, warmup, inspect URL, validate URL) reach a secured endpoint: a CA to trust (--ca), a client
// certificate for mTLS (--cert/--key), extra request headers (--header 'Authorization: Bearer ...', --token-file), and
// TLS for gRPC (--grpc-tls, implied by an https:// URL with --protocol grpc). The same ClientSecurity gives undici its
// connect options and headers and grpc-js its channel credentials and metadata, so every client sends alike.
// Secrets (tokens, keys) are held here only; they never go into reports or error messages.
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { Agent, type Dispatcher } from 'undici';
import { UsageError } from '../errors.js';

export interface ClientSecurity {
  /** PEM: extra CA certificates to trust (beyond the system's). */
  ca?: Buffer;
  /** PEM: client certificate and key (mTLS). */
  cert?: Buffer;
  key?: Buffer;
  /** Sent with every request (HTTP headers; gRPC metadata with lower-cased names). */
  headers: Record<string, string>;
  /** gRPC over TLS. */
  grpcTls: boolean;
}

export interface SecurityFlags {
  ca?: string;
  cert?: string;
  key?: string;
  /** "Name: value", repeatable. */
  header?: string[];
  /** A file holding a bearer token (whitespace trimmed): sent as "Authorization: Bearer <token>". */
  tokenFile?: string;
  grpcTls?: boolean;
}

export const NO_SECURITY: ClientSecurity = { headers: {}, grpcTls: false };

function readFlagFile(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UsageError(`cannot read ${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export function securityFromFlags(f: SecurityFlags): ClientSecurity {
  if (Boolean(f.cert) !== Boolean(f.key)) throw new UsageError('--cert and --key go together (a client certificate and its private key)');
  const headers: Record<string, string> = {};
  for (const h of f.header ?? []) {
    const i = h.indexOf(':');
    // Only the first word is echoed: a mistyped "Authorization Bearer <token>" must not print the token.
    if (i <= 0) throw new UsageError(`--header "${h.trim().split(/\s/)[0]!.slice(0, 40)} ...": expected "Name: value"`);
    const name = h.slice(0, i).trim();
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new UsageError(`--header: "${name}" is not a valid header name`);
    headers[name] = h.slice(i + 1).trim();
  }
  if (f.tokenFile) {
    const token = readFlagFile(f.tokenFile, '--token-file').toString('utf8').trim();
    if (!token) throw new UsageError(`--token-file ${f.tokenFile} is empty`);
    if (Object.keys(headers).some((k) => k.toLowerCase() === 'authorization')) throw new UsageError('give --token-file or an Authorization --header, not both');
    headers.Authorization = `Bearer ${token}`;
  }
  return {
    ca: f.ca ? readFlagFile(f.ca, '--ca') : undefined,
    cert: f.cert ? readFlagFile(f.cert, '--cert') : undefined,
    key: f.key ? readFlagFile(f.key, '--key') : undefined,
    headers,
    grpcTls: Boolean(f.grpcTls),
  };
}

/** TLS options for undici's connector (undefined: the defaults). */
export function connectOptions(s: ClientSecurity): { ca?: Buffer; cert?: Buffer; key?: Buffer } | undefined {
  if (!s.ca && !s.cert) return undefined;
  return { ...(s.ca ? { ca: s.ca } : {}), ...(s.cert ? { cert: s.cert, key: s.key } : {}) };
}

/** Options for undici's request(): a dispatcher that trusts --ca / presents --cert, and the extra headers. */
export function requestOptions(s: ClientSecurity): { dispatcher?: Dispatcher; headers: Record<string, string> } {
  const connect = connectOptions(s);
  return { dispatcher: connect ? new Agent({ connect }) : undefined, headers: s.headers };
}

export function grpcCredentials(s: ClientSecurity): grpc.ChannelCredentials {
  if (!s.grpcTls) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(s.ca ?? null, s.key ?? null, s.cert ?? null);
}

/** The extra headers as gRPC metadata (a new object per call: grpc-js may mutate it). */
export function grpcMetadata(s: ClientSecurity): grpc.Metadata {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(s.headers)) md.set(k.toLowerCase(), v);
  return md;
}
