// Sends requests on a schedule through one client and emits one Result per request.
// Open loop: the pacer decides when each request is due; at most `connections` are in flight, and a due request
// that finds them all busy waits in a FIFO (its latency still counts from the intended time, wrk2's correction).
// Closed loop: `concurrency` workers each send the next request when the previous answer arrives.
import { performance } from 'node:perf_hooks';
import type { Outcome } from './client.js';
import type { Result } from './result.js';
import type { Schedule } from './schedule.js';
import type { ScheduleHealth } from './metrics.js';
import { newHistogram, percentileMs, recordMs } from './histogram.js';
import { intendedTimes } from './schedule.js';
import { runPacer } from './pacer.js';
import { NumberFifo } from './fifo.js';
// When the generator counts as behind its schedule: see behind.ts.
import { ScheduleKeeping } from './behind.js';

export interface AttackOptions {
  schedule: Schedule;
  /** Length of the measured window in ms (after warmup); Infinity when `requests` bounds the run. */
  durationMs: number;
  /** Number of measured requests; Infinity when `durationMs` bounds the run. */
  requests: number;
  /** Requests started in the first `warmupMs` are sent but marked warmup (excluded from results). */
  warmupMs: number;
  /** Open loop: most requests in flight. Ignored for closed loop (its concurrency is the limit). */
  connections: number;
  /** Sends request number `i` (bodies are chosen by index). Must not reject. */
  send(i: number): Promise<Outcome>;
  /** Size in bytes of request `i`'s body. */
  bytesOut(i: number): number;
  onResult(r: Result): void;
  /** Also called with each result, with the request's index (per-target counts). */
  onResultOf?(i: number, r: Result): void;
  signal?: AbortSignal;
}

export interface AttackOutcome {
  /** Length of the measured window, ms: the scheduled window, stretched if sending ran late. */
  durationMs: number;
  /** Length of the window the schedule covered, ms (closed-loop runs: as durationMs); the per-second series' length. */
  scheduledMs?: number;
  /** Offset of the measured window's start on the attack clock (= warmupMs). */
  windowStart: number;
  /** Wall-clock time at the start of the measured window. */
  startedAt: Date;
  health?: ScheduleHealth;
}

