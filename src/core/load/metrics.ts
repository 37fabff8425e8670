// Folds results into what every report reads: HDR histograms of corrected latency (from the intended start) and
// uncorrected latency (from the actual send), counters by status and error kind, and a per-second timeline.
// Metrics merge exactly (histogram addition, counter sums) and serialise to the `--json` format and back.
import { ERROR_KINDS, hasLatency, type ErrorKind, type Result } from './result.js';
import { decodeHistogram, encodeHistogram, newHistogram, percentileMs, recordMs, type Histogram } from './histogram.js';
import type { ShardInfo } from './shard.js';

export const JSON_FORMAT = 'tfsvc-bench/1';

/** What was run, for reports and for checking that merged runs are comparable. */
export interface RunInfo {
  target: string;
  schedule: string;
  /** Target rate (open loop) in requests/s; absent for closed loop. */
  rate?: number;
  concurrency?: number;
  connections?: number;
  batch?: number;
  /** Wall-clock start of the measured window, ISO 8601. */
  startedAt: string;
  /** How many runs were merged into this one (1 for a plain run). */
  runs: number;
  /** A targets file's endpoints: weight and measured requests of each. */
  targets?: Array<{ target: string; weight: number; requests: number; ok: number }>;
  /** Merged results: each run's own schedule, in merge order (`schedule` then describes them all). */
  schedules?: string[];
  /** `--shard i/N`: which share of which run this result is (shard.ts). Absent on merged results. */
  shard?: ShardInfo;
  /** A merge of all N shards of one run: the run's plan and id (merge.ts checked them). */
  shards?: { count: number; plan: string; runId?: string };
  /**
   * Wall-clock measured windows, [start, end] in epoch ms, disjoint and sorted: one per run, overlapping ones joined.
   * Absent on a single run (startedAt + durationMs is its window). Merged throughput is ok ÷ their total length.
   */
  windows?: Array<[number, number]>;
}

/** Sorted, overlapping or touching intervals joined. */
export function unionOfWindows(windows: Array<[number, number]>): Array<[number, number]> {
  const sorted = [...windows].sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const [start, end] of sorted) {
    const last = out[out.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else out.push([start, end]);
  }
  return out;
}

/** How well the generator kept its schedule (open loop). */
export interface ScheduleHealth {
  /** Pacer lag: how late the generator itself issued requests (ms), before any wait for a connection. */
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  /** Requests that waited for a free connection (all --connections busy). */
  connectionWaits: number;
  /** Requests sent in the measured window ÷ its length, per second. */
  sendRate: number;
  /** True when the generator could not keep the schedule (see behind.ts for the rule). */
  behind: boolean;
}

export interface Bucket {
  count: number;
  errors: number;
  hist: Histogram;
}

export interface Summary {
  requests: number;
  ok: number;
  errors: number;
  errorRate: number;
  /** Successful responses per second of the measured window. */
  throughput: number;
  durationMs: number;
  bytesIn: number;
  bytesOut: number;
  corrected: LatencySummary;
  uncorrected: LatencySummary;
}

export interface LatencySummary {
  p50: number; p90: number; p95: number; p99: number; p999: number; max: number; mean: number; min: number;
}

export const SUMMARY_PERCENTILES: ReadonlyArray<[keyof LatencySummary, number, string]> = [
  ['p50', 50, 'p50'], ['p90', 90, 'p90'], ['p95', 95, 'p95'], ['p99', 99, 'p99'], ['p999', 99.9, 'p99.9'],
];

