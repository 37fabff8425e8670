// SLO expressions and their evaluation are pure functions of a run's summary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateSlos, parseSlo } from '../../src/core/load/slo.js';
import type { Summary } from '../../src/core/load/metrics.js';
import { UsageError } from '../../src/core/errors.js';

const latency = (p99: number) => ({ p50: 10, p90: 20, p95: 30, p99, p999: 250, max: 400, mean: 12, min: 1 });
const summary = (over: Partial<Summary> = {}): Summary => ({
  requests: 10_000, ok: 9990, errors: 10, errorRate: 0.001, throughput: 4950, durationMs: 2000, bytesIn: 0, bytesOut: 0,
  corrected: latency(80), uncorrected: latency(40), ...over,
});
const percentileOf = (s: Summary) => (p: number) => (p === 50 ? s.corrected.p50 : p === 99 ? s.corrected.p99 : p === 99.9 ? s.corrected.p999 : NaN);

test('parses the documented SLO forms into metric, operator and limit (ms, fraction, per second)', () => {
  assert.deepEqual(parseSlo('p99<100ms'), { text: 'p99<100ms', metric: { kind: 'latency', percentile: 99 }, op: '<', limit: 100 });
  assert.equal(parseSlo('p99.9<250ms').metric.kind === 'latency' && (parseSlo('p99.9<250ms').metric as { percentile: number }).percentile, 99.9);
  assert.equal(parseSlo('max < 1.5s').limit, 1500);
  assert.equal(parseSlo('p50<=800us').limit, 0.8);
  assert.equal(parseSlo('error_rate<0.1%').limit, 0.001);
  assert.equal(parseSlo('error_rate<0.001').limit, 0.001);
  assert.deepEqual(parseSlo('throughput>4900').metric, { kind: 'throughput' });
  for (const bad of ['p99', 'p99<', 'p0<1ms', 'p101<1ms', 'latency<1ms', 'p99<10kg', 'throughput>5%']) {
    assert.throws(() => parseSlo(bad), UsageError, bad);
  }
});

test('evaluates each SLO and says by how much a failed one missed', () => {
  const s = summary();
  const checks = evaluateSlos(['p99<100ms', 'p99.9<200ms', 'error_rate<0.1%', 'throughput>4900'].map(parseSlo), s, percentileOf(s));
  assert.deepEqual(checks.map((c) => c.pass), [true, false, false, true]);
  assert.equal(checks[1]!.message, 'p99.9<200ms: FAILED: p99.9 250ms > 200ms (+25.0%)');
  assert.equal(checks[0]!.message, 'p99<100ms: ok (p99 80.0ms < 100ms)');
  // error_rate is exactly 0.1%: "<" fails at equality.
  assert.match(checks[2]!.message, /FAILED/);
  const low = summary({ throughput: 4800 });
  const t = evaluateSlos([parseSlo('throughput>4900')], low, percentileOf(low))[0]!;
  assert.equal(t.pass, false);
  assert.equal(t.message, 'throughput>4900: FAILED: throughput 4800/s < 4900/s (-2.04%)');
});

test('baseline: fails when p50, p99 or throughput regress beyond --max-regression', () => {
  const base = summary();
  const same = evaluateSlos([], base, percentileOf(base), { summary: base, percentileOf: percentileOf(base), maxRegression: 0.1 });
  assert.ok(same.length >= 3 && same.every((c) => c.pass));
  const worse = summary({ corrected: latency(95) }); // p99 80 → 95 ms: +18.75%
  const checks = evaluateSlos([], worse, percentileOf(worse), { summary: base, percentileOf: percentileOf(base), maxRegression: 0.1 });
  const p99 = checks.find((c) => c.name.startsWith('p99 '))!;
  assert.equal(p99.pass, false);
  assert.equal(p99.limit, 88);
  assert.ok(checks.filter((c) => c !== p99).every((c) => c.pass));
  const slower = summary({ throughput: 4000 });
  const tp = evaluateSlos([], slower, percentileOf(slower), { summary: base, percentileOf: percentileOf(base), maxRegression: 0.1 }).find((c) => c.name.startsWith('throughput'))!;
  assert.equal(tp.pass, false);
});

test("k6 threshold syntax reads as the same SLOs (k6 durations are ms; rate on http_req_failed is the error rate)", () => {
  const same = (k6: string, ours: string) => {
    const a = parseSlo(k6);
    const b = parseSlo(ours);
    assert.deepEqual([a.metric, a.op, a.limit], [b.metric, b.op, b.limit], `${k6} vs ${ours}`);
    assert.equal(a.text, k6);
  };
  same('p(99)<50', 'p99<50ms');
  same('p(95)<=200', 'p95<=200ms');
  same('p(99.9) < 250', 'p99.9<250ms');
  same('avg<20', 'mean<20ms');
  same('med<10', 'p50<10ms');
  same('max<1000', 'max<1s');
  same('http_req_failed<0.01', 'error_rate<1%');
  same('http_req_failed:rate<0.01', 'error_rate<1%');
  same('http_req_duration:p(95)<200', 'p95<200ms');
  same('http_req_duration{expected_response:true}:p(95)<200', 'p95<200ms');
  same('http_reqs:rate>100', 'throughput>100');
  assert.deepEqual(parseSlo('min>0').metric, { kind: 'latency', percentile: 0 });
  assert.deepEqual(parseSlo('http_reqs:count>=1000').metric, { kind: 'count' });
  assert.equal(parseSlo('p(99)===50').op, '==');
  for (const bad of ['p()<50', 'http_req_failed:p(99)<1', 'http_reqs:avg<1', 'rate<0.1', 'count>5', 'p(99)<>50']) {
    assert.throws(() => parseSlo(bad), UsageError, bad);
  }
  const s = summary();
  const [min, count] = evaluateSlos([parseSlo('min<2'), parseSlo('http_reqs:count>=10000')], s, percentileOf(s));
  assert.equal(min!.actual, 1);
  assert.equal(count!.pass, true);
});
