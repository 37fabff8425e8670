// Ctrl-C (an aborted signal) ends a run early with a partial report: the requests already sent are waited for and
// counted, and the window (so the throughput) covers only the time before the abort, not the whole --duration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBench } from '../../src/core/load/bench.js';
import { startFixtureServer } from './fixture-server.js';

const BODY = [Buffer.from('{"instances": [[1.0]]}')];

test('an aborted open-loop run reports what it measured over the time it ran', async (t) => {
  const server = await startFixtureServer({ delay: () => 20 });
  t.after(() => server.close());
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 800);
  const m = await runBench({
    url: new URL(`${server.url}/v1/models/m:predict`), bodies: BODY, schedule: { kind: 'constant', rate: 100 },
    durationMs: 10_000, requests: Infinity, warmupMs: 300, timeoutMs: 5000, connections: 8, signal: stop.signal,
  });
  const s = m.summary();
  assert.equal(s.errors, 0, 'requests in flight at the abort were waited for, not dropped as errors');
  assert.equal(s.requests, server.count() - 30, 'every answered request after the 300 ms warmup is counted');
  assert.ok(s.durationMs > 300 && s.durationMs < 1500, `window ${s.durationMs}ms is the ~500 ms before the abort, not --duration`);
  assert.ok(s.throughput > 50 && s.throughput < 150, `throughput ${s.throughput}/s is the rate sent, not diluted by the unused --duration`);
});
