// Classify/regress load: tf.Example JSON bodies from --feature flags (read back with the server's own decoder, so a
// float feature really is a float_list), the choice between :classify/:regress and :predict, and bench/warmup
// through the real CLI against a local stand-in for TF Serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeExample } from '../../src/core/engine/example.js';
import { UsageError } from '../../src/core/errors.js';
import { examplesBody, parseFeatureFlag, planRequests } from '../../src/core/load/examples.js';
import type { SignatureSpec } from '../../src/core/load/metadata.js';
import { seededRandom } from '../../src/core/prng.js';
import { parseJsonBody } from '../../src/core/wire/json-parse.js';
import { decodeExamplesRequest } from '../../src/core/wire/example-json.js';
import { WARMUP_FILE } from '../../src/core/savedmodel/warmup-file.js';
import { decodePlain } from '../../src/core/proto/schema.js';
import { readTFRecordFile } from '../../src/core/savedmodel/tfrecord.js';
import { startFixtureServer } from './fixture-server.js';
import { runCli } from './cli-helper.js';

test('--feature NAME=KIND[N]: float, int64, bytes (string), with clear errors', () => {
  assert.deepEqual(parseFeatureFlag('x=float'), { name: 'x', kind: 'float', length: 1 });
  assert.deepEqual(parseFeatureFlag('age=int64'), { name: 'age', kind: 'int64', length: 1 });
  assert.deepEqual(parseFeatureFlag('words=string[3]'), { name: 'words', kind: 'bytes', length: 3 });
  assert.throws(() => parseFeatureFlag('x'), (e: unknown) => e instanceof UsageError && /expected NAME=KIND/.test(e.message));
  assert.throws(() => parseFeatureFlag('x=double'), (e: unknown) => e instanceof UsageError && /unknown kind "double"/.test(e.message));
  assert.throws(() => parseFeatureFlag('x=float[0]'), UsageError);
});

test("generated bodies decode, by TF Serving's JSON rules, into Examples of the named kinds and lengths", () => {
  const features = ['x=float', 'n=int64', 'v=float[4]', 'w=bytes[2]'].map(parseFeatureFlag);
  // Many seeds: a float that happens to be whole (0.000) must still be written as a float.
  for (let seed = 0; seed < 50; seed++) {
    const text = examplesBody('regress_x_to_y', features, 3, seededRandom(seed));
    const req = decodeExamplesRequest(parseJsonBody(text));
    assert.equal(req.signatureName, 'regress_x_to_y');
    assert.equal(req.examples.length, 3);
    for (const bytes of req.examples) {
      const ex = decodeExample(bytes);
      assert.deepEqual([...ex.keys()].sort(), ['n', 'v', 'w', 'x']);
      assert.equal(ex.get('x')!.kind, 'float', text);
      assert.equal(ex.get('n')!.kind, 'int64', text);
      assert.equal(ex.get('v')!.kind, 'float', text);
      assert.equal(ex.get('v')!.values.length, 4);
      assert.equal(ex.get('w')!.kind, 'bytes');
      assert.equal(ex.get('w')!.values.length, 2);
    }
  }
  assert.doesNotMatch(examplesBody(undefined, features, 1, seededRandom(1)), /signature_name/);
});

test('which API a signature gets: tf.Examples for a DT_STRING classify/regress input, tensors otherwise unless --feature', () => {
  const sig = (method: string, dtype: string): SignatureSpec => ({ name: 's', method: `tensorflow/serving/${method}`, inputs: { inputs: { dtype, shape: null } } });
  assert.deepEqual(planRequests(sig('predict', 'DT_STRING'), true), { verb: 'predict' });
  assert.equal(planRequests(sig('classify', 'DT_STRING'), false).verb, 'classify');
  assert.equal(planRequests(sig('regress', 'DT_STRING'), false).verb, 'regress');
  // half_plus_two's regress_x2_to_y3 takes a float tensor; half_plus_three's regress declares DT_FLOAT for tf.Examples.
  const ambiguous = planRequests(sig('regress', 'DT_FLOAT'), false);
  assert.equal(ambiguous.verb, 'predict');
  assert.match(ambiguous.note!, /--feature/);
  assert.equal(planRequests(sig('regress', 'DT_FLOAT'), true).verb, 'regress');
});

