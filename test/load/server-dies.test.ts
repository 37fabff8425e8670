// A server that dies in the middle of a run: the run finishes and reports (it is not a start-up connection error),
// the refused requests count as errors and stay out of the latency histograms, and an error_rate SLO fails the
// gate with exit code 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startFixtureServer } from './fixture-server.js';
import { runCli } from './cli-helper.js';
import { Metrics } from '../../src/core/load/metrics.js';

test('server dying mid-run: report written, failures counted as errors, error_rate SLO exits 1', async (t) => {
  const server = await startFixtureServer({ delay: () => 5 });
  const dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-dies-'));
  t.after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const json = path.join(dir, 'r.json');
  // The server goes away once it has answered 60 predict requests (preflight included): about 0.6 s into 2 s at 100/s.
  const watch = setInterval(() => {
    if (server.count() >= 60) {
      clearInterval(watch);
      void server.close();
    }
  }, 5);
  t.after(() => clearInterval(watch));
  const code = await runCli(['bench', server.url, '--model', 'half_plus_two', '--qps', '100', '--duration', '2s', '--timeout', '2s', '--no-progress', '--slo', 'p99<5s', '--slo', 'error_rate<1%', '--json', json]);
  assert.equal(code, 1, 'the error_rate SLO fails');
  const m = Metrics.fromJSON(JSON.parse(readFileSync(json, 'utf8')));
  assert.equal(m.requests, 200, 'every scheduled request is accounted for');
  assert.ok(m.errors > 50, `${m.errors} errors after the server died`);
  assert.ok(m.ok >= 50, `${m.ok} answered before it died`);
  assert.equal(m.corrected.totalCount, m.requests - (m.byKind.connect ?? 0) - (m.byKind.reset ?? 0) - (m.byKind.other ?? 0), 'requests without an answer are not latencies');
});
