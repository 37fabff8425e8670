// `startServing` with the real engine on SavedModels written by TensorFlow (../shared/models): TF Serving's answers,
// its metadata JSON, classify/regress with tf.Examples (bodies as raw text: `1.0` and `1` differ to TF Serving), and warmup replay of a PredictionLog TFRecord file written with tfrecord.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { startServing, type Serving, type ServingEvent } from '../../src/core/serving/server.js';
import { defaultBatching } from '../../src/core/serving/config.js';
import { encodePlain } from '../../src/core/proto/schema.js';
import { writeTFRecordFile } from '../../src/core/savedmodel/tfrecord.js';
import { needsShared, sharedModel } from '../helpers/shared-models.js';
import { call, tmpBase } from './helpers.js';

describe('real engine on half_plus_two (TensorFlow-written)', needsShared, () => {
  let serving: Serving;
  let port: number;
  let base: string;
  const events: ServingEvent[] = [];
  before(async () => {
    // Version 123 as TF wrote it, plus a warmup file: the version dir links to the shared files (nothing copied).
    const src = sharedModel('tfserving/saved_model_half_plus_two_2_versions/00000123');
    base = tmpBase();
    const v = path.join(base, 'saved_model_half_plus_two_2_versions', '123');
    mkdirSync(path.join(v, 'assets.extra'), { recursive: true });
    symlinkSync(path.join(src, 'saved_model.pb'), path.join(v, 'saved_model.pb'));
    symlinkSync(path.join(src, 'variables'), path.join(v, 'variables'));
    const log = encodePlain(
      'tensorflow.serving.PredictionLog',
      { predictLog: { request: { modelSpec: { name: 'x' }, inputs: { x: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 2 }, { size: 1 }] }, floatVal: [1, 2] } } } } },
      'tensorflow_serving.proto',
    );
    writeTFRecordFile(path.join(v, 'assets.extra', 'tf_serving_warmup_requests'), [log, log]);
    serving = await startServing({
      models: [{ name: 'saved_model_half_plus_two_2_versions', basePath: path.dirname(v), policy: { kind: 'latest', numVersions: 1 }, labels: {} }],
      restPort: 0,
      host: '127.0.0.1',
      pollSeconds: 0,
      batching: { ...defaultBatching(), numBatchThreads: 1 },
      log: (e) => events.push(e),
    });
    port = serving.restPort;
  });
  after(async () => {
    await serving?.close();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  test('warmup replayed the PredictionLog records before the version turned AVAILABLE', () => {
    const loaded = events.find((e) => e.kind === 'loaded');
    assert.ok(loaded && loaded.kind === 'loaded');
    assert.equal(loaded.warmupSource, 'file');
    assert.equal(loaded.warmupRequests, 2);
  });

  test('predict gives y = 0.5x + 2 in both formats', async () => {
    const row = await call(port, 'POST', '/v1/models/saved_model_half_plus_two_2_versions:predict', { instances: [[1.0], [2.0], [5.0]] });
    assert.equal(row.status, 200, row.text);
    assert.deepEqual(row.json, { predictions: [[2.5], [3], [4.5]] });
    const col = await call(port, 'POST', '/v1/models/saved_model_half_plus_two_2_versions/versions/123:predict', { inputs: { x: [[1.0], [2.0]] } });
    assert.deepEqual(col.json, { outputs: [[2.5], [3]] });
  });

  test('classify and regress with tf.Example inputs', async () => {
    const cls = await call(port, 'POST', '/v1/models/saved_model_half_plus_two_2_versions:classify', '{"signature_name": "classify_x_to_y", "examples": [{"x": 1.0}, {"x": 3.0}]}');
    assert.equal(cls.status, 200, cls.text);
    assert.deepEqual(cls.json, { results: [[['', 2.5]], [['', 3.5]]] });
    const reg = await call(port, 'POST', '/v1/models/saved_model_half_plus_two_2_versions:regress', '{"signature_name": "regress_x_to_y", "examples": [{"x": 4.0}]}');
    // JSON integers are int64 features, as in TF Serving: the model's float feature then does not match.
    const int = await call(port, 'POST', '/v1/models/saved_model_half_plus_two_2_versions:regress', '{"signature_name": "regress_x_to_y", "examples": [{"x": 4}]}');
    assert.equal(int.status, 400);
    assert.match(int.json.error, /Data types don't match/);
    assert.equal(reg.status, 200, reg.text);
    assert.deepEqual(reg.json, { results: [4] });
  });

  test('metadata is TF Serving\'s JSON for this model', async () => {
    const r = await call(port, 'GET', '/v1/models/saved_model_half_plus_two_2_versions/versions/123/metadata');
    assert.equal(r.status, 200, r.text);
    const expected = JSON.parse(readFileSync(sharedModel('tfserving/saved_model_half_plus_two_2_versions_metadata.json'), 'utf8'));
    assert.deepEqual(r.json, expected);
  });
});
