// `tfsvc validate http://...`: a served model (tfsvc serve on the project's fixture) passes metadata, one generated
// predict per signature, and its golden file; a wrong golden fails; an unreachable server is a usage error.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { UsageError } from '../../src/core/errors.js';
import { defaultBatching } from '../../src/core/serving/config.js';
import { startServing, type Serving } from '../../src/core/serving/server.js';
import { readGolden } from '../../src/core/validate/golden.js';
import { validateUrl } from '../../src/core/validate/remote.js';
import { repoRoot } from '../helpers/shared-models.js';

const fixtures = path.join(repoRoot, 'fixtures');
let serving: Serving;
let url: string;

before(async () => {
  serving = await startServing({
    models: [{ name: 'mnist', basePath: path.join(fixtures, 'models', 'mnist'), policy: { kind: 'latest', numVersions: 1 }, labels: {} }],
    restPort: 0,
    host: '127.0.0.1',
    pollSeconds: 0,
    batching: { ...defaultBatching(), numBatchThreads: 1 },
  });
  await serving.settled();
  url = `http://127.0.0.1:${serving.restPort}/v1/models/mnist`;
});

after(async () => {
  await serving?.close(1000);
});

test('a served model passes metadata, generated predict and its golden file', async () => {
  const golden = await readGolden(path.join(fixtures, 'mnist-v2.golden.json'));
  const r = await validateUrl(url, { golden, batch: 3 });
  assert.equal(r.ok, true, JSON.stringify(r.versions[0]!.checks));
  assert.deepEqual(r.versions[0]!.checks.map((c) => [c.check, c.status]), [['metadata', 'pass'], ['predict:serving_default', 'pass'], ['golden:serving_default', 'pass']]);
  assert.equal(r.versions[0]!.version, 2);
  assert.match(r.versions[0]!.checks[1]!.detail, /HTTP 200: image\[3,28,28\] → probabilities\[3,10\]; finite/);
});

test('the wrong golden file fails against the served version', async () => {
  const golden = await readGolden(path.join(fixtures, 'mnist-v1.golden.json'));
  const r = await validateUrl(url, { golden });
  assert.equal(r.ok, false);
  assert.equal(r.versions[0]!.checks.find((c) => c.check === 'golden:serving_default')!.status, 'fail');
});

test('an unknown model or unreachable server is a usage error', async () => {
  await assert.rejects(validateUrl(`http://127.0.0.1:${serving.restPort}/v1/models/nope`), UsageError);
  await assert.rejects(validateUrl('http://127.0.0.1:1/v1/models/mnist', { timeoutMs: 2000 }), UsageError);
});
