// Runs from several machines merge exactly: the merge of two runs' --json files equals one run over both
// (same histogram counts at every value, same counters, same timeline), through `tfsvc bench merge`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Metrics } from '../../src/core/load/metrics.js';
import { recordedValues, sameHistogram } from '../../src/core/load/histogram.js';
import { seededRandom } from '../../src/core/prng.js';
import type { Result } from '../../src/core/load/result.js';
import { runCli } from './cli-helper.js';

function results(n: number, seed: number, offsetMs: number): Result[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => {
    const intended = offsetMs + i * 2;
    const start = intended + random() * 3;
    const latency = random() < 0.01 ? 500 + random() * 1000 : 5 + random() * 20;
    const failed = random() < 0.02;
    return { intended, start, end: start + latency, status: failed ? 503 : 200, bytesIn: 30, bytesOut: 100, error: failed ? 'http' : undefined, message: failed ? 'busy' : undefined };
  });
}

const info = (target: string) => ({ target, schedule: 'constant 500/s', rate: 500, startedAt: '2026-01-01T00:00:00.000Z', runs: 1 });

test('bench merge a.json b.json equals one run over both results', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-merge-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const a = results(3000, 1, 0);
  const b = results(2000, 2, 6000);
  const ma = new Metrics(info('http://a'));
  const mb = new Metrics(info('http://a'));
  const all = new Metrics(info('http://a'));
  for (const r of a) ma.record(r), all.record(r);
  for (const r of b) mb.record(r), all.record(r);
  ma.durationMs = mb.durationMs = all.durationMs = 10_000;
  writeFileSync(path.join(dir, 'a.json'), JSON.stringify(ma.toJSON()));
  writeFileSync(path.join(dir, 'b.json'), JSON.stringify(mb.toJSON()));

  const code = await runCli(['bench', 'merge', path.join(dir, 'a.json'), path.join(dir, 'b.json'), '--json', path.join(dir, 'merged.json')]);
  assert.equal(code, 0);
  const merged = Metrics.fromJSON(JSON.parse(readFileSync(path.join(dir, 'merged.json'), 'utf8')));

  assert.ok(sameHistogram(merged.corrected, all.corrected), 'corrected histograms differ');
  assert.ok(sameHistogram(merged.uncorrected, all.uncorrected), 'uncorrected histograms differ');
  assert.ok(recordedValues(all.corrected).length > 100, 'the test data spreads over many histogram buckets');
  assert.equal(merged.requests, 5000);
  assert.equal(merged.ok, all.ok);
  assert.deepEqual(merged.byStatus, all.byStatus);
  assert.deepEqual(merged.byKind, all.byKind);
  assert.deepEqual(merged.timeline.map((x) => x.count), all.timeline.map((x) => x.count));
  assert.ok(merged.timeline.every((x, i) => sameHistogram(x.hist, all.timeline[i]!.hist)));
  assert.deepEqual(merged.summary().corrected, all.summary().corrected);
  assert.equal(merged.info.runs, 2);
});

test('a --json result round-trips exactly', () => {
  const m = new Metrics(info('http://x'));
  for (const r of results(1000, 7, 0)) m.record(r);
  m.durationMs = 2000;
  const back = Metrics.fromJSON(JSON.parse(JSON.stringify(m.toJSON())));
  assert.ok(sameHistogram(back.corrected, m.corrected));
  assert.ok(sameHistogram(back.uncorrected, m.uncorrected));
  assert.deepEqual(back.summary(), m.summary());
});

test('bench merge rejects a file that is not a bench result, with exit code 2', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-merge-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'x.json'), '{"hello": 1}');
  assert.equal(await runCli(['bench', 'merge', path.join(dir, 'x.json')]), 2);
});
