// The warmup file format (assets.extra/tf_serving_warmup_requests) that serve, validate, bench --data, warmup --write
// and export --warmup share: typed requests round-trip, context is merged into each example, limits and errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeExample, encodeExample } from '../../src/core/engine/example.js';
import { ModelError, UsageError } from '../../src/core/errors.js';
import { encodePlain } from '../../src/core/proto/schema.js';
import { writeTFRecordFile } from '../../src/core/savedmodel/tfrecord.js';
import { decodeWarmupRecord, readWarmupFile, readWarmupRecords, WARMUP_FILE, writeWarmupFile } from '../../src/core/savedmodel/warmup-file.js';

const tmp = (t: { after(fn: () => void): void }) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-warmup-file-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

test('predict, classify and regress requests read back as written', (t) => {
  const dir = tmp(t);
  const x = { dtype: 'DT_FLOAT', shape: [2, 1], data: Float32Array.from([1, 2]) };
  const example = encodeExample({ a: { kind: 'float', values: [3] } });
  const file = writeWarmupFile(dir, [
    { kind: 'predict', model: 'm', signature: 'serving_default', inputs: { x } },
    { kind: 'classify', model: 'm', signature: 'c', examples: [example, example] },
    { kind: 'regress', signature: 'r', examples: [example] },
  ]);
  assert.equal(file, path.join(dir, WARMUP_FILE));
  const [p, c, r] = readWarmupFile(file);
  assert.deepEqual(p, { kind: 'predict', model: 'm', signature: 'serving_default', inputs: { x } });
  assert.equal(c!.kind, 'classify');
  assert.equal(c!.kind === 'classify' && c.examples.length, 2);
  assert.deepEqual(r!.kind === 'regress' && [r.model, r.signature, decodeExample(r.examples[0]!).get('a')], [undefined, 'r', { kind: 'float', values: [3] }]);
});

test("an ExampleListWithContext's context is merged into each example; other logs read as 'other'", () => {
  const log = (l: Record<string, unknown>) => encodePlain('tensorflow.serving.PredictionLog', l, 'tensorflow_serving.proto');
  const ex = (name: string, v: number) => ({ features: { feature: { [name]: { floatList: { value: [v] } } } } });
  const rec = log({ regressLog: { request: { input: { exampleListWithContext: { context: ex('ctx', 1), examples: [ex('a', 2)] } } } } });
  const r = decodeWarmupRecord(rec, 0);
  assert.equal(r.kind, 'regress');
  const merged = decodeExample(r.kind === 'regress' ? r.examples[0]! : new Uint8Array());
  assert.deepEqual([...merged.keys()].sort(), ['a', 'ctx']);
  assert.deepEqual(decodeWarmupRecord(log({ multiInferenceLog: {} }), 1), { kind: 'other', log: 'multi_inference_log' });
});

test('errors name the record; more than 1000 records is refused unless the caller lifts the limit', (t) => {
  const dir = tmp(t);
  assert.throws(() => decodeWarmupRecord(Uint8Array.from([0xff, 0xff]), 4), (e: unknown) => e instanceof ModelError && /^record 4 is not a PredictionLog/.test(e.message));
  const bad = encodePlain('tensorflow.serving.PredictionLog', { predictLog: { request: { inputs: { x: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: -1 }] } } } } } }, 'tensorflow_serving.proto');
  assert.throws(() => decodeWarmupRecord(bad, 2, (m) => new UsageError(m)), (e: unknown) => e instanceof UsageError && /^record 2, input x: /.test(e.message));
  const file = path.join(dir, 'many');
  writeTFRecordFile(file, Array.from({ length: 1001 }, () => new Uint8Array(0)));
  assert.throws(() => readWarmupRecords(file), /1001 records; TF Serving accepts at most 1000/);
  assert.equal(readWarmupRecords(file, undefined, Infinity).length, 1001);
});
