// Prometheus recording and alerting rules for latency SLOs: multi-window, multi-burn-rate alerts as in the Google SRE
// workbook ("Alerting on SLOs"), computed from tfsvc_request_duration_seconds (src/core/serving/metrics.ts).
//
// For each SLO: the share of slow requests (slower than the threshold) is recorded over 5m, 30m, 1h, 2h, 6h, 1d and 3d
// per job and model; an alert fires when both a long and a short window burn the error budget (1 - objective) faster
// than the workbook's factors for a 30-day budget: 14.4x over 1h and 5m and 6x over 6h and 30m page; 3x over 1d and 2h
// and 1x over 3d and 6h open a ticket. The short window makes an alert stop soon after the burn stops.
// The output is plain data (the `groups:` document of a Prometheus rule file); the caller renders it as YAML or wraps
// it in a PrometheusRule object. `promtool check rules` and `promtool test rules` run over it in test/deploy.
import type { LatencySlo } from './slo-spec.js';

/** The request APIs an SLO covers: inference, not metadata or status reads. */
export const INFERENCE_APIS = 'Predict|Classify|Regress|MultiInference';
/** Labels every SLO series keeps: the scrape job (the Kubernetes Service) and the model. */
export const SLO_GROUP_BY = 'job, model_name';
const WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;
type Window = (typeof WINDOWS)[number];

interface BurnAlert {
  readonly name: string;
  readonly factor: number;
  readonly long: Window;
  readonly short: Window;
  readonly for: string;
  readonly severity: 'page' | 'ticket';
}
/** The workbook's table for a 30-day SLO: 2% of the budget in 1h, 5% in 6h, 10% in 1d and 3d. */
export const BURN_ALERTS: readonly BurnAlert[] = [
  { name: 'TfsvcLatencyBudgetBurnFast', factor: 14.4, long: '1h', short: '5m', for: '2m', severity: 'page' },
  { name: 'TfsvcLatencyBudgetBurnHigh', factor: 6, long: '6h', short: '30m', for: '15m', severity: 'page' },
  { name: 'TfsvcLatencyBudgetBurnMedium', factor: 3, long: '1d', short: '2h', for: '1h', severity: 'ticket' },
  { name: 'TfsvcLatencyBudgetBurnSlow', factor: 1, long: '3d', short: '6h', for: '3h', severity: 'ticket' },
];

export interface RecordingRule { record: string; expr: string; labels?: Record<string, string> }
export interface AlertingRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
export interface RuleGroup { name: string; interval?: string; rules: (RecordingRule | AlertingRule)[] }
export interface RuleFile { groups: RuleGroup[] }

/** Record name of the slow-request share over a window. */
export function slowRatioRecord(window: string): string {
  return `tfsvc:request_latency_slo_slow:ratio_rate${window}`;
}
/** Record name of a latency quantile over 5m, e.g. tfsvc:request_duration_seconds:p99_rate5m. */
export function quantileRecord(quantile: number): string {
  return `tfsvc:request_duration_seconds:p${String(+(quantile * 100).toFixed(4)).replace('.', '_')}_rate5m`;
}
/** The `le` label value prom-client writes for a bucket bound. */
export function leLabel(bound: number): string {
  return String(bound);
}
function round(x: number): number {
  return Number(x.toPrecision(6));
}

/** Rule groups for the given SLOs (one recording and one alerting group; each SLO's series carry its `slo` label). */
export function sloRules(slos: readonly LatencySlo[]): RuleFile {
  const recording: RecordingRule[] = [
    {
      record: 'tfsvc:requests:rate1m',
      expr: `sum by (${SLO_GROUP_BY}) (rate(:tensorflow:serving:request_count[1m]))`,
    },
  ];
  const alerting: AlertingRule[] = [];
  const seenQuantiles = new Set<number>();
  for (const slo of slos) {
    const sel = `API=~"${INFERENCE_APIS}"`;
    for (const w of WINDOWS) {
      recording.push({
        record: slowRatioRecord(w),
        expr:
          `1 - (sum by (${SLO_GROUP_BY}) (rate(tfsvc_request_duration_seconds_bucket{${sel},le="${leLabel(slo.thresholdSeconds)}"}[${w}]))` +
          ` / sum by (${SLO_GROUP_BY}) (rate(tfsvc_request_duration_seconds_count{${sel}}[${w}])))`,
        labels: { slo: slo.text },
      });
    }
    if (!seenQuantiles.has(slo.quantile)) {
      seenQuantiles.add(slo.quantile);
      recording.push({
        record: quantileRecord(slo.quantile),
        expr: `histogram_quantile(${slo.quantile}, sum by (${SLO_GROUP_BY}, le) (rate(tfsvc_request_duration_seconds_bucket{${sel}}[5m])))`,
      });
    }
    const budget = 1 - slo.objective;
    for (const a of BURN_ALERTS) {
      const limit = round(a.factor * budget);
      const pick = (w: Window) => `${slowRatioRecord(w)}{slo="${slo.text}"} > ${limit}`;
      alerting.push({
        alert: a.name,
        expr: `(${pick(a.long)}) and (${pick(a.short)})`,
        for: a.for,
        labels: { severity: a.severity, slo: slo.text },
        annotations: {
          summary: `{{ $labels.model_name }}: latency SLO ${slo.text} is burning its error budget ${a.factor}x too fast`,
          description:
            `{{ $value | humanizePercentage }} of {{ $labels.model_name }}'s requests (job {{ $labels.job }}) took longer than ` +
            `${slo.thresholdSeconds * 1000} ms over the last ${a.short}, and more than ${round(limit * 100)}% over the last ${a.long}; ` +
            `at this rate the ${round(budget * 100)}% budget of a 30-day window is spent in ${round(30 / a.factor)} days.`,
        },
      });
    }
  }
  return {
    groups: [
      { name: 'tfsvc-slo-recording', rules: recording },
      ...(alerting.length > 0 ? [{ name: 'tfsvc-slo-alerts', rules: alerting }] : []),
    ],
  };
}
