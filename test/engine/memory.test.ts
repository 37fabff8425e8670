// A server runs a model millions of times: every request must give back every tfjs tensor it allocated, on success
// and on failure. Each case runs a model 200 times and checks that tf.memory().numTensors (and bytes) end where they
// started after the first request (the first may cache kernels or compile the graph).
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { loadModel, type EngineModel } from '../../src/core/engine/model.js';
import { encodeExample } from '../../src/core/engine/example.js';
import { generateInputs } from '../../src/core/engine/generate-inputs.js';
import type { HostTensor } from '../../src/core/engine/types.js';
import type { MetaGraphDef } from '../../src/core/savedmodel/types.js';
import { needsShared, sharedModel } from '../helpers/shared-models.js';
import { fibonacciMeta, ifMeta, tensorListMeta, tf1WhileMeta, whileSumMeta } from '../graph/control-flow-models.js';
import { removeModelDirs, writeModelDir } from '../helpers/model-dirs.js';

const RUNS = 200;
after(removeModelDirs);
const writeModel = (meta: MetaGraphDef) => writeModelDir(meta, 'tfsvc-memory-');

/** Runs `request` RUNS times (after one warm-up) and asserts tfjs holds as many tensors and bytes as before. */
async function assertNoLeak(request: () => Promise<unknown>): Promise<void> {
  await request();
  const before = tf.memory();
  for (let i = 0; i < RUNS; i++) await request();
  const now = tf.memory();
  assert.equal(now.numTensors, before.numTensors, `tensors: ${before.numTensors} before ${RUNS} requests, ${now.numTensors} after`);
  assert.equal(now.numBytes, before.numBytes, `bytes: ${before.numBytes} before ${RUNS} requests, ${now.numBytes} after`);
}

/** A request that must fail with INVALID_ARGUMENT. */
const rejects = (p: Promise<unknown>) => p.then(() => assert.fail('the request should fail'), (err: Error & { code?: string }) => assert.equal(err.code, 'INVALID_ARGUMENT', err.message));

const f32 = (shape: number[], ...v: number[]): HostTensor => ({ dtype: 'DT_FLOAT', shape, data: Float32Array.from(v) });
const scalar = (dtype: string, v: number): HostTensor => ({ dtype, shape: [], data: dtype === 'DT_FLOAT' ? Float32Array.of(v) : dtype === 'DT_BOOL' ? Uint8Array.of(v) : Int32Array.of(v) });

describe('no tfjs tensor outlives a request', () => {
  const models: EngineModel[] = [];
  after(() => models.forEach((m) => m.dispose()));
  const load = async (dir: string, signatures?: string[]) => {
    const m = await loadModel(dir, { backend: 'cpu', signatures });
    models.push(m);
    return m;
  };

  test('TF1 half_plus_two: predict, classify through ParseExample, failing requests', needsShared, async (t) => {
    const m = await load(sharedModel('tfserving/saved_model_half_plus_two_cpu/00000123', t));
    await assertNoLeak(() => m.run('serving_default', { x: f32([3], 1, 2, 5) }));
    const ex = { dtype: 'DT_STRING', shape: [2], data: [encodeExample({ x: { kind: 'float', values: [5] } }), encodeExample({ x: { kind: 'float', values: [1] } })] };
    await assertNoLeak(() => m.run('classify_x_to_y', { inputs: ex }));
    // A tf.Example without the feature fails inside the graph, after other ops may have run.
    const bad = { dtype: 'DT_STRING', shape: [1], data: [encodeExample({ z: { kind: 'float', values: [5] } })] };
    await assertNoLeak(() => rejects(m.run('classify_x_to_y', { inputs: bad })));
    await assertNoLeak(() => rejects(m.run('serving_default', { x: f32([2], 1) })));
  });

  test('Keras 3 CNN: serve and serving_default share weights; an output filter', needsShared, async (t) => {
    const m = await load(sharedModel('keras/mnist_cnn_keras3/1', t));
    const alias = Object.keys(m.signatures.serve!.inputs)[0]!;
    const x = f32([2, 28, 28, 1], ...new Array(2 * 28 * 28).fill(0.5));
    await assertNoLeak(() => m.run('serving_default', { [alias]: x }));
    await assertNoLeak(() => m.run('serve', { [alias]: x }));
    // Shapes a Conv2D cannot compute with fail inside tfjs.
    await assertNoLeak(() => rejects(m.run('serve', { [alias]: f32([1, 3], 1, 2, 3) })));
  });

  test('TF2 multi-output and int64 models', needsShared, async (t) => {
    const multi = await load(sharedModel('tfjs/model_multi_output', t));
    const sig = multi.signatures.serving_default!;
    const { inputs } = generateInputs(sig.inputs, { batch: 2, values: 'zeros' });
    await assertNoLeak(() => multi.run('serving_default', inputs));
    await assertNoLeak(() => multi.run('serving_default', inputs, [Object.keys(sig.outputs)[0]!]));
    const i64 = await load(sharedModel('tfjs/int64_multiply', t));
    await assertNoLeak(() => i64.run('serving_default', { x: { dtype: 'DT_INT64', shape: [1, 2], data: BigInt64Array.of(3n, 4n) } }));
  });

  test('control flow (executeAsync): While, If, While then If, TensorList, TF1 loop, and a failing loop', async () => {
    const sum = await load(writeModel(whileSumMeta()));
    await assertNoLeak(() => sum.run('serving_default', { n: scalar('DT_INT32', 7) }));
    // Zero iterations: the loop hands back its initial arguments.
    await assertNoLeak(() => sum.run('serving_default', { n: scalar('DT_INT32', 0) }));
    const cond = await load(writeModel(ifMeta()));
    for (const pred of [1, 0]) await assertNoLeak(() => cond.run('serving_default', { x: f32([2], 1, 2.5), pred: scalar('DT_BOOL', pred) }));
    const fib = await load(writeModel(fibonacciMeta()));
    await assertNoLeak(() => fib.run('serving_default', { n: scalar('DT_INT32', 9), negative: scalar('DT_BOOL', 1) }));
    const list = await load(writeModel(tensorListMeta()));
    await assertNoLeak(() => list.run('serving_default', { x: scalar('DT_FLOAT', 1.5) }));
    const tf1 = await load(writeModel(tf1WhileMeta()));
    await assertNoLeak(() => tf1.run('serving_default', { n: scalar('DT_INT32', 5) }));
    // x of shape [2] makes the second TensorListSetItem of the loop fail (the list holds scalars): the request fails
    // inside the async executor, halfway through the loop.
    await assertNoLeak(() => rejects(list.run('serving_default', { x: f32([2], 1.5, 2) })));
  });
});
