// The batch scheduler against a fake executor (no threads): what batches form, how outputs go back, when it refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchScheduler, batchableSignature } from '../../src/core/serving/batcher.js';
import type { Executor } from '../../src/core/engine/pool.js';
import type { HostTensor } from '../../src/core/engine/types.js';
import { defaultBatching, parseBatchingParameters, type BatchingConfig } from '../../src/core/serving/config.js';
import { RequestError } from '../../src/core/errors.js';

/** Runs batches when the test says so; records every batch's inputs. y = x * 10, plus `n` = rows of the batch. */
class FakeExecutor implements Executor {
  size: number;
  busy = 0;
  batches: HostTensor[] = [];
  private listener: () => void = () => undefined;
  private waiting: (() => void)[] = [];
  constructor(size = 1, readonly manual = false) {
    this.size = size;
  }
  idleCount(): number {
    return this.size - this.busy;
  }
  onIdle(l: () => void): void {
    this.listener = l;
  }
  async run(_key: string, _sig: string, inputs: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
    this.busy++;
    const x = inputs.x!;
    this.batches.push(x);
    if (this.manual) await new Promise<void>((r) => this.waiting.push(r));
    else await Promise.resolve();
    this.busy--;
    queueMicrotask(() => this.listener());
    const y = Float32Array.from(x.data as Float32Array, (v) => v * 10);
    return { y: { dtype: 'DT_FLOAT', shape: [...x.shape], data: y }, n: { dtype: 'DT_INT32', shape: [], data: Int32Array.of(x.shape[0]!) } };
  }
  release(): void {
    for (const w of this.waiting.splice(0)) w();
  }
}

const id = { key: 'm/1#1', name: 'm', version: 1, signature: 'serving_default' };
const rows = (...v: number[][]): Record<string, HostTensor> => ({
  x: { dtype: 'DT_FLOAT', shape: [v.length, v[0]!.length], data: Float32Array.from(v.flat()) },
});
const cfg = (o: Partial<BatchingConfig>): BatchingConfig => ({ ...defaultBatching(), numBatchThreads: 1, ...o });
const values = (t: HostTensor | undefined) => [...(t!.data as Float32Array)];

test('requests queued while the worker is busy form one batch; outputs are split back by rows', async () => {
  const ex = new FakeExecutor(1, true);
  const s = new BatchScheduler(ex, cfg({}));
  const first = s.submit(id, rows([1, 1]));
  const queued = [s.submit(id, rows([2, 2])), s.submit(id, rows([3, 3], [4, 4])), s.submit(id, rows([5, 5]))];
  ex.release();
  await first;
  await new Promise((r) => setImmediate(r));
  ex.release();
  const out = await Promise.all(queued);
  assert.deepEqual(ex.batches.map((b) => b.shape), [[1, 2], [4, 2]]);
  assert.deepEqual(values(out[0]!.y), [20, 20]);
  assert.deepEqual(values(out[1]!.y), [30, 30, 40, 40]);
  assert.deepEqual(out[1]!.y!.shape, [2, 2]);
  assert.deepEqual(values(out[2]!.y), [50, 50]);
  // A scalar output (not batched) is given to every request whole.
  assert.deepEqual([...(out[2]!.n!.data as Int32Array)], [4]);
});

test('max_batch_size caps a batch, allowed_batch_sizes pads it with copies of the first row', async () => {
  const ex = new FakeExecutor(1, true);
  const s = new BatchScheduler(ex, cfg({ maxBatchSize: 4, allowedBatchSizes: [2, 4] }));
  const first = s.submit(id, rows([0]));
  const queued = [1, 2, 3, 4, 5].map((v) => s.submit(id, rows([v])));
  ex.release();
  await first;
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r));
    ex.release();
  }
  const out = await Promise.all(queued);
  assert.deepEqual(ex.batches.map((b) => values(b)), [[0, 0], [1, 2, 3, 4], [5, 5]]);
  assert.deepEqual(out.map((o) => values(o.y)), [[10], [20], [30], [40], [50]]);
});

test('a request larger than max_batch_size is split and joined back, or refused when splitting is off', async () => {
  const ex = new FakeExecutor(2);
  const s = new BatchScheduler(ex, cfg({ maxBatchSize: 2 }));
  const out = await s.submit(id, rows([1], [2], [3], [4], [5]));
  assert.deepEqual(values(out.y), [10, 20, 30, 40, 50]);
  assert.deepEqual(out.y!.shape, [5, 1]);
  assert.ok(ex.batches.every((b) => b.shape[0]! <= 2));
  const strict = new BatchScheduler(new FakeExecutor(), cfg({ maxBatchSize: 2, enableLargeBatchSplitting: false }));
  await assert.rejects(strict.submit(id, rows([1], [2], [3])), (e: unknown) => e instanceof RequestError && e.httpStatus === 400 && /Task size 3 is larger than maximum input batch size 2/.test(e.message));
});

