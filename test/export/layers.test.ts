// tfjs Layers model → SavedModel: the exported graph computes what tfjs-layers computes, layer type by layer type,
// and unsupported layers fail with a message naming them.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../src/core/engine/backend.js';
import { loadModel } from '../../src/core/engine/model.js';
import { ModelError } from '../../src/core/errors.js';
import { exportTfjsAsSavedModel } from '../../src/core/export/tfjs-to-savedmodel.js';
import { readSavedModel, selectMetaGraph } from '../../src/core/savedmodel/reader.js';
import { maxAbsDiff, saveLayersModel, seededFloats } from './helpers.js';

// tfjs-layers needs a backend to build models; use the engine's (the engine would pick the same one).
before(async () => {
  await initBackend('wasm');
});

function tmp(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'tfsvc-layers-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Exports `model`, runs the SavedModel in the engine and tfjs-layers on the same input; returns the max difference. */
async function compare(t: Parameters<typeof tmp>[0], model: tfl.LayersModel, inputShape: number[], alias: string): Promise<{ diff: number; sig: Record<string, unknown> }> {
  const dir = tmp(t);
  const modelJson = await saveLayersModel(model, path.join(dir, 'tfjs'));
  const out = path.join(dir, 'saved');
  await exportTfjsAsSavedModel(modelJson, out);
  const engine = await loadModel(out);
  t.after(() => engine.dispose());
  const n = inputShape.reduce((a, b) => a * b, 1);
  const x = seededFloats(n);
  const got = await engine.run('serving_default', { [alias]: { dtype: 'DT_FLOAT', shape: inputShape, data: x } });
  const want = tf.tidy(() => (model.predict(tf.tensor(x, inputShape)) as tf.Tensor).dataSync());
  const outAlias = Object.keys(got)[0]!;
  return { diff: maxAbsDiff(got[outAlias]!.data as Float32Array, want as Float32Array), sig: engine.signatures.serving_default as unknown as Record<string, unknown> };
}

test('Sequential CNN (Conv2D same/valid, MaxPooling2D, AveragePooling2D, BatchNormalization, Flatten, Dropout, Dense) matches tfjs-layers', async (t) => {
  const m = tfl.sequential();
  m.add(tfl.layers.reshape({ inputShape: [8, 8], targetShape: [8, 8, 1], name: 'rs' }));
  m.add(tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c1', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }), biasInitializer: 'ones' }));
  m.add(tfl.layers.batchNormalization({ name: 'bn', gammaInitializer: tfl.initializers.constant({ value: 1.5 }), movingMeanInitializer: tfl.initializers.constant({ value: 0.2 }), movingVarianceInitializer: tfl.initializers.constant({ value: 2 }) }));
  m.add(tfl.layers.maxPooling2d({ poolSize: 2, name: 'mp' }));
  m.add(tfl.layers.conv2d({ filters: 4, kernelSize: 2, strides: 1, activation: 'tanh', name: 'c2', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }));
  m.add(tfl.layers.averagePooling2d({ poolSize: 3, name: 'ap' }));
  m.add(tfl.layers.flatten({ name: 'fl' }));
  m.add(tfl.layers.dropout({ rate: 0.5, name: 'do' }));
  m.add(tfl.layers.dense({ units: 5, activation: 'sigmoid', name: 'd1', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }));
  m.add(tfl.layers.activation({ activation: 'softmax', name: 'act' }));
  const { diff, sig } = await compare(t, m, [3, 8, 8], 'rs_input');
  assert.ok(diff < 1e-5, `max |diff| ${diff}`);
  assert.deepEqual((sig as any).outputs.act.shape, [-1, 5]);
});

test('functional model with two branches (Add, Concatenate, GlobalAveragePooling2D) matches tfjs-layers', async (t) => {
  const input = tfl.input({ shape: [6, 6, 2], name: 'pixels' });
  const a = tfl.layers.conv2d({ filters: 3, kernelSize: 1, name: 'a', kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }) }).apply(input) as tfl.SymbolicTensor;
  const b = tfl.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', name: 'b', kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }) }).apply(input) as tfl.SymbolicTensor;
  const sum = tfl.layers.add({ name: 'sum' }).apply([a, b]) as tfl.SymbolicTensor;
  const cat = tfl.layers.concatenate({ name: 'cat' }).apply([sum, a]) as tfl.SymbolicTensor;
  const gap = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(cat) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: 2, name: 'scores', kernelInitializer: tfl.initializers.glorotUniform({ seed: 6 }) }).apply(gap) as tfl.SymbolicTensor;
  const m = tfl.model({ inputs: input, outputs: out });
  const { diff, sig } = await compare(t, m, [2, 6, 6, 2], 'pixels');
  assert.ok(diff < 1e-5, `max |diff| ${diff}`);
  assert.deepEqual(Object.keys((sig as any).inputs), ['pixels']);
  assert.deepEqual(Object.keys((sig as any).outputs), ['scores']);
});

