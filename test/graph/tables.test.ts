// Lookup tables filled when the model loads (src/core/graph/tables.ts): by the init op from constants (TF1 collections
// and TF2's __saved_model_init_op calling an initializer function), from a vocabulary file in assets/ (every key/value
// index mode), from the checkpoint (MutableHashTable, found through the object graph); then read by lookups, size and
// export in the signature. Small graphs written here, so nothing outside the repository is needed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadModel } from '../../src/core/engine/model.js';
import type { HostTensor } from '../../src/core/engine/types.js';
import { modelSourceFrom } from '../../src/core/graph/build.js';
import { encodePlain } from '../../src/core/proto/schema.js';
import type { Checkpoint } from '../../src/core/savedmodel/checkpoint.js';
import { readSavedModel } from '../../src/core/savedmodel/reader.js';
import type { FunctionDef, MetaGraphDef, NodeDef, SignatureDef, TensorProto } from '../../src/core/savedmodel/types.js';

const t = (type: string) => ({ type });
const bytes = (s: string) => Buffer.from(s, 'utf8');
const strings = (...s: string[]) => s.map(bytes);
const constNode = (name: string, dtype: string, tensor: TensorProto): NodeDef => ({ name, op: 'Const', attr: { dtype: t(dtype), value: { tensor } } });
const strConst = (name: string, values: string[]) =>
  constNode(name, 'DT_STRING', { dtype: 'DT_STRING', tensorShape: { dim: [{ size: values.length }] }, stringVal: strings(...values) });
const i64Const = (name: string, values: number[], scalar = false) =>
  constNode(name, 'DT_INT64', { dtype: 'DT_INT64', tensorShape: scalar ? {} : { dim: [{ size: values.length }] }, int64Val: values });
const table = (name: string, key: string, value: string, op = 'HashTableV2'): NodeDef => ({
  name, op, attr: { key_dtype: t(key), value_dtype: t(value), shared_name: { s: bytes(name) } },
});
const find = (name: string, tableRef: string, keys: string, dflt: string, kt: string, vt: string): NodeDef => ({
  name, op: 'LookupTableFindV2', input: [tableRef, keys, dflt], attr: { Tin: t(kt), Tout: t(vt) },
});
const predict = (inputs: Record<string, [string, string]>, outputs: Record<string, [string, string]>): SignatureDef => ({
  methodName: 'tensorflow/serving/predict',
  inputs: Object.fromEntries(Object.entries(inputs).map(([k, [name, dtype]]) => [k, { name, dtype, tensorShape: { dim: [{ size: -1 }] } }])),
  outputs: Object.fromEntries(Object.entries(outputs).map(([k, [name, dtype]]) => [k, { name, dtype, tensorShape: { dim: [{ size: -1 }] } }])),
});
const str = (...s: string[]): HostTensor => ({ dtype: 'DT_STRING', shape: [s.length], data: strings(...s) });
const i64 = (...v: number[]): HostTensor => ({ dtype: 'DT_INT64', shape: [v.length], data: BigInt64Array.from(v.map(BigInt)) });
const nums = (h: HostTensor | undefined) => Array.from(h!.data as ArrayLike<number | bigint>, Number);
const texts = (h: HostTensor | undefined) => (h!.data as Uint8Array[]).map((b) => Buffer.from(b).toString('utf8'));

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function writeModel(meta: MetaGraphDef, assets: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-tables-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, 'saved_model.pb'), encodePlain('tensorflow.SavedModel', { savedModelSchemaVersion: 1, metaGraphs: [meta] }));
  if (Object.keys(assets).length > 0) {
    mkdirSync(path.join(dir, 'assets'));
    for (const [f, text] of Object.entries(assets)) writeFileSync(path.join(dir, 'assets', f), text);
  }
  return dir;
}