export class Metrics {
  corrected = newHistogram();
  uncorrected = newHistogram();
  requests = 0;
  ok = 0;
  byStatus: Record<string, number> = {};
  byKind: Record<string, number> = {};
  /** First message seen for each error kind/status ("http 400"), to say what went wrong. */
  samples: Record<string, string> = {};
  bytesIn = 0;
  bytesOut = 0;
  /** Per second of the measured window (by intended start), index = second. */
  timeline: Bucket[] = [];
  /**
   * Successful responses per second of the measured window, by when they ARRIVED (index = second): the throughput the
   * server delivered over time. The timeline, by intended start, is the load offered. Under a ramp, the two part
   * where the server stops keeping up.
   */
  throughput: number[] = [];
  /** Length of the measured window in ms; set by the attack when it finishes (or summed windows on merge). */
  durationMs = 0;
  /** Offset (ms, attack clock) where the measured window starts: the end of --warmup. */
  windowStart = 0;
  health?: ScheduleHealth;

  constructor(public info: RunInfo) {}

  /** Adds one result. Warmup results are ignored. Transport failures count as errors, not latencies (hasLatency). */
  record(r: Result): void {
    if (r.warmup) return;
    this.requests++;
    const timed = hasLatency(r);
    if (timed) {
      recordMs(this.corrected, r.end - r.intended);
      recordMs(this.uncorrected, r.end - r.start);
    }
    this.byStatus[String(r.status)] = (this.byStatus[String(r.status)] ?? 0) + 1;
    this.bytesIn += r.bytesIn;
    this.bytesOut += r.bytesOut;
    if (r.error) {
      this.byKind[r.error] = (this.byKind[r.error] ?? 0) + 1;
      const key = r.error === 'http' ? `http ${r.status}` : r.error;
      if (r.message && !(key in this.samples)) this.samples[key] = r.message;
    } else {
      this.ok++;
      const done = Math.max(0, Math.floor((r.end - this.windowStart) / 1000));
      while (this.throughput.length <= done) this.throughput.push(0);
      this.throughput[done]!++;
    }
    const second = Math.max(0, Math.floor((r.intended - this.windowStart) / 1000));
    while (this.timeline.length <= second) this.timeline.push({ count: 0, errors: 0, hist: newHistogram('second') });
    const bucket = this.timeline[second]!;
    bucket.count++;
    if (r.error) bucket.errors++;
    if (timed) recordMs(bucket.hist, r.end - r.intended);
  }

  /**
   * Ends the window at `durationMs`: answers that arrived after its last second (requests sent near the end) count
   * in that last second, so the series has one entry per second of the window and no stub at the end. A window
   * stretched by a late send (attack.ts; a starved generator can be hundreds of ms late) does not start a second of
   * its own: the series' length follows the schedule's window `scheduledMs` when known.
   */
  closeWindow(durationMs: number, scheduledMs = durationMs): void {
    this.durationMs = durationMs;
    const seconds = Math.max(1, Math.ceil(Math.min(durationMs, scheduledMs) / 1000 - 0.05));
    if (this.throughput.length > seconds) {
      const tail = this.throughput.splice(seconds).reduce((a, b) => a + b, 0);
      this.throughput[seconds - 1] = (this.throughput[seconds - 1] ?? 0) + tail;
    }
  }

  get errors(): number {
    return this.requests - this.ok;
  }

  summary(): Summary {
    const seconds = this.durationMs / 1000;
    return {
      requests: this.requests,
      ok: this.ok,
      errors: this.errors,
      errorRate: this.requests ? this.errors / this.requests : 0,
      throughput: seconds > 0 ? this.ok / seconds : 0,
      durationMs: this.durationMs,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      corrected: latencySummary(this.corrected),
      uncorrected: latencySummary(this.uncorrected),
    };
  }

  /** The measured windows on the wall clock, [start, end] epoch ms (see RunInfo.windows). */
  windowsMs(): Array<[number, number]> {
    if (this.info.windows) return this.info.windows.map(([a, b]) => [a, b]);
    const start = Date.parse(this.info.startedAt);
    return [[start, start + this.durationMs]];
  }

