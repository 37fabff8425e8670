// What a CI step relies on from bench: --json carries every SLO (threshold, measured, verdict) and k6 thresholds work
// through the CLI; per-request checks count as failures; --stages and --targets shape the load; OpenMetrics output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startFixtureServer } from './fixture-server.js';
import { runCli } from './cli-helper.js';
import { firstIntendedTimes, parseStages, stagesSchedule, stagesTimeAt } from '../../src/core/load/schedule.js';
import { parseDuration } from '../../src/core/load/units.js';
import { weightedOrder } from '../../src/core/load/bench.js';
import { bodyFailure, parseBodyCheck, parseExpectStatus } from '../../src/core/load/response-check.js';
import { UsageError } from '../../src/core/errors.js';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-gates-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('--json carries each SLO with threshold, measured value and verdict; k6 thresholds are accepted', async (t) => {
  const server = await startFixtureServer({ delay: () => 10 });
  t.after(() => server.close());
  const out = path.join(tempDir(t), 'r.json');
  const om = out.replace(/json$/, 'prom');
  const code = await runCli(['bench', server.url, '--model', 'half_plus_two', '-R', '40', '-d', '1s', '--no-progress',
    '--slo', 'p(99)<5000', '--slo', 'http_req_failed<0.01', '--slo', 'med<1', '--json', out, '--openmetrics', om]);
  assert.equal(code, 1, 'med<1 (ms) cannot hold against a 10 ms server');
  const r = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(r.verdict, 'fail');
  assert.deepEqual(r.slos.map((c: { name: string; pass: boolean }) => [c.name, c.pass]), [['p(99)<5000', true], ['http_req_failed<0.01', true], ['med<1', false]]);
  const med = r.slos[2];
  assert.equal(med.threshold, 1);
  assert.equal(med.unit, 'ms');
  assert.ok(med.measured >= 10, `median ${med.measured} ms`);
  assert.match(med.message, /^med<1: FAILED: p50 \d+(\.\d+)?ms > 1\.00ms \(\+\d+(\.\d+)?%\)$/);
  assert.equal(r.slos[1].measured, 0);
  assert.equal(r.info.rate, 40);
  // The result still merges (the SLO part is extra).
  assert.equal(await runCli(['bench', 'merge', out, out, '--slo', 'avg<5000']), 0);
  const prom = readFileSync(om, 'utf8');
  assert.match(prom, /^tfsvc_bench_slo_pass\{target="[^"]+",slo="med<1"\} 0$/m);
  assert.match(prom, /^tfsvc_bench_slo_threshold\{target="[^"]+",slo="med<1"\} 0\.001$/m);
  assert.match(prom, /^tfsvc_bench_latency_seconds\{target="[^"]+",quantile="0\.99"\} \d+\.\d+$/m);
  assert.match(prom, /^tfsvc_bench_latency_seconds\{target="[^"]+",quantile="0\.999"\} /m);
  assert.match(prom, /^tfsvc_bench_requests_total\{target="[^"]+",result="ok"\} 40$/m);
  assert.ok(prom.endsWith('# EOF\n'));
});

test('--expect-status and --expect-body count failing answers as failed requests', async (t) => {
  const server = await startFixtureServer({ status: (n) => (n % 4 === 3 ? 503 : 200) });
  t.after(() => server.close());
  const out = path.join(tempDir(t), 'r.json');
  const common = ['bench', server.url, '--model', 'half_plus_two', '--requests', '40', '--qps', '200', '--no-progress', '--json', out];
  // Body check on $.predictions[0]: the fixture answers [2.5]; ==3 fails every 200 answer, the 503s fail as http.
  assert.equal(await runCli([...common, '--expect-body', '$.predictions[0]==3', '--slo', 'error_rate<50%']), 1);
  let r = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(r.counts.ok, 0);
  assert.ok(r.counts.byKind.check >= 29, JSON.stringify(r.counts));
  assert.match(r.samples.check, /\$\.predictions\[0\]==3: got 2\.5/);
  assert.equal(await runCli([...common, '--expect-body', '$.predictions[0]==2.5']), 0);
  r = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(r.counts.ok + r.counts.byKind.http, r.counts.requests);
  // A 503 expected: only the 503 answers pass.
  assert.equal(await runCli([...common, '--expect-status', '5xx']), 0);
  r = JSON.parse(readFileSync(out, 'utf8'));
  assert.ok(r.counts.byKind.check >= 29 && r.counts.ok >= 1, JSON.stringify(r.counts));
  assert.equal(await runCli([...common, '--expect-body', 'predictions']), 2);
});

test('response checks parse paths, equality, regexes and status lists', () => {
  const body = Buffer.from('{"predictions": [[2.5, 3]], "model_version_status": [{"state": "AVAILABLE"}]}');
  assert.equal(bodyFailure(parseBodyCheck('$.predictions[0][1]'), body), undefined);
  assert.equal(bodyFailure(parseBodyCheck("$['model_version_status'][0].state==AVAILABLE"), body), undefined);
  assert.match(bodyFailure(parseBodyCheck('$.outputs'), body)!, /not in the response/);
  assert.equal(bodyFailure(parseBodyCheck('/"predictions": \\[\\[2\\.5/'), body), undefined);
  assert.match(bodyFailure(parseBodyCheck('/error/i'), body)!, /does not match/);
  assert.throws(() => parseBodyCheck('$.a[x]'), UsageError);
  const ok = parseExpectStatus('200,4xx')!;
  assert.deepEqual([200, 201, 404, 503].map(ok), [true, false, true, false]);
  assert.throws(() => parseExpectStatus('20x'), UsageError);
});

test('--stages: the rate moves linearly from stage to stage (k6 ramping-arrival-rate)', () => {
  const stages = parseStages('2s:100,1s:100,1s:0', parseDuration);
  assert.deepEqual(stages, [{ durationMs: 2000, target: 100 }, { durationMs: 1000, target: 100 }, { durationMs: 1000, target: 0 }]);
  const s = stagesSchedule({ stages });
  // 0→100/s over 2 s: 100 requests; 100/s for 1 s: 100; 100→0 over 1 s: 50. Mean 250 / 4 s.
  assert.equal(s.rate, 62.5);
  assert.equal(stagesTimeAt(s, 100), 2000);
  assert.equal(stagesTimeAt(s, 200), 3000);
  assert.equal(stagesTimeAt(s, 250), 4000);
  assert.equal(stagesTimeAt(s, 251), Infinity);
  const times = firstIntendedTimes(s, 250);
  assert.ok(times.every((t, i) => i === 0 || t >= times[i - 1]!));
  // A linear ramp's integral is quadratic: its first half holds a quarter of its 100 requests.
  assert.equal(times.filter((t) => t < 1000).length, 25);
  assert.equal(times.filter((t) => t >= 2000 && t < 3000).length, 100);
  assert.throws(() => parseStages('30s', parseDuration), RangeError);
  assert.throws(() => stagesSchedule({ stages: [{ durationMs: 1000, target: 0 }] }), RangeError);
});

test('--stages and --targets through the CLI: weights split the requests, the report names the stages', async (t) => {
  const seen: Record<string, number> = {};
  const server = await startFixtureServer({ onBody: (_b, url) => (seen[url] = (seen[url] ?? 0) + 1) });
  t.after(() => server.close());
  const dir = tempDir(t);
  const targets = path.join(dir, 'targets.jsonl');
  writeFileSync(targets, [
    JSON.stringify({ url: `${server.url}/v1/models/a:predict`, weight: 3 }),
    '# comments and blank lines are skipped',
    '',
    JSON.stringify({ url: server.url, model: 'b', version: 2 }),
  ].join('\n'));
  const out = path.join(dir, 'r.json');
  assert.equal(await runCli(['bench', '--targets', targets, '--stages', '500ms:80,500ms:80', '--no-progress', '--json', out]), 0);
  const r = JSON.parse(readFileSync(out, 'utf8'));
  assert.match(r.info.schedule, /^stages 0\.5s to 80\/s, 0\.5s to 80\/s \(mean 60\/s\)$/);
  assert.equal(r.counts.requests, 60);
  const [a, b] = r.info.targets;
  assert.equal(a.weight, 3);
  assert.equal(a.requests, 45);
  assert.equal(b.requests, 15);
  assert.match(b.target, /\/v1\/models\/b\/versions\/2:predict$/);
  assert.equal(seen['/v1/models/a:predict']! - 1, 45, 'plus one preflight request');
  assert.equal(await runCli(['bench', '--targets', targets, '--stages', '1s:10', '--qps', '5']), 2);
  writeFileSync(targets, JSON.stringify({ url: server.url, wieght: 2 }));
  assert.equal(await runCli(['bench', '--targets', targets, '--qps', '5']), 2);
});

test('weighted order spreads targets smoothly and exactly by weight', () => {
  const next = weightedOrder([3, 1]);
  const seq = Array.from({ length: 8 }, next);
  assert.deepEqual(seq, [0, 0, 1, 0, 0, 0, 1, 0]);
});

test('bench merge of runs with different schedules names each of them', async (t) => {
  const server = await startFixtureServer();
  t.after(() => server.close());
  const dir = tempDir(t);
  const a = path.join(dir, 'a.json');
  const b = path.join(dir, 'b.json');
  const m = path.join(dir, 'm.json');
  const url = `${server.url}/v1/models/m:predict`;
  assert.equal(await runCli(['bench', url, '--qps', '50', '--requests', '10', '--no-progress', '--json', a]), 0);
  assert.equal(await runCli(['bench', url, '--qps', '20', '--requests', '10', '--no-progress', '--json', b]), 0);
  assert.equal(await runCli(['bench', 'merge', a, b, '--json', m]), 0);
  const info = JSON.parse(readFileSync(m, 'utf8')).info;
  assert.equal(info.schedule, '2 runs: constant 50/s + constant 20/s (70/s in total)');
  assert.deepEqual(info.schedules, ['constant 50/s', 'constant 20/s']);
  assert.equal(await runCli(['bench', 'merge', a, a, '--json', m]), 0);
  assert.equal(JSON.parse(readFileSync(m, 'utf8')).info.schedule, '2 runs of constant 50/s each (100/s in total)');
});

test('the live line shows the time left and each SLO over the measured window so far', async () => {
  const { LiveStats } = await import('../../src/core/load/live.js');
  const { progressLine } = await import('../../src/core/load/report/lines.js');
  const { parseSlo } = await import('../../src/core/load/slo.js');
  const live = new LiveStats();
  const slos = ['p99<50ms', 'error_rate<1%'].map(parseSlo);
  live.record({ intended: 0, start: 0, end: 10, status: 200, bytesIn: 1, bytesOut: 1, warmup: true });
  assert.match(progressLine(live.snapshot(1000, 1), 5000, slos), /4s left; SLO: \(warmup\)$/);
  for (let i = 0; i < 9; i++) live.record({ intended: 1000 + i, start: 1000 + i, end: 1010 + i, status: 200, bytesIn: 1, bytesOut: 1 });
  live.record({ intended: 1500, start: 1500, end: 1600, status: 503, bytesIn: 1, bytesOut: 1, error: 'http', message: 'busy' });
  const line = progressLine(live.snapshot(2000, 11), 65_000, slos);
  assert.match(line, /1m03s left; SLO so far: p99<50ms FAILING, error_rate<1% FAILING$/);
  for (let i = 0; i < 200; i++) live.record({ intended: 2000 + i, start: 2000 + i, end: 2005 + i, status: 200, bytesIn: 1, bytesOut: 1 });
  assert.match(progressLine(live.snapshot(3000, 211), 65_000, slos), /SLO so far: p99<50ms ok, error_rate<1% ok$/);
});