test('a request that can never fit gets 400 saying why, not 503: more rows than the whole queue, or than a batch with splitting off', async () => {
  const ex = new FakeExecutor(1);
  const s = new BatchScheduler(ex, cfg({ maxBatchSize: 2, maxEnqueuedBatches: 4 }));
  const nine = rows(...Array.from({ length: 9 }, (_, i) => [i]));
  await assert.rejects(s.submit(id, nine), (e: unknown) =>
    e instanceof RequestError && e.httpStatus === 400 && /the request has 9 rows and the queue holds at most 8 \(max_enqueued_batches 4 × max_batch_size 2\)/.test(e.message),
  );
  assert.equal(ex.batches.length, 0, 'nothing ran');
  const eight = await s.submit(id, rows(...Array.from({ length: 8 }, (_, i) => [i])));
  assert.deepEqual(values(eight.y), [0, 10, 20, 30, 40, 50, 60, 70]);
  // BatchingParameters' enable_large_batch_splitting is honoured (default on, as parsed without the field).
  assert.equal(parseBatchingParameters('max_batch_size { value: 2 }').enableLargeBatchSplitting, true);
  const off = parseBatchingParameters('max_batch_size { value: 2 } enable_large_batch_splitting { value: false }');
  const strict = new BatchScheduler(new FakeExecutor(), { ...off, numBatchThreads: 1 });
  await assert.rejects(strict.submit(id, rows([1], [2], [3])), (e: unknown) =>
    e instanceof RequestError && e.code === 'INVALID_ARGUMENT' && /the request has 3 rows and batches hold at most 2 \(max_batch_size\)/.test(e.message),
  );
});

test('a full queue refuses at once with UNAVAILABLE (503); queued requests still complete', async () => {
  const ex = new FakeExecutor(1, true);
  const s = new BatchScheduler(ex, cfg({ maxBatchSize: 2, maxEnqueuedBatches: 1 }));
  const running = s.submit(id, rows([1]));
  const queued = [s.submit(id, rows([2])), s.submit(id, rows([3]))];
  await assert.rejects(s.submit(id, rows([4])), (e: unknown) => e instanceof RequestError && e.httpStatus === 503);
  ex.release();
  await running;
  await new Promise((r) => setImmediate(r));
  ex.release();
  assert.deepEqual((await Promise.all(queued)).map((o) => values(o.y)), [[20], [30]]);
});

test('incompatible requests (other inner shape, other dtype) are not batched together', async () => {
  const ex = new FakeExecutor(1, true);
  const s = new BatchScheduler(ex, cfg({}));
  const first = s.submit(id, rows([0]));
  const a = s.submit(id, rows([1]));
  const b = s.submit(id, rows([2, 2]));
  const c = s.submit(id, rows([3]));
  ex.release();
  await first;
  for (let i = 0; i < 2; i++) {
    await new Promise((r) => setImmediate(r));
    ex.release();
  }
  await Promise.all([a, b, c]);
  assert.deepEqual(ex.batches.map((x) => x.shape), [[1, 1], [2, 1], [1, 2]]);
});

test('batch_timeout_micros holds a lone request until the timeout, then runs it', async () => {
  const ex = new FakeExecutor(1);
  const s = new BatchScheduler(ex, cfg({ maxBatchSize: 8, batchTimeoutMicros: 30_000 }));
  const t0 = performance.now();
  const [a, b] = await Promise.all([s.submit(id, rows([1])), s.submit(id, rows([2]))]);
  assert.ok(performance.now() - t0 >= 25, 'waited for the batch timeout');
  assert.deepEqual(ex.batches.map((x) => x.shape[0]), [2]);
  assert.deepEqual([values(a.y), values(b.y)], [[10], [20]]);
});

test('an aborted request is dropped from the queue with CANCELLED and never runs', async () => {
  const ex = new FakeExecutor(1, true);
  const s = new BatchScheduler(ex, cfg({}));
  const running = s.submit(id, rows([1]));
  const ctl = new AbortController();
  const dropped = s.submit(id, rows([2]), undefined, ctl.signal);
  ctl.abort();
  await assert.rejects(dropped, (e: unknown) => e instanceof RequestError && e.code === 'CANCELLED');
  ex.release();
  await running;
  assert.equal(ex.batches.length, 1);
});

test('batching disabled: every request runs alone', async () => {
  const ex = new FakeExecutor(1, true);
  const s = new BatchScheduler(ex, cfg({ enabled: false }));
  const all = [s.submit(id, rows([1])), s.submit(id, rows([2])), s.submit(id, rows([3]))];
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r));
    ex.release();
  }
  await Promise.all(all);
  assert.deepEqual(ex.batches.map((x) => x.shape[0]), [1, 1, 1]);
});