test('bench on a classify signature: exit 2 naming --feature without it; with it, tf.Examples go to :classify', async (t) => {
  const seen: Array<{ url: string; body: string }> = [];
  const server = await startFixtureServer({ onBody: (body, url) => seen.push({ url, body }) });
  t.after(() => server.close());
  const common = ['bench', server.url, '--model', 'half_plus_two', '--signature', 'classify_x_to_y', '--qps', '50', '--requests', '5', '--no-progress'];
  assert.equal(await runCli(common), 2);
  assert.equal(seen.length, 0, 'nothing sent without features');

  assert.equal(await runCli([...common, '--feature', 'x=float', '--batch', '2']), 0);
  assert.ok(seen.length >= 5);
  for (const { url, body } of seen) {
    assert.equal(url, '/v1/models/half_plus_two:classify');
    const req = decodeExamplesRequest(parseJsonBody(body));
    assert.equal(req.signatureName, 'classify_x_to_y');
    assert.equal(req.examples.length, 2);
    assert.equal(decodeExample(req.examples[0]!).get('x')!.kind, 'float');
  }
  // --feature on a predict signature is a usage error.
  assert.equal(await runCli(['bench', server.url, '--model', 'half_plus_two', '--feature', 'x=float', '--qps', '10', '--no-progress']), 2);
});

test('bench --data with {"examples": ...} bodies sends them, as written, to the API of their signature', async (t) => {
  const seen: Array<{ url: string; body: string }> = [];
  const server = await startFixtureServer({ onBody: (body, url) => seen.push({ url, body }) });
  const dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-examples-'));
  t.after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const file = path.join(dir, 'examples.jsonl');
  writeFileSync(file, '{"examples": [{"x": 1.0}]}\n{"examples": [{"x": 2.0}, {"x": 5.0}]}\n');
  const code = await runCli(['bench', server.url, '--model', 'half_plus_two', '--signature', 'classify_x_to_y', '--data', file, '--qps', '50', '--requests', '4', '--no-progress']);
  assert.equal(code, 0);
  assert.ok(seen.every((s) => s.url === '/v1/models/half_plus_two:classify'));
  // 1.0 stays 1.0 (re-serializing would write 1, which TF Serving reads as an int64 feature).
  assert.ok(seen.some((s) => s.body === '{"signature_name": "classify_x_to_y", "examples": [{"x": 1.0}]}'), seen.map((s) => s.body).join('\n'));

  const mixed = path.join(dir, 'mixed.jsonl');
  writeFileSync(mixed, '{"examples": [{"x": 1.0}]}\n{"instances": [1.0]}\n');
  assert.equal(await runCli(['bench', server.url, '--model', 'half_plus_two', '--data', mixed, '--qps', '10', '--no-progress']), 2);
});

test('warmup --feature warms classify signatures through :classify; without it they are skipped', async (t) => {
  const urls: string[] = [];
  const server = await startFixtureServer({ onBody: (_body, url) => urls.push(url) });
  t.after(() => server.close());
  assert.equal(await runCli(['warmup', server.url, '--model', 'half_plus_two']), 0);
  assert.deepEqual(urls, ['/v1/models/half_plus_two:predict']);
  urls.length = 0;
  assert.equal(await runCli(['warmup', server.url, '--model', 'half_plus_two', '--feature', 'x=float', '--batch', '1,4']), 0);
  assert.deepEqual(urls.sort(), ['/v1/models/half_plus_two:classify', '/v1/models/half_plus_two:classify', '/v1/models/half_plus_two:predict', '/v1/models/half_plus_two:predict']);
});

test('warmup --feature --write saves classify requests as classify_log records (with their tf.Examples)', async (t) => {
  const server = await startFixtureServer();
  const dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-examples-'));
  t.after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  assert.equal(await runCli(['warmup', server.url, '--model', 'half_plus_two', '--feature', 'x=float', '--batch', '3', '--write', dir]), 0);
  const logs = readTFRecordFile(path.join(dir, WARMUP_FILE)).map((r) => decodePlain('tensorflow.serving.PredictionLog', r, 'tensorflow_serving.proto') as PlainLog);
  assert.equal(logs.length, 2);
  const classify = logs.find((l) => l.classifyLog)!.classifyLog!.request!;
  assert.equal(classify.modelSpec!.signatureName, 'classify_x_to_y');
  const examples = classify.input!.exampleList!.examples!;
  assert.equal(examples.length, 3);
  assert.equal(examples[0]!.features!.feature!.x!.floatList!.value!.length, 1);
  assert.ok(logs.some((l) => l.predictLog?.request?.modelSpec?.signatureName === 'serving_default'));
});

interface PlainLog {
  predictLog?: { request?: { modelSpec?: { signatureName?: string } } };
  classifyLog?: {
    request?: {
      modelSpec?: { signatureName?: string };
      input?: { exampleList?: { examples?: Array<{ features?: { feature?: Record<string, { floatList?: { value?: number[] } }> } }> } };
    };
  };
}