test('the SavedModel is what TF Serving expects: serve tag, predict method, Placeholder input, standard ops only', async (t) => {
  const m = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [4, 4], name: 'f' }), tfl.layers.dense({ units: 3, activation: 'relu', name: 'd' })] });
  const dir = tmp(t);
  await exportTfjsAsSavedModel(await saveLayersModel(m, path.join(dir, 'tfjs')), path.join(dir, 'sm'));
  const files = await readSavedModel(path.join(dir, 'sm'));
  const meta = selectMetaGraph(files.savedModel, ['serve']);
  assert.equal(files.variablesPrefix, undefined, 'frozen graph: no checkpoint');
  const sig = meta.signatureDef!.serving_default!;
  assert.equal(sig.methodName, 'tensorflow/serving/predict');
  const ops = new Set((meta.graphDef!.node ?? []).map((n) => n.op));
  assert.deepEqual([...ops].sort(), ['BiasAdd', 'Const', 'Identity', 'MatMul', 'Placeholder', 'Relu', 'Reshape']);
  const input = (meta.graphDef!.node ?? []).find((n) => n.op === 'Placeholder')!;
  assert.equal(sig.inputs!.f_input!.name, `${input.name}:0`);
  assert.deepEqual(sig.inputs!.f_input!.tensorShape!.dim!.map((d) => d.size), [-1, 4, 4]);
});

test('an unsupported layer fails the export naming the layer class', async (t) => {
  const m = tfl.sequential({ layers: [tfl.layers.upSampling2d({ size: [2, 2], inputShape: [2, 2, 1], name: 'up' })] });
  const dir = tmp(t);
  const modelJson = await saveLayersModel(m, path.join(dir, 'tfjs'));
  await assert.rejects(exportTfjsAsSavedModel(modelJson, path.join(dir, 'sm')), (err: Error) => {
    assert.ok(err instanceof ModelError);
    assert.match(err.message, /unsupported layer class UpSampling2D/);
    return true;
  });
});

test('an InputLayer without a declared shape fails with a message naming it, not an internal error', async (t) => {
  const input = tfl.input({ shape: [3], name: 'feats' });
  const out = tfl.layers.dense({ units: 1, name: 'y' }).apply(input) as tfl.SymbolicTensor;
  const dir = tmp(t);
  const modelJson = await saveLayersModel(tfl.model({ inputs: input, outputs: out }), path.join(dir, 'tfjs'));
  const json = JSON.parse(readFileSync(modelJson, 'utf8'));
  const layer = json.modelTopology.config.layers.find((l: { class_name: string }) => l.class_name === 'InputLayer');
  delete layer.config.batch_input_shape;
  delete layer.config.batch_shape;
  writeFileSync(modelJson, JSON.stringify(json));
  await assert.rejects(exportTfjsAsSavedModel(modelJson, path.join(dir, 'sm')), (err: Error) => err instanceof ModelError && /input layer feats declares no batch_input_shape/.test(err.message));
});
