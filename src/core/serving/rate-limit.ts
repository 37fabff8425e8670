// Request rate limits: token buckets, one per client (the JWT `sub` when authenticated, else the remote address) and
// one for the whole server, each refilling at `rate` per second up to `burst`. A request takes one token from its
// client's bucket and one from the global bucket, or from neither: a refused request costs nothing, so a client over
// its limit does not eat the global budget. Refusals say how long until a token is there (Retry-After).
// Written by hand: a bucket is four lines of arithmetic on the request path, and the bounded client map (idle, full
// buckets are dropped first) is what keeps a flood of distinct addresses from growing memory.

export interface RateLimitOptions {
  /** Requests per second per client; 0 or undefined: no per-client limit. */
  perClient?: number;
  /** Per-client burst (bucket size); default max(1, perClient). */
  perClientBurst?: number;
  /** Requests per second for the whole server; 0 or undefined: no global limit. */
  global?: number;
  globalBurst?: number;
  /** Clients tracked at once (default 100 000); beyond it the oldest bucket is dropped. */
  maxClients?: number;
}

/** A token bucket; `now` is in seconds. */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(readonly rate: number, readonly burst: number, now: number) {
    this.tokens = burst;
    this.at = now;
  }

  private refill(now: number): void {
    if (now > this.at) {
      this.tokens = Math.min(this.burst, this.tokens + (now - this.at) * this.rate);
      this.at = now;
    }
  }

  /** Seconds until one token is available (0: now). */
  wait(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : (1 - this.tokens) / this.rate;
  }

  take(): void {
    this.tokens -= 1;
  }

  /** Full again: nothing is lost by forgetting it. */
  full(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.burst;
  }
}

export type RateDecision = { ok: true } | { ok: false; scope: 'client' | 'global'; retryAfterSeconds: number };

export class RateLimiter {
  private readonly clients = new Map<string, TokenBucket>();
  private readonly globalBucket: TokenBucket | undefined;
  private readonly perClient: number;
  private readonly perClientBurst: number;
  private readonly maxClients: number;

  constructor(options: RateLimitOptions, private readonly clock: () => number = () => performance.now() / 1000) {
    this.perClient = options.perClient ?? 0;
    this.perClientBurst = Math.max(1, options.perClientBurst ?? Math.ceil(this.perClient));
    this.maxClients = options.maxClients ?? 100_000;
    const g = options.global ?? 0;
    this.globalBucket = g > 0 ? new TokenBucket(g, Math.max(1, options.globalBurst ?? Math.ceil(g)), clock()) : undefined;
  }

  get enabled(): boolean {
    return this.perClient > 0 || this.globalBucket !== undefined;
  }

  /** Takes a token for `client` (and the server) or says how long to wait. */
  take(client: string): RateDecision {
    const now = this.clock();
    let bucket: TokenBucket | undefined;
    if (this.perClient > 0) {
      bucket = this.clients.get(client);
      if (!bucket) {
        if (this.clients.size >= this.maxClients) this.evict(now);
        bucket = new TokenBucket(this.perClient, this.perClientBurst, now);
        this.clients.set(client, bucket);
      }
      const w = bucket.wait(now);
      if (w > 0) return { ok: false, scope: 'client', retryAfterSeconds: w };
    }
    if (this.globalBucket) {
      const w = this.globalBucket.wait(now);
      if (w > 0) return { ok: false, scope: 'global', retryAfterSeconds: w };
      this.globalBucket.take();
    }
    bucket?.take();
    return { ok: true };
  }

  /** Drops full buckets (idle clients) among the 64 oldest, or the oldest one when none is full: O(1) per call. */
  private evict(now: number): void {
    let seen = 0;
    for (const [k, b] of this.clients) {
      if (++seen > 64) break;
      if (b.full(now)) this.clients.delete(k);
    }
    if (this.clients.size >= this.maxClients) this.clients.delete(this.clients.keys().next().value!);
  }

  /** Clients currently tracked. */
  trackedClients(): number {
    return this.clients.size;
  }
}
