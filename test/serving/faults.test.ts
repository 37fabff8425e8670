// Engine faults are contained (issue 8 item 2), with the fake engine's `faulty` signature in real worker threads: a
// request that traps the engine fails alone with 500, its worker is replaced (and the model reloaded) while the other
// worker keeps serving, requests batched with it are re-run alone and answered exactly, an empty or truncated result
// never reaches a client as a success, and the restart counter counts it.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EngineFaultError, WorkerPool } from '../../src/core/engine/pool.js';
import { BatchScheduler } from '../../src/core/serving/batcher.js';
import { defaultBatching } from '../../src/core/serving/config.js';
import { startServing } from '../../src/core/serving/server.js';
import { RequestError } from '../../src/core/errors.js';
import type { HostTensor } from '../../src/core/engine/types.js';
import { call, FAKE_ENGINE, tmpBase, until, writeVersion } from './helpers.js';

const x = (...v: number[]): Record<string, HostTensor> => ({ x: { dtype: 'DT_FLOAT', shape: [v.length, 1], data: Float32Array.from(v) } });
const ys = (out: Record<string, HostTensor>): number[] => [...(out.y!.data as Float32Array)];

/** Serves model `m` (one fake version, y = x * mul) over REST with two workers for the test `t`; returns the port. */
async function serveFake(t: TestContext, mul: number): Promise<number> {
  const base = tmpBase();
  writeVersion(base, 1, { mul });
  const serving = await startServing({
    models: [{ name: 'm', basePath: base, policy: { kind: 'latest', numVersions: 1 }, labels: {} }],
    restPort: 0,
    host: '127.0.0.1',
    pollSeconds: 0,
    batching: { ...defaultBatching(), numBatchThreads: 2 },
    loaderModule: FAKE_ENGINE,
  });
  t.after(async () => {
    await serving.close();
    rmSync(base, { recursive: true, force: true });
  });
  return serving.restPort;
}

test('pool: a fault fails its run alone and replaces only that worker; loads survive it; restarts are reported', async (t) => {
  const base = tmpBase();
  const dir = writeVersion(base, 1, { mul: 2 });
  const restarts: string[] = [];
  const pool = new WorkerPool({ size: 2, loaderModule: FAKE_ENGINE, onWorkerRestart: (reason) => restarts.push(reason) });
  t.after(async () => {
    await pool.close();
    rmSync(base, { recursive: true, force: true });
  });
  await pool.load('m/1', dir);
  await assert.rejects(pool.run('m/1', 'faulty', x(13)), (e: unknown) =>
    e instanceof EngineFaultError && e.httpStatus === 500 && /memory access out of bounds/.test(e.message) && /signature "faulty" of model m\/1/.test(e.message),
  );
  assert.deepEqual(restarts, ['fault']);
  // The other worker is idle at once; the replacement joins once it has reloaded the model.
  assert.ok(pool.idleCount() >= 1);
  await until(() => pool.idleCount() === 2, () => undefined);
  // Two runs at once land on both workers: neither is the poisoned one (a poisoned engine would fail every run).
  for (let round = 0; round < 3; round++) {
    const both = await Promise.all([pool.run('m/1', 'faulty', x(1, 2)), pool.run('m/1', 'serving_default', x(3))]);
    assert.deepEqual(both.map(ys), [[2, 4], [6]]);
  }
  // An ordinary-looking engine error after which the engine is broken: the worker's health check finds out, so this
  // request gets the 500 and its worker is replaced before a good request lands there.
  await assert.rejects(pool.run('m/1', 'faulty', x(21)), (e: unknown) =>
    e instanceof EngineFaultError && /Error in fused matMul/.test(e.message) && /did not survive it: a known-good request now fails/.test(e.message),
  );
  assert.deepEqual(restarts, ['fault', 'fault']);
  await until(() => pool.idleCount() === 2, () => undefined);
  for (let round = 0; round < 3; round++) {
    const both = await Promise.all([pool.run('m/1', 'faulty', x(1, 2)), pool.run('m/1', 'faulty', x(3))]);
    assert.deepEqual(both.map(ys), [[2, 4], [6]]);
  }
  // A truncated result is a fault too; an empty one for a non-empty request is the request's error (400), no restart.
  await assert.rejects(pool.run('m/1', 'faulty', x(8, 1)), (e: unknown) => e instanceof EngineFaultError && /holds 0 values, not 2/.test(e.message));
  assert.deepEqual(restarts, ['fault', 'fault', 'fault']);
  await until(() => pool.idleCount() === 2, () => undefined);
  await assert.rejects(pool.run('m/1', 'faulty', x(7, 1)), (e: unknown) =>
    e instanceof RequestError && e.httpStatus === 400 && /returned 0 rows of output "y" for a request of 2/.test(e.message),
  );
  assert.equal(restarts.length, 3, 'a healthy engine after an input error is kept');
  // A version loaded after the restarts is in every worker, the replacements included.
  const dir2 = writeVersion(base, 2, { mul: 5 });
  await pool.load('m/2', dir2);
  const twice = await Promise.all([pool.run('m/2', 'serving_default', x(1)), pool.run('m/2', 'serving_default', x(2))]);
  assert.deepEqual(twice.map(ys), [[5], [10]]);
});

