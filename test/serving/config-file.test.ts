// --model_config_file polling (models added and removed while serving), a monitoring config's metrics path, and
// generated warmup at the allowed batch sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startServing, type ServingEvent } from '../../src/core/serving/server.js';
import { defaultBatching, readModelConfigFile } from '../../src/core/serving/config.js';
import { call, FAKE_ENGINE, tmpBase, until, writeVersion } from './helpers.js';

test('model config file: models added and removed while serving; custom metrics path; warmup at allowed sizes', async (t) => {
  const base = tmpBase();
  writeVersion(path.join(base, 'a'), 1, { mul: 2 });
  writeVersion(path.join(base, 'b'), 7, { mul: 3 });
  const file = path.join(base, 'models.config');
  writeFileSync(file, 'model_config_list { config { name: "a" base_path: "a" model_platform: "tensorflow" } }\n');
  const events: ServingEvent[] = [];
  const serving = await startServing({
    models: readModelConfigFile(file),
    modelConfigFile: file,
    modelConfigPollSeconds: 0.05,
    pollSeconds: 0,
    restPort: 0,
    host: '127.0.0.1',
    monitoring: { prometheusEnabled: true, path: '/metrics' },
    batching: { ...defaultBatching(), numBatchThreads: 1, maxBatchSize: 4, allowedBatchSizes: [2, 4] },
    loaderModule: FAKE_ENGINE,
    log: (e) => events.push(e),
  });
  t.after(async () => {
    await serving.close();
    rmSync(base, { recursive: true, force: true });
  });
  const port = serving.restPort;
  const loaded = events.find((e) => e.kind === 'loaded');
  assert.ok(loaded?.kind === 'loaded');
  assert.equal(loaded.warmupSource, 'generated');
  assert.equal(loaded.warmupRequests, 8, 'four batchable signatures at batch sizes 2 and 4');

  assert.deepEqual((await call(port, 'POST', '/v1/models/a:predict', { instances: [[1]] })).json, { predictions: [[2]] });
  assert.equal((await call(port, 'GET', '/metrics')).status, 200);
  assert.equal((await call(port, 'GET', '/monitoring/prometheus/metrics')).status, 404);

  writeFileSync(
    file,
    `model_config_list {
       config { name: "b" base_path: "${path.join(base, 'b')}" model_version_policy { all {} } version_labels { key: "prod" value: 7 } }
     }`,
  );
  await until(async () => (await call(port, 'GET', '/v1/models/b/labels/prod')).json?.model_version_status?.[0]?.state === 'AVAILABLE', () => undefined);
  assert.deepEqual((await call(port, 'POST', '/v1/models/b/labels/prod:predict', { instances: [[1]] })).json, { predictions: [[3]] });
  // A removed model's versions end (TF Serving keeps their END state); requests get NOT_FOUND.
  await until(async () => (await call(port, 'GET', '/v1/models/a')).json?.model_version_status?.[0]?.state === 'END', () => undefined);
  assert.match((await call(port, 'POST', '/v1/models/a:predict', { instances: [[1]] })).json.error, /Servable not found for request: Latest\(a\)/);

  writeFileSync(file, 'model_config_list { config { name: "b" base_path: "b" nonsense: 1 } }');
  await until(() => events.some((e) => e.kind === 'config-error'), () => undefined);
  assert.equal((await call(port, 'GET', '/v1/models/b')).status, 200, 'a broken config keeps the previous one');
});
