// A real engine fault, contained: the Keras 3 MNIST CNN (TensorFlow-written) on the WASM backend, fed an image of the
// wrong shape straight through the batch scheduler and the worker pool (bypassing the request check at the wire, as a
// request the check misses would). On its own the engine answers that request with an ordinary-looking error and is
// left corrupted: the next valid request traps ("memory access out of bounds"). Here the faulting request gets the 500,
// its worker is replaced, and every good request, before, during and after, is answered exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineFaultError, WorkerPool } from '../../src/core/engine/pool.js';
import { BatchScheduler } from '../../src/core/serving/batcher.js';
import { defaultBatching } from '../../src/core/serving/config.js';
import type { HostTensor } from '../../src/core/engine/types.js';
import { needsShared, sharedModel } from '../helpers/shared-models.js';
import { until } from './helpers.js';

const image = (shape: number[], fill: (i: number) => number): Record<string, HostTensor> => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { keras_tensor: { dtype: 'DT_FLOAT', shape, data: Float32Array.from({ length: n }, (_, i) => fill(i)) } };
};
const good = (k: number) => image([1, 28, 28, 1], (i) => ((i * 7 + k * 13) % 256) / 255);

test('WASM engine fault on the Keras 3 CNN: the bad request gets 500, its worker is replaced, good requests all answered exactly', needsShared, async (t) => {
  const dir = sharedModel('keras/mnist_cnn_keras3/1', t);
  const restarts: string[] = [];
  const pool = new WorkerPool({ size: 2, onWorkerRestart: (reason) => restarts.push(reason) });
  const scheduler = new BatchScheduler(pool, { ...defaultBatching(), numBatchThreads: 2 });
  t.after(async () => {
    scheduler.close();
    await pool.close();
  });
  const loaded = await pool.load('cnn/1', dir, { backend: 'wasm' });
  assert.ok(loaded.signatures.serving_default);
  const id = { key: 'cnn/1', name: 'cnn', version: 1, signature: 'serving_default' };
  // Expected answers, one request at a time before anything went wrong.
  const K = 5;
  const expected: number[][] = [];
  for (let k = 0; k < K; k++) expected.push([...((await scheduler.submit(id, good(k))).output_0!.data as Float32Array)]);
  const close = (got: Float32Array, want: number[]) => got.length === want.length && want.every((v, i) => Math.abs(v - got[i]!) < 1e-5);

  let stop = false;
  let answered = 0;
  const wrong: string[] = [];
  const loop = async (seed: number) => {
    for (let i = 0; !stop && i < 500; i++) {
      const k = (seed + i) % K;
      try {
        const out = await scheduler.submit(id, good(k));
        if (close(out.output_0!.data as Float32Array, expected[k]!)) answered++;
        else wrong.push(`image ${k}: wrong answer`);
      } catch (err) {
        wrong.push(`image ${k}: ${(err as Error).message}`);
      }
    }
  };
  const loops = [loop(0), loop(2)];
  // [1,2,28,1]: a convolution with a negative output size (TensorFlow refuses it; tfjs-wasm writes out of bounds).
  const faults: unknown[] = [];
  for (let i = 0; i < 2; i++) {
    await until(() => answered >= 10 * (i + 1), () => undefined, 60_000);
    faults.push(await scheduler.submit(id, image([1, 2, 28, 1], () => 0.5)).then(() => 'answered', (e: unknown) => e));
  }
  await until(() => answered >= 40 && pool.idleCount() > 0, () => undefined, 60_000);
  stop = true;
  await Promise.all(loops);
  for (const f of faults) {
    assert.ok(f instanceof EngineFaultError, `the bad request failed with a fault: ${String(f)}`);
    assert.equal(f.httpStatus, 500);
    assert.match(f.message, /serving_default/);
    assert.match(f.message, /worker was replaced/);
  }
  assert.deepEqual(wrong, [], 'no good request failed or got a wrong answer');
  assert.deepEqual(restarts, ['fault', 'fault']);
  await until(() => pool.idleCount() === 2, () => undefined, 60_000);
  // Both workers (the replacements included) answer every image exactly.
  for (let k = 0; k < K; k++) {
    const both = await Promise.all([scheduler.submit(id, good(k)), scheduler.submit(id, good(k))]);
    for (const out of both) assert.ok(close(out.output_0!.data as Float32Array, expected[k]!), `image ${k} after the faults`);
  }
});
