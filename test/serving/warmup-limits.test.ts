// Warmup at load replays its records under the server's own request limits (--max_request_elements), not the
// defaults: a record a client could not send fails the load of its version (END, the record named, as TF Serving
// fails a version whose warmup request fails), and a record within the limit warms the version up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { startServing } from '../../src/core/serving/server.js';
import { defaultBatching } from '../../src/core/serving/config.js';
import { encodePlain } from '../../src/core/proto/schema.js';
import { writeTFRecordFile } from '../../src/core/savedmodel/tfrecord.js';
import { WARMUP_FILE } from '../../src/core/savedmodel/warmup-file.js';
import { call, FAKE_ENGINE, tmpBase, until, writeVersion } from './helpers.js';

/** A version of the fake model (x: DT_FLOAT [-1,1]) whose warmup file holds one predict record of `rows` rows. */
function versionWithWarmup(base: string, v: number, rows: number): void {
  const dir = writeVersion(base, v, { mul: 2 });
  mkdirSync(path.join(dir, 'assets.extra'));
  const record = encodePlain(
    'tensorflow.serving.PredictionLog',
    { predictLog: { request: { inputs: { x: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: rows }, { size: 1 }] }, floatVal: Array.from({ length: rows }, (_, i) => i) } } } } },
    'tensorflow_serving.proto',
  );
  writeTFRecordFile(path.join(dir, WARMUP_FILE), [record]);
}

test('warmup records are checked against --max_request_elements: over it the version fails to load, within it it serves', async (t) => {
  const base = tmpBase();
  versionWithWarmup(base, 1, 3); // 3 elements: within a cap of 3
  versionWithWarmup(base, 2, 4); // 4 elements: over it (the default cap, 2^26, would take it)
  const serving = await startServing({
    models: [{ name: 'm', basePath: base, policy: { kind: 'latest', numVersions: 2 }, labels: {} }],
    restPort: 0,
    host: '127.0.0.1',
    pollSeconds: 0,
    batching: { ...defaultBatching(), numBatchThreads: 1 },
    loaderModule: FAKE_ENGINE,
    maxRequestElements: 3,
  });
  t.after(async () => {
    await serving.close();
    rmSync(base, { recursive: true, force: true });
  });
  const port = serving.restPort;
  const status = async (v: number) => (await call(port, 'GET', `/v1/models/m/versions/${v}`)).json?.model_version_status?.[0];
  await until(async () => (await status(1))?.state === 'AVAILABLE' && (await status(2))?.state === 'END', () => undefined, 30_000);
  const failed = await status(2);
  // Refused while the record is decoded, before its tensor is allocated, with the file and record named.
  assert.equal(failed.status.error_code, 'INVALID_ARGUMENT', 'the code a client sending that request gets');
  assert.equal(failed.status.error_message, '2/assets.extra/tf_serving_warmup_requests: record 0, input x: TensorProto of DT_FLOAT has shape [4,1]: 4 elements, more than the limit of 3');
  assert.ok(!failed.status.error_message.includes(base), 'no absolute path reaches the client');
  // The version that failed its warmup does not serve; the one within the cap does, and clients get the same limit.
  assert.equal((await call(port, 'POST', '/v1/models/m/versions/2:predict', { instances: [[1]] })).status, 404);
  const ok = await call(port, 'POST', '/v1/models/m:predict', { instances: [[1], [2], [3]] });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.json, { predictions: [[2], [4], [6]] });
  const over = await call(port, 'POST', '/v1/models/m:predict', { instances: [[1], [2], [3], [4]] });
  assert.equal(over.status, 400);
  assert.match(over.json.error, /more than the limit of 3 \(--max_request_elements\)/);
});
