// A bench result as metric series, for dashboards: OpenMetrics text (what Prometheus scrapes and `promtool check
// metrics` reads; for a textfile collector or a Pushgateway) and, in remote-write.ts, Prometheus remote-write. Series:
// corrected latency quantiles as a summary, request and error counters, throughput, and one pass/threshold/measured
// triple per SLO check; base units (seconds, ratios), every series labelled with the target.
import { SUMMARY_PERCENTILES, type Metrics } from '../metrics.js';
import type { Check } from '../slo.js';

export interface Sample {
  /** Full series name (with a _total/_sum/_count suffix where the type has one). */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'summary' | 'counter' | 'gauge';
  help: string;
  unit?: string;
  samples: Sample[];
}

/** Check values in base units: latency limits are ms in checks, seconds here. */
const base = (c: Check, v: number) => (c.unit === 'ms' ? v / 1000 : v);

/** Every series of a result, grouped in metric families. */
export function benchSeries(m: Metrics, checks: Check[] = []): Family[] {
  const s = m.summary();
  const target = { target: m.info.target };
  const timed = m.corrected.totalCount;
  const families: Family[] = [
    {
      name: 'tfsvc_bench_latency_seconds',
      type: 'summary',
      unit: 'seconds',
      help: 'Latency from the intended start (coordinated-omission corrected).',
      samples: [
        ...SUMMARY_PERCENTILES.map(([key, p]) => ({ name: 'tfsvc_bench_latency_seconds', labels: { ...target, quantile: String(Number((p / 100).toPrecision(6))) }, value: s.corrected[key] / 1000 })),
        { name: 'tfsvc_bench_latency_seconds_sum', labels: target, value: timed ? (s.corrected.mean * timed) / 1000 : 0 },
        { name: 'tfsvc_bench_latency_seconds_count', labels: target, value: timed },
      ],
    },
    {
      name: 'tfsvc_bench_requests',
      type: 'counter',
      help: 'Measured requests by outcome.',
      samples: [
        { name: 'tfsvc_bench_requests_total', labels: { ...target, result: 'ok' }, value: s.ok },
        { name: 'tfsvc_bench_requests_total', labels: { ...target, result: 'error' }, value: s.errors },
      ],
    },
    { name: 'tfsvc_bench_throughput', type: 'gauge', help: 'Successful responses per second of the measured window.', samples: [{ name: 'tfsvc_bench_throughput', labels: target, value: s.throughput }] },
    { name: 'tfsvc_bench_error_ratio', type: 'gauge', unit: 'ratio', help: 'Failed requests over all measured requests.', samples: [{ name: 'tfsvc_bench_error_ratio', labels: target, value: s.errorRate }] },
  ];
  if (checks.length) {
    const per = (name: string, help: string, value: (c: Check) => number): Family => ({
      name,
      type: 'gauge',
      help,
      samples: checks.map((c) => ({ name, labels: { ...target, slo: c.name }, value: value(c) })),
    });
    families.push(
      per('tfsvc_bench_slo_pass', '1 when the SLO check passed, 0 when it failed.', (c) => (c.pass ? 1 : 0)),
      per('tfsvc_bench_slo_threshold', 'The SLO limit (seconds, ratio, per second or requests).', (c) => base(c, c.limit)),
      per('tfsvc_bench_slo_measured', 'The measured value the SLO limit was compared with.', (c) => base(c, c.actual)),
    );
  }
  return families;
}

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

export function renderOpenMetrics(m: Metrics, checks: Check[] = []): string {
  const out: string[] = [];
  for (const f of benchSeries(m, checks)) {
    out.push(`# TYPE ${f.name} ${f.type}`);
    if (f.unit) out.push(`# UNIT ${f.name} ${f.unit}`);
    out.push(`# HELP ${f.name} ${f.help}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${esc(v)}"`).join(',');
      out.push(`${s.name}{${labels}} ${num(s.value)}`);
    }
  }
  out.push('# EOF');
  return out.join('\n') + '\n';
}
