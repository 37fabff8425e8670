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

  test('classify and regress bodies take one decoder entry: a large one (decoded off the HTTP thread) answers the same', async () => {
    const url = '/v1/models/saved_model_half_plus_two_2_versions:classify';
    // 12,000 examples with a feature the model ignores, ~490 KB: over the 256 KiB from which bodies are decoded on a
    // worker thread, and within the batch queue (16,384 rows).
    const xs = Array.from({ length: 12_000 }, (_, i) => (i % 100) + 0.5);
    const examples = xs.map((x) => `{"x": ${x}, "pad": "${'p'.repeat(20)}"}`).join(',');
    const big = await call(port, 'POST', url, `{"signature_name": "classify_x_to_y", "examples": [${examples}]}`);
    assert.equal(big.status, 200, big.text.slice(0, 200));
    assert.equal(big.json.results.length, xs.length);
    for (const i of [0, 1, 10_001, xs.length - 1]) assert.deepEqual(big.json.results[i], [['', xs[i]! / 2 + 2]]);
    const reg = await call(port, 'POST', url.replace(':classify', ':regress'), `{"signature_name": "regress_x_to_y", "examples": [${examples}]}`);
    assert.equal(reg.status, 200, reg.text.slice(0, 200));
    assert.equal(reg.json.results[10_001], xs[10_001]! / 2 + 2);
    // A signature name that is an Object.prototype member is an unknown signature (400), not a crash in the checks.
    const proto = await call(port, 'POST', url, '{"signature_name": "constructor", "examples": [{"x": 1.0}]}');
    assert.equal(proto.status, 400);
    assert.equal(proto.json.error, 'Serving signature name: "constructor" not found in signature def');
  });

  test('metadata is TF Serving\'s JSON for this model', async () => {
    const r = await call(port, 'GET', '/v1/models/saved_model_half_plus_two_2_versions/versions/123/metadata');
    assert.equal(r.status, 200, r.text);
    const expected = JSON.parse(readFileSync(sharedModel('tfserving/saved_model_half_plus_two_2_versions_metadata.json'), 'utf8'));
    assert.deepEqual(r.json, expected);
  });
});