test('pool: a replacement that dies while reloading is retried after a growing pause, then serves again', async (t) => {
  const base = tmpBase();
  const dieFile = path.join(base, 'die');
  const dir = writeVersion(base, 1, { mul: 2, dieOnLoadFile: dieFile });
  const restarts: string[] = [];
  const pool = new WorkerPool({ size: 1, loaderModule: FAKE_ENGINE, onWorkerRestart: (reason) => restarts.push(reason) });
  t.after(async () => {
    await pool.close();
    rmSync(base, { recursive: true, force: true });
  });
  await pool.load('m/1', dir);
  writeFileSync(dieFile, '');
  await assert.rejects(pool.run('m/1', 'crash', x(666)), EngineFaultError);
  // The first replacement reloads at once and dies; the next ones wait 250 ms, 500 ms, 1 s, ...: few restarts in 1.2 s.
  await new Promise((r) => setTimeout(r, 1200));
  assert.ok(restarts.length >= 2 && restarts.length <= 5, `restarts in 1.2 s: ${restarts.length}`);
  assert.equal(pool.idleCount(), 0);
  rmSync(dieFile);
  await until(() => pool.idleCount() === 1, () => undefined, 10_000);
  assert.deepEqual(ys(await pool.run('m/1', 'serving_default', x(4))), [8]);
});

test('scheduler: requests batched with a faulting one are re-run alone and answered exactly; only the faulting one fails', async (t) => {
  const base = tmpBase();
  const holdFile = path.join(base, 'hold');
  writeFileSync(holdFile, '');
  const dir = writeVersion(base, 1, { mul: 2, add: 1, holdFile });
  const pool = new WorkerPool({ size: 1, loaderModule: FAKE_ENGINE });
  const batches: number[] = [];
  const scheduler = new BatchScheduler(pool, { ...defaultBatching(), numBatchThreads: 1 }, { batch: (_q, info) => batches.push(info.size) });
  t.after(async () => {
    rmSync(holdFile, { force: true });
    scheduler.close();
    await pool.close();
    rmSync(base, { recursive: true, force: true });
  });
  await pool.load('m/1', dir);
  const id = { key: 'm/1', name: 'm', version: 1, signature: 'faulty' };
  // The first request holds the only worker; the next five queue up and leave together as one batch.
  const first = scheduler.submit(id, x(0));
  await until(() => pool.idleCount() === 0, () => undefined);
  const values = [1, 2, 13, 3, 4];
  const settled = Promise.allSettled(values.map((v) => scheduler.submit(id, x(v))));
  rmSync(holdFile);
  assert.deepEqual(ys(await first), [1]);
  const results = await settled;
  assert.equal(batches[1], 5, `the queued requests ran as one batch first (batches: ${batches})`);
  results.forEach((r, i) => {
    if (values[i] === 13) {
      assert.equal(r.status, 'rejected');
      assert.ok((r as PromiseRejectedResult).reason instanceof EngineFaultError);
    } else {
      assert.equal(r.status, 'fulfilled', `request ${values[i]}: ${(r as PromiseRejectedResult).reason}`);
      assert.deepEqual(ys((r as PromiseFulfilledResult<Record<string, HostTensor>>).value), [values[i]! * 2 + 1]);
    }
  });
  // Re-run alone: one batch per task after the faulted one (the 13 faulted a second worker, alone).
  assert.deepEqual(batches.slice(2).sort(), [1, 1, 1, 1, 1]);
  assert.deepEqual(ys(await scheduler.submit(id, x(5, 6))), [11, 13]);
});

