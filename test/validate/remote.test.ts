// `tfsvc validate http://...`: a served model (tfsvc serve on the project's fixture) passes metadata, one generated
// predict per signature, and its golden file; a wrong golden fails; an unreachable server is a usage error.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../../src/core/errors.js';
import { GraphBuilder, attr, shapeProto } from '../../src/core/export/graph-builder.js';
import { writeSavedModel } from '../../src/core/export/savedmodel-writer.js';
import { defaultBatching } from '../../src/core/serving/config.js';
import { startServing, type Serving } from '../../src/core/serving/server.js';
import { readGolden } from '../../src/core/validate/golden.js';
import { validateUrl } from '../../src/core/validate/remote.js';
import { repoRoot } from '../helpers/shared-models.js';

const fixtures = path.join(repoRoot, 'fixtures');
let serving: Serving;
let url: string;

let work: string;

/** A one-node SavedModel whose predict signature echoes strings: golden files must compare its outputs as strings. */
async function writeEchoModel(dir: string): Promise<void> {
  const g = new GraphBuilder();
  const x = g.placeholder('text', 'DT_STRING', [-1]);
  g.op('Identity', 'echo', [x], { T: attr.type('DT_STRING') }, x);
  const info = (name: string) => ({ name, dtype: 'DT_STRING', tensorShape: shapeProto([-1]) });
  await writeSavedModel(dir, { graphDef: g.graphDef(), signatures: { serving_default: { inputs: { text: info('text:0') }, outputs: { echo: info('echo:0') }, methodName: 'tensorflow/serving/predict' } } });
}

before(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'tfsvc-remote-'));
  await writeEchoModel(path.join(work, 'echo', '1'));
  serving = await startServing({
    models: [
      { name: 'mnist', basePath: path.join(fixtures, 'models', 'mnist'), policy: { kind: 'latest', numVersions: 1 }, labels: {} },
      { name: 'echo', basePath: path.join(work, 'echo'), policy: { kind: 'latest', numVersions: 1 }, labels: {} },
    ],
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
  rmSync(work, { recursive: true, force: true });
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

test('string outputs are compared as strings against a golden file', async () => {
  const echo = `http://127.0.0.1:${serving.restPort}/v1/models/echo`;
  const file = (outputs: string[]) => {
    const f = path.join(work, `golden-${outputs.join('-')}.json`);
    writeFileSync(f, JSON.stringify({ signatures: { serving_default: { inputs: { text: ['héllo', 'b'] }, outputs: { echo: outputs } } } }));
    return f;
  };
  const good = await validateUrl(echo, { golden: await readGolden(file(['héllo', 'b'])) });
  assert.equal(good.ok, true, JSON.stringify(good.versions[0]!.checks));
  assert.match(good.versions[0]!.checks.find((c) => c.check === 'golden:serving_default')!.detail, /^2 values match/);
  const bad = await validateUrl(echo, { golden: await readGolden(file(['héllo', 'c'])) });
  assert.match(bad.versions[0]!.checks.find((c) => c.check === 'golden:serving_default')!.detail, /output echo\[1\]: "b", expected "c"/);
});

test('a server that drops the connection during the checks is a connection error (exit 2), not an internal error', async (t) => {
  // Relays GETs (metadata, status) to the real server and hangs up on every POST.
  const proxy = http.createServer(async (req, res) => {
    if (req.method === 'POST') return req.socket.destroy();
    const r = await fetch(`http://127.0.0.1:${serving.restPort}${req.url}`);
    res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text());
  });
  await new Promise<void>((res) => proxy.listen(0, '127.0.0.1', res));
  t.after(() => proxy.close());
  const port = (proxy.address() as { port: number }).port;
  await assert.rejects(validateUrl(`http://127.0.0.1:${port}/v1/models/mnist`, { timeoutMs: 5000 }), (e: Error) => e instanceof UsageError && /:predict: request failed/.test(e.message));
});
