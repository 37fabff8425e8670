// Request data: generated from the endpoint's metadata (dtype- and shape-aware, --batch rows, seeded) as valid TF
// Serving REST predict bodies; JSONL files; TF Serving warmup files written by `tfsvc warmup --write` and replayed
// by `tfsvc bench --data`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generatedBodies, warmupFileBodies as readWarmupFile } from '../../src/core/load/bodies.js';
import { parseMetadata, pickSignature, type SignatureSpec } from '../../src/core/load/metadata.js';
import { WARMUP_FILE } from '../../src/core/savedmodel/warmup-file.js';
import { decodePlain } from '../../src/core/proto/schema.js';
import { readTFRecordFile } from '../../src/core/savedmodel/tfrecord.js';
import { UsageError } from '../../src/core/errors.js';
import { needsShared, sharedModel } from '../helpers/shared-models.js';
import { startFixtureServer } from './fixture-server.js';
import { runCli } from './cli-helper.js';

const gen = (sig: SignatureSpec, batch: number, seed = 1, count = 2, sendSignature = false) =>
  generatedBodies(sig, { batch, seed, unknownDim: 3, count, sendSignature }).bodies.map((b) => JSON.parse(b.toString()) as Record<string, unknown>);

test('half_plus_two metadata (TF Serving\'s own answer) → instances of [float] rows, --batch of them', needsShared, (t) => {
  const meta = parseMetadata(JSON.parse(readFileSync(sharedModel('tfserving/half_plus_two_model_metadata.json', t), 'utf8')));
  assert.ok(meta.signatures.some((s) => s.name === 'classify_x_to_y'));
  const sig = pickSignature(meta.signatures);
  assert.equal(sig.name, 'serving_default');
  const [body] = gen(sig, 3);
  assert.deepEqual(Object.keys(body!), ['instances']);
  const rows = body!.instances as number[][];
  assert.equal(rows.length, 3);
  for (const row of rows) {
    assert.equal(row.length, 1);
    assert.ok(typeof row[0] === 'number' && row[0] >= 0 && row[0] < 1);
  }
  assert.deepEqual(gen(sig, 3), gen(sig, 3), 'same seed, same bodies');
  assert.notDeepEqual(gen(sig, 3, 1), gen(sig, 3, 2));
  // classify/regress signatures take serialized tf.Example: not generated, and the error says why.
  assert.throws(() => gen(pickSignature(meta.signatures, 'classify_x_to_y'), 1), UsageError);
});

test('several inputs of different dtypes → one object per row with the right JSON types and shapes', () => {
  const sig: SignatureSpec = {
    name: 'multi',
    method: 'tensorflow/serving/predict',
    inputs: {
      ids: { dtype: 'DT_INT64', shape: [-1, 4] },
      mask: { dtype: 'DT_BOOL', shape: [-1, 4] },
      text: { dtype: 'DT_STRING', shape: [-1] },
      image: { dtype: 'DT_FLOAT', shape: [-1, -1, 2] },
    },
  };
  const [body] = gen(sig, 2, 1, 1, true);
  assert.equal(body!.signature_name, 'multi');
  const rows = body!.instances as Array<Record<string, unknown>>;
  assert.equal(rows.length, 2);
  for (const row of rows) {
    assert.ok((row.ids as number[]).length === 4 && (row.ids as number[]).every(Number.isInteger));
    assert.ok((row.mask as boolean[]).every((b) => typeof b === 'boolean'));
    assert.equal(typeof row.text, 'string');
    const image = row.image as number[][];
    assert.equal(image.length, 3, '--unknown-dim sizes the unknown inner dimension');
    assert.ok(image.every((px) => px.length === 2));
  }
  // A scalar input has no batch dimension: the columnar "inputs" form carries it.
  const scalar = gen({ name: 's', method: 'tensorflow/serving/predict', inputs: { k: { dtype: 'DT_INT32', shape: [] }, x: { dtype: 'DT_FLOAT', shape: [-1] } } }, 2);
  assert.ok(scalar[0]!.inputs && !scalar[0]!.instances);
  assert.equal(typeof (scalar[0]!.inputs as Record<string, unknown>).k, 'number');
});

test('tfsvc warmup: every predict signature at each batch size; --write gives a warmup file bench --data replays', async (t) => {
  const bodies: string[] = [];
  const server = await startFixtureServer({ onBody: (b) => bodies.push(b) });
  const dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-warmup-'));
  t.after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  assert.equal(await runCli(['warmup', server.url, '--model', 'half_plus_two', '--batch', '1,4', '--write', dir]), 0);
  assert.equal(bodies.length, 2, 'classify_x_to_y is skipped; serving_default at batch 1 and 4');
  const sent = bodies.map((b) => JSON.parse(b) as { signature_name: string; instances: unknown[] });
  assert.deepEqual(sent.map((b) => [b.signature_name, b.instances.length]), [['serving_default', 1], ['serving_default', 4]]);

  const file = path.join(dir, WARMUP_FILE);
  const logs = readTFRecordFile(file).map((r) => decodePlain<{ predictLog: { request: { modelSpec: { name: string; signatureName: string }; inputs: Record<string, unknown> } } }>('tensorflow.serving.PredictionLog', r, 'tensorflow_serving.proto'));
  assert.equal(logs.length, 2);
  assert.deepEqual(logs.map((l) => [l.predictLog.request.modelSpec.name, l.predictLog.request.modelSpec.signatureName, Object.keys(l.predictLog.request.inputs)]), [
    ['half_plus_two', 'serving_default', ['x']],
    ['half_plus_two', 'serving_default', ['x']],
  ]);
  // The file reads back as the same REST bodies that were sent.
  assert.deepEqual(readWarmupFile(file).bodies, sent);

  bodies.length = 0;
  assert.equal(await runCli(['bench', server.url, '--model', 'half_plus_two', '--data', file, '--qps', '100', '--requests', '4', '--no-progress']), 0);
  // One preflight request, then 4 measured ones cycling through the file's 2 requests.
  assert.equal(bodies.length, 5);
  assert.deepEqual(bodies.slice(1).map((b) => JSON.parse(b)), [sent[0], sent[1], sent[0], sent[1]]);
});

test('bench --data FILE.jsonl sends the bodies round-robin; a bad line is a usage error', async (t) => {
  const bodies: string[] = [];
  const server = await startFixtureServer({ onBody: (b) => bodies.push(b) });
  const dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-jsonl-'));
  t.after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const file = path.join(dir, 'bodies.jsonl');
  writeFileSync(file, '{"instances": [1]}\n{"instances": [2]}\n\n{"instances": [3]}\n');
  assert.equal(await runCli(['bench', `${server.url}/v1/models/m:predict`, '--data', file, '--concurrency', '1', '--requests', '6', '--no-progress']), 0);
  assert.deepEqual(bodies.slice(1).map((b) => (JSON.parse(b) as { instances: number[] }).instances[0]), [1, 2, 3, 1, 2, 3]);
  writeFileSync(file, '{"instances": [1]}\nnot json\n');
  assert.equal(await runCli(['bench', `${server.url}/v1/models/m:predict`, '--data', file, '--qps', '10', '--requests', '1', '--no-progress']), 2);
});