export async function attack(o: AttackOptions): Promise<AttackOutcome> {
  const t0 = performance.now();
  const startedAtMs = Date.now() + o.warmupMs;
  const now = () => performance.now() - t0;
  if (o.schedule.kind === 'closed') return closedLoop(o, o.schedule.concurrency, now, startedAtMs);

  const schedule = o.schedule;
  const lag = newHistogram();
  let inFlight = 0;
  let connectionWaits = 0;
  let measuredSent = 0;
  let lastMeasuredStart = o.warmupMs;
  let measuredIssued = 0;
  let index = 0;
  const waiting = new NumberFifo(); // intended times of due requests waiting for a connection
  let wakeDone: (() => void) | undefined;

  const dispatch = (intended: number, i: number) => {
    inFlight++;
    const start = now();
    const warmup = intended < o.warmupMs;
    if (!warmup) {
      measuredSent++;
      if (start > lastMeasuredStart) lastMeasuredStart = start;
    }
    void o.send(i).then((out) => {
      const end = now();
      inFlight--;
      const r: Result = { intended, start, end, status: out.status, bytesIn: out.bytesIn, bytesOut: o.bytesOut(i), error: out.error, message: out.message, warmup };
      o.onResult(r);
      o.onResultOf?.(i, r);
      const queued = waiting.shift();
      if (queued !== undefined) dispatch(queued, index++);
      else if (inFlight === 0) wakeDone?.();
    });
  };

  // With --requests N, warmup requests come first and then exactly N measured ones.
  const warmupCount = o.requests === Infinity ? Infinity : countBefore(schedule, o.warmupMs);
  // The measured window's end on the attack clock: known from --duration, or (--requests N) the intended time of the
  // request after the last one.
  const windowEnd = o.durationMs !== Infinity ? o.warmupMs + o.durationMs : intendedAt(schedule, warmupCount + o.requests);
  const keeping = new ScheduleKeeping(o.warmupMs, windowEnd);
  await runPacer({
    schedule,
    untilMs: o.durationMs === Infinity ? Infinity : o.warmupMs + o.durationMs,
    maxRequests: o.requests === Infinity ? Infinity : warmupCount + o.requests,
    now,
    signal: o.signal,
    issue(intended, pacerLag) {
      if (intended >= o.warmupMs) {
        measuredIssued++;
        recordMs(lag, pacerLag);
        keeping.issue(intended, intended + pacerLag);
      }
      if (inFlight < o.connections) dispatch(intended, index++);
      else {
        connectionWaits++;
        waiting.push(intended);
      }
    },
  });
  const pacerEnd = now();
  // Requests that were due but never started (aborted run) are dropped; then wait for the ones in flight.
  if (o.signal?.aborted) waiting.clear();
  while (inFlight > 0 || waiting.length > 0) await new Promise<void>((r) => (wakeDone = r));

  // An aborted run measured only until the abort; otherwise the window is what the schedule covered.
  const scheduledMs = o.signal?.aborted
    ? Math.max(0, Math.min(pacerEnd - o.warmupMs, o.durationMs))
    : o.durationMs !== Infinity ? o.durationMs : (measuredIssued * 1000) / schedule.rate;
  const durationMs = Math.max(scheduledMs, lastMeasuredStart - o.warmupMs);
  const sendRate = durationMs > 0 ? (measuredSent * 1000) / durationMs : 0;
  const lagP99Ms = lag.totalCount ? percentileMs(lag, 99) : 0;
  const lagP90Ms = lag.totalCount ? percentileMs(lag, 90) : 0;
  const health: ScheduleHealth = {
    lagP50Ms: lag.totalCount ? percentileMs(lag, 50) : 0,
    lagP99Ms,
    lagMaxMs: lag.totalCount ? lag.maxValue / 1000 : 0,
    connectionWaits,
    sendRate,
    behind: keeping.behind(lagP90Ms),
  };
  return { durationMs, scheduledMs, windowStart: o.warmupMs, startedAt: new Date(startedAtMs), health };
}

/** The intended time of request number `n` (0-based) of `schedule`. */
function intendedAt(schedule: Exclude<Schedule, { kind: 'closed' }>, n: number): number {
  let i = 0;
  for (const t of intendedTimes(schedule)) if (i++ === n) return t;
  return Infinity; // unreachable: the schedule is endless
}

function countBefore(schedule: Exclude<Schedule, { kind: 'closed' }>, ms: number): number {
  if (ms <= 0) return 0;
  let n = 0;
  for (const t of intendedTimes(schedule)) {
    if (t >= ms) return n;
    n++;
  }
  return n;
}

async function closedLoop(o: AttackOptions, concurrency: number, now: () => number, startedAtMs: number): Promise<AttackOutcome> {
  const until = o.durationMs === Infinity ? Infinity : o.warmupMs + o.durationMs;
  let measured = 0;
  let index = 0;
  let lastEnd = o.warmupMs;
  const worker = async () => {
    for (;;) {
      if (o.signal?.aborted) return;
      const start = now();
      if (start >= until || measured >= o.requests) return;
      const warmup = start < o.warmupMs;
      if (!warmup) measured++;
      const i = index++;
      const out = await o.send(i);
      const end = now();
      if (!warmup && end > lastEnd) lastEnd = end;
      const r: Result = { intended: start, start, end, status: out.status, bytesIn: out.bytesIn, bytesOut: o.bytesOut(i), error: out.error, message: out.message, warmup };
      o.onResult(r);
      o.onResultOf?.(i, r);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { durationMs: Math.max(0, lastEnd - o.warmupMs), windowStart: o.warmupMs, startedAt: new Date(startedAtMs) };
}

