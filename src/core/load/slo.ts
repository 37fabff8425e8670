// SLO gates as pure functions: parse expressions like `p99<100ms`, `p99.9<250ms`, `error_rate<0.1%`,
// `throughput>4900`, or k6's threshold syntax (`p(99)<50`, `avg<20`, `med<10`, `http_req_failed<0.01`,
// `http_req_duration:p(95)<=200`, `http_reqs:rate>100`; k6 durations are milliseconds), and evaluate them (and a
// baseline regression limit) against a run's summary. Latency percentiles are the coordinated-omission-corrected
// ones: what a user at the intended time experiences.
import { UsageError } from '../errors.js';
import type { LatencySummary, Summary } from './metrics.js';
import { formatMs, formatPercent, formatRate } from './units.js';

export type SloMetric =
  | { kind: 'latency'; percentile: number } // 0..100; 100 = max, 0 = min
  | { kind: 'mean' }
  | { kind: 'error_rate' }
  | { kind: 'throughput' }
  | { kind: 'count' };

export type Op = '<' | '<=' | '>' | '>=' | '==' | '!=';

export interface Slo {
  text: string;
  metric: SloMetric;
  op: Op;
  /** ms for latency, a fraction for error_rate, per second for throughput, requests for count. */
  limit: number;
}

export interface Check {
  name: string;
  pass: boolean;
  actual: number;
  limit: number;
  op: Op;
  /** What was measured, in the unit of `actual`/`limit`: ms, ratio, per_second or requests. */
  unit?: CheckUnit;
  /** One line: what was measured, the limit, and by how much it missed (when it did). */
  message: string;
}

export type CheckUnit = 'ms' | 'ratio' | 'per_second' | 'requests';

const OPS = '<=|>=|==|!=|===|<|>';
const SLO_RE = new RegExp(
  `^\\s*(?:(http_req_duration|http_req_failed|http_reqs|iteration_duration)(?:\\{[^}]*\\})?\\s*:\\s*)?` +
    `([a-z_]+|p\\(\\s*\\d+(?:\\.\\d+)?\\s*\\)|p\\d+(?:\\.\\d+)?)\\s*(${OPS})\\s*(\\d+(?:\\.\\d+)?(?:e[-+]?\\d+)?)\\s*([a-zµ%/]*)\\s*$`,
  'i',
);

const HELP = 'expected e.g. p99<100ms, p99.9<250ms, max<1s, mean<20ms, error_rate<0.1%, throughput>4900, ' +
  "or k6's p(99)<50, avg<20, med<10, http_req_failed<0.01, http_reqs:rate>100";

/** Parses one `--slo` expression (ours or k6's); UsageError saying what is accepted when it cannot. */
export function parseSlo(text: string): Slo {
  const m = SLO_RE.exec(text);
  if (!m) throw new UsageError(`--slo "${text}": ${HELP}`);
  const [, k6Metric, name, opRaw, num, unitRaw] = m as unknown as [string, string | undefined, string, string, string, string];
  const op = (opRaw === '===' ? '==' : opRaw) as Op;
  const value = Number(num);
  const unit = unitRaw.toLowerCase();
  let key = name.toLowerCase().replace(/\s+/g, '');
  const k6 = k6Metric?.toLowerCase();
  // k6's aggregation names: p(N), avg, med; `rate` means the failure rate on http_req_failed and requests/s on
  // http_reqs; a bare http_req_failed<X is the rate too.
  const pk6 = /^p\((.+)\)$/.exec(key);
  if (pk6) key = `p${pk6[1]}`;
  if (key === 'avg') key = 'mean';
  if (key === 'med') key = 'p50';
  if (key === 'http_req_failed') key = 'error_rate';
  if (key === 'rate') key = k6 === 'http_reqs' ? 'throughput' : k6 === 'http_req_failed' ? 'error_rate' : 'rate';
  if (key === 'count' && k6 !== 'http_reqs') key = 'count?';
  if (k6 === 'http_req_failed' && key !== 'error_rate') throw new UsageError(`--slo "${text}": http_req_failed takes rate, e.g. http_req_failed:rate<0.01`);
  if (k6 === 'http_reqs' && key !== 'throughput' && key !== 'count') throw new UsageError(`--slo "${text}": http_reqs takes rate or count, e.g. http_reqs:rate>100`);
  let metric: SloMetric;
  let limit: number;
  if (/^p\d/.test(key) || key === 'max' || key === 'min' || key === 'mean') {
    const percentile = key === 'max' ? 100 : key === 'min' ? 0 : key === 'mean' ? NaN : Number(key.slice(1));
    if (/^p/.test(key) && !(percentile > 0 && percentile <= 100)) throw new UsageError(`--slo "${text}": percentile must be in (0, 100]`);
    const scale: Record<string, number> = { '': 1, ms: 1, s: 1000, us: 0.001, µs: 0.001 };
    if (!(unit in scale)) throw new UsageError(`--slo "${text}": latency unit must be us, ms or s (a bare number is ms, as in k6)`);
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
  } else if (key === 'count') {
    if (unit !== '') throw new UsageError(`--slo "${text}": count is a number of requests`);
    limit = value;
    metric = { kind: 'count' };
  } else {
    throw new UsageError(`--slo "${text}": unknown metric "${name}"; ${HELP}`);
  }
  return { text: text.trim(), metric, op, limit };
}

