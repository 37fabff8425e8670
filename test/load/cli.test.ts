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
  // Twelve times slower: the regression shows in p50 even if a busy machine slowed the baseline run down too.
  delay = 60;
  assert.equal(await runCli([...common, '--baseline', base, '--max-regression', '50%']), 1);
});

test('--find-max finds a rate the server sustains within the SLO, below its capacity', async (t) => {
  // One request at a time, 10 ms each: capacity 100/s; beyond it the queue grows and p99 explodes. The delay is kept
  // in the server's own clock (busyUntil), so a loaded machine can only add latency, never hide an overload.
  const SERVICE_MS = 10;
  const CAPACITY = 1000 / SERVICE_MS;
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
  // Margins against a busy CI machine (2 cores, test files running side by side), which only ever adds latency:
  // - a trial passes only if the generator kept its schedule: a pause of this process delays the requests due during
  //   it, and more than a tenth of them late counts as "behind" (core/load/attack.ts), so a 2 s trial tolerates pauses
  //   up to about 200 ms; --warmup keeps each trial's cold first requests (new connections) out;
  // - the passing trials (50/s, and 100/s when the machine is quiet) see the service time plus any pause; the SLO
  //   leaves 390 ms for that;
  // - from 50/s the search tries 100, 200, 150 and 125/s and stops (30% precision), so no trial runs just above
  //   capacity: at 125/s the queue grows by 0.25 s each second, and p99 after 0.2 s of warmup and 2 s measured is
  //   about 550 ms, over the 400 ms SLO however fast the machine is.
  const out = path.join(dir, 'best.json');
  const trials: { rate: number; pass: boolean }[] = [];
  const code = await withStderr(
    (line) => {
      const m = /^tfsvc: find-max: ([\d.]+)\/s (meets the SLO|fails)/.exec(line);
      if (m) trials.push({ rate: Number(m[1]), pass: m[2] === 'meets the SLO' });
    },
    () =>
      runCli(['bench', server.url, '--model', 'm', '--find-max', '--qps', '50', '--warmup', '200ms', '--duration', '2s', '--slo', 'p99<400ms', '--precision', '30%', '--json', out, '--no-progress']),
  );
  assert.equal(code, 0);
  const best = JSON.parse(readFileSync(out, 'utf8')) as { info: { rate: number } };
  assert.ok(best.info.rate <= CAPACITY * 1.05, `found ${best.info.rate}/s, above the ${CAPACITY}/s capacity`);
  assert.ok(best.info.rate >= 50, `found ${best.info.rate}/s, below the start rate`);
  // The search itself: every rate above capacity failed, and the answer is the highest rate that passed.
  assert.ok(trials.length >= 3, `trials: ${JSON.stringify(trials)}`);
  for (const tr of trials) if (tr.rate > CAPACITY * 1.05) assert.equal(tr.pass, false, `${tr.rate}/s is above capacity and passed`);
  assert.equal(best.info.rate, Math.max(...trials.filter((tr) => tr.pass).map((tr) => tr.rate)));
});

/** Runs `fn` while every line written to stderr is also handed to `onLine` (runCli runs the CLI in this process). */
async function withStderr<T>(onLine: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    for (const line of String(chunk).split('\n')) onLine(line);
    return (write as (...a: unknown[]) => boolean).call(process.stderr, chunk, ...rest);
  }) as typeof process.stderr.write;
  try {
    return await fn();
  } finally {
    process.stderr.write = write;
  }
}