/** TF1 shape: table + import from constants + init NoOp in the legacy_init_op collection; y = table[x], n = size. */
function tf1Meta(): MetaGraphDef {
  return {
    metaInfoDef: { tags: ['serve'] },
    graphDef: {
      node: [
        { name: 'x', op: 'Placeholder', attr: { dtype: t('DT_STRING') } },
        strConst('keys', ['Dog', 'Cat', 'é']),
        i64Const('values', [1, 2, 3]),
        i64Const('default', [0], true),
        table('vocab', 'DT_STRING', 'DT_INT64'),
        { name: 'vocab_init', op: 'LookupTableImportV2', input: ['vocab', 'keys', 'values'], attr: { Tin: t('DT_STRING'), Tout: t('DT_INT64') } },
        { name: 'init_all_tables', op: 'NoOp', input: ['^vocab_init'] },
        find('lookup', 'vocab', 'x', 'default', 'DT_STRING', 'DT_INT64'),
        { name: 'size', op: 'LookupTableSizeV2', input: ['vocab'] },
        { name: 'never', op: 'HashTableV2', attr: { key_dtype: t('DT_STRING'), value_dtype: t('DT_INT64') } },
        find('unfilled', 'never', 'x', 'default', 'DT_STRING', 'DT_INT64'),
      ],
    },
    collectionDef: { legacy_init_op: { nodeList: { value: ['init_all_tables'] } } },
    signatureDef: {
      serving_default: predict({ x: ['x:0', 'DT_STRING'] }, { y: ['lookup:0', 'DT_INT64'], n: ['size:0', 'DT_INT64'] }),
      broken: predict({ x: ['x:0', 'DT_STRING'] }, { y: ['unfilled:0', 'DT_INT64'] }),
    },
  };
}

for (const backend of ['cpu', 'wasm'] as const) {
  test(`the init op fills a table from constants; lookups, defaults and size answer as TF would (${backend})`, async () => {
    const m = await loadModel(writeModel(tf1Meta()), { backend });
    try {
      const out = await m.run('serving_default', { x: str('Cat', 'Dog', 'cat', '', 'é') });
      assert.deepEqual(nums(out.y), [2, 1, 0, 0, 3]); // case-sensitive bytes; unknown keys get the default
      assert.deepEqual(nums(out.n), [3]);
      assert.equal(out.y!.dtype, 'DT_INT64');
      // A HashTable nothing fills would fail every lookup in TF ("Table not initialized"): refused at load, by name.
      assert.match(m.unavailable.broken!, /table never: nothing fills it: neither the init op nor the checkpoint writes it/);
    } finally {
      m.dispose();
    }
  });
}

/**
 * TF2 shape (Keras StringLookup / IntegerLookup): tables are top-level nodes captured by the serving call; the init
 * signature calls an `_initializer` function with the handle and the constants. Int64 keys, int64 values.
 */
function tf2Meta(): MetaGraphDef {
  const initializer: FunctionDef = {
    signature: {
      name: '__inference__initializer_7',
      inputArg: [{ name: 'h', type: 'DT_RESOURCE' }, { name: 'k', type: 'DT_INT64' }, { name: 'v', type: 'DT_INT64' }],
    },
    nodeDef: [{ name: 'imp', op: 'LookupTableImportV2', input: ['h', 'k', 'v'], attr: { Tin: t('DT_INT64'), Tout: t('DT_INT64') } }],
  };
  const serve: FunctionDef = {
    signature: {
      name: '__inference_serve_9',
      inputArg: [{ name: 'age', type: 'DT_INT64' }, { name: 'h', type: 'DT_RESOURCE' }, { name: 'd', type: 'DT_INT64' }],
      outputArg: [{ name: 'ids', type: 'DT_INT64' }],
    },
    nodeDef: [
      find('look', 'h', 'age', 'd', 'DT_INT64', 'DT_INT64'),
      { name: 'out', op: 'Identity', input: ['look:values:0'], attr: { T: t('DT_INT64') } },
    ],
    ret: { ids: 'out:output:0' },
  };
  return {
    metaInfoDef: { tags: ['serve'] },
    graphDef: {
      node: [
        { name: 'serving_default_age', op: 'Placeholder', attr: { dtype: t('DT_INT64') } },
        table('hash_table', 'DT_INT64', 'DT_INT64'),
        i64Const('Const', [2, 3, 1, 4]),
        i64Const('Const_1', [1, 2, 3, 4]),
        i64Const('Const_2', [0], true),
        {
          name: 'StatefulPartitionedCall', op: 'StatefulPartitionedCall', input: ['hash_table', 'Const', 'Const_1'],
          attr: { f: { func: { name: '__inference__initializer_7' } }, Tin: { list: { type: ['DT_RESOURCE', 'DT_INT64', 'DT_INT64'] } }, Tout: { list: {} } },
        },
        { name: 'NoOp', op: 'NoOp', input: ['^StatefulPartitionedCall'] },
        {
          name: 'StatefulPartitionedCall_1', op: 'StatefulPartitionedCall', input: ['serving_default_age', 'hash_table', 'Const_2'],
          attr: { f: { func: { name: '__inference_serve_9' } }, Tin: { list: { type: ['DT_INT64', 'DT_RESOURCE', 'DT_INT64'] } }, Tout: { list: { type: ['DT_INT64'] } } },
        },
      ],
      library: { function: [initializer, serve] },
    },
    signatureDef: {
      serving_default: predict({ Age: ['serving_default_age:0', 'DT_INT64'] }, { ids: ['StatefulPartitionedCall_1:0', 'DT_INT64'] }),
      __saved_model_init_op: { outputs: { __saved_model_init_op: { name: 'NoOp' } } },
    },
  };
}

