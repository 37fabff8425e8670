// SavedModel → tfjs graph model (on disk) → SavedModel gives the outputs of the original, and the tfjs files load with
// tfjs-converter's own loadGraphModel (sharded weights included).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { loadModel } from '../../src/core/engine/model.js';
import type { HostTensor } from '../../src/core/engine/types.js';
import { exportSavedModelAsTfjs } from '../../src/core/export/savedmodel-to-tfjs.js';
import { exportTfjsAsSavedModel } from '../../src/core/export/tfjs-to-savedmodel.js';
import { writeTfjsGraphModel } from '../../src/core/export/tfjs-writer.js';
import { buildExecutableGraph, openModelSource } from '../../src/core/graph/build.js';
import { needsShared, repoRoot, sharedModel } from '../helpers/shared-models.js';
import { maxAbsDiff, seededFloats } from './helpers.js';

function tmp(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'tfsvc-rt-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** An IOHandler reading model.json and its shards from disk, as tfjs's file:// and http handlers do. */
function fileHandler(modelJson: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(readFileSync(modelJson, 'utf8'));
      const shards = json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths.map((p) => readFileSync(path.join(path.dirname(modelJson), p))));
      const all = Buffer.concat(shards);
      return {
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights),
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
        format: json.format,
        signature: json.signature,
      };
    },
  };
}

async function runAll(dir: string, inputs: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
  const m = await loadModel(dir, { signatures: ['serving_default'] });
  try {
    return await m.run('serving_default', inputs);
  } finally {
    m.dispose();
  }
}

const cases = [
  { name: 'tfsvc fixture mnist v2', dir: () => path.join(repoRoot, 'fixtures', 'models', 'mnist', '2'), input: 'image', shape: [3, 28, 28] },
  { name: 'Keras 3 MNIST CNN', dir: (t: any) => sharedModel('keras/mnist_cnn_keras3/1', t), input: 'keras_tensor', shape: [3, 28, 28, 1], shared: true },
  { name: 'TF1 half_plus_two', dir: (t: any) => sharedModel('tfserving/saved_model_half_plus_two_cpu/00000123', t), input: 'x', shape: [3, 1], shared: true },
];

for (const c of cases) {
  test(`round trip SavedModel → tfjs → SavedModel keeps the outputs: ${c.name}`, c.shared ? needsShared : {}, async (t) => {
    const src = c.dir(t);
    const work = tmp(t);
    const tfjsDir = path.join(work, 'tfjs');
    const back = path.join(work, 'back');
    const written = await exportSavedModelAsTfjs(src, tfjsDir);
    assert.ok(readdirSync(tfjsDir).includes('model.json'));
    await exportTfjsAsSavedModel(written.modelJson, back);
    // tfjs's fused ops are split back into the standard ops TF Serving's registry has.
    const backOps = ((await openModelSource(back)).meta.graphDef?.node ?? []).map((n) => n.op!);
    assert.deepEqual(backOps.filter((op) => op.startsWith('_') || op.startsWith('Fused')), []);

    const n = c.shape.reduce((a, b) => a * b, 1);
    const inputs = { [c.input]: { dtype: 'DT_FLOAT', shape: c.shape, data: seededFloats(n, 11) } };
    const original = await runAll(src, inputs);
    const again = await runAll(back, inputs);
    assert.deepEqual(Object.keys(again).sort(), Object.keys(original).sort());
    for (const k of Object.keys(original)) {
      assert.deepEqual(again[k]!.shape, original[k]!.shape);
      const d = maxAbsDiff(again[k]!.data as Float32Array, original[k]!.data as Float32Array);
      assert.ok(d < 1e-5, `${k}: max |diff| ${d}`);
    }

    // The files on disk are a tfjs graph model that tfjs-converter itself loads and runs.
    const gm = await loadGraphModel(fileHandler(written.modelJson));
    t.after(() => gm.dispose());
    const sig = JSON.parse(readFileSync(written.modelJson, 'utf8')).signature;
    const feedName = (sig.inputs[c.input].name as string).replace(/:0$/, '');
    const outName = Object.values<{ name: string }>(sig.outputs)[0]!.name;
    const firstOut = Object.keys(original).sort()[0]!;
    const y = gm.execute({ [feedName]: tf.tensor(inputs[c.input]!.data as Float32Array, c.shape) }, outName) as tf.Tensor;
    const yData = y.dataSync() as Float32Array;
    y.dispose();
    if (Object.keys(sig.outputs).length === 1) assert.ok(maxAbsDiff(yData, original[firstOut]!.data as Float32Array) < 1e-5);
  });
}

test('weights are split into 4 MB shards (here: a small shard size) that load back identically', async (t) => {
  const src = await openModelSource(path.join(repoRoot, 'fixtures', 'models', 'mnist', '2'));
  const graph = await buildExecutableGraph(src, 'serving_default');
  const dir = path.join(tmp(t), 'sharded');
  const r = await writeTfjsGraphModel(dir, graph.artifacts, 64 * 1024);
  assert.ok(r.shards.length > 1, `${r.shards.length} shards`);
  for (const s of r.shards) assert.ok(statSync(s).size <= 64 * 1024);
  assert.equal(r.shards.reduce((n, s) => n + statSync(s).size, 0), r.weightBytes);
  assert.match(path.basename(r.shards[0]!), /^group1-shard1of\d+\.bin$/);
  const back = path.join(path.dirname(dir), 'back');
  await exportTfjsAsSavedModel(r.modelJson, back);
  const inputs = { image: { dtype: 'DT_FLOAT', shape: [2, 28, 28], data: seededFloats(2 * 784, 3) } };
  const a = await runAll(path.join(repoRoot, 'fixtures', 'models', 'mnist', '2'), inputs);
  const b = await runAll(back, inputs);
  assert.ok(maxAbsDiff(a.probabilities!.data as Float32Array, b.probabilities!.data as Float32Array) < 1e-6);
});

test('model.json says which TensorFlow wrote the SavedModel (generatedBy) and that tfsvc converted it', async (t) => {
  const work = tmp(t);
  const own = await exportSavedModelAsTfjs(path.join(repoRoot, 'fixtures', 'models', 'mnist', '2'), path.join(work, 'own'));
  const json = JSON.parse(readFileSync(own.modelJson, 'utf8'));
  assert.equal(json.format, 'graph-model');
  assert.match(json.generatedBy, /^tfsvc \d/, 'no TensorFlow wrote the fixture');
  assert.match(json.convertedBy, /^tfsvc \d/);
  assert.deepEqual(Object.keys(json.signature.inputs), ['image']);
  assert.equal(json.weightsManifest[0].weights.every((w: { quantization?: unknown }) => w.quantization === undefined), true);
});

test('a tfjs graph model with functions (control flow) is refused rather than written as a SavedModel TF would reject', async (t) => {
  const dir = tmp(t);
  const modelJson = path.join(dir, 'model.json');
  writeFileSync(
    modelJson,
    JSON.stringify({
      format: 'graph-model',
      modelTopology: {
        node: [
          { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' } } },
          { name: 'y', op: 'Identity', input: ['x'], attr: { T: { type: 'DT_FLOAT' } } },
        ],
        library: { function: [{ signature: { name: 'while_body_1' }, nodeDef: [], ret: {} }] },
      },
      weightsManifest: [],
    }),
  );
  await assert.rejects(exportTfjsAsSavedModel(modelJson, path.join(dir, 'sm')), /functions \(control flow: while_body_1\) cannot be exported/);
});
