// Distributed load maths: N shards of a schedule send exactly what one generator would (constant arrivals interleave
// into the single schedule; Poisson streams per shard add up to the total rate), counts split without loss, and
// `bench merge` of shard files adds histograms (never averages percentiles), takes throughput over the union of the
// shards' windows, and refuses sets that are not one whole run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { firstIntendedTimes, rampSchedule, stagesSchedule, type OpenSchedule, type Schedule } from '../../src/core/load/schedule.js';
import { parseShard, planOf, shardSchedule, shardSeed, shareOf, type Shard } from '../../src/core/load/shard.js';
import { Metrics } from '../../src/core/load/metrics.js';
import { mergeResultFiles } from '../../src/core/load/merge.js';
import { percentileMs, sameHistogram } from '../../src/core/load/histogram.js';
import { UsageError } from '../../src/core/errors.js';
import { runCli } from './cli-helper.js';

const shardsOf = (n: number): Shard[] => Array.from({ length: n }, (_, index) => ({ index, count: n }));

/** The first times of every shard up to `untilMs`, merged and sorted. */
function unionTimes(s: OpenSchedule, n: number, untilMs: number): number[] {
  const all: number[] = [];
  for (const sh of shardsOf(n)) {
    const part = shardSchedule(s, sh) as OpenSchedule;
    for (const t of firstIntendedTimes(part, 100_000)) {
      if (t >= untilMs) break;
      all.push(t);
    }
  }
  return all.sort((a, b) => a - b);
}

