// Known answers of real TensorFlow-written SavedModels (../shared/models/README.md) on the wasm and cpu backends.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/core/engine/model.js';
import { encodeExample } from '../../src/core/engine/example.js';
import type { HostTensor } from '../../src/core/engine/types.js';
import { needsShared, sharedModel } from '../helpers/shared-models.js';

const T = (dtype: string, shape: number[], data: HostTensor['data']): HostTensor => ({ dtype, shape, data });
const f32 = (...v: number[]) => Float32Array.from(v);
const examples = (key: string, ...v: number[]) => v.map((x) => encodeExample({ [key]: { kind: 'float', values: [x] } }));

function close(actual: HostTensor, expected: number[], shape?: number[]): void {
  assert.deepEqual(Array.from(actual.data as Float32Array), expected.map((x) => Math.fround(x)));
  if (shape) assert.deepEqual(actual.shape, shape);
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`known answers on ${backend}`, needsShared, () => {
    test('half_plus_two TF1: [1,2,5] -> [2.5,3,4.5]', async (t) => {
      const m = await loadModel(sharedModel('tfserving/saved_model_half_plus_two_cpu/00000123', t), { backend });
      t.after(() => m.dispose());
      assert.equal(m.backend, backend);
      const out = await m.run('serving_default', { x: T('DT_FLOAT', [3, 1], f32(1, 2, 5)) });
      close(out.y!, [2.5, 3, 4.5], [3, 1]);
    });

    test('half_plus_two TF2: 1 -> 2.5', async (t) => {
      const m = await loadModel(sharedModel('tfserving/saved_model_half_plus_two_tf2_cpu/00000123', t), { backend });
      t.after(() => m.dispose());
      close((await m.run('serving_default', { x: T('DT_FLOAT', [1], f32(1)) })).y!, [2.5], [1]);
    });

    test('times_three: 4 -> 12', async (t) => {
      const m = await loadModel(sharedModel('tfjs/times_three_float', t), { backend });
      t.after(() => m.dispose());
      close((await m.run('serving_default', { x: T('DT_FLOAT', [], f32(4)) })).output_0!, [12], []);
    });
  });
}

