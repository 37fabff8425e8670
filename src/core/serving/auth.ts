// JWT bearer authentication (jose) and per-model authorisation, for REST and gRPC alike.
//
// Keys: a JWKS (a file, re-read when it changes, or an https URL fetched by jose's remote key set, cached and
// refreshed when a token names an unknown `kid`), or an HS256 shared secret file. Claims checked by jose: signature,
// algorithm (an allow-list; `none` is never accepted), exp/nbf with a clock skew, issuer and audience when configured.
// Authorisation: the claim `modelClaim` (default "models"; a JSON list or a space-separated string; "*" for all) must
// name the model a request is for; a token without it may call no model. `modelClaim: null` turns that check off.
//
// Cost: verifying a signature is tens of microseconds (RS256) per request, so verified tokens are cached by their
// SHA-256 (never the token itself) in a bounded map until they expire (at most CACHE_TTL_MS, so a key removed from the
// JWKS stops working soon). Failures are not cached. Messages name what failed, never the token.
// Hot path (profiled with bench/serve-secure --cpu-prof): hashing the token (a Hash object per request, ~8 us) and the
// Bearer regex cost more than the rest of the gate together. A client sends the same header on every request of a
// keep-alive connection, so each connection remembers the last header it verified (a WeakMap keyed by the socket;
// the string compare is a memcmp): a repeat costs no hash at all. Other requests hash with one-shot crypto.hash.
import * as nodeCrypto from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import * as jose from 'jose';
import { RequestError, UsageError } from '../errors.js';

export interface AuthOptions {
  /** A JWKS file path or an https:// URL. */
  jwks?: string;
  /** A file holding the HS256 secret (trailing newline ignored). */
  secretFile?: string;
  issuer?: string;
  /** Accepted audiences (any one must be in the token's aud). */
  audience?: string[];
  /** Allowed `alg` values; default: the asymmetric ones for a JWKS, HS256/384/512 for a secret. */
  algorithms?: string[];
  /** Seconds of clock difference tolerated on exp/nbf/iat (default 30). */
  clockSkewSeconds?: number;
  /** The claim listing the models a token may call; null: any valid token may call any model. Default "models". */
  modelClaim?: string | null;
  /** Extra CA certificates (PEM) trusted when fetching an https JWKS. */
  jwksCa?: Buffer;
  /** Re-fetch an https JWKS at least this often (default 10 minutes). */
  jwksMaxAgeMs?: number;
}

/** Who a verified token says the caller is. */
export interface Principal {
  /** The `sub` claim (rate limits key on it). */
  subject?: string;
  /** Models the token may call: '*' for all, undefined when the claim is absent. */
  models?: '*' | ReadonlySet<string>;
}

const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const SYMMETRIC = ['HS256', 'HS384', 'HS512'];
const CACHE_MAX = 10_000;
const CACHE_TTL_MS = 5 * 60_000;

/** 401: no usable token. REST adds `WWW-Authenticate: Bearer`. */
export const unauthenticated = (message: string): RequestError => new RequestError('UNAUTHENTICATED', message);

/** jose's failure as a sentence that names the check, not the token. */
function reason(err: unknown): string {
  if (err instanceof jose.errors.JWTExpired) return 'the token has expired';
  if (err instanceof jose.errors.JWTClaimValidationFailed) return `the token's "${err.claim}" claim is not accepted (${err.reason === 'check_failed' ? 'wrong value' : err.reason})`;
  if (err instanceof jose.errors.JOSEAlgNotAllowed) return 'the token\'s signing algorithm is not allowed';
  if (err instanceof jose.errors.JWSSignatureVerificationFailed) return 'the token\'s signature is invalid';
  if (err instanceof jose.errors.JWKSNoMatchingKey) return 'no key in the JWKS matches the token';
  if (err instanceof jose.errors.JWKSMultipleMatchingKeys) return 'several JWKS keys match the token';
  if (err instanceof jose.errors.JWSInvalid || err instanceof jose.errors.JWTInvalid) return 'the token is malformed';
  if (err instanceof jose.errors.JWKSTimeout) return 'the JWKS could not be fetched in time';
  if (err instanceof jose.errors.JOSENotSupported) return 'the token uses an unsupported algorithm or key';
  return 'the token could not be verified';
}

type KeyInput = Parameters<typeof jose.jwtVerify>[1];

const BEARER_RE = /^\s*bearer\s+(\S+)\s*$/i;
function bearerToken(authorization: string): string | undefined {
  return BEARER_RE.exec(authorization)?.[1];
}

