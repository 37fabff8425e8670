// A Grafana dashboard (JSON model, schemaVersion 39) for tfsvc's Prometheus metrics: traffic, latency percentiles,
// error shares, queueing, batching, workers, GPU (when asked for) and the SLO burn rates of the SLO kit's recording
// rules. Every query is listed by dashboardQueries() so a test can run each one against a real Prometheus.
//
// Queries over counters that exist only after a first event (errors, rejections) add `or <traffic> * 0`, so a panel
// shows 0 rather than "No data" on a healthy server.
import type { LatencySlo } from './slo-spec.js';
import { INFERENCE_APIS, slowRatioRecord } from './slo-rules.js';

export interface DashboardOptions {
  readonly title: string;
  readonly uid: string;
  readonly slos: readonly LatencySlo[];
  readonly gpu: boolean;
}

interface Target { refId: string; expr: string; legendFormat: string }
interface Panel {
  id: number;
  type: 'timeseries';
  title: string;
  description: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: { type: 'prometheus'; uid: string };
  fieldConfig: { defaults: { unit: string; min?: number }; overrides: [] };
  targets: Target[];
}

const DS = { type: 'prometheus' as const, uid: '${datasource}' };
const RI = '$__rate_interval';
const M = 'model_name=~"$model"';
const REQUESTS = `sum by (model_name) (rate(:tensorflow:serving:request_count{${M}}[${RI}]))`;
/** Canonical codes TF Serving's REST handler answers with a 5xx status (src/core/errors.ts's table). */
const SERVER_ERROR_CODES = 'UNKNOWN|INTERNAL|UNAVAILABLE|DATA_LOSS|UNIMPLEMENTED|DEADLINE_EXCEEDED';

function zeroIfAbsent(expr: string): string {
  return `(${expr}) or (${REQUESTS} * 0)`;
}
function statusRate(statusMatcher: string): string {
  return zeroIfAbsent(`sum by (model_name) (rate(:tensorflow:serving:request_count{${M},${statusMatcher}}[${RI}]))`);
}
function quantile(q: number, metric: string, by: string, extra = ''): string {
  return `histogram_quantile(${q}, sum by (le, ${by}) (rate(${metric}_bucket{${M}${extra}}[${RI}])))`;
}