test('server: a faulting request gets 500 while concurrent good requests succeed; later requests are exact; metrics count the restart', async (t) => {
  const port = await serveFake(t, 3);
  const predict = (v: number) => call(port, 'POST', '/v1/models/m:predict', { signature_name: 'faulty', instances: [[v]] });
  let stop = false;
  let good = 0;
  const wrong: string[] = [];
  const loop = async () => {
    for (let i = 0; !stop && i < 2000; i++) {
      const v = (i % 5) + 1;
      const r = await predict(v);
      if (r.status === 200 && r.json?.predictions?.[0]?.[0] === v * 3) good++;
      else wrong.push(`${v}: ${r.status} ${r.text}`);
    }
  };
  const loops = [loop(), loop(), loop()];
  const faults = [];
  for (let i = 0; i < 3; i++) {
    await until(() => good > 20 * (i + 1), () => undefined);
    faults.push(await predict(13));
  }
  await until(() => good > 100, () => undefined);
  stop = true;
  await Promise.all(loops);
  for (const f of faults) {
    assert.equal(f.status, 500, f.text);
    assert.match(f.json.error, /memory access out of bounds/);
    assert.match(f.json.error, /worker was replaced/);
  }
  assert.deepEqual(wrong, [], 'every good request was answered exactly');
  for (const v of [1, 2, 3, 4, 5, 6, 9, 10, 11, 12]) assert.deepEqual((await predict(v)).json, { predictions: [[v * 3]] });
  const metrics = (await call(port, 'GET', '/monitoring/prometheus/metrics')).text;
  const m = /^tfsvc_worker_restarts_total\{reason="fault"\} (\d+)/m.exec(metrics);
  assert.ok(m, 'restart counter exported');
  // One per faulting request, or two when it had been batched with good requests (the batch faults, then it alone).
  assert.ok(Number(m[1]) >= 3 && Number(m[1]) <= 6, `restarts: ${m[1]}`);
  assert.equal((await call(port, 'GET', '/v1/models/m')).json.model_version_status[0].state, 'AVAILABLE');
});

test('server: a request larger than max_batch_size is split and answered in order; one larger than the whole queue gets 400, not 503', async (t) => {
  const port = await serveFake(t, 2);
  // 1000 rows with max_batch_size 256: four batches, joined back in order.
  const rows = Array.from({ length: 1000 }, (_, i) => [i]);
  const split = await call(port, 'POST', '/v1/models/m:predict', { instances: rows });
  assert.equal(split.status, 200, split.text);
  assert.deepEqual(split.json.predictions, rows.map(([v]) => [v! * 2]));
  // 16,385 rows on an idle server (the default queue holds 64 × 256 = 16,384): it could never be accepted.
  const never = await call(port, 'POST', '/v1/models/m:predict', { instances: Array.from({ length: 16385 }, () => [1]) });
  assert.equal(never.status, 400, never.text);
  assert.match(never.json.error, /the request has 16385 rows and the queue holds at most 16384/);
  const fits = await call(port, 'POST', '/v1/models/m:predict', { instances: Array.from({ length: 16384 }, () => [1]) });
  assert.equal(fits.status, 200, fits.text);
  assert.equal(fits.json.predictions.length, 16384);
});