interface Verified {
  principal: Principal;
  /** Date.now() after which the token must be verified again. */
  until: number;
}

/** SHA-256 of `token`, base64: the cache key. One-shot crypto.hash (node >= 20.12) skips the Hash object. */
const tokenId: (token: string) => string =
  typeof (nodeCrypto as { hash?: unknown }).hash === 'function'
    ? (token) => (nodeCrypto as unknown as { hash(alg: string, data: string, enc: string): string }).hash('sha256', token, 'base64')
    : (token) => nodeCrypto.createHash('sha256').update(token).digest('base64');

export class Authenticator {
  private readonly cache = new Map<string, Verified>();
  /** Per connection: the last Authorization header verified on it, and its cache entry. */
  private readonly lastOnConnection = new WeakMap<object, { header: string; entry: Verified }>();
  private readonly verifyOptions: jose.JWTVerifyOptions;
  private readonly modelClaim: string | null;

  private constructor(private readonly key: KeyInput, options: AuthOptions, algorithms: string[]) {
    this.modelClaim = options.modelClaim === undefined ? 'models' : options.modelClaim;
    this.verifyOptions = {
      algorithms,
      issuer: options.issuer,
      audience: options.audience && options.audience.length > 0 ? options.audience : undefined,
      clockTolerance: options.clockSkewSeconds ?? 30,
    };
  }