test('TF2: __saved_model_init_op calls an initializer function; an integer-keyed table is read inside the serving call', async () => {
  const m = await loadModel(writeModel(tf2Meta()), { backend: 'wasm' });
  try {
    const out = await m.run('serving_default', { Age: i64(3, 2, 7, 4, 1) });
    assert.deepEqual(nums(out.ids), [2, 1, 0, 4, 3]);
  } finally {
    m.dispose();
  }
});

/** A table filled from assets/ by InitializeTableFromTextFileV2 with the given indices; y = table[x]. */
function textFileMeta(o: { key: 'DT_STRING' | 'DT_INT64'; value: 'DT_STRING' | 'DT_INT64'; keyIndex: number; valueIndex: number; vocabSize?: number; delimiter?: string; offset?: number }): MetaGraphDef {
  const dflt = o.value === 'DT_STRING' ? strConst('default', ['?']) : i64Const('default', [-1], true);
  if (o.value === 'DT_STRING') dflt.attr!.value!.tensor!.tensorShape = {};
  return {
    metaInfoDef: { tags: ['serve'] },
    graphDef: {
      node: [
        { name: 'x', op: 'Placeholder', attr: { dtype: t(o.key) } },
        constNode('asset_path', 'DT_STRING', { dtype: 'DT_STRING', tensorShape: {}, stringVal: strings('vocab.txt') }),
        table('vocab', o.key, o.value),
        {
          name: 'init', op: 'InitializeTableFromTextFileV2', input: ['vocab', 'asset_path'],
          attr: {
            key_index: { i: o.keyIndex }, value_index: { i: o.valueIndex },
            ...(o.vocabSize !== undefined ? { vocab_size: { i: o.vocabSize } } : {}),
            ...(o.delimiter !== undefined ? { delimiter: { s: bytes(o.delimiter) } } : {}),
            ...(o.offset !== undefined ? { offset: { i: o.offset } } : {}),
          },
        },
        { name: 'init_all_tables', op: 'NoOp', input: ['^init'] },
        dflt,
        find('lookup', 'vocab', 'x', 'default', o.key, o.value),
      ],
    },
    assetFileDef: [{ tensorInfo: { name: 'asset_path:0' }, filename: 'vocab.txt' }],
    collectionDef: { table_initializer: { nodeList: { value: ['init'] } } },
    signatureDef: { serving_default: predict({ x: ['x:0', o.key] }, { y: ['lookup:0', o.value] }) },
  };
}

test('InitializeTableFromTextFileV2: whole line → line number, with vocab_size and offset', async () => {
  const dir = writeModel(textFileMeta({ key: 'DT_STRING', value: 'DT_INT64', keyIndex: -2, valueIndex: -1, vocabSize: 3, offset: 10 }), {
    'vocab.txt': 'the\nof\nand\nnot-read\n',
  });
  const m = await loadModel(dir, { backend: 'cpu' });
  try {
    assert.deepEqual(nums((await m.run('serving_default', { x: str('and', 'the', 'not-read', 'zzz') })).y), [12, 10, -1, -1]);
  } finally {
    m.dispose();
  }
});