export function grafanaDashboard(o: DashboardOptions): object {
  const panels: Panel[] = [];
  const add = (title: string, description: string, unit: string, targets: [string, string][]): void => {
    const i = panels.length;
    panels.push({
      id: i + 1,
      type: 'timeseries',
      title,
      description,
      gridPos: { x: (i % 2) * 12, y: Math.floor(i / 2) * 8, w: 12, h: 8 },
      datasource: DS,
      fieldConfig: { defaults: { unit, min: 0 }, overrides: [] },
      targets: targets.map(([expr, legendFormat], k) => ({ refId: String.fromCharCode(65 + k), expr, legendFormat, datasource: DS })),
    });
  };
  const api = `,API=~"${INFERENCE_APIS}"`;
  add('Requests per second', 'Answered requests of every API and status.', 'reqps', [[REQUESTS, '{{model_name}}']]);
  add('Latency P50 / P95 / P99', 'Request wall time from arrival to answer (tfsvc_request_duration_seconds).', 's', [
    [quantile(0.5, 'tfsvc_request_duration_seconds', 'model_name', api), 'p50 {{model_name}}'],
    [quantile(0.95, 'tfsvc_request_duration_seconds', 'model_name', api), 'p95 {{model_name}}'],
    [quantile(0.99, 'tfsvc_request_duration_seconds', 'model_name', api), 'p99 {{model_name}}'],
  ]);
  add('Error share', 'Share of requests answered with a status other than OK.', 'percentunit', [
    [`(${statusRate('status!="OK"')}) / ${REQUESTS}`, '{{model_name}}'],
  ]);
  add('Server errors (5xx) and deadlines', 'Requests per second answered with a server-side code; DEADLINE_EXCEEDED is a 504.', 'reqps', [
    [statusRate(`status=~"${SERVER_ERROR_CODES}"`), '5xx {{model_name}}'],
    [statusRate('status="DEADLINE_EXCEEDED"'), 'DEADLINE_EXCEEDED {{model_name}}'],
  ]);
  add('Queue delay P99', 'Time a request waited in its batch queue before its batch started.', 's', [
    [quantile(0.99, 'tfsvc_queue_delay_seconds', 'model_name, version'), '{{model_name}} v{{version}}'],
  ]);
  add('Batch size', 'Mean rows per executed batch; rises with load when batching works.', 'none', [
    [`sum by (model_name) (rate(tfsvc_batch_size_sum{${M}}[${RI}])) / sum by (model_name) (rate(tfsvc_batch_size_count{${M}}[${RI}]))`, '{{model_name}}'],
  ]);
  add('Inference time P99', 'Time a worker spent on one batch, transfers included.', 's', [
    [quantile(0.99, 'tfsvc_inference_seconds', 'model_name, version'), '{{model_name}} v{{version}}'],
  ]);
  add('Rejected and in flight', 'Requests refused because a batch queue was full (503), and requests being processed.', 'short', [
    [zeroIfAbsent(`sum by (model_name) (rate(tfsvc_batch_queue_rejections_total{${M}}[${RI}]))`), 'rejected/s {{model_name}}'],
    [`sum by (model_name) (tfsvc_in_flight_requests{${M}})`, 'in flight {{model_name}}'],
  ]);
  for (const slo of o.slos) {
    const budget = Number((1 - slo.objective).toPrecision(12));
    add(`SLO ${slo.text}: error budget burn rate`, `Share of requests slower than ${slo.thresholdSeconds * 1000} ms divided by the budget (${+(budget * 100).toFixed(4)}%); 1 spends the budget in exactly 30 days, 14.4 pages.`, 'none', [
      [`${slowRatioRecord('5m')}{slo="${slo.text}",${M}} / ${budget}`, '5m {{model_name}}'],
      [`${slowRatioRecord('1h')}{slo="${slo.text}",${M}} / ${budget}`, '1h {{model_name}}'],
    ]);
  }
  if (o.gpu) {
    // The names serving/gpu-metrics.ts exports: nvidia-smi's per-GPU gauges (labels gpu, name; present when
    // nvidia-smi is on the pod's PATH) and tfjs's own memory per WebGPU adapter. test/deploy/grafana-dashboard.test.ts
    // checks every name here against the server's registry.
    add('GPU utilisation and memory', 'Per GPU, from nvidia-smi, read by tfsvc serve at each scrape on GPU nodes.', 'percentunit', [
      ['max by (instance, gpu) (:tensorflow:core:gpu_utilization)', 'utilisation {{instance}} GPU {{gpu}}'],
      ['max by (instance, gpu) (:tensorflow:core:gpu_memory_used_bytes / :tensorflow:core:gpu_memory_total_bytes)', 'memory {{instance}} GPU {{gpu}}'],
    ]);
    add('GPU memory held by models', 'Device memory tfjs holds on each WebGPU adapter (the models\' weights and live tensors).', 'bytes', [
      ['sum by (instance, adapter) (tfsvc_gpu_memory_in_use_bytes)', '{{instance}} {{adapter}}'],
    ]);
  }
  return {
    title: o.title,
    uid: o.uid,
    tags: ['tfsvc', 'tensorflow-serving'],
    timezone: 'browser',
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: '10s',
    time: { from: 'now-1h', to: 'now' },
    templating: {
      list: [
        { name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Prometheus', current: {} },
        {
          name: 'model',
          type: 'query',
          label: 'Model',
          datasource: DS,
          query: { query: 'label_values(:tensorflow:serving:request_count, model_name)', refId: 'model' },
          definition: 'label_values(:tensorflow:serving:request_count, model_name)',
          refresh: 2,
          multi: true,
          includeAll: true,
          allValue: '.+',
          current: {},
        },
      ],
    },
    annotations: { list: [] },
    panels,
  };
}

/** Every PromQL query of a dashboard, with its panel title. */
export function dashboardQueries(dashboard: object): { panel: string; expr: string }[] {
  const panels = (dashboard as { panels: Panel[] }).panels;
  return panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: t.expr })));
}
