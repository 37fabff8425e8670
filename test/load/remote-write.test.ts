// --remote-write pushes the result to a Prometheus remote-write endpoint: snappy-compressed WriteRequest protobuf
// with the protocol's headers, one series per metric sample (sorted labels, __name__ first), the run's end as time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import protobuf from 'protobufjs';
import { startFixtureServer } from './fixture-server.js';
import { runCli } from './cli-helper.js';

const snappy = createRequire(import.meta.url)('snappy') as typeof import('snappy');
const WriteRequest = protobuf.parse(`
syntax = "proto3";
message WriteRequest { repeated TimeSeries timeseries = 1; }
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }
`).root.lookupType('WriteRequest');

interface Series { labels: Array<{ name: string; value: string }>; samples: Array<{ value: number; timestamp: number }> }

test('--remote-write posts every series with its labels; a refusing endpoint is exit 2', async (t) => {
  const target = await startFixtureServer();
  t.after(() => target.close());
  let status = 204;
  const received: Array<{ headers: http.IncomingHttpHeaders; series: Series[] }> = [];
  const sink = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const decoded = WriteRequest.toObject(WriteRequest.decode(snappy.uncompressSync(Buffer.concat(chunks)) as Buffer), { longs: Number }) as { timeseries: Series[] };
      received.push({ headers: req.headers, series: decoded.timeseries });
      res.writeHead(status).end(status === 204 ? '' : 'out of order sample');
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => sink.close(() => r())));
  const url = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/api/v1/write`;
  const before = Date.now();
  const args = ['bench', `${target.url}/v1/models/m:predict`, '--qps', '100', '--requests', '20', '--no-progress', '--slo', 'p99<5s', '--remote-write', url];
  assert.equal(await runCli(args), 0);
  const [{ headers, series }] = received as [(typeof received)[0]];
  assert.equal(headers['content-encoding'], 'snappy');
  assert.equal(headers['content-type'], 'application/x-protobuf');
  assert.equal(headers['x-prometheus-remote-write-version'], '0.1.0');
  const find = (name: string, extra: Record<string, string> = {}) =>
    series.find((s) => s.labels[0]!.name === '__name__' && s.labels[0]!.value === name && Object.entries(extra).every(([k, v]) => s.labels.some((l) => l.name === k && l.value === v)));
  assert.equal(find('tfsvc_bench_requests_total', { result: 'ok' })!.samples[0]!.value, 20);
  assert.equal(find('tfsvc_bench_slo_pass', { slo: 'p99<5s' })!.samples[0]!.value, 1);
  assert.equal(find('tfsvc_bench_slo_threshold', { slo: 'p99<5s' })!.samples[0]!.value, 5);
  const q = find('tfsvc_bench_latency_seconds', { quantile: '0.99' })!;
  assert.deepEqual(q.labels.map((l) => l.name), ['__name__', 'quantile', 'target']);
  assert.ok(q.samples[0]!.timestamp >= before && q.samples[0]!.timestamp <= Date.now());
  status = 400;
  assert.equal(await runCli(args), 2);
});
