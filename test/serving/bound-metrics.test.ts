// The pre-bound metrics used on the request path must expose exactly what prom-client's own metrics would: dashboards
// and alerts built on TF Serving's metric names read these lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import client from 'prom-client';
import { BoundCounter, BoundGauge, BoundHistogram } from '../../src/core/serving/bound-metrics.js';

test('bound counters, gauges and histograms write the same exposition text as prom-client', async () => {
  const theirs = new client.Registry();
  const ours = new client.Registry();
  const buckets = client.exponentialBuckets(10, 1.8, 33);
  const labelNames = ['model_name', 'API'];
  const c1 = new client.Counter({ name: ':tensorflow:serving:request_count', help: 'Requests.', labelNames: ['model_name', 'status'], registers: [theirs] });
  const c2 = new BoundCounter({ name: ':tensorflow:serving:request_count', help: 'Requests.', labelNames: ['model_name', 'status'], registers: [ours] });
  const g1 = new client.Gauge({ name: 'tfsvc_in_flight_requests', help: 'In flight.', labelNames: ['model_name'], registers: [theirs] });
  const g2 = new BoundGauge({ name: 'tfsvc_in_flight_requests', help: 'In flight.', labelNames: ['model_name'], registers: [ours] });
  const h1 = new client.Histogram({ name: ':tensorflow:serving:request_latency', help: 'Latency.', labelNames, buckets, registers: [theirs] });
  const h2 = new BoundHistogram({ name: ':tensorflow:serving:request_latency', help: 'Latency.', labelNames, buckets, registers: [ours] });
  const models = ['a', 'b"q\\x\ny'];
  for (let i = 0; i < 500; i++) {
    const model = models[i % 2]!;
    const status = i % 3 ? 'OK' : 'NOT_FOUND';
    c1.inc({ model_name: model, status }, i % 4);
    c2.labels(model, status).inc(i % 4);
    g1.inc({ model_name: model });
    g2.labels(model).inc();
    if (i % 5) {
      g1.dec({ model_name: model });
      g2.labels(model).dec();
    }
    const v = (i * 7919) % 1e7 === 0 ? 0 : ((i * 7919) % 100003) * 1.7 ** (i % 40);
    h1.observe({ model_name: model, API: 'Predict' }, v);
    h2.labels(model, 'Predict').observe(v);
  }
  assert.equal(await ours.metrics(), await theirs.metrics());
  assert.throws(() => h2.labels('a', 'Predict').observe(NaN), TypeError);
  assert.throws(() => h2.labels('a'), /expected 2 label values/);
});
