// `inspect --all` shows DT_INT64 variable values exactly, in text and JSON (hash seeds and ids exceed 2^53).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodePlain } from '../../src/core/proto/schema.js';
import { crc32c, maskCrc } from '../../src/core/savedmodel/crc32c.js';
import { buildTable } from '../savedmodel/table-writer.js';
import { runCli } from './run-cli.js';

const VALUES = [-8844007240823776001n, 9007199254740993n, 42n];

/** A SavedModel whose checkpoint holds `ids`, an int64 variable with VALUES. */
function writeInt64Model(dir: string): void {
  const t = (type: string) => ({ type });
  writeFileSync(path.join(dir, 'saved_model.pb'), encodePlain('tensorflow.SavedModel', {
    savedModelSchemaVersion: 1,
    metaGraphs: [{
      metaInfoDef: { tags: ['serve'] },
      graphDef: { node: [{ name: 'ids', op: 'VariableV2', attr: { dtype: t('DT_INT64'), shape: { shape: { dim: [{ size: 3 }] } } } }] },
      signatureDef: {
        serving_default: { methodName: 'tensorflow/serving/predict', inputs: {}, outputs: { y: { name: 'ids:0', dtype: 'DT_INT64', tensorShape: { dim: [{ size: 3 }] } } } },
      },
    }],
  }));
  mkdirSync(path.join(dir, 'variables'));
  const prefix = path.join(dir, 'variables', 'variables');
  const data = Buffer.from(BigInt64Array.from(VALUES).buffer);
  writeFileSync(`${prefix}.data-00000-of-00001`, data);
  writeFileSync(`${prefix}.index`, buildTable([
    [Buffer.alloc(0), Buffer.from(encodePlain('tensorflow.BundleHeaderProto', { numShards: 1 }))],
    [Buffer.from('ids'), Buffer.from(encodePlain('tensorflow.BundleEntryProto', { dtype: 'DT_INT64', shape: { dim: [{ size: 3 }] }, offset: 0, size: 24, crc32c: maskCrc(crc32c(data)) }))],
  ], 8, false));
}

test('inspect --all prints int64 variable values with every digit, in text and JSON', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-int64-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeInt64Model(dir);
  const text = await runCli(['inspect', dir, '--all']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /-8844007240823776001, 9007199254740993, 42/);
  const json = await runCli(['inspect', dir, '--all', '--json']);
  const ids = JSON.parse(json.stdout).checkpoint.variables.find((v: { key: string }) => v.key === 'ids');
  assert.deepEqual(ids.values, ['-8844007240823776001', '9007199254740993', 42]);
});
