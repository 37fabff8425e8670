// REST details where TF Serving's behaviour is what clients expect: every CORS preflight is answered (with or without
// --enable_cors_support), and a request to an unknown model reads its JSON body first, so a bad body is a 400 naming
// the body, not a 404 naming the model.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { startServing, type Serving } from '../../src/core/serving/server.js';
import { defaultBatching } from '../../src/core/serving/config.js';
import { call, FAKE_ENGINE, tmpBase, writeVersion } from './helpers.js';

describe('REST: CORS preflight and body-before-model errors', () => {
  let serving: Serving;
  let base: string;
  before(async () => {
    base = tmpBase();
    writeVersion(path.join(base, 'm'), 1, { mul: 2 });
    serving = await startServing({
      models: [{ name: 'm', basePath: path.join(base, 'm'), policy: { kind: 'latest', numVersions: 1 }, labels: {} }],
      restPort: 0,
      host: '127.0.0.1',
      pollSeconds: 0,
      batching: { ...defaultBatching(), numBatchThreads: 1 },
      loaderModule: FAKE_ENGINE,
    });
  });
  after(async () => {
    await serving?.close();
    rmSync(base, { recursive: true, force: true });
  });

  test('a CORS preflight is answered without --enable_cors_support, on any path; no Origin is a 400', async () => {
    const port = serving.restPort;
    for (const p of ['/v1/models/m:predict', '/v1/models/unknown:predict', '/anything']) {
      const pre = await call(port, 'OPTIONS', p, undefined, { Origin: 'http://localhost:3000', 'Access-Control-Request-Method': 'POST' });
      assert.equal(pre.status, 200, p);
      assert.equal(pre.headers.get('access-control-allow-origin'), null, 'the Access-Control headers need CORS enabled');
    }
    const bare = await call(port, 'OPTIONS', '/v1/models/m:predict');
    assert.equal(bare.status, 400);
    assert.equal(bare.json.error, 'Origin header is missing in CORS preflight');
  });

  test('unknown model: the body is read first (empty → 400 JSON Parse error), a good body gets the 404', async () => {
    const port = serving.restPort;
    const empty = await call(port, 'POST', '/v1/models/nope:predict', '');
    assert.equal(empty.status, 400);
    assert.equal(empty.json.error, 'JSON Parse error: The document is empty');
    const badSig = await call(port, 'POST', '/v1/models/nope:predict', { signature_name: 5, instances: [1] });
    assert.equal(badSig.status, 400);
    assert.match(badSig.json.error, /'signature_name' key must be a string value/);
    const badExamples = await call(port, 'POST', '/v1/models/nope:classify', { examples: 3 });
    assert.equal(badExamples.status, 400);
    const good = await call(port, 'POST', '/v1/models/nope:predict', { instances: [[1]] });
    assert.equal(good.status, 404);
    assert.equal(good.json.error, 'Servable not found for request: Latest(nope)');
    // A known model still answers from its one parse.
    assert.deepEqual((await call(port, 'POST', '/v1/models/m:predict', { instances: [[1]] })).json, { predictions: [[2]] });
  });
});
