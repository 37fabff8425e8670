import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readSavedModel, selectMetaGraph } from '../../src/core/savedmodel/reader.js';
import { listVersions, resolveModelDir } from '../../src/core/savedmodel/layout.js';
import { signatureInfos } from '../../src/core/savedmodel/signatures.js';
import { ModelError, UsageError } from '../../src/core/errors.js';
import { needsShared, sharedModel } from '../helpers/shared-models.js';
import { copyModel, tempDir } from './model-copy.js';

test('readSavedModel: meta graph, assets, assets.extra and the checkpoint prefix', needsShared, async (t) => {
  const dir = copyModel(sharedModel('tfserving/saved_model_half_plus_three/00000123', t), t);
  mkdirSync(path.join(dir, 'assets.extra'));
  writeFileSync(path.join(dir, 'assets.extra', 'tf_serving_warmup_requests'), '');
  const files = await readSavedModel(dir);
  assert.equal(files.file, path.join(dir, 'saved_model.pb'));
  assert.deepEqual(files.assets, ['foo.txt']);
  assert.deepEqual(files.assetsExtra, ['tf_serving_warmup_requests']);
  assert.equal(files.variablesPrefix, path.join(dir, 'variables', 'variables'));
  const meta = selectMetaGraph(files.savedModel);
  assert.deepEqual(meta.metaInfoDef?.tags, ['serve']);
  assert.ok(meta.graphDef?.node?.some((n) => n.op === 'VariableV2'));
});

test('a model without variables has no checkpoint prefix', needsShared, async (t) => {
  const files = await readSavedModel(sharedModel('tfserving/matrix_half_plus_two/1', t));
  assert.equal(files.variablesPrefix, undefined);
  const sigs = signatureInfos(selectMetaGraph(files.savedModel));
  assert.deepEqual(sigs.serving_default?.inputs.x, { name: 'x:0', dtype: 'DT_FLOAT', shape: [-1, 3, 3] });
});

test('selectMetaGraph: tag sets match as sets; a missing one lists the available ones', () => {
  const sm = { metaGraphs: [{ metaInfoDef: { tags: ['serve'] } }, { metaInfoDef: { tags: ['serve', 'gpu'] } }] };
  assert.equal(selectMetaGraph(sm, ['gpu', 'serve']), sm.metaGraphs[1]);
  assert.equal(selectMetaGraph(sm), sm.metaGraphs[0]);
  assert.throws(() => selectMetaGraph(sm, ['train']), (err: unknown) => {
    assert.ok(err instanceof UsageError);
    assert.match(err.message, /no meta graph with tag set "train" \(available tag sets: "serve", "serve,gpu"\)/);
    return true;
  });
});

test('saved_model.pbtxt is read when there is no saved_model.pb', async (t) => {
  const dir = tempDir(t);
  writeFileSync(
    path.join(dir, 'saved_model.pbtxt'),
    `saved_model_schema_version: 1
meta_graphs {
  meta_info_def { tags: "serve" tensorflow_version: "2.15.0" }
  signature_def {
    key: "serving_default"
    value {
      inputs { key: "x" value { name: "x:0" dtype: DT_FLOAT tensor_shape { dim { size: -1 } dim { size: 3 } } } }
      outputs { key: "y" value { name: "y:0" dtype: DT_BFLOAT16 tensor_shape { unknown_rank: true } } }
      method_name: "tensorflow/serving/predict"
    }
  }
}
`,
  );
  const files = await readSavedModel(dir);
  assert.equal(files.file, path.join(dir, 'saved_model.pbtxt'));
  const sig = signatureInfos(selectMetaGraph(files.savedModel)).serving_default!;
  assert.deepEqual(sig.inputs.x, { name: 'x:0', dtype: 'DT_FLOAT', shape: [-1, 3] });
  assert.deepEqual(sig.outputs.y, { name: 'y:0', dtype: 'DT_BFLOAT16', shape: null });
  // Fields the schema leaves out are skipped, as decoding saved_model.pb drops them (test/savedmodel/pbtxt.test.ts);
  // malformed text is an error naming the file, line and column.
  writeFileSync(path.join(dir, 'saved_model.pbtxt'), 'meta_graphs { bogus: }');
  await assert.rejects(readSavedModel(dir), (err: unknown) => err instanceof ModelError && err.message.startsWith(path.join(dir, 'saved_model.pbtxt:1:22:')));
});

test('empty or missing saved_model.pb', async (t) => {
  const dir = tempDir(t);
  await assert.rejects(readSavedModel(dir), UsageError);
  writeFileSync(path.join(dir, 'saved_model.pb'), '');
  await assert.rejects(readSavedModel(dir), /saved_model\.pb: file is empty/);
  await assert.rejects(readSavedModel(path.join(dir, 'nope')), /no such file or directory/);
});

test('listVersions: numeric subdirectories only, ascending; others reported as ignored', (t) => {
  const base = tempDir(t);
  for (const d of ['10', '9', '00000123', 'tmp', '.hidden']) mkdirSync(path.join(base, d));
  writeFileSync(path.join(base, '42'), 'a file, not a version');
  const { versions, ignored } = listVersions(base);
  assert.deepEqual(versions.map((v) => v.version), [9, 10, 123]);
  assert.equal(versions[2]!.dir, path.join(base, '00000123'));
  assert.deepEqual(ignored, ['.hidden', 'tmp']);
});

test('resolveModelDir: version dir as is, base dir newest or --version', needsShared, (t) => {
  const base = sharedModel('tfserving/saved_model_half_plus_two_2_versions', t);
  const newest = resolveModelDir(base);
  assert.equal(newest.version, 124);
  assert.equal(newest.dir, path.join(base, '00000124'));
  assert.equal(newest.baseDir, base);
  assert.equal(resolveModelDir(base, 123).dir, path.join(base, '00000123'));
  assert.throws(() => resolveModelDir(base, 5), /no version 5 \(versions: 123, 124\)/);
  const one = resolveModelDir(path.join(base, '00000123'));
  assert.equal(one.version, 123);
  assert.equal(one.baseDir, undefined);
  assert.equal(resolveModelDir(path.join(base, '00000123'), 123).dir, path.join(base, '00000123'));
  assert.throws(() => resolveModelDir(path.join(base, '00000123'), 124), UsageError);
  const noVersion = resolveModelDir(sharedModel('tfjs/times_three_float', t));
  assert.equal(noVersion.version, undefined);
});

test('resolveModelDir: errors say what the directory is not', (t) => {
  const dir = tempDir(t);
  mkdirSync(path.join(dir, 'other'));
  assert.throws(() => resolveModelDir(dir), /no numeric version subdirectories \(ignored non-numeric subdirectories: other\)/);
  assert.throws(() => resolveModelDir(path.join(dir, 'missing')), /no such file or directory/);
  mkdirSync(path.join(dir, 'variables'));
  assert.throws(() => resolveModelDir(dir), ModelError);
});