function assertSameTimes(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: ${actual.length} requests in the shards, ${expected.length} in one generator`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) < 1e-6, `${what}: request ${i} at ${actual[i]} ms, one generator sends it at ${expected[i]} ms`);
  }
}

test('constant arrivals: the shards at rate/N interleave into exactly the single generator\'s schedule', () => {
  for (const n of [1, 2, 3, 7]) {
    const whole: OpenSchedule = { kind: 'constant', rate: 300 };
    const single = firstIntendedTimes(whole, 3000).filter((t) => t < 10_000);
    assertSameTimes(unionTimes(whole, n, 10_000), single, `constant 300/s in ${n} shards`);
    for (const sh of shardsOf(n)) assert.equal((shardSchedule(whole, sh) as { rate: number }).rate, 300 / n);
  }
});

test('ramps and stages: each rate divided by N, and the shards together send the single schedule', () => {
  const ramp = rampSchedule({ startRate: 50, endRate: 450, rampMs: 4000, offsetMs: 1000 });
  assertSameTimes(unionTimes(ramp, 3, 6000), firstIntendedTimes(ramp, 5000).filter((t) => t < 6000), 'ramp 50→450/s in 3 shards');
  const part = shardSchedule(ramp, { index: 1, count: 3 }) as typeof ramp;
  assert.deepEqual([part.startRate, part.endRate, part.rampMs, part.offsetMs], [50 / 3, 150, 4000, 1000]);

  const stages = stagesSchedule({ stages: [{ durationMs: 1000, target: 200 }, { durationMs: 2000, target: 200 }, { durationMs: 1000, target: 0 }] });
  assertSameTimes(unionTimes(stages, 4, 4000), firstIntendedTimes(stages, 2000).filter((t) => t < 4000), 'stages in 4 shards');
  const st = shardSchedule(stages, { index: 3, count: 4 }) as typeof stages;
  assert.deepEqual(st.stages.map((x) => x.target), [50, 50, 0]);
  assert.equal(st.rate, stages.rate / 4);
});

test('Poisson arrivals: one stream per shard, seeded per shard and reproducible, adding up to the total rate', () => {
  const whole: Schedule = { kind: 'poisson', rate: 600, seed: 7 };
  const n = 3;
  const parts = shardsOf(n).map((sh) => shardSchedule(whole, sh) as OpenSchedule);
  const seconds = 200;
  const counts = parts.map((p) => firstIntendedTimes(p, 60_000).filter((t) => t < seconds * 1000).length);
  for (const c of counts) assert.ok(Math.abs(c / seconds - 200) / 200 < 0.04, `a shard sent ${c / seconds}/s, expected 200/s`);
  const total = counts.reduce((a, b) => a + b, 0) / seconds;
  assert.ok(Math.abs(total - 600) / 600 < 0.03, `the shards together sent ${total}/s, expected 600/s`);
  // Different streams per shard, the same stream on a rerun, and a single shard is the plain run.
  const seeds = shardsOf(n).map((sh) => shardSeed(7, sh));
  assert.equal(new Set(seeds).size, n);
  assert.deepEqual(firstIntendedTimes(shardSchedule(whole, { index: 1, count: 3 }) as OpenSchedule, 50), firstIntendedTimes(parts[1]!, 50));
  assert.notDeepEqual(firstIntendedTimes(parts[0]!, 50), firstIntendedTimes(parts[1]!, 50));
  assert.deepEqual(shardSchedule(whole, { index: 0, count: 1 }), whole);
  assert.notEqual(shardSeed(8, { index: 0, count: 3 }), shardSeed(7, { index: 0, count: 3 }), 'another --seed gives other streams');
});

test('counts split without loss: --requests and --concurrency shares add up to the total', () => {
  for (const total of [1, 2, 3, 10, 101, 1000]) {
    for (const n of [1, 2, 3, 8]) {
      const parts = shardsOf(n).map((sh) => shareOf(total, sh));
      assert.equal(parts.reduce((a, b) => a + b, 0), total, `${total} in ${n}`);
      assert.ok(Math.max(...parts) - Math.min(...parts) <= 1);
    }
  }
  assert.equal(shareOf(Infinity, { index: 2, count: 3 }), Infinity);
  assert.deepEqual(shardSchedule({ kind: 'closed', concurrency: 10 }, { index: 0, count: 3 }), { kind: 'closed', concurrency: 4 });
  assert.throws(() => shardSchedule({ kind: 'closed', concurrency: 2 }, { index: 2, count: 3 }), /cannot be split into 3 shards/);
});

test('--shard is INDEX/COUNT numbered from 0; anything else is a usage error saying so', () => {
  assert.deepEqual(parseShard('2/3'), { index: 2, count: 3 });
  assert.throws(() => parseShard('3/3'), (e: unknown) => e instanceof UsageError && /numbered 0 to 2/.test(e.message));
  assert.throws(() => parseShard('1/0'), UsageError);
  assert.throws(() => parseShard('a/3'), /INDEX\/COUNT/);
});

// --- merge maths -----------------------------------------------------------------------------------------------

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const PLAN = planOf({ kind: 'constant', rate: 300 }, { durationMs: 10_000, requests: Infinity, warmupMs: 0, seed: 1 });

/** A shard's result: `n` answers of `latencyMs` (every `errEvery`-th a 503), measured over [startMs, startMs+10s]. */
function shardResult(index: number, count: number, o: { n: number; latencyMs: number; startMs: number; target?: string; runId?: string; plan?: string; errEvery?: number }): Metrics {
  const m = new Metrics({ target: o.target ?? 'http://svc/v1/models/m:predict', schedule: 'constant 100/s', rate: 300 / count, startedAt: new Date(o.startMs).toISOString(), runs: 1 });
  for (let i = 0; i < o.n; i++) {
    const intended = (i * 10_000) / o.n;
    const failed = o.errEvery !== undefined && i % o.errEvery === 0;
    m.record({ intended, start: intended, end: intended + o.latencyMs, status: failed ? 503 : 200, bytesIn: 10, bytesOut: 10, ...(failed ? { error: 'http' as const } : {}) });
  }
  m.closeWindow(10_000);
  m.info.shard = { index, count, schedule: 'constant 300/s', plan: o.plan ?? PLAN, ...(o.runId ? { runId: o.runId } : {}) };
  return m;
}

function writeAll(dir: string, ms: Metrics[]): string[] {
  return ms.map((m, i) => {
    const f = path.join(dir, `shard-${i}.json`);
    writeFileSync(f, JSON.stringify(m.toJSON()));
    return f;
  });
}

test('merged shards: histograms add (percentiles never averaged), errors sum, throughput over the union of windows', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-shard-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Two fast shards and one slow one; the slow one started 2 s late, so the run spans 12 s.
  const shards = [
    shardResult(0, 3, { n: 1000, latencyMs: 2, startMs: T0, errEvery: 100 }),
    shardResult(1, 3, { n: 1000, latencyMs: 2, startMs: T0 + 400 }),
    shardResult(2, 3, { n: 1000, latencyMs: 200, startMs: T0 + 2000, errEvery: 50 }),
  ];
  const files = writeAll(dir, [shards[2]!, shards[0]!, shards[1]!]); // any order
  const merged = mergeResultFiles(files);
  const s = merged.summary();
  assert.equal(s.requests, 3000);
  assert.equal(s.errors, 10 + 20);
  assert.deepEqual(merged.byStatus, { 200: 2970, 503: 30 });
  // One histogram over all 3000 answers: 2/3 at 2 ms, so p50 is 2 ms and p90 is 200 ms. The mean of the shards'
  // p50s (68 ms) or p90s would be neither.
  assert.ok(Math.abs(s.corrected.p50 - 2) < 0.01, `p50 ${s.corrected.p50}`);
  assert.ok(Math.abs(s.corrected.p90 - 200) < 0.5, `p90 ${s.corrected.p90}`);
  const one = new Metrics(shards[0]!.info);
  for (const m of shards) one.corrected.add(m.corrected);
  assert.ok(sameHistogram(merged.corrected, one.corrected));
  // Union of [0, 10], [0.4, 10.4], [2, 12] s = 12 s: 2970 ok / 12 s. (The longest window, 10 s, would give 297/s.)
  assert.equal(s.durationMs, 12_000);
  assert.ok(Math.abs(s.throughput - 2970 / 12) < 1e-9, `throughput ${s.throughput}`);
  assert.equal(merged.info.rate, 300);
  assert.equal(merged.info.runs, 3);
  assert.equal(merged.info.shard, undefined);
  assert.deepEqual(merged.info.shards, { count: 3, plan: PLAN });
  assert.match(merged.info.schedule, /constant 300\/s, in 3 shards/);
  // The per-second series line up on the wall clock: the late shard's answers land 2 s later.
  assert.equal(merged.timeline.length, 12);
  assert.equal(merged.timeline[0]!.count, 200);
  assert.equal(merged.timeline[11]!.count, 100);
  assert.equal(percentileMs(merged.timeline[11]!.hist, 50) > 100, true, 'the last second holds the slow shard only');
});

test('bench merge refuses shard sets that are not one whole run, naming the files and the problem', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-shard-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ok = (i: number, o: Partial<Parameters<typeof shardResult>[2]> = {}, count = 3) => shardResult(i, count, { n: 100, latencyMs: 5, startMs: T0, ...o });
  const refused = (ms: Metrics[], re: RegExp) => {
    const sub = mkdtempSync(path.join(dir, 'set-'));
    assert.throws(() => mergeResultFiles(writeAll(sub, ms)), (e: unknown) => e instanceof UsageError && re.test(e.message), re.source);
  };
  refused([ok(0), ok(2)], /shard 1 of 3 missing \(have 0 \(.*shard-0\.json\), 2 \(.*shard-1\.json\)\)/);
  refused([ok(0), ok(1), ok(1), ok(2)], /shard 1\/3 is given twice/);
  refused([ok(0), ok(1), ok(2, {}, 4)], /different counts/);
  refused([ok(0), ok(1), ok(2, { target: 'http://other/v1/models/m:predict' })], /targets differ/);
  refused([ok(0), ok(1), ok(2, { plan: 'constant 600/s, 10s, warmup 0s, seed 1' })], /plans differ/);
  refused([ok(0, { runId: 'a' }), ok(1, { runId: 'a' }), ok(2, { runId: 'b' })], /run ids \(--run-id\) differ/);
  refused([ok(0), ok(1), ok(2, { startMs: T0 + 60_000 })], /ended .* before .* started .*different runs/);
  const whole = ok(0);
  delete whole.info.shard;
  refused([ok(0), whole], /is not a shard/);
  // The same late shard is taken when the run id says they belong together.
  const sub = mkdtempSync(path.join(dir, 'ok-'));
  assert.equal(mergeResultFiles(writeAll(sub, [ok(0, { runId: 'r' }), ok(1, { runId: 'r' }), ok(2, { runId: 'r', startMs: T0 + 60_000 })])).requests, 300);
});

test('bench merge of shards gates like bench: 0 when the merged SLO holds, 1 when it fails, 2 on a missing shard', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-shard-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = writeAll(dir, [
    shardResult(0, 3, { n: 1000, latencyMs: 2, startMs: T0 }),
    shardResult(1, 3, { n: 1000, latencyMs: 2, startMs: T0 }),
    shardResult(2, 3, { n: 1000, latencyMs: 200, startMs: T0 }),
  ]);
  // Merged p50 is 2 ms; the average of the shards' p50s would be 68 ms.
  assert.equal(await runCli(['bench', 'merge', ...files, '--slo', 'p50<10ms', '--slo', 'throughput>250']), 0);
  assert.equal(await runCli(['bench', 'merge', ...files, '--slo', 'p90<100ms']), 1);
  assert.equal(await runCli(['bench', 'merge', files[0]!, files[2]!, '--slo', 'p50<10ms']), 2);
});
