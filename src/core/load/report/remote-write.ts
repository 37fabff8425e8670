// Prometheus remote-write (protocol 1.0) of a bench result: the series of openmetrics.ts as one WriteRequest
// (prometheus/prompb: WriteRequest.timeseries = 1; TimeSeries.labels = 1, samples = 2; Label.name = 1, value = 2;
// Sample.value = 1 (double), timestamp = 2 (int64 ms)), snappy block-compressed, POSTed with the protocol's headers.
// Every sample carries the run's end time. Labels are sorted by name with __name__ first, as the spec requires.
import { createRequire } from 'node:module';
import protobuf from 'protobufjs';
import { request } from 'undici';
import type { Metrics } from '../metrics.js';
import type { Check } from '../slo.js';
import { benchSeries } from './openmetrics.js';

const PROMPB = `
syntax = "proto3";
package prometheus;
message WriteRequest { repeated TimeSeries timeseries = 1; }
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }
`;

let writeRequest: protobuf.Type | undefined;
function writeRequestType(): protobuf.Type {
  writeRequest ??= protobuf.parse(PROMPB).root.lookupType('prometheus.WriteRequest');
  return writeRequest;
}

/** The uncompressed WriteRequest bytes for a result, every sample at `timestampMs`. */
export function encodeWriteRequest(m: Metrics, checks: Check[], timestampMs: number): Uint8Array {
  const timeseries = benchSeries(m, checks).flatMap((f) =>
    f.samples.map((s) => ({
      labels: [{ name: '__name__', value: s.name }, ...Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, value]) => ({ name, value }))],
      samples: [{ value: s.value, timestamp: timestampMs }],
    })),
  );
  const type = writeRequestType();
  return type.encode(type.fromObject({ timeseries })).finish();
}

/** POSTs the result to a remote-write endpoint; throws Error with the endpoint's answer when it is not 2xx. */
export async function remoteWrite(url: string, m: Metrics, checks: Check[], timeoutMs = 10_000): Promise<void> {
  // snappy is a native addon loaded on use (see sstable.ts); remote-write's framing is its block format.
  const snappy = createRequire(import.meta.url)('snappy') as typeof import('snappy');
  const body = snappy.compressSync(Buffer.from(encodeWriteRequest(m, checks, Date.now())));
  const res = await request(url, {
    method: 'POST',
    body,
    headers: {
      'content-encoding': 'snappy',
      'content-type': 'application/x-protobuf',
      'user-agent': 'tfsvc-bench',
      'x-prometheus-remote-write-version': '0.1.0',
    },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const text = await res.body.text();
  if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`remote write to ${url}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
}
