// OpenMetrics text (the format Prometheus scrapes and `promtool check metrics` reads) of one bench result, for a
// dashboard or a Pushgateway/textfile collector: corrected latency quantiles as a summary, request and error counters,
// throughput, and one pass/threshold/measured triple per SLO check. Units are base units (seconds, ratios).
import { SUMMARY_PERCENTILES, type Metrics } from '../metrics.js';
import type { Check } from '../slo.js';

/** A label value escaped as OpenMetrics requires (backslash, double quote, newline). */
function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A sample value: OpenMetrics spells the non-finite ones NaN, +Inf, -Inf. */
function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Check values in base units: latency limits are ms in checks, seconds here. */
const base = (c: Check, v: number) => (c.unit === 'ms' ? v / 1000 : v);

export function renderOpenMetrics(m: Metrics, checks: Check[] = []): string {
  const s = m.summary();
  const target = `target="${esc(m.info.target)}"`;
  const out: string[] = [];
  const family = (name: string, type: string, help: string, unit?: string) => {
    out.push(`# TYPE ${name} ${type}`);
    if (unit) out.push(`# UNIT ${name} ${unit}`);
    out.push(`# HELP ${name} ${help}`);
  };
  family('tfsvc_bench_latency_seconds', 'summary', 'Latency from the intended start (coordinated-omission corrected).', 'seconds');
  for (const [key, p] of SUMMARY_PERCENTILES) out.push(`tfsvc_bench_latency_seconds{${target},quantile="${p / 100}"} ${num(s.corrected[key] / 1000)}`);
  const timed = m.corrected.totalCount;
  out.push(`tfsvc_bench_latency_seconds_sum{${target}} ${num(timed ? (s.corrected.mean * timed) / 1000 : 0)}`);
  out.push(`tfsvc_bench_latency_seconds_count{${target}} ${timed}`);
  family('tfsvc_bench_requests', 'counter', 'Measured requests by outcome.');
  out.push(`tfsvc_bench_requests_total{${target},result="ok"} ${s.ok}`);
  out.push(`tfsvc_bench_requests_total{${target},result="error"} ${s.errors}`);
  family('tfsvc_bench_throughput', 'gauge', 'Successful responses per second of the measured window.');
  out.push(`tfsvc_bench_throughput{${target}} ${num(s.throughput)}`);
  family('tfsvc_bench_error_ratio', 'gauge', 'Failed requests over all measured requests.', 'ratio');
  out.push(`tfsvc_bench_error_ratio{${target}} ${num(s.errorRate)}`);
  if (checks.length) {
    family('tfsvc_bench_slo_pass', 'gauge', '1 when the SLO check passed, 0 when it failed.');
    for (const c of checks) out.push(`tfsvc_bench_slo_pass{${target},slo="${esc(c.name)}"} ${c.pass ? 1 : 0}`);
    family('tfsvc_bench_slo_threshold', 'gauge', 'The SLO limit (seconds, ratio, per second or requests).');
    for (const c of checks) out.push(`tfsvc_bench_slo_threshold{${target},slo="${esc(c.name)}"} ${num(base(c, c.limit))}`);
    family('tfsvc_bench_slo_measured', 'gauge', 'The measured value the SLO limit was compared with.');
    for (const c of checks) out.push(`tfsvc_bench_slo_measured{${target},slo="${esc(c.name)}"} ${num(base(c, c.actual))}`);
  }
  out.push('# EOF');
  return out.join('\n') + '\n';
}