describe('known answers (wasm)', needsShared, () => {
  test('half_plus_three: [1,2,5] -> [3.5,4,5.5]', async (t) => {
    const m = await loadModel(sharedModel('tfserving/saved_model_half_plus_three/00000123', t));
    t.after(() => m.dispose());
    close((await m.run('serving_default', { x: T('DT_FLOAT', [3], f32(1, 2, 5)) })).y!, [3.5, 4, 5.5]);
  });

  test('half_plus_two via a base directory and as a matrix', async (t) => {
    const m = await loadModel(sharedModel('tfserving/matrix_half_plus_two/1', t));
    t.after(() => m.dispose());
    const out = await m.run('serving_default', { x: T('DT_FLOAT', [1, 3, 3], f32(1, 2, 3, 4, 5, 6, 7, 8, 9)) });
    close(out.y!, [2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5], [1, 3, 3]);
  });

  test('every signature of module_with_multiple_signatures', async (t) => {
    const m = await loadModel(sharedModel('tfjs/module_with_multiple_signatures', t));
    t.after(() => m.dispose());
    assert.deepEqual(Object.keys(m.signatures).sort(), ['serving_default', 'timestwo']);
    close((await m.run('serving_default', { x: T('DT_FLOAT', [], f32(4)) })).output_0!, [12]);
    close((await m.run('timestwo', { x: T('DT_FLOAT', [], f32(4)) })).output_0!, [8]);
  });

  test('multi-output models return every output, and only the filtered ones when asked', async (t) => {
    const m = await loadModel(sharedModel('tfjs/model_multi_output', t));
    t.after(() => m.dispose());
    const out = await m.run('serving_default', { x: T('DT_INT32', [], Int32Array.of(3)), y: T('DT_INT32', [], Int32Array.of(5)) });
    assert.deepEqual(Object.keys(out).sort(), ['output_0', 'output_1']);
    assert.deepEqual(Array.from(out.output_0!.data as Int32Array), [6]);
    assert.deepEqual(Array.from(out.output_1!.data as Int32Array), [5]);
    const only = await m.run('serving_default', { x: T('DT_INT32', [], Int32Array.of(3)), y: T('DT_INT32', [], Int32Array.of(5)) }, ['output_1']);
    assert.deepEqual(Object.keys(only), ['output_1']);
    const single = await loadModel(sharedModel('tfjs/model_single_input_multi_output', t));
    t.after(() => single.dispose());
    const s = await single.run('serving_default', { x: T('DT_INT32', [], Int32Array.of(3)) });
    assert.deepEqual([s.output_0!.data[0], s.output_1!.data[0]], [6, 3]);
  });

  test('int32, uint8 and int64 models keep their dtypes at the boundary', async (t) => {
    const int = await loadModel(sharedModel('tfjs/times_two_int', t));
    t.after(() => int.dispose());
    const i = (await int.run('serving_default', { x: T('DT_INT32', [], Int32Array.of(4)) })).output_0!;
    assert.equal(i.dtype, 'DT_INT32');
    assert.deepEqual(Array.from(i.data as Int32Array), [8]);

    const u8 = await loadModel(sharedModel('tfjs/uint8_multiply', t));
    t.after(() => u8.dispose());
    const u = (await u8.run('serving_default', { x: T('DT_UINT8', [1], Int32Array.of(3)) })).output_0!;
    assert.deepEqual(Array.from(u.data as Int32Array), [18]);

    const i64 = await loadModel(sharedModel('tfjs/int64_multiply', t));
    t.after(() => i64.dispose());
    const l = (await i64.run('serving_default', { x: T('DT_INT64', [2], BigInt64Array.of(3n, 4n)) })).output_0!;
    assert.equal(l.dtype, 'DT_INT64');
    assert.ok(l.data instanceof BigInt64Array);
    assert.deepEqual(Array.from(l.data as BigInt64Array), [18n, 24n]);
    await assert.rejects(
      i64.run('serving_default', { x: T('DT_INT64', [2], BigInt64Array.of(1n << 40n, 1n)) }),
      /is beyond the 32-bit integers the TensorFlow.js engine computes DT_INT64 in, and node ".*" \(Mul\) computes on it/,
    );
  });

  test('classify and regress signatures of half_plus_two run on serialized tf.Examples (TF1 and TF2)', async (t) => {
    const tf1 = await loadModel(sharedModel('tfserving/saved_model_half_plus_two_cpu/00000123', t));
    t.after(() => tf1.dispose());
    const ex = { inputs: T('DT_STRING', [3], examples('x', 1, 2, 5)) };
    close((await tf1.run('classify_x_to_y', ex)).scores!, [2.5, 3, 4.5], [3, 1]);
    close((await tf1.run('regress_x_to_y', ex)).outputs!, [2.5, 3, 4.5], [3, 1]);
    close((await tf1.run('regress_x_to_y2', ex)).outputs!, [3.5, 4, 5.5], [3, 1]);

    const tf2 = await loadModel(sharedModel('tfserving/saved_model_half_plus_two_tf2_cpu/00000123', t));
    t.after(() => tf2.dispose());
    close((await tf2.run('classify_x_to_y', ex)).scores!, [2.5, 3, 4.5], [3, 1]);
    close((await tf2.run('regress_x_to_y', ex)).outputs!, [2.5, 3, 4.5], [3, 1]);
  });

  test('a tf.Example without the feature is INVALID_ARGUMENT with TF\'s wording', async (t) => {
    const m = await loadModel(sharedModel('tfserving/saved_model_half_plus_two_cpu/00000123', t));
    t.after(() => m.dispose());
    await assert.rejects(m.run('classify_x_to_y', { inputs: T('DT_STRING', [1], examples('other', 1)) }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'INVALID_ARGUMENT');
      assert.match(err.message, /Feature: x \(data type: float\) is required but could not be found/);
      return true;
    });
    await assert.rejects(m.run('classify_x_to_y', { inputs: T('DT_STRING', [1], [Uint8Array.of(0xff, 0xff)]) }), /Could not parse example input/);
  });

  test('stateful signatures tfjs cannot run are listed as unavailable; the rest load', async (t) => {
    const m = await loadModel(sharedModel('tfserving/saved_model_counter/00000123', t));
    t.after(() => m.dispose());
    assert.deepEqual(Object.keys(m.signatures), ['get_counter']);
    assert.match(m.unavailable.incr_counter!, /AssignAdd \(1 node: incr_counter_op\/AssignAdd\)/);
    await assert.rejects(loadModel(sharedModel('tfserving/saved_model_counter/00000123', t), { signatures: ['incr_counter'] }), /signature incr_counter uses ops TensorFlow\.js cannot run: AssignAdd/);
  });
});

describe('memory', needsShared, () => {
  test('signatures computing with the same variables share one copy of the weights (Keras 3: serve + serving_default)', async (t) => {
    const tf = await import('@tensorflow/tfjs-core');
    const dir = sharedModel('keras/mnist_cnn_keras3/1', t);
    const before = tf.memory().numBytes;
    const one = await loadModel(dir, { signatures: ['serving_default'] });
    const single = tf.memory().numBytes - before;
    one.dispose();
    const mid = tf.memory().numBytes;
    const both = await loadModel(dir);
    const double = tf.memory().numBytes - mid;
    t.after(() => both.dispose());
    assert.deepEqual(Object.keys(both.signatures).sort(), ['serve', 'serving_default']);
    assert.ok(single > 400_000, `one signature holds ${single} bytes`);
    assert.ok(double < single * 1.2, `two signatures hold ${double} bytes, one holds ${single}`);
    // Both still compute (shared weights were not disposed as intermediates).
    const x = { dtype: 'DT_FLOAT', shape: [1, 28, 28, 1], data: new Float32Array(784).fill(0.5) };
    for (let i = 0; i < 3; i++) {
      const a = (await both.run('serve', { keras_tensor: x })).output_0!.data as Float32Array;
      const b = (await both.run('serving_default', { keras_tensor: x })).output_0!.data as Float32Array;
      assert.deepEqual(Array.from(a), Array.from(b));
      assert.ok(Math.abs(a.reduce((s, v) => s + v, 0) - 1) < 1e-4);
    }
  });
});