/** The value of an SLO metric in a summary. Percentiles not in the summary need `percentileOf`. */
export function metricValue(metric: SloMetric, s: Summary, percentileOf: (p: number) => number): number {
  switch (metric.kind) {
    case 'latency':
      return metric.percentile === 100 ? s.corrected.max : metric.percentile === 0 ? s.corrected.min : percentileOf(metric.percentile);
    case 'mean':
      return s.corrected.mean;
    case 'error_rate':
      return s.errorRate;
    case 'throughput':
      return s.throughput;
    case 'count':
      return s.requests;
  }
}

/** The short name of what a check measured ("p99", "mean", "error_rate"), for verdict lines. */
export function metricName(metric: SloMetric): string {
  if (metric.kind === 'latency') return metric.percentile === 100 ? 'max' : metric.percentile === 0 ? 'min' : `p${metric.percentile}`;
  return metric.kind === 'count' ? 'requests' : metric.kind;
}

function unitOf(metric: SloMetric): CheckUnit {
  if (metric.kind === 'error_rate') return 'ratio';
  if (metric.kind === 'throughput') return 'per_second';
  if (metric.kind === 'count') return 'requests';
  return 'ms';
}

function format(metric: SloMetric, v: number): string {
  if (metric.kind === 'error_rate') return formatPercent(v);
  if (metric.kind === 'throughput') return formatRate(v);
  if (metric.kind === 'count') return String(v);
  return formatMs(v);
}

function holds(actual: number, op: Op, limit: number): boolean {
  if (Number.isNaN(actual)) return false;
  switch (op) {
    case '<': return actual < limit;
    case '<=': return actual <= limit;
    case '>': return actual > limit;
    case '>=': return actual >= limit;
    case '==': return actual === limit;
    case '!=': return actual !== limit;
  }
}

/**
 * "p99<50ms: ok (p99 12.3ms < 50ms)" or "p99<50ms: FAILED: p99 57.2ms > 50ms (+14.4%)": the measured value, how it
 * compares with the limit, and the relative miss.
 */
function describe(name: string, metric: SloMetric, actual: number, op: Op, limit: number, pass: boolean): string {
  const what = metricName(metric);
  if (Number.isNaN(actual)) return `${name}: FAILED: ${what} not measured (no successful requests)`;
  const rel = actual > limit ? '>' : actual < limit ? '<' : '=';
  const compare = `${what} ${format(metric, actual)} ${rel} ${format(metric, limit)}`;
  if (pass) return `${name}: ok (${compare})`;
  const delta = limit !== 0 ? ` (${actual >= limit ? '+' : '-'}${formatPercent(Math.abs(actual - limit) / Math.abs(limit))})` : '';
  return `${name}: FAILED: ${compare}${delta}`;
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
    return { name: slo.text, pass, actual, limit: slo.limit, op: slo.op, unit: unitOf(slo.metric), message: describe(slo.text, slo.metric, actual, slo.op, slo.limit, pass) };
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
      checks.push({ name, pass, actual, limit, op: '<=', unit: 'ms', message: describe(name, metric, actual, '<=', limit, pass) });
    }
    const metric: SloMetric = { kind: 'throughput' };
    const base = baseline.summary.throughput;
    const limit = base * (1 - r);
    const actual = s.throughput;
    const pass = holds(actual, '>=', limit);
    const name = `throughput vs baseline ${formatRate(base)} (-${formatPercent(r)} max)`;
    checks.push({ name, pass, actual, limit, op: '>=', unit: 'per_second', message: describe(name, metric, actual, '>=', limit, pass) });
  }
  return checks;
}

export type { LatencySummary };
