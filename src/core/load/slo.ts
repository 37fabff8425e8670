// SLO gates as pure functions: parse expressions like `p99<100ms`, `p99.9<250ms`, `error_rate<0.1%`,
// `throughput>4900`, and evaluate them (and a baseline regression limit) against a run's summary.
// Latency percentiles are the coordinated-omission-corrected ones: what a user at the intended time experiences.
import { UsageError } from '../errors.js';
import type { LatencySummary, Summary } from './metrics.js';
import { formatMs, formatPercent, formatRate } from './units.js';

export type SloMetric =
  | { kind: 'latency'; percentile: number } // 0..100; 100 = max
  | { kind: 'mean' }
  | { kind: 'error_rate' }
  | { kind: 'throughput' };

export type Op = '<' | '<=' | '>' | '>=';

export interface Slo {
  text: string;
  metric: SloMetric;
  op: Op;
  /** ms for latency, a fraction for error_rate, per second for throughput. */
  limit: number;
}

export interface Check {
  name: string;
  pass: boolean;
  actual: number;
  limit: number;
  op: Op;
  /** One line: what was measured, the limit, and by how much it missed (when it did). */
  message: string;
}

const SLO_RE = /^\s*([a-z_]+|p\d+(?:\.\d+)?)\s*(<=|>=|<|>)\s*(\d+(?:\.\d+)?)\s*([a-zµ%/]*)\s*$/i;

/** Parses one `--slo` expression; UsageError saying what is accepted when it cannot. */
export function parseSlo(text: string): Slo {
  const m = SLO_RE.exec(text);
  const help = 'expected e.g. p99<100ms, p99.9<250ms, max<1s, mean<20ms, error_rate<0.1%, throughput>4900';
  if (!m) throw new UsageError(`--slo "${text}": ${help}`);
  const [, name, op, num, unitRaw] = m as unknown as [string, string, Op, string, string];
  const value = Number(num);
  const unit = unitRaw.toLowerCase();
  const key = name.toLowerCase();
  let metric: SloMetric;
  let limit: number;
  if (/^p\d/.test(key) || key === 'max' || key === 'mean') {
    const percentile = key === 'max' ? 100 : key === 'mean' ? NaN : Number(key.slice(1));
    if (key !== 'mean' && !(percentile > 0 && percentile <= 100)) throw new UsageError(`--slo "${text}": percentile must be in (0, 100]`);
    const scale: Record<string, number> = { '': 1, ms: 1, s: 1000, us: 0.001, µs: 0.001 };
    if (!(unit in scale)) throw new UsageError(`--slo "${text}": latency unit must be us, ms or s`);
    limit = value * scale[unit]!;
    metric = key === 'mean' ? { kind: 'mean' } : { kind: 'latency', percentile };
  } else if (key === 'error_rate' || key === 'errors') {
    if (unit !== '%' && unit !== '') throw new UsageError(`--slo "${text}": error_rate takes a percentage (0.1%) or a fraction (0.001)`);
    limit = unit === '%' ? value / 100 : value;
    metric = { kind: 'error_rate' };
  } else if (key === 'throughput' || key === 'rps' || key === 'qps') {
    if (!['', '/s', 'rps', 'qps'].includes(unit)) throw new UsageError(`--slo "${text}": throughput is in requests per second (4900 or 4900/s)`);
    limit = value;
    metric = { kind: 'throughput' };
  } else {
    throw new UsageError(`--slo "${text}": unknown metric "${name}"; ${help}`);
  }
  return { text: text.trim(), metric, op, limit };
}

/** The value of an SLO metric in a summary. Percentiles not in the summary need `percentileOf`. */
export function metricValue(metric: SloMetric, s: Summary, percentileOf: (p: number) => number): number {
  switch (metric.kind) {
    case 'latency':
      return metric.percentile === 100 ? s.corrected.max : percentileOf(metric.percentile);
    case 'mean':
      return s.corrected.mean;
    case 'error_rate':
      return s.errorRate;
    case 'throughput':
      return s.throughput;
  }
}

function format(metric: SloMetric, v: number): string {
  if (metric.kind === 'error_rate') return formatPercent(v);
  if (metric.kind === 'throughput') return formatRate(v);
  return formatMs(v);
}

function holds(actual: number, op: Op, limit: number): boolean {
  if (Number.isNaN(actual)) return false;
  switch (op) {
    case '<': return actual < limit;
    case '<=': return actual <= limit;
    case '>': return actual > limit;
    case '>=': return actual >= limit;
  }
}

function describe(name: string, metric: SloMetric, actual: number, op: Op, limit: number, pass: boolean): string {
  const head = `${name}: ${format(metric, actual)} (limit ${op} ${format(metric, limit)})`;
  if (pass) return `${head} ok`;
  if (Number.isNaN(actual)) return `${head} FAILED: no successful measurements`;
  const miss = Math.abs(actual - limit);
  const rel = limit !== 0 ? ` (${formatPercent(miss / Math.abs(limit))})` : '';
  const word = op.startsWith('<') ? 'over' : 'short';
  return `${head} FAILED: ${format(metric, miss)}${rel} ${word}`;
}

export interface Baseline {
  summary: Summary;
  percentileOf(p: number): number;
  /** Largest allowed relative regression, e.g. 0.10. */
  maxRegression: number;
}

/**
 * Evaluates SLOs (and, with a baseline, regression limits on p50, p99, any percentile named in an SLO, and
 * throughput) against a run. Pure: same inputs, same checks.
 */
export function evaluateSlos(slos: readonly Slo[], s: Summary, percentileOf: (p: number) => number, baseline?: Baseline): Check[] {
  const checks: Check[] = slos.map((slo) => {
    const actual = metricValue(slo.metric, s, percentileOf);
    const pass = holds(actual, slo.op, slo.limit);
    return { name: slo.text, pass, actual, limit: slo.limit, op: slo.op, message: describe(slo.text, slo.metric, actual, slo.op, slo.limit, pass) };
  });
  if (baseline) {
    const percentiles = new Set<number>([50, 99]);
    for (const slo of slos) if (slo.metric.kind === 'latency' && slo.metric.percentile < 100) percentiles.add(slo.metric.percentile);
    const r = baseline.maxRegression;
    for (const p of [...percentiles].sort((a, b) => a - b)) {
      const metric: SloMetric = { kind: 'latency', percentile: p };
      const base = baseline.percentileOf(p);
      const limit = base * (1 + r);
      const actual = percentileOf(p);
      const pass = Number.isNaN(base) || holds(actual, '<=', limit);
      const name = `p${p} vs baseline ${formatMs(base)} (+${formatPercent(r)} max)`;
      checks.push({ name, pass, actual, limit, op: '<=', message: describe(name, metric, actual, '<=', limit, pass) });
    }
    const metric: SloMetric = { kind: 'throughput' };
    const base = baseline.summary.throughput;
    const limit = base * (1 - r);
    const actual = s.throughput;
    const pass = holds(actual, '>=', limit);
    const name = `throughput vs baseline ${formatRate(base)} (-${formatPercent(r)} max)`;
    checks.push({ name, pass, actual, limit, op: '>=', message: describe(name, metric, actual, '>=', limit, pass) });
  }
  return checks;
}

export type { LatencySummary };
