// Which failures count as latencies. A server that dies mid-run refuses connections in microseconds: those failures
// must not pull the percentiles down (they are errors, not fast answers), while timeouts, the slowest requests of
// all, must stay in the histograms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics } from '../../src/core/load/metrics.js';
import { checkRun } from '../../src/core/load/gate.js';
import { parseSlo } from '../../src/core/load/slo.js';
import type { Result } from '../../src/core/load/result.js';

const info = { target: 'http://a', schedule: 'constant 100/s', rate: 100, startedAt: '2026-01-01T00:00:00.000Z', runs: 1 };

function ok(i: number, latency: number): Result {
  return { intended: i * 10, start: i * 10, end: i * 10 + latency, status: 200, bytesIn: 10, bytesOut: 10 };
}

test('connection refused after the server died counts as errors, not as fast latencies', () => {
  const m = new Metrics({ ...info });
  // 500 answers at 40 ms, then the server dies: 500 refused connections failing in 0.05 ms.
  for (let i = 0; i < 500; i++) m.record(ok(i, 40));
  for (let i = 500; i < 1000; i++) m.record({ intended: i * 10, start: i * 10, end: i * 10 + 0.05, status: 0, bytesIn: 0, bytesOut: 10, error: 'connect', message: 'ECONNREFUSED' });
  m.closeWindow(10_000);
  const s = m.summary();
  assert.equal(s.requests, 1000);
  assert.equal(s.errors, 500);
  assert.equal(m.corrected.totalCount, 500, 'only the answered requests are latencies');
  assert.ok(s.corrected.p50 > 39 && s.corrected.p50 < 41, `p50 ${s.corrected.p50} is the answers' 40 ms`);
  assert.ok(s.uncorrected.p50 > 39, 'uncorrected likewise');
  assert.equal(m.timeline.reduce((n, b) => n + b.hist.totalCount, 0), 500, 'timeline histograms agree');
  assert.equal(m.timeline.reduce((n, b) => n + b.count, 0), 1000, 'timeline still counts every request');
});

test('a run where nothing answered fails a latency SLO instead of passing it', () => {
  const m = new Metrics({ ...info });
  for (let i = 0; i < 100; i++) m.record({ intended: i, start: i, end: i + 0.02, status: 0, bytesIn: 0, bytesOut: 10, error: 'reset', message: 'other side closed' });
  m.closeWindow(1000);
  const [check] = checkRun(m, [parseSlo('p99<50ms')]);
  assert.equal(check!.pass, false);
});

test('timeouts stay in the histograms at their full time, and non-2xx answers count as latencies', () => {
  const m = new Metrics({ ...info });
  for (let i = 0; i < 90; i++) m.record(ok(i, 5));
  for (let i = 90; i < 95; i++) m.record({ intended: i * 10, start: i * 10, end: i * 10 + 30_000, status: 0, bytesIn: 0, bytesOut: 10, error: 'timeout' });
  for (let i = 95; i < 100; i++) m.record({ intended: i * 10, start: i * 10, end: i * 10 + 2, status: 503, bytesIn: 5, bytesOut: 10, error: 'http' });
  assert.equal(m.corrected.totalCount, 100);
  const s = m.summary();
  assert.ok(s.corrected.max >= 30_000 && s.corrected.max < 30_100, `max ${s.corrected.max} is the 30 s timeout`);
  assert.ok(s.corrected.p99 >= 30_000, 'the timeouts are the tail');
});

test('the report warns that the latencies leave out requests that got no answer', async () => {
  const { renderTable } = await import('../../src/core/load/report/text.js');
  const m = new Metrics({ ...info });
  for (let i = 0; i < 10; i++) m.record(ok(i, 5));
  for (let i = 10; i < 13; i++) m.record({ intended: i * 10, start: i * 10, end: i * 10 + 0.1, status: 0, bytesIn: 0, bytesOut: 10, error: 'connect', message: 'ECONNREFUSED' });
  m.closeWindow(1000);
  assert.match(renderTable(m), /warning: 3 of 13 requests got no answer/);
});