test('InitializeTableFromTextFileV2: columns split on the delimiter (key column 1 → value column 0), CRLF lines', async () => {
  const dir = writeModel(textFileMeta({ key: 'DT_STRING', value: 'DT_INT64', keyIndex: 1, valueIndex: 0, delimiter: ',' }), {
    'vocab.txt': '7,seven,x\r\n42,answer,y\r\n',
  });
  const m = await loadModel(dir, { backend: 'wasm' });
  try {
    assert.deepEqual(nums((await m.run('serving_default', { x: str('answer', 'seven', 'x') })).y), [42, 7, -1]);
  } finally {
    m.dispose();
  }
});

test('InitializeTableFromTextFileV2: line number → whole line gives an id-to-token table with string values', async () => {
  const dir = writeModel(textFileMeta({ key: 'DT_INT64', value: 'DT_STRING', keyIndex: -1, valueIndex: -2 }), { 'vocab.txt': '[UNK]\nhello\nworld\n' });
  const m = await loadModel(dir, { backend: 'wasm' });
  try {
    assert.deepEqual(texts((await m.run('serving_default', { x: i64(2, 0, 9, 1) })).y), ['world', '[UNK]', '?', 'hello']);
  } finally {
    m.dispose();
  }
});

test('a broken vocabulary file fails the load naming the table, the file and the line', async () => {
  const empty = writeModel(textFileMeta({ key: 'DT_STRING', value: 'DT_INT64', keyIndex: -2, valueIndex: -1 }), { 'vocab.txt': 'a\n\nb\n' });
  await assert.rejects(loadModel(empty, { backend: 'cpu' }), /table vocab: its init op init \(InitializeTableFromTextFileV2\) failed: Invalid content in assets\/vocab.txt: empty line found at position 1/);
  const short = writeModel(textFileMeta({ key: 'DT_STRING', value: 'DT_INT64', keyIndex: -2, valueIndex: -1, vocabSize: 5 }), { 'vocab.txt': 'a\nb\n' });
  await assert.rejects(loadModel(short, { backend: 'cpu' }), /Invalid vocab_size in assets\/vocab.txt: expected 5 but got 2/);
  const missing = writeModel(textFileMeta({ key: 'DT_STRING', value: 'DT_INT64', keyIndex: -2, valueIndex: -1 }));
  await assert.rejects(loadModel(missing, { backend: 'cpu' }), /cannot read vocabulary file assets\/vocab.txt: ENOENT/);
  // A file name outside assets/ (absolute, or climbing out) is never read, whatever the graph says.
  const outside = textFileMeta({ key: 'DT_STRING', value: 'DT_INT64', keyIndex: -2, valueIndex: -1 });
  outside.assetFileDef![0]!.filename = '../saved_model.pb';
  await assert.rejects(loadModel(writeModel(outside, { 'vocab.txt': 'a\n' }), { backend: 'cpu' }), /cannot read vocabulary file saved_model.pb: outside the model's assets\/ folder/);
  const absolute = textFileMeta({ key: 'DT_STRING', value: 'DT_INT64', keyIndex: -2, valueIndex: -1 });
  absolute.assetFileDef = [];
  absolute.graphDef!.node!.find((n) => n.name === 'asset_path')!.attr!.value!.tensor!.stringVal = [bytes('/etc/hostname')];
  await assert.rejects(loadModel(writeModel(absolute, { 'vocab.txt': 'a\n' }), { backend: 'cpu' }), /cannot read vocabulary file hostname: outside the model's assets\/ folder/);
  const columns = writeModel(textFileMeta({ key: 'DT_STRING', value: 'DT_INT64', keyIndex: 2, valueIndex: -1 }), { 'vocab.txt': 'a\tb\n' });
  await assert.rejects(loadModel(columns, { backend: 'cpu' }), /Invalid number of columns in assets\/vocab.txt line 0 \(a\tb\) : expected 3 got 2/);
});

/** Keras 2.4 StringLookup: a MutableHashTable restored from the checkpoint, bound to the serving call's capture. */
test('a MutableHashTable is restored from the checkpoint through the object graph; export and size read it too', async () => {
  const serve: FunctionDef = {
    signature: {
      name: '__inference_serve_3',
      inputArg: [{ name: 'x', type: 'DT_STRING' }, { name: 'h', type: 'DT_RESOURCE' }, { name: 'd', type: 'DT_INT64' }],
      outputArg: [{ name: 'ids', type: 'DT_INT64' }, { name: 'n', type: 'DT_INT64' }, { name: 'k', type: 'DT_STRING' }],
    },
    nodeDef: [
      find('look', 'h', 'x', 'd', 'DT_STRING', 'DT_INT64'),
      { name: 'size', op: 'LookupTableSizeV2', input: ['h'] },
      { name: 'export', op: 'LookupTableExportV2', input: ['h'], attr: { Tkeys: t('DT_STRING'), Tvalues: t('DT_INT64') } },
    ],
    ret: { ids: 'look:values:0', n: 'size:size:0', k: 'export:keys:0' },
  };
  const meta: MetaGraphDef = {
    metaInfoDef: { tags: ['serve'] },
    graphDef: {
      node: [
        { name: 'serving_default_x', op: 'Placeholder', attr: { dtype: t('DT_STRING') } },
        table('string_lookup_index_table', 'DT_STRING', 'DT_INT64', 'MutableHashTableV2'),
        i64Const('Const', [1], true),
        {
          name: 'StatefulPartitionedCall', op: 'StatefulPartitionedCall', input: ['serving_default_x', 'string_lookup_index_table', 'Const'],
          attr: { f: { func: { name: '__inference_serve_3' } }, Tin: { list: { type: ['DT_STRING', 'DT_RESOURCE', 'DT_INT64'] } }, Tout: { list: { type: ['DT_INT64', 'DT_INT64', 'DT_STRING'] } } },
        },
      ],
      library: { function: [serve] },
    },
    // The call captures the table (object 1) and the default value (object 2), as Keras exports do.
    objectGraphDef: { nodes: [{}, { resource: {} }, { constant: {} }], concreteFunctions: { __inference_serve_3: { boundInputs: [1, 2] } } },
    signatureDef: {
      serving_default: {
        ...predict({ x: ['serving_default_x:0', 'DT_STRING'] }, { ids: ['StatefulPartitionedCall:0', 'DT_INT64'], keys: ['StatefulPartitionedCall:2', 'DT_STRING'] }),
      },
    },
  };
  meta.signatureDef!.serving_default!.outputs!.n = { name: 'StatefulPartitionedCall:1', dtype: 'DT_INT64', tensorShape: {} };
  const key = 'layer_with_weights-0/_index_lookup_layer/_table/.ATTRIBUTES/table';
  const values: Record<string, HostTensor> = {
    [`${key}-keys`]: str('', '[UNK]', 'year', 'eur'),
    [`${key}-values`]: i64(0, 1, 2, 3),
  };
  const checkpoint = {
    prefix: 'memory', indexFile: 'memory.index', header: {}, keys: () => Object.keys(values), has: (k: string) => k in values,
    read: (k: string) => values[k]!, objectGraph: () => ({ nodes: [{}, { attributes: [{ name: 'table', checkpointKey: key }] }] }),
  } as unknown as Checkpoint;
  const dir = writeModel(meta);
  const source = modelSourceFrom(await readSavedModel(dir), meta, checkpoint);
  const m = await loadModel(dir, { backend: 'wasm', source });
  try {
    const out = await m.run('serving_default', { x: str('eur', 'year', 'profit', '') });
    assert.deepEqual(nums(out.ids), [3, 2, 1, 0]);
    assert.deepEqual(nums(out.n), [4]);
    assert.deepEqual(texts(out.keys), ['', '[UNK]', 'year', 'eur']);
  } finally {
    m.dispose();
  }
});
