// The Grafana dashboard queries only series that exist: every metric name in its PromQL (panels and the model
// variable) is one that `tfsvc serve`'s registry exports (as a GPU node exports it: nvidia-smi present) or a
// recording rule of the SLO kit. A guessed name would draw an empty panel in production and no test run against a
// CPU-only Prometheus would notice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServingMetrics } from '../../src/core/serving/metrics.js';
import { BackendMetrics } from '../../src/core/serving/gpu-metrics.js';
import { dashboardQueries, grafanaDashboard } from '../../src/core/deploy/grafana-dashboard.js';
import { sloRules } from '../../src/core/deploy/slo-rules.js';
import { parseLatencySlo } from '../../src/core/deploy/slo-spec.js';

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless', 'inf', 'nan']);

/** Metric names a PromQL expression reads: identifiers that are not functions, keywords, labels or strings. */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // string literals
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // range selectors
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ''); // label lists
  const names: string[] = [];
  for (const m of stripped.matchAll(/(?<![\w:$.])([A-Za-z_:][\w:]*)(\s*\()?/g)) {
    if (m[2]) continue; // a function call
    if (PROMQL_WORDS.has(m[1]!.toLowerCase())) continue;
    names.push(m[1]!);
  }
  return names;
}

/** Every series name the server's registry exports (histograms as _bucket, _sum and _count). */
async function exportedNames(): Promise<Set<string>> {
  const metrics = new ServingMetrics();
  // What server.ts builds, on a node where nvidia-smi is on the PATH (the path is only run at scrape time).
  const backend = new BackendMetrics(metrics.registry, 'webgpu', 8, '/usr/bin/nvidia-smi');
  try {
    const names = new Set<string>();
    for (const m of await metrics.registry.getMetricsAsJSON()) {
      if (String(m.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${m.name}${suffix}`);
      else names.add(m.name);
    }
    return names;
  } finally {
    backend.close();
  }
}

test('metricNames reads metric names from PromQL and nothing else', () => {
  assert.deepEqual(metricNames('sum by (model_name) (rate(:tensorflow:serving:request_count{model_name=~"$model",status!="OK"}[$__rate_interval]))'), [':tensorflow:serving:request_count']);
  assert.deepEqual(metricNames('histogram_quantile(0.99, sum by (le) (rate(x_bucket{a="b"}[5m]))) / y or (z * 0)'), ['x_bucket', 'y', 'z']);
  assert.deepEqual(metricNames('max by (instance, gpu) (a:b / c)'), ['a:b', 'c']);
});

test('every metric a dashboard panel queries is exported by tfsvc serve or recorded by the SLO kit (GPU panels included)', async () => {
  const slos = [parseLatencySlo('p99<100ms@99.9%')];
  const dashboard = grafanaDashboard({ title: 't', uid: 't', slos, gpu: true }) as { templating: { list: Array<{ definition?: string }> } };
  const exported = await exportedNames();
  const recorded = new Set(sloRules(slos).groups.flatMap((g) => g.rules).flatMap((r) => ('record' in r && r.record ? [r.record] : [])));
  const queries = [
    ...dashboardQueries(dashboard),
    ...dashboard.templating.list.filter((v) => v.definition).map((v) => ({ panel: 'variable', expr: v.definition!.replace(/^label_values\((.*),\s*\w+\)$/, '$1') })),
  ];
  const seen = new Set<string>();
  for (const q of queries) {
    for (const name of metricNames(q.expr)) {
      seen.add(name);
      assert.ok(exported.has(name) || recorded.has(name), `panel "${q.panel}" queries ${name}, which tfsvc serve does not export (nor a recording rule): ${q.expr}`);
    }
  }
  // The GPU panels read the server's GPU series.
  for (const name of [':tensorflow:core:gpu_utilization', ':tensorflow:core:gpu_memory_used_bytes', ':tensorflow:core:gpu_memory_total_bytes', 'tfsvc_gpu_memory_in_use_bytes']) {
    assert.ok(seen.has(name), `no panel shows ${name}`);
  }
});