  /**
   * Adds another run. Runs from several machines at once are the common case: the merged window is the union of the
   * runs' wall-clock windows (overlapping runs: from the first start to the last end), so their throughputs add, and
   * a generator that started late widens the window rather than inflating the rate. Histograms and counters add
   * exactly; percentiles are read from the summed histograms, never averaged.
   */
  merge(other: Metrics): void {
    const mine = this.windowsMs();
    const theirs = other.windowsMs();
    const windows = unionOfWindows([...mine, ...theirs]);
    // Per-second series line up by wall clock when the runs overlap in time (shards started a few seconds apart);
    // runs at different times keep the old by-index addition, which does not grow the series to span the gap.
    const myStart = mine[0]![0];
    const theirStart = theirs[0]![0];
    const overlap = mine.some(([a, b]) => theirs.some(([c, d]) => a < d && c < b));
    const shiftMine = overlap && theirStart < myStart ? Math.round((myStart - theirStart) / 1000) : 0;
    const shiftTheirs = overlap && myStart < theirStart ? Math.round((theirStart - myStart) / 1000) : 0;
    if (shiftMine > 0) {
      this.timeline.unshift(...Array.from({ length: shiftMine }, () => ({ count: 0, errors: 0, hist: newHistogram('second') })));
      this.throughput.unshift(...Array.from({ length: shiftMine }, () => 0));
    }
    this.corrected.add(other.corrected);
    this.uncorrected.add(other.uncorrected);
    this.requests += other.requests;
    this.ok += other.ok;
    for (const [k, v] of Object.entries(other.byStatus)) this.byStatus[k] = (this.byStatus[k] ?? 0) + v;
    for (const [k, v] of Object.entries(other.byKind)) this.byKind[k] = (this.byKind[k] ?? 0) + v;
    for (const [k, v] of Object.entries(other.samples)) if (!(k in this.samples)) this.samples[k] = v;
    this.bytesIn += other.bytesIn;
    this.bytesOut += other.bytesOut;
    other.timeline.forEach((b, k) => {
      const i = k + shiftTheirs;
      while (this.timeline.length <= i) this.timeline.push({ count: 0, errors: 0, hist: newHistogram('second') });
      const mine = this.timeline[i]!;
      mine.count += b.count;
      mine.errors += b.errors;
      mine.hist.add(b.hist);
    });
    other.throughput.forEach((n, k) => {
      const i = k + shiftTheirs;
      while (this.throughput.length <= i) this.throughput.push(0);
      this.throughput[i]! += n;
    });
    this.durationMs = windows.reduce((a, [start, end]) => a + (end - start), 0);
    this.info.windows = windows;
    this.info.startedAt = new Date(windows[0]![0]).toISOString();
    if (this.info.rate !== undefined || other.info.rate !== undefined) this.info.rate = (this.info.rate ?? 0) + (other.info.rate ?? 0);
    if (this.info.target !== other.info.target) this.info.target = `${this.info.target}, ${other.info.target}`;
    this.info.runs += other.info.runs;
    this.info.schedules = [...(this.info.schedules ?? [this.info.schedule]), ...(other.info.schedules ?? [other.info.schedule])];
    this.info.schedule = describeMerged(this.info.schedules, this.info.rate);
    // Schedule health does not merge meaningfully; keep the worse one so a lagging generator is not hidden.
    if (other.health && (!this.health || other.health.behind || other.health.lagP99Ms > this.health.lagP99Ms)) {
      this.health = { ...other.health, sendRate: (this.health?.sendRate ?? 0) + other.health.sendRate };
    } else if (this.health && other.health) {
      this.health = { ...this.health, sendRate: this.health.sendRate + other.health.sendRate };
    }
  }

  toJSON(): MetricsJson {
    return {
      format: JSON_FORMAT,
      info: this.info,
      summary: this.summary(),
      health: this.health,
      counts: { requests: this.requests, ok: this.ok, byStatus: this.byStatus, byKind: this.byKind, bytesIn: this.bytesIn, bytesOut: this.bytesOut },
      samples: this.samples,
      durationMs: this.durationMs,
      histograms: { corrected: encodeHistogram(this.corrected), uncorrected: encodeHistogram(this.uncorrected) },
      timeline: this.timeline.map((b) => ({ count: b.count, errors: b.errors, hist: encodeHistogram(b.hist) })),
      throughput: this.throughput,
    };
  }

