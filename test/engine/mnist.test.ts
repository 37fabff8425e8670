// Accuracy of the MNIST SavedModels on 1000 real digits (their known accuracy: Keras 3 CNN ~97%, Keras 2 dense ~92%),
// and proof that the graph optimisations do not change outputs on real models.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../../src/core/engine/model.js';
import { needsShared, sharedModel } from '../helpers/shared-models.js';
import { accuracy, firstDigits } from './mnist-digits.js';

const digits = firstDigits(100);

const MODELS = [
  { rel: 'keras/mnist_cnn_keras3/1', shape: [28, 28, 1], known: 0.97 },
  { rel: 'keras/mnist_dense_keras2/1', shape: [28, 28], known: 0.92 },
];

describe('MNIST accuracy on 1000 real digits', needsShared, () => {
  for (const { rel, shape, known } of MODELS) {
    test(`${rel} scores within a point of ${known * 100}%`, async (t) => {
      const m = await loadModel(sharedModel(rel, t));
      t.after(() => m.dispose());
      const alias = Object.keys(m.signatures.serving_default!.inputs)[0]!;
      const out = await m.run('serving_default', { [alias]: { dtype: 'DT_FLOAT', shape: [digits.count, ...shape], data: digits.images } });
      const acc = accuracy(Object.values(out)[0]!.data as Float32Array, digits.labels);
      t.diagnostic(`accuracy ${(acc * 100).toFixed(1)}%`);
      assert.ok(Math.abs(acc - known) <= 0.01, `accuracy ${acc} is not within 0.01 of ${known}`);
    });
  }
});

describe('optimised and unoptimised graphs agree on real models', needsShared, () => {
  for (const { rel, shape } of MODELS) {
    for (const backend of ['wasm', 'cpu'] as const) {
      test(`${rel} on ${backend}`, async (t) => {
        const plain = await loadModel(sharedModel(rel, t), { backend, optimize: false });
        t.after(() => plain.dispose());
        const opt = await loadModel(sharedModel(rel, t), { backend });
        t.after(() => opt.dispose());
        const g = opt.graphs.serving_default!;
        assert.ok(g.stats.fused >= 1 && g.stats.identitiesRemoved > 0, JSON.stringify(g.stats));
        assert.ok(g.stats.nodes < plain.graphs.serving_default!.stats.nodes);
        const n = 200;
        const input = { dtype: 'DT_FLOAT', shape: [n, ...shape], data: digits.images.subarray(0, n * 784) };
        const alias = Object.keys(opt.signatures.serving_default!.inputs)[0]!;
        const a = Object.values(await plain.run('serving_default', { [alias]: input }))[0]!.data as Float32Array;
        const b = Object.values(await opt.run('serving_default', { [alias]: input }))[0]!.data as Float32Array;
        let worst = 0;
        for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
        t.diagnostic(`max |difference| ${worst.toExponential(2)}`);
        assert.ok(worst < 1e-5, `outputs differ by ${worst}`);
      });
    }
  }
});
