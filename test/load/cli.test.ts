// Exit codes through the real CLI: 0 when the SLO holds, 1 when it fails (naming the check), 2 for usage and
// connection errors; --find-max finds a rate below the server's capacity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startFixtureServer } from './fixture-server.js';
import { runCli } from './cli-helper.js';

test('bench exit codes: 0 when every SLO holds, 1 when one fails, with reports written either way', async (t) => {
  const server = await startFixtureServer({ delay: () => 10 });
  const dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-bench-'));
  t.after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const common = ['bench', server.url, '--model', 'half_plus_two', '--qps', '50', '--duration', '1s', '--no-progress'];
  const junit = path.join(dir, 'r.xml');
  const html = path.join(dir, 'r.html');
  const summary = path.join(dir, 'summary.md');
  process.env.GITHUB_STEP_SUMMARY = summary;
  t.after(() => delete process.env.GITHUB_STEP_SUMMARY);
  assert.equal(await runCli([...common, '--slo', 'p50<5s', '--slo', 'error_rate<1%', '--junit', junit, '--html', html]), 0);
  assert.match(readFileSync(junit, 'utf8'), /<testcase classname="tfsvc.bench.slo" name="p50&lt;5s"/);
  assert.match(readFileSync(html, 'utf8'), /<svg[\s\S]*Latency by percentile/);
  assert.match(readFileSync(summary, 'utf8'), /SLO met/);
  // The server's own 10 ms delay makes p50<1ms impossible.
  assert.equal(await runCli([...common, '--slo', 'p50<1ms', '--junit', junit]), 1);
  assert.match(readFileSync(junit, 'utf8'), /<failure message="p50&lt;1ms: .*FAILED/);
  assert.match(readFileSync(summary, 'utf8'), /SLO failed/);
});

test('bench exit code 2: unreachable server, bad flags, bad SLO', async () => {
  const server = await startFixtureServer();
  const url = server.url;
  await server.close(); // nothing listens on this port now
  assert.equal(await runCli(['bench', url, '--model', 'm', '--qps', '10', '--duration', '1s', '--no-progress']), 2);
  assert.equal(await runCli(['bench', 'http://127.0.0.1:1', '--qps', '10']), 2, 'no --model');
  assert.equal(await runCli(['bench', 'http://127.0.0.1:1', '--model', 'm', '--qps', '10', '--slo', 'p99<<1']), 2);
  assert.equal(await runCli(['bench', 'http://127.0.0.1:1', '--model', 'm']), 2, 'neither --qps nor --concurrency');
});

test('--baseline: a run slower than the baseline by more than --max-regression fails', async (t) => {
  let delay = 5;
  const server = await startFixtureServer({ delay: () => delay });
  const dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-bench-'));
  t.after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const base = path.join(dir, 'base.json');
  const common = ['bench', `${server.url}/v1/models/m:predict`, '--qps', '50', '--duration', '1s', '--no-progress'];
  assert.equal(await runCli([...common, '--json', base]), 0);
  delay = 30; // six times slower
  assert.equal(await runCli([...common, '--baseline', base, '--max-regression', '50%']), 1);
});

test('--find-max finds a rate the server sustains within the SLO, below its capacity', async (t) => {
  // One request at a time, 10 ms each: capacity 100/s; beyond it the queue grows and p99 explodes.
  const SERVICE_MS = 10;
  let busyUntil = 0;
  const server = await startFixtureServer({
    delay: (_n, now) => {
      busyUntil = Math.max(busyUntil, now) + SERVICE_MS;
      return busyUntil - now;
    },
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-bench-'));
  t.after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const out = path.join(dir, 'best.json');
  const code = await runCli(['bench', server.url, '--model', 'm', '--find-max', '--qps', '25', '--duration', '1s', '--slo', 'p99<100ms', '--precision', '15%', '--json', out, '--no-progress']);
  assert.equal(code, 0);
  const best = JSON.parse(readFileSync(out, 'utf8')) as { info: { rate: number } };
  assert.ok(best.info.rate <= 100 * 1.05, `found ${best.info.rate}/s, above the ${100}/s capacity`);
  assert.ok(best.info.rate >= 25, `found ${best.info.rate}/s`);
});
