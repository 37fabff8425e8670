// The artifacts are tfjs's own format: they survive a trip through model.json + a weights file (what
// `export --format tfjs` writes) and tfjs's weight decoder reads every dtype tfsvc writes.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { buildExecutableGraph } from '../../src/core/graph/build.js';
import { encodeWeight } from '../../src/core/graph/artifacts.js';
import { initBackend } from '../../src/core/engine/backend.js';
import { reference, syntheticSource } from './synthetic.js';

before(async () => {
  await initBackend('cpu');
});

test('artifacts round-trip through JSON text and a weights buffer, and give the same outputs', async () => {
  const g = await buildExecutableGraph(syntheticSource(), 'serving_default');
  const modelJson = JSON.stringify({
    format: g.artifacts.format,
    modelTopology: g.artifacts.modelTopology,
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: g.artifacts.weightSpecs }],
    signature: g.artifacts.signature,
  });
  const weightsFile = Buffer.from(g.artifacts.weightData as ArrayBuffer);
  const parsed = JSON.parse(modelJson);
  const model = await loadGraphModel(
    tf.io.fromMemory({
      modelTopology: parsed.modelTopology,
      weightSpecs: parsed.weightsManifest[0].weights,
      weightData: weightsFile.buffer.slice(weightsFile.byteOffset, weightsFile.byteOffset + weightsFile.byteLength),
      signature: parsed.signature,
    }),
  );
  const x = Float32Array.from({ length: 8 }, (_, i) => i - 3);
  // Feeding by signature alias works too: the signature maps x → the placeholder.
  const out = model.execute({ x: tf.tensor(x, [2, 4]) }) as tf.Tensor;
  const got = out.dataSync();
  const want = reference(x, 2);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) < 1e-5);
  model.dispose();
});

test('weights of every dtype decode with tfjs', () => {
  const cases = [
    { dtype: 'DT_FLOAT', shape: [2], data: Float32Array.of(1.5, -2) },
    { dtype: 'DT_DOUBLE', shape: [1], data: Float64Array.of(0.25) },
    { dtype: 'DT_INT64', shape: [3], data: BigInt64Array.of(5n, -(1n << 40n), 1n << 40n) },
    { dtype: 'DT_UINT8', shape: [2], data: Int32Array.of(0, 255) },
    { dtype: 'DT_BOOL', shape: [2], data: Uint8Array.of(1, 0) },
    { dtype: 'DT_STRING', shape: [2], data: [Buffer.from('héllo'), Uint8Array.of(0, 255)] },
  ];
  const expected = [[1.5, -2], [0.25], [5, -2147483648, 2147483647], [0, 255], [1, 0]];
  cases.forEach((c, i) => {
    const { spec, bytes } = encodeWeight(`w${i}`, c);
    const decoded = tf.io.decodeWeights(bytes.slice().buffer, [spec])[`w${i}`]!;
    if (c.dtype === 'DT_STRING') {
      const raw = tf.engine().readSync(decoded.dataId) as unknown as Uint8Array[];
      assert.deepEqual(raw.map((b) => Array.from(b)), (c.data as Uint8Array[]).map((b) => Array.from(b)));
    } else {
      assert.deepEqual(Array.from(decoded.dataSync() as ArrayLike<number>), expected[i]);
    }
  });
  assert.throws(() => encodeWeight('c', { dtype: 'DT_COMPLEX64', shape: [1], data: Float32Array.of(1, 2) }), /dtype DT_COMPLEX64, which TensorFlow\.js cannot hold/);
});