  /** Checks the options and loads the keys; an https JWKS is fetched once here so a wrong URL shows at startup. */
  static async create(options: AuthOptions, warn: (message: string) => void = () => undefined): Promise<Authenticator> {
    if (options.jwks && options.secretFile) throw new UsageError('give either --auth_jwks or --auth_jwt_secret_file, not both');
    const symmetric = Boolean(options.secretFile);
    const algorithms = options.algorithms && options.algorithms.length > 0 ? options.algorithms : symmetric ? SYMMETRIC : ASYMMETRIC;
    for (const a of algorithms) {
      if (a.toLowerCase() === 'none') throw new UsageError('--auth_algorithms: "none" is never accepted (it means an unsigned token)');
      if (!(symmetric ? SYMMETRIC : ASYMMETRIC).includes(a)) {
        throw new UsageError(`--auth_algorithms: ${a} does not fit ${symmetric ? 'a shared secret (HS256, HS384, HS512)' : `a JWKS (${ASYMMETRIC.join(', ')})`}`);
      }
    }
    if (options.secretFile) {
      let secret: Buffer;
      try {
        secret = readFileSync(options.secretFile);
      } catch (err) {
        throw new UsageError(`cannot read --auth_jwt_secret_file ${options.secretFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      const text = secret.toString('utf8').replace(/\r?\n$/, '');
      if (text.length === 0) throw new UsageError(`--auth_jwt_secret_file ${options.secretFile} is empty`);
      if (Buffer.byteLength(text) < 32) warn(`--auth_jwt_secret_file: the secret is ${Buffer.byteLength(text)} bytes; HS256 wants at least 32`);
      return new Authenticator(new TextEncoder().encode(text), options, algorithms);
    }
    if (!options.jwks) throw new UsageError('authentication needs --auth_jwks (a JWKS file or https URL) or --auth_jwt_secret_file');
    if (/^https?:\/\//i.test(options.jwks)) {
      const url = new URL(options.jwks);
      if (url.protocol !== 'https:' && !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
        throw new UsageError(`--auth_jwks ${options.jwks}: fetch keys over https (plain http only on loopback)`);
      }
      const remoteOptions: jose.RemoteJWKSetOptions = { cacheMaxAge: options.jwksMaxAgeMs ?? 10 * 60_000, cooldownDuration: 30_000, timeoutDuration: 5000 };
      if (options.jwksCa) {
        const { Agent, fetch: undiciFetch } = await import('undici');
        const dispatcher = new Agent({ connect: { ca: options.jwksCa } });
        remoteOptions[jose.customFetch] = ((u: string, init: RequestInit) => undiciFetch(u, { ...(init as object), dispatcher })) as unknown as jose.FetchImplementation;
      }
      const set = jose.createRemoteJWKSet(url, remoteOptions);
      try {
        await set.reload();
      } catch (err) {
        warn(`--auth_jwks ${options.jwks}: cannot fetch the key set yet (${(err as Error).message}); will retry on the first request`);
      }
      return new Authenticator(set, options, algorithms);
    }
    return new Authenticator(fileKeySet(options.jwks), options, algorithms);
  }

  /**
   * The principal of an `Authorization` header value (REST header or gRPC metadata). Resolves or rejects with
   * RequestError UNAUTHENTICATED. A cached token resolves without verifying again.
   */
  async authenticate(authorization: string | undefined, connection?: object): Promise<Principal> {
    return this.cached(authorization, connection) ?? this.verify(authorization, connection);
  }

  /**
   * The principal of an already verified, unexpired token, without waiting (the request path's common case), or
   * undefined. `authenticate` does the rest. `connection` (the socket, or any object living as long as it): the
   * header last verified on it answers without hashing.
   */
  cached(authorization: string | undefined, connection?: object): Principal | undefined {
    if (!authorization) return undefined;
    const now = Date.now();
    if (connection) {
      const last = this.lastOnConnection.get(connection);
      if (last && last.header === authorization) {
        if (last.entry.until > now) return last.entry.principal;
        this.lastOnConnection.delete(connection);
      }
    }
    const token = bearerToken(authorization);
    if (!token) return undefined;
    const id = tokenId(token);
    const hit = this.cache.get(id);
    if (!hit) return undefined;
    if (hit.until > now) {
      if (connection) this.lastOnConnection.set(connection, { header: authorization, entry: hit });
      return hit.principal;
    }
    this.cache.delete(id);
    return undefined;
  }

  private async verify(authorization: string | undefined, connection?: object): Promise<Principal> {
    if (!authorization) throw unauthenticated('authentication required: send "Authorization: Bearer <token>"');
    const token = bearerToken(authorization);
    if (!token) throw unauthenticated('the Authorization header must be "Bearer <token>"');
    const id = tokenId(token);
    const now = Date.now();
    let payload: jose.JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, this.key as never, this.verifyOptions));
    } catch (err) {
      throw unauthenticated(`invalid token: ${reason(err)}`);
    }
    const principal: Principal = { subject: typeof payload.sub === 'string' ? payload.sub : undefined, models: this.modelsOf(payload) };
    const skewMs = (this.verifyOptions.clockTolerance as number) * 1000;
    const until = Math.min(now + CACHE_TTL_MS, payload.exp !== undefined ? payload.exp * 1000 + skewMs : Infinity);
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    const entry: Verified = { principal, until };
    this.cache.set(id, entry);
    if (connection) this.lastOnConnection.set(connection, { header: authorization, entry });
    return principal;
  }

  private modelsOf(payload: jose.JWTPayload): Principal['models'] {
    if (this.modelClaim === null) return '*';
    const v = payload[this.modelClaim];
    const list = Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? v.split(/\s+/).filter(Boolean) : undefined;
    if (list === undefined) return undefined;
    return list.includes('*') ? '*' : new Set(list);
  }

  /** Throws RequestError PERMISSION_DENIED unless `principal` may call `model`. */
  authorize(principal: Principal, model: string): void {
    const models = principal.models;
    if (models === '*' || models?.has(model)) return;
    if (models === undefined) throw new RequestError('PERMISSION_DENIED', `the token has no "${this.modelClaim}" claim, so it may call no model`);
    throw new RequestError('PERMISSION_DENIED', `the token does not allow model "${model}"`);
  }

  /** Tokens held in the verified cache (tests, metrics). */
  cachedTokens(): number {
    return this.cache.size;
  }
}

/** A JWKS file, re-read when its mtime or size changes (checked at most once a second). */
function fileKeySet(file: string): KeyInput {
  const load = (): ReturnType<typeof jose.createLocalJWKSet> => {
    let json: jose.JSONWebKeySet;
    try {
      json = JSON.parse(readFileSync(file, 'utf8')) as jose.JSONWebKeySet;
    } catch (err) {
      throw new UsageError(`cannot read --auth_jwks ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (!json || !Array.isArray(json.keys)) throw new UsageError(`--auth_jwks ${file}: not a JWKS (a JSON object with a "keys" list)`);
    return jose.createLocalJWKSet(json);
  };
  const stampOf = (): string => {
    try {
      const s = statSync(file);
      return `${s.mtimeMs}:${s.size}`;
    } catch {
      return 'missing';
    }
  };
  let set = load();
  let stamp = stampOf();
  let checked = Date.now();
  return ((header: jose.JWSHeaderParameters, token: jose.FlattenedJWSInput) => {
    const now = Date.now();
    if (now - checked > 1000) {
      checked = now;
      const s = stampOf();
      if (s !== stamp) {
        try {
          set = load();
          stamp = s;
        } catch {
          // A half-written or removed file: keep the last good key set.
        }
      }
    }
    return set(header, token);
  }) as KeyInput;
}