  /** Reads a `--json` file's object back. Throws Error with a reason when it is not one. */
  static fromJSON(json: unknown): Metrics {
    const j = json as MetricsJson;
    if (!j || typeof j !== 'object' || j.format !== JSON_FORMAT) {
      throw new Error(`not a tfsvc bench result (expected "format": "${JSON_FORMAT}")`);
    }
    const m = new Metrics({ ...j.info });
    m.corrected = decodeHistogram(j.histograms.corrected);
    m.uncorrected = decodeHistogram(j.histograms.uncorrected);
    m.requests = j.counts.requests;
    m.ok = j.counts.ok;
    m.byStatus = { ...j.counts.byStatus };
    m.byKind = { ...j.counts.byKind };
    m.bytesIn = j.counts.bytesIn;
    m.bytesOut = j.counts.bytesOut;
    m.samples = { ...(j.samples ?? {}) };
    m.durationMs = j.durationMs;
    m.health = j.health;
    m.timeline = (j.timeline ?? []).map((b) => ({ count: b.count, errors: b.errors, hist: decodeHistogram(b.hist, 'second') }));
    m.throughput = Array.isArray(j.throughput) ? [...j.throughput] : [];
    return m;
  }
}

export interface MetricsJson {
  format: typeof JSON_FORMAT;
  info: RunInfo;
  summary: Summary;
  health?: ScheduleHealth;
  counts: { requests: number; ok: number; byStatus: Record<string, number>; byKind: Record<string, number>; bytesIn: number; bytesOut: number };
  samples?: Record<string, string>;
  durationMs: number;
  histograms: { corrected: string; uncorrected: string };
  timeline: Array<{ count: number; errors: number; hist: string }>;
  /** Successful responses per second by arrival (absent in results written before it existed). */
  throughput?: number[];
}

/**
 * What merged runs ran: "2 runs: constant 500/s + constant 200/s (700/s in total)", or "3 runs of constant 500/s each
 * (1500/s in total)"; never one run's schedule standing for all of them.
 */
export function describeMerged(schedules: string[], totalRate: number | undefined): string {
  const counts = new Map<string, number>();
  for (const s of schedules) counts.set(s, (counts.get(s) ?? 0) + 1);
  const total = totalRate !== undefined ? ` (${Number(totalRate.toFixed(3))}/s in total)` : '';
  if (counts.size === 1) return `${schedules.length} runs of ${schedules[0]} each${total}`;
  const parts = [...counts].map(([s, n]) => (n > 1 ? `${n} × ${s}` : s));
  return `${schedules.length} runs: ${parts.join(' + ')}${total}`;
}

export function latencySummary(h: Histogram): LatencySummary {
  // max and min from the buckets (not the exact extremes the recorder also tracks), so that a histogram decoded
  // from --json or merged reports exactly what the recorded one does.
  const out = { max: percentileMs(h, 100), mean: h.totalCount ? h.mean / 1000 : NaN, min: percentileMs(h, 0) } as LatencySummary;
  for (const [key, p] of SUMMARY_PERCENTILES) out[key] = percentileMs(h, p);
  return out;
}

/** Error kinds with counts, in a fixed order, for reports. */
export function errorBreakdown(m: Metrics): Array<{ label: string; count: number; sample?: string }> {
  const rows: Array<{ label: string; count: number; sample?: string }> = [];
  for (const [status, count] of Object.entries(m.byStatus)) {
    const s = Number(status);
    if (s >= 300) rows.push({ label: `HTTP ${status}`, count, sample: m.samples[`http ${status}`] });
  }
  for (const kind of ERROR_KINDS) {
    if (kind === 'http') continue;
    const count = m.byKind[kind as ErrorKind];
    if (count) rows.push({ label: kind, count, sample: m.samples[kind] });
  }
  return rows;
}
