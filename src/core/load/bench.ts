// One benchmark run: bodies + schedule → attack through the endpoint's client (HTTP or gRPC) → Metrics. The command renders; this holds
// the logic tests need (and bench/generator.ts drives it directly).
import { performance } from 'node:perf_hooks';
import { UsageError } from '../errors.js';
import { attack } from './attack.js';
import { restEndpoint, type Endpoint } from './endpoint.js';
import { ConnectionError } from './errors.js';
import { LiveStats, type Snapshot } from './live.js';
import { Metrics } from './metrics.js';
import type { Result } from './result.js';
import { describeSchedule, type Schedule } from './schedule.js';
import { checkedSender, type ResponseCheck } from './response-check.js';

/** One endpoint of a targets file: its bodies and its share of the requests (weight / sum of weights). */
export interface WeightedTarget {
  endpoint: Endpoint;
  bodies: Buffer[];
  weight: number;
}

/**
 * Which target request i goes to: smooth weighted round robin (nginx's), so weights 3:1 give a a a b spread as
 * a b a a, never a burst of one target; deterministic, so two runs send the same mix.
 */
export function weightedOrder(weights: number[]): () => number {
  const total = weights.reduce((a, b) => a + b, 0);
  const current = weights.map(() => 0);
  return () => {
    let best = 0;
    for (let i = 0; i < weights.length; i++) {
      current[i]! += weights[i]!;
      if (current[i]! > current[best]!) best = i;
    }
    current[best]! -= total;
    return best;
  };
}

export interface BenchOptions {
  /** A REST URL, or any endpoint (endpoint.ts: REST or gRPC). Ignored when `targets` is given. */
  url: URL | Endpoint;
  bodies: Buffer[];
  /** Several endpoints sharing the schedule by weight (a targets file); each result is also counted per target. */
  targets?: WeightedTarget[];
  /** Per-request response checks (--expect-status, --expect-body): a failing answer counts as an error. */
  check?: ResponseCheck;
  schedule: Schedule;
  /** Measured window (ms) or Infinity when `requests` bounds the run. */
  durationMs: number;
  requests: number;
  warmupMs: number;
  timeoutMs: number;
  /** Open loop: most requests in flight (connections in the pool). */
  connections: number;
  batch?: number;
  /** Called about once a second with live numbers. */
  onProgress?(s: Snapshot): void;
  progressIntervalMs?: number;
  /** Every result as it arrives (tests and custom sinks). */
  onResult?(r: Result): void;
  signal?: AbortSignal;
}

export async function runBench(o: BenchOptions): Promise<Metrics> {
  const targets: WeightedTarget[] = o.targets ?? [{ endpoint: o.url instanceof URL ? restEndpoint(o.url) : o.url, bodies: o.bodies, weight: 1 }];
  if (targets.some((t) => t.bodies.length === 0)) throw new UsageError('no request bodies to send');
  const connections = o.schedule.kind === 'closed' ? o.schedule.concurrency : o.connections;
  const keepBody = o.check?.body !== undefined;
  const clients = targets.map((t) => {
    const c = t.endpoint.open({ connections, timeoutMs: o.timeoutMs, keepBody });
    return o.check ? checkedSender(c, o.check) : c;
  });
  const nextTarget = weightedOrder(targets.map((t) => t.weight));
  const perTarget = targets.map(() => ({ requests: 0, ok: 0 }));
  const sentTo = targets.map(() => 0);
  const sentBody = new Map<number, { target: number; bytes: number }>(); // request index → where it went, until its result
  const metrics = new Metrics({
    target: targets.map((t) => t.endpoint.label).join(', '),
    schedule: describeSchedule(o.schedule),
    rate: o.schedule.kind === 'closed' ? undefined : o.schedule.rate,
    concurrency: o.schedule.kind === 'closed' ? o.schedule.concurrency : undefined,
    connections,
    batch: o.batch,
    startedAt: new Date().toISOString(),
    runs: 1,
  });
  metrics.windowStart = o.warmupMs;
  const live = new LiveStats();
  let sent = 0;
  const t0 = performance.now();
  const timer = o.onProgress
    ? setInterval(() => o.onProgress!(live.snapshot(performance.now() - t0, sent)), o.progressIntervalMs ?? 1000)
    : undefined;
  try {
    const outcome = await attack({
      schedule: o.schedule,
      durationMs: o.durationMs,
      requests: o.requests,
      warmupMs: o.warmupMs,
      connections,
      signal: o.signal,
      send: (i) => {
        sent++;
        const t = targets.length === 1 ? 0 : nextTarget();
        const bodies = targets[t]!.bodies;
        const body = bodies[sentTo[t]!++ % bodies.length]!;
        sentBody.set(i, { target: t, bytes: body.length });
        return clients[t]!.send(body);
      },
      bytesOut: (i) => sentBody.get(i)?.bytes ?? 0,
      onResult: (r) => {
        live.record(r);
        metrics.record(r);
        o.onResult?.(r);
      },
      onResultOf: (i, r) => {
        const t = sentBody.get(i)?.target ?? 0;
        sentBody.delete(i);
        if (r.warmup) return;
        perTarget[t]!.requests++;
        if (!r.error) perTarget[t]!.ok++;
      },
    });
    metrics.closeWindow(outcome.durationMs, outcome.scheduledMs);
    if (targets.length > 1) {
      metrics.info.targets = targets.map((t, i) => ({ target: t.endpoint.label, weight: t.weight, requests: perTarget[i]!.requests, ok: perTarget[i]!.ok }));
    }
    metrics.info.startedAt = outcome.startedAt.toISOString();
    metrics.health = outcome.health;
    return metrics;
  } finally {
    if (timer) {
      clearInterval(timer);
      o.onProgress!(live.snapshot(performance.now() - t0, sent)); // the view ends on the final numbers
    }
    await Promise.all(clients.map((c) => c.close()));
  }
}

/**
 * Sends one request before the run so that a wrong URL or a body the server rejects fails fast with exit code 2
 * instead of a run full of errors. Server errors (5xx) are not usage errors: they are what a bench measures.
 */
export async function preflight(url: URL | Endpoint, body: Buffer, timeoutMs: number, check?: ResponseCheck): Promise<void> {
  const endpoint = url instanceof URL ? restEndpoint(url) : url;
  const client = endpoint.open({ connections: 1, timeoutMs });
  try {
    const out = await client.send(body);
    if (check?.statuses?.(out.status)) return; // an expected error status is what this run measures
    if (out.error === 'connect' || out.error === 'reset' || out.error === 'other') {
      throw new ConnectionError(`cannot reach ${endpoint.label}: ${out.message ?? out.error}`);
    }
    if (out.error === 'timeout') throw new ConnectionError(`${endpoint.label} did not answer within ${timeoutMs}ms`);
    if (out.status >= 400 && out.status < 500) {
      // gRPC answers carry their status name in the message ("NOT_FOUND: ..."); out.status is its HTTP equivalent.
      const what = endpoint.label.startsWith('grpc://') ? 'gRPC status' : `HTTP ${out.status}`;
      throw new UsageError(`${endpoint.label} rejected the request with ${what}: ${(out.message ?? '').slice(0, 300)}`);
    }
  } finally {
    await client.close();
  }
}