test('a signature without a free batch dimension runs each request alone: no joining, padding or splitting', async () => {
  assert.equal(batchableSignature({ x: { shape: [-1, 28, 28] }, y: { shape: null } }), true);
  assert.equal(batchableSignature({ x: { shape: [1, 28, 28] } }), false, 'fixed dim 0');
  assert.equal(batchableSignature({ x: { shape: [-1, 2] }, k: { shape: [] } }), false, 'a scalar input');
  const ex = new FakeExecutor(1);
  const s = new BatchScheduler(ex, cfg({ maxBatchSize: 2, allowedBatchSizes: [2] }));
  const fixed = { ...id, signature: 'fixed', batchable: false };
  // Submitted together while the one worker is busy with the first: a batchable signature would join them.
  const first = s.submit(fixed, rows([0]));
  const queued = [s.submit(fixed, rows([1])), s.submit(fixed, rows([2])), s.submit(fixed, rows([3], [4], [5]))];
  await first;
  const out = await Promise.all(queued);
  assert.deepEqual(ex.batches.map((b) => values(b)), [[0], [1], [2], [3, 4, 5]], 'each request ran as sent');
  assert.deepEqual(out.map((o) => values(o.y)), [[10], [20], [30, 40, 50]]);
});

test('with every worker busy, an expired batch timeout does not spin the event loop', async () => {
  const ex = new FakeExecutor(1, true);
  let polls = 0;
  const idle = ex.idleCount.bind(ex);
  ex.idleCount = () => {
    polls++;
    return idle();
  };
  const s = new BatchScheduler(ex, cfg({ maxBatchSize: 8, batchTimeoutMicros: 1000 }));
  const running = s.submit(id, rows([1], [2], [3], [4], [5], [6], [7], [8]));
  const waiting = s.submit(id, rows([9]));
  polls = 0;
  // Long past the 1 ms timeout: the scheduler must wait for the worker, not re-arm a timer already due every tick.
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(polls <= 2, `the scheduler woke up ${polls} times while no worker was free`);
  ex.release();
  await running;
  await new Promise((r) => setImmediate(r));
  ex.release();
  assert.deepEqual(values((await waiting).y), [90]);
});

test('a split request settles only after all its chunks did (its version must outlive every running chunk)', async () => {
  let finishSecond: () => void = () => undefined;
  let runs = 0;
  const ex: Executor = {
    size: 2,
    idleCount: () => 2 - runs,
    onIdle: () => undefined,
    run: async (_k, _s, inputs) => {
      runs++;
      if (runs === 1) throw new RequestError('INVALID_ARGUMENT', 'bad chunk');
      await new Promise<void>((r) => (finishSecond = r));
      return { y: inputs.x! };
    },
  };
  const s = new BatchScheduler(ex, cfg({ maxBatchSize: 1 }));
  let settled = false;
  const all = s.submit(id, rows([1], [2])).finally(() => (settled = true));
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(settled, false, 'still waiting for the chunk that is running');
  finishSecond();
  await assert.rejects(all, /bad chunk/);
});

test('a request dropped for its deadline fails with DEADLINE_EXCEEDED, not a generic CANCELLED', async () => {
  const ex = new FakeExecutor(1, true);
  const s = new BatchScheduler(ex, cfg({}));
  const running = s.submit(id, rows([1]));
  const ctl = new AbortController();
  const dropped = s.submit(id, rows([2]), undefined, ctl.signal);
  ctl.abort(new RequestError('DEADLINE_EXCEEDED', 'Deadline Exceeded'));
  await assert.rejects(dropped, (e: unknown) => e instanceof RequestError && e.code === 'DEADLINE_EXCEEDED');
  ex.release();
  await running;
});

test('pad_variable_length_inputs: requests of different inner sizes share a batch, each padded with its first element', async () => {
  const ex = new FakeExecutor(1, true);
  const s = new BatchScheduler(ex, cfg({ padVariableLengthInputs: true }));
  const first = s.submit(id, rows([9]));
  const queued = [s.submit(id, rows([1, 2])), s.submit(id, rows([3, 4, 5], [6, 7, 8])), s.submit(id, rows([7]))];
  ex.release();
  await first;
  await new Promise((r) => setImmediate(r));
  ex.release();
  const out = await Promise.all(queued);
  assert.deepEqual(ex.batches.map((b) => b.shape), [[1, 1], [4, 3]]);
  assert.deepEqual(values(ex.batches[1]), [1, 2, 1, 3, 4, 5, 6, 7, 8, 7, 7, 7]);
  assert.deepEqual(values(out[0]!.y), [10, 20, 10], 'each request gets its rows at the padded width');
  assert.deepEqual(out[1]!.y!.shape, [2, 3]);
  assert.deepEqual(values(out[2]!.y), [70, 70, 70]);
  // Without the option the same requests run in separate batches.
  const ex2 = new FakeExecutor(1, true);
  const s2 = new BatchScheduler(ex2, cfg({}));
  const a = s2.submit(id, rows([9]));
  const b = [s2.submit(id, rows([1, 2])), s2.submit(id, rows([7]))];
  for (let i = 0; i < 3; i++) {
    ex2.release();
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all([a, ...b]);
  assert.deepEqual(ex2.batches.map((x) => x.shape), [[1, 1], [1, 2], [1, 1]]);
});
