// The numbers must be right: against a local server with a known service time, P50 is that service time; a stall
// in the middle of an open-loop run shows in the corrected P99 (latency from the intended start) but not in the
// uncorrected one (from the actual send), as wrk2 demonstrates. Traffic goes only to 127.0.0.1 and is bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBench } from '../../src/core/load/bench.js';
import { percentileMs } from '../../src/core/load/histogram.js';
import { startFixtureServer } from './fixture-server.js';

const BODY = [Buffer.from('{"instances": [[1.0]]}')];
const predict = (base: string) => new URL(`${base}/v1/models/m:predict`);

// The service time is 40 ms so that a busy machine (2 cores, test files side by side) cannot push the measured median
// out of the bounds below: they leave 24 ms for HTTP on loopback and late timers, far more than they cost, while a
// wrong clock, unit or start point would be off by far more than 1.6 times.
const SERVICE_MS = 40;

test('a fixed 40 ms service time gives a P50 near 40 ms (open loop)', async (t) => {
  const server = await startFixtureServer({ delay: () => SERVICE_MS });
  t.after(() => server.close());
  const m = await runBench({ url: predict(server.url), bodies: BODY, schedule: { kind: 'constant', rate: 100 }, durationMs: 2000, requests: Infinity, warmupMs: 200, timeoutMs: 5000, connections: 16 });
  const s = m.summary();
  assert.equal(s.errors, 0);
  assert.equal(s.requests, 200, 'warmup requests are excluded; 2 s at 100/s are measured');
  for (const [name, p50] of [['corrected', s.corrected.p50], ['uncorrected', s.uncorrected.p50]] as const) {
    assert.ok(p50 >= SERVICE_MS * 0.8 && p50 <= SERVICE_MS * 1.6, `${name} p50 ${p50}ms, expected near ${SERVICE_MS}ms`);
  }
  // Corrected latency can only add to uncorrected (waits before the send).
  assert.ok(s.corrected.p99 >= s.uncorrected.p99 * 0.99);
});

test('a fixed 40 ms service time gives a P50 near 40 ms (closed loop) and throughput bounded by concurrency/service time', async (t) => {
  const server = await startFixtureServer({ delay: () => SERVICE_MS });
  t.after(() => server.close());
  const m = await runBench({ url: predict(server.url), bodies: BODY, schedule: { kind: 'closed', concurrency: 4 }, durationMs: 1500, requests: Infinity, warmupMs: 0, timeoutMs: 5000, connections: 4 });
  const s = m.summary();
  assert.ok(s.corrected.p50 >= SERVICE_MS * 0.8 && s.corrected.p50 <= SERVICE_MS * 1.6, `p50 ${s.corrected.p50}`);
  const ceiling = 4 * (1000 / SERVICE_MS);
  assert.ok(s.throughput <= ceiling * 1.15, `throughput ${s.throughput}/s above the ${ceiling}/s that 4 × ${SERVICE_MS} ms allows`);
  assert.ok(s.throughput >= ceiling * 0.4, `throughput ${s.throughput}/s far below ${ceiling}/s`);
});

test('a 1 s stall mid-run shows in the corrected P99 and not in the uncorrected P99 (coordinated omission)', async (t) => {
  const STALL_MS = 1000;
  let first: number | undefined;
  // Every request that arrives during [1 s, 2 s) of the run is held until 2 s: the server "freezes" for a second.
  const server = await startFixtureServer({
    delay: (_n, now) => {
      first ??= now;
      const at = now - first;
      return at >= 1000 && at < 1000 + STALL_MS ? 1000 + STALL_MS - at : 1;
    },
  });
  t.after(() => server.close());
  // 2 connections: only the 2 requests in flight when the stall starts see it from their actual send (0.3% of 750).
  const m = await runBench({ url: predict(server.url), bodies: BODY, schedule: { kind: 'constant', rate: 250 }, durationMs: 3000, requests: Infinity, warmupMs: 0, timeoutMs: 5000, connections: 2 });
  const s = m.summary();
  assert.equal(s.errors, 0);
  assert.equal(s.requests, 750);
  // About a third of the requests were meant to start during the stall: the corrected P99 is most of the stall.
  assert.ok(s.corrected.p99 > STALL_MS * 0.5, `corrected p99 ${s.corrected.p99}ms should show the ${STALL_MS}ms stall`);
  assert.ok(percentileMs(m.corrected, 90) > STALL_MS * 0.1, 'the stall reaches down to the corrected p90');
  // From the actual send, almost every request was quick; the stall is only in the max.
  assert.ok(s.uncorrected.p99 < STALL_MS * 0.1, `uncorrected p99 ${s.uncorrected.p99}ms should not show the stall`);
  assert.ok(s.uncorrected.max > STALL_MS * 0.5, 'the requests caught in the stall are in the uncorrected max');
  assert.ok((m.health?.connectionWaits ?? 0) > 50, 'requests due during the stall waited for a connection');
});

test('a generator that cannot keep its schedule says so (pacer lag), and latency counts the lag', async (t) => {
  const server = await startFixtureServer({ delay: () => 1 });
  t.after(() => server.close());
  let blocked = false;
  const m = await runBench({
    url: predict(server.url), bodies: BODY, schedule: { kind: 'constant', rate: 200 }, durationMs: 1500, requests: Infinity, warmupMs: 0, timeoutMs: 5000, connections: 8,
    onResult: (r) => {
      // Block the generator's event loop for 400 ms once, a third of the way in (a long GC pause or a starved CPU):
      // 80 of the 300 requests go out late, more than the tenth the "behind" rule allows.
      if (!blocked && r.intended > 500) {
        blocked = true;
        const until = performance.now() + 400;
        while (performance.now() < until) { /* busy */ }
      }
    },
  });
  assert.ok(m.health, 'open-loop runs report schedule health');
  assert.equal(m.health.behind, true);
  assert.ok(m.health.lagMaxMs >= 350, `max lag ${m.health.lagMaxMs}ms`);
  assert.equal(m.requests, 300, 'the pacer catches up: every scheduled request is still sent');
  assert.ok(m.summary().corrected.max >= 350, 'requests the generator sent late count that lateness');
});
