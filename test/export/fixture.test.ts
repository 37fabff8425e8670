// fixtures/models/mnist: the project's own MNIST model (scripts/make-fixtures.ts), exported by tfsvc as a SavedModel.
// It must load in our reader and engine, score the accuracy fixtures/accuracy.json states on held-out digits, stay
// small, and pass validate with its golden file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadModel } from '../../src/core/engine/model.js';
import { readSavedModel, selectMetaGraph } from '../../src/core/savedmodel/reader.js';
import { readGolden } from '../../src/core/validate/golden.js';
import { validateTarget } from '../../src/core/validate/validate.js';
import { repoRoot } from '../helpers/shared-models.js';

const fixtures = path.join(repoRoot, 'fixtures');
const base = path.join(fixtures, 'models', 'mnist');
const stated = JSON.parse(readFileSync(path.join(fixtures, 'accuracy.json'), 'utf8')) as { versions: { version: number; accuracy: number }[] };

/** The held-out digits make-fixtures.ts never trained on: the last 100 of each class. */
function heldOut(): { images: Float32Array; labels: number[] } {
  const mnist = createRequire(import.meta.url)('mnist') as { length: number; get(i: number): number[] }[];
  const images = new Float32Array(1000 * 784);
  const labels: number[] = [];
  for (let d = 0; d < 10; d++) {
    for (let i = mnist[d]!.length - 100; i < mnist[d]!.length; i++) {
      images.set(mnist[d]!.get(i), labels.length * 784);
      labels.push(d);
    }
  }
  return { images, labels };
}

function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((n, f) => {
    const p = path.join(dir, f);
    const st = statSync(p);
    return n + (st.isDirectory() ? dirBytes(p) : st.size);
  }, 0);
}

test('two versions, each a small SavedModel with the documented signature', async () => {
  assert.deepEqual(readdirSync(base).sort(), ['1', '2']);
  for (const v of ['1', '2']) {
    const dir = path.join(base, v);
    assert.ok(dirBytes(dir) < 1024 * 1024, `version ${v} is ${dirBytes(dir)} bytes`);
    const meta = selectMetaGraph((await readSavedModel(dir)).savedModel, ['serve']);
    const sig = meta.signatureDef!.serving_default!;
    assert.equal(sig.methodName, 'tensorflow/serving/predict');
    assert.equal(sig.inputs!.image!.dtype, 'DT_FLOAT');
    assert.deepEqual(sig.inputs!.image!.tensorShape!.dim!.map((d) => d.size), [-1, 28, 28]);
    assert.deepEqual(sig.outputs!.probabilities!.tensorShape!.dim!.map((d) => d.size), [-1, 10]);
  }
});

for (const { version, accuracy } of stated.versions) {
  test(`version ${version} scores its stated held-out accuracy (${(accuracy * 100).toFixed(1)}%) in the engine`, async (t) => {
    const model = await loadModel(path.join(base, String(version)));
    t.after(() => model.dispose());
    const { images, labels } = heldOut();
    const out = await model.run('serving_default', { image: { dtype: 'DT_FLOAT', shape: [1000, 28, 28], data: images } });
    const p = out.probabilities!.data as Float32Array;
    let ok = 0;
    for (let i = 0; i < 1000; i++) {
      let best = 0;
      for (let c = 1; c < 10; c++) if (p[i * 10 + c]! > p[i * 10 + best]!) best = c;
      if (best === labels[i]) ok++;
      const sum = p.subarray(i * 10, i * 10 + 10).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-4, `row ${i} sums to ${sum}: softmax output`);
    }
    // Trained with tfjs's CPU backend, scored here on WASM: a borderline digit may flip, not more.
    assert.ok(Math.abs(ok / 1000 - accuracy) <= 0.005, `engine accuracy ${ok / 1000}, stated ${accuracy}`);
    assert.ok(ok / 1000 > 0.85, 'a real classifier, not chance');
  });
}

test('validate passes each version with its golden file', async () => {
  for (const v of [1, 2]) {
    const golden = await readGolden(path.join(fixtures, `mnist-v${v}.golden.json`));
    const report = await validateTarget(path.join(base, String(v)), { golden });
    const failed = report.versions.flatMap((r) => r.checks.filter((c) => c.status === 'fail'));
    assert.deepEqual(failed, []);
    assert.ok(report.versions[0]!.checks.some((c) => c.check === 'golden:serving_default' && c.status === 'pass'));
  }
});
