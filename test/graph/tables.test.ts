// Lookup tables (tf.lookup, Keras StringLookup/IntegerLookup, feature-column vocabularies) are filled by the model's
// init op at load time (from constants or from files in assets/). tfsvc does not run init ops, so a signature that
// looks a key up in such a table would answer every request with the table's default value. It must be refused at
// load, naming the table, instead.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadModel } from '../../src/core/engine/model.js';
import { encodePlain } from '../../src/core/proto/schema.js';
import type { MetaGraphDef, NodeDef, TensorProto } from '../../src/core/savedmodel/types.js';

const t = (type: string) => ({ type });
const constNode = (name: string, dtype: string, tensor: TensorProto): NodeDef => ({ name, op: 'Const', attr: { dtype: t(dtype), value: { tensor } } });

/** y = table[x] (default -1) with table {a: 1, b: 2} filled by the init op; z = x's length, which needs no table. */
function tableMeta(): MetaGraphDef {
  return {
    metaInfoDef: { tags: ['serve'] },
    graphDef: {
      node: [
        { name: 'x', op: 'Placeholder', attr: { dtype: t('DT_STRING') } },
        constNode('keys', 'DT_STRING', { dtype: 'DT_STRING', tensorShape: { dim: [{ size: 2 }] }, stringVal: [Buffer.from('a'), Buffer.from('b')] }),
        constNode('values', 'DT_INT32', { dtype: 'DT_INT32', tensorShape: { dim: [{ size: 2 }] }, intVal: [1, 2] }),
        constNode('default', 'DT_INT32', { dtype: 'DT_INT32', tensorShape: {}, intVal: [-1] }),
        { name: 'table', op: 'HashTableV2', attr: { key_dtype: t('DT_STRING'), value_dtype: t('DT_INT32'), shared_name: { s: Buffer.from('vocab') } } },
        { name: 'table_init', op: 'LookupTableImportV2', input: ['table', 'keys', 'values'], attr: { Tin: t('DT_STRING'), Tout: t('DT_INT32') } },
        { name: 'init_all_tables', op: 'NoOp', input: ['^table_init'] },
        { name: 'lookup', op: 'LookupTableFindV2', input: ['table', 'x', 'default'], attr: { Tin: t('DT_STRING'), Tout: t('DT_INT32') } },
        { name: 'size', op: 'Size', input: ['x'], attr: { T: t('DT_STRING'), out_type: t('DT_INT32') } },
      ],
    },
    signatureDef: {
      serving_default: {
        methodName: 'tensorflow/serving/predict',
        inputs: { x: { name: 'x:0', dtype: 'DT_STRING', tensorShape: { dim: [{ size: -1 }] } } },
        outputs: { y: { name: 'lookup:0', dtype: 'DT_INT32', tensorShape: { dim: [{ size: -1 }] } } },
      },
      count: {
        methodName: 'tensorflow/serving/predict',
        inputs: { x: { name: 'x:0', dtype: 'DT_STRING', tensorShape: { dim: [{ size: -1 }] } } },
        outputs: { n: { name: 'size:0', dtype: 'DT_INT32', tensorShape: {} } },
      },
      __saved_model_init_op: { outputs: { __saved_model_init_op: { name: 'init_all_tables' } } },
    },
  };
}

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

test('a signature that reads a table the init op fills is refused at load; the others still run', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-tables-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, 'saved_model.pb'), encodePlain('tensorflow.SavedModel', { savedModelSchemaVersion: 1, metaGraphs: [tableMeta()] }));
  const x = { dtype: 'DT_STRING', shape: [2], data: [Buffer.from('b'), Buffer.from('zz')] };
  const m = await loadModel(dir, { backend: 'cpu' });
  try {
    assert.deepEqual(Object.keys(m.signatures), ['count']);
    assert.match(m.unavailable.serving_default!, /looks keys up in lookup table table, which the model fills when it loads .*every lookup would return the default value/);
    assert.deepEqual([...(await m.run('count', { x })).n!.data], [2]);
  } finally {
    m.dispose();
  }
  await assert.rejects(loadModel(dir, { backend: 'cpu', signatures: ['serving_default'] }), /signature serving_default looks keys up in lookup table table/);
});
