// The worker pool with the fake engine in real threads: loading everywhere, zero-copy transfer, errors, and a worker
// that dies being replaced (with its models reloaded) while the others keep serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { WorkerPool } from '../../src/core/engine/pool.js';
import { ModelError, RequestError } from '../../src/core/errors.js';
import type { HostTensor } from '../../src/core/engine/types.js';
import { FAKE_ENGINE, tmpBase, until, writeVersion } from './helpers.js';

const x = (...v: number[]): Record<string, HostTensor> => ({ x: { dtype: 'DT_FLOAT', shape: [v.length, 1], data: Float32Array.from(v) } });

test('loads into every worker, runs with inputs shared or transferred, reports engine errors and dead workers', async (t) => {
  const base = tmpBase();
  const dir = writeVersion(base, 1, { mul: 4 });
  const pool = new WorkerPool({ size: 2, loaderModule: FAKE_ENGINE });
  t.after(async () => {
    await pool.close();
    rmSync(base, { recursive: true, force: true });
  });
  const info = await pool.load('m/1', dir);
  assert.deepEqual(Object.keys(info.signatures).sort(), ['crash', 'echo_batch', 'faulty', 'fixed_batch', 'serving_default']);
  assert.equal(pool.idleCount(), 2);

  // Small batches go through the worker's shared arena; a batch over 16 MB moves its buffers (transferred, not copied).
  const out = await pool.run('m/1', 'serving_default', x(1, 2));
  assert.deepEqual([...(out.y!.data as Float32Array)], [4, 8]);
  const big = new Float32Array((16 << 20) / 4 + 1).fill(1);
  const bigOut = await pool.run('m/1', 'serving_default', { x: { dtype: 'DT_FLOAT', shape: [big.length, 1], data: big } });
  assert.equal(big.byteLength, 0, 'the large input buffer moved to the worker (transferred, not copied)');
  assert.equal((bigOut.y!.data as Float32Array).length, (16 << 20) / 4 + 1);
  assert.equal((bigOut.y!.data as Float32Array)[12345], 4);
  // Batches reuse the arena: consecutive runs of different sizes and dtypes each get their own values back.
  for (const v of [[3], [5, 6, 7], [9]]) assert.deepEqual([...((await pool.run('m/1', 'serving_default', x(...v))).y!.data as Float32Array)], v.map((n) => n * 4));

  await assert.rejects(pool.load('bad', base + '/nope'), ModelError);
  await assert.rejects(pool.run('m/2', 'serving_default', x(1)), (e: unknown) => e instanceof RequestError && e.code === 'UNAVAILABLE');

  await assert.rejects(pool.run('m/1', 'crash', x(666)), (e: unknown) => e instanceof RequestError && e.code === 'INTERNAL' && /worker stopped/.test(e.message));
  await until(() => pool.idleCount() === 2, () => undefined);
  const results = await Promise.all([pool.run('m/1', 'serving_default', x(1)), pool.run('m/1', 'serving_default', x(2))]);
  assert.deepEqual(results.map((r) => [...(r.y!.data as Float32Array)]), [[4], [8]], 'the replacement worker reloaded the model');
});

test('a request that cannot be posted to a worker fails alone; the worker stays usable', async (t) => {
  const base = tmpBase();
  const dir = writeVersion(base, 1, { mul: 2 });
  const pool = new WorkerPool({ size: 1, loaderModule: FAKE_ENGINE });
  t.after(async () => {
    await pool.close();
    rmSync(base, { recursive: true, force: true });
  });
  await pool.load('m/1', dir);
  // An input whose buffer was already handed away (detached) cannot be transferred.
  const gone = x(1);
  const buffer = (gone.x!.data as Float32Array).buffer as ArrayBuffer;
  structuredClone(buffer, { transfer: [buffer] });
  await assert.rejects(pool.run('m/1', 'serving_default', gone), (e: unknown) => e instanceof RequestError && e.code === 'INVALID_ARGUMENT');
  assert.equal(pool.idleCount(), 1, 'the worker was not left busy');
  const out = await pool.run('m/1', 'serving_default', x(3));
  assert.deepEqual([...(out.y!.data as Float32Array)], [6]);
});
