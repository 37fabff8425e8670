// Distributed load against a real server: 3 `tfsvc bench --shard i/3` processes at the same time against one
// `tfsvc serve` (fixture MNIST model, loopback) and `bench merge` of their files, compared with one generator at the
// same total rate. Bounded: 150 requests/s in total for 3 s (+1 s warm-up) each way.
//
// Constant arrivals, so counts are exact: each shard sends exactly a third of the single generator's requests (a shard
// sending the full rate sends three times that). The shards start together (--start-at), so the union of their
// windows is the single run's length. Tolerances are for this project's noisy shared 2-core machine and still catch
// the real bugs: a shard at the full rate triples the merged throughput (limit ±40% of the single generator's and of
// the target: at a load average of 22 the single run's window stretched to 3.99 s for 3, a 25% gap); a
// merge that averaged percentiles, or lost a shard's histogram, breaks the mixture bound (a merged quantile lies
// between the shards' own quantiles, at histogram resolution) or the count identity. Latencies of the two runs are
// compared only "of the same order" (p50 within a factor 5): three generator processes and the server share 2 cores
// with other work, where one generator and the server did not.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Serving } from '../../src/core/serving/server.js';
import { startMnistServing } from '../helpers/mnist-serving.js';
import { Metrics } from '../../src/core/load/metrics.js';
import { repoRoot } from '../helpers/shared-models.js';

const RATE = 150;
const SECONDS = 3;
let dir: string;
let serving: Serving | undefined;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tfsvc-shards-'));
  serving = await startMnistServing();
});

after(async () => {
  await serving?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs the real CLI in its own process (each generator owns its event loop, as on separate machines). */
function tfsvc(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin/tfsvc'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stderr });
    });
  });
}

const read = (file: string) => Metrics.fromJSON(JSON.parse(readFileSync(file, 'utf8')));

test('3 shards side by side give, merged, the throughput of one generator at the total rate and latencies of its order', { timeout: 180_000 }, async (t) => {
  const url = `http://127.0.0.1:${serving!.restPort}`;
  const common = ['--model', 'mnist', '--qps', String(RATE), '--duration', `${SECONDS}s`, '--warmup', '1s', '--no-progress'];
  const shardFiles = [0, 1, 2].map((i) => path.join(dir, `shard-${i}.json`));
  // Time for three Node processes to start and send their preflight request on a busy machine (a load average above
  // 10 has been seen here): waiting is cheap, a shard starting late would lower the merged throughput.
  const startAt = new Date(Date.now() + 15_000).toISOString();
  const runs = await Promise.all(shardFiles.map((f, i) => tfsvc(['bench', url, ...common, '--shard', `${i}/3`, '--run-id', 'test-run', '--start-at', startAt, '--json', f])));
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  const mergedFile = path.join(dir, 'merged.json');
  const merge = await tfsvc(['bench', 'merge', ...shardFiles, '--slo', 'error_rate<1%', '--json', mergedFile]);
  assert.equal(merge.code, 0, merge.stderr);
  const single = await tfsvc(['bench', url, ...common, '--json', path.join(dir, 'single.json')]);
  assert.equal(single.code, 0, single.stderr);

  const shards = shardFiles.map(read);
  const merged = read(mergedFile);
  const one = read(path.join(dir, 'single.json'));
  const m = merged.summary();
  const s = one.summary();
  t.diagnostic(`merged: ${m.requests} requests, ${m.throughput.toFixed(1)}/s over ${(m.durationMs / 1000).toFixed(2)}s, p50 ${m.corrected.p50.toFixed(2)} ms, p99 ${m.corrected.p99.toFixed(2)} ms`);
  t.diagnostic(`single: ${s.requests} requests, ${s.throughput.toFixed(1)}/s over ${(s.durationMs / 1000).toFixed(2)}s, p50 ${s.corrected.p50.toFixed(2)} ms, p99 ${s.corrected.p99.toFixed(2)} ms`);
  t.diagnostic(`shards: ${shards.map((x) => `${x.requests} requests ${x.summary().throughput.toFixed(1)}/s from ${x.info.startedAt}`).join('; ')}`);

  // Each shard sent exactly its third of the single generator's requests.
  assert.equal(s.requests, RATE * SECONDS);
  for (const x of shards) assert.equal(x.requests, (RATE * SECONDS) / 3, `a shard sent ${x.requests} of ${RATE * SECONDS}`);
  assert.deepEqual(shards.map((x) => x.info.shard!.index), [0, 1, 2]);
  assert.equal(new Set(shards.map((x) => x.info.shard!.plan)).size, 1);
  // Merged: everything the shards counted, the total target rate, and the single generator's throughput.
  assert.equal(merged.requests, shards.reduce((a, x) => a + x.requests, 0));
  assert.equal(merged.corrected.totalCount, shards.reduce((a, x) => a + x.corrected.totalCount, 0));
  assert.equal(merged.info.rate, RATE);
  assert.equal(merged.info.shards?.runId, 'test-run');
  assert.ok(Math.abs(m.throughput - s.throughput) <= 0.4 * s.throughput, `merged ${m.throughput}/s vs single ${s.throughput}/s`);
  assert.ok(Math.abs(m.throughput - RATE) <= 0.4 * RATE, `merged ${m.throughput}/s vs the target ${RATE}/s`);
  // Percentiles: a merged quantile lies between the shards' quantiles (histogram addition); same order as one generator.
  for (const key of ['p50', 'p90', 'p99'] as const) {
    const own = shards.map((x) => x.summary().corrected[key]);
    assert.ok(m.corrected[key] >= Math.min(...own) * 0.999 && m.corrected[key] <= Math.max(...own) * 1.001, `merged ${key} ${m.corrected[key]} outside the shards' ${own.join(', ')}`);
  }
  const ratio = m.corrected.p50 / s.corrected.p50;
  assert.ok(ratio > 1 / 5 && ratio < 5, `p50 merged ${m.corrected.p50} ms vs single ${s.corrected.p50} ms`);
});
