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

export interface BenchOptions {
  /** A REST URL, or any endpoint (endpoint.ts: REST or gRPC). */
  url: URL | Endpoint;
  bodies: Buffer[];
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
  if (o.bodies.length === 0) throw new UsageError('no request bodies to send');
  const connections = o.schedule.kind === 'closed' ? o.schedule.concurrency : o.connections;
  const endpoint = o.url instanceof URL ? restEndpoint(o.url) : o.url;
  const client = endpoint.open({ connections, timeoutMs: o.timeoutMs });
  const metrics = new Metrics({
    target: endpoint.label,
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
        return client.send(o.bodies[i % o.bodies.length]!);
      },
      bytesOut: (i) => o.bodies[i % o.bodies.length]!.length,
      onResult: (r) => {
        live.record(r);
        metrics.record(r);
        o.onResult?.(r);
      },
    });
    metrics.closeWindow(outcome.durationMs);
    metrics.info.startedAt = outcome.startedAt.toISOString();
    metrics.health = outcome.health;
    return metrics;
  } finally {
    if (timer) {
      clearInterval(timer);
      o.onProgress!(live.snapshot(performance.now() - t0, sent)); // the view ends on the final numbers
    }
    await client.close();
  }
}

/**
 * Sends one request before the run so that a wrong URL or a body the server rejects fails fast with exit code 2
 * instead of a run full of errors. Server errors (5xx) are not usage errors: they are what a bench measures.
 */
export async function preflight(url: URL | Endpoint, body: Buffer, timeoutMs: number): Promise<void> {
  const endpoint = url instanceof URL ? restEndpoint(url) : url;
  const client = endpoint.open({ connections: 1, timeoutMs });
  try {
    const out = await client.send(body);
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
