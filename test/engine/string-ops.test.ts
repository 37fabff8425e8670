// Host string ops (src/core/engine/string-ops.ts): TensorFlow's semantics for the ops Keras text preprocessing runs,
// checked as pure functions and in a TextVectorization-shaped graph on both backends.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadModel } from '../../src/core/engine/model.js';
import type { HostTensor } from '../../src/core/engine/types.js';
import { re2Rewrite, re2ToRegExp, splitV2 } from '../../src/core/engine/string-ops.js';
import { encodePlain } from '../../src/core/proto/schema.js';
import type { MetaGraphDef, NodeDef, TensorProto } from '../../src/core/savedmodel/types.js';
import { needsWebGpu } from '../helpers/webgpu.js';

test('StringSplitV2 follows python str.split: whitespace runs vs. an explicit separator, maxsplit', () => {
  assert.deepEqual(splitV2('  a b\t\tc \n', '', -1), ['a', 'b', 'c']);
  assert.deepEqual(splitV2('   ', '', -1), []);
  assert.deepEqual(splitV2('', '', -1), []);
  assert.deepEqual(splitV2('1,,2', ',', -1), ['1', '', '2']);
  assert.deepEqual(splitV2('', ',', -1), ['']);
  assert.deepEqual(splitV2('1<>2<>3', '<>', -1), ['1', '2', '3']);
  assert.deepEqual(splitV2('a,b,c,d', ',', 2), ['a', 'b', 'c,d']);
  assert.deepEqual(splitV2(' a b c ', '', 1), ['a', 'b c ']);
});

test('RE2 patterns and rewrites: Keras punctuation class, named groups, \\1 backreferences, literal $', () => {
  // Keras' DEFAULT_STRIP_REGEX, as re.escape writes string.punctuation.
  const keras = re2ToRegExp(`[!"#$%&()\\*\\+,\\-\\./:;<=>?@\\[\\\\\\]^_\`{|}~\\']`, true);
  assert.equal('Operating profit rose to EUR 13.1 mn!'.replace(keras, ''), 'Operating profit rose to EUR 131 mn');
  assert.equal("it's a-b [c]\\d".replace(keras, ''), 'its ab cd');
  assert.equal('ab12'.replace(re2ToRegExp('(?P<l>[a-z]+)(\\d+)', true), re2Rewrite('\\2-\\1-\\0-\\\\$1')), '12-ab-ab12-\\$1');
  assert.equal('éé'.replace(re2ToRegExp('.', false), re2Rewrite('x')), 'xé'); // one code point, not one byte
  assert.equal('x1 y2'.replace(re2ToRegExp('[[:digit:]]', true), re2Rewrite('#')), 'x# y#');
  assert.throws(() => re2ToRegExp('(', true), /Invalid pattern: \(/);
});

const t = (type: string) => ({ type });
const bytes = (s: string) => Buffer.from(s, 'utf8');
const constNode = (name: string, dtype: string, tensor: TensorProto): NodeDef => ({ name, op: 'Const', attr: { dtype: t(dtype), value: { tensor } } });
const ints = (name: string, v: number[], dtype = 'DT_INT32', scalar = false) =>
  constNode(name, dtype, { dtype, tensorShape: scalar ? {} : { dim: [{ size: v.length }] }, [dtype === 'DT_INT64' ? 'int64Val' : 'intVal']: v });

/**
 * TextVectorization(lower_and_strip_punctuation, whitespace, int) without a table: StringLower → StaticRegexReplace →
 * Squeeze → StringSplitV2, then the tokens' lengths as values of a ragged tensor made dense by RaggedTensorToTensor
 * (FIRST_DIM_SIZE + VALUE_ROWIDS, pad 0); also the lowered text and a string Equal against the mask token "".
 */
function textMeta(): MetaGraphDef {
  const node = (name: string, op: string, input: string[], attr: NodeDef['attr'] = {}): NodeDef => ({ name, op, input, attr });
  return {
    metaInfoDef: { tags: ['serve'] },
    graphDef: {
      node: [
        node('x', 'Placeholder', [], { dtype: t('DT_STRING') }),
        node('lower', 'StringLower', ['x'], { encoding: { s: bytes('utf-8') } }),
        node('strip', 'StaticRegexReplace', ['lower'], { pattern: { s: bytes(`[!"#$%&()\\*\\+,\\-\\./:;<=>?@\\[\\\\\\]^_\`{|}~\\']`) }, rewrite: { s: bytes('') }, replace_global: { b: true } }),
        node('squeeze', 'Squeeze', ['strip'], { T: t('DT_STRING'), squeeze_dims: { list: { i: [1] } } }),
        constNode('sep', 'DT_STRING', { dtype: 'DT_STRING', tensorShape: {}, stringVal: [bytes('')] }),
        node('split', 'StringSplitV2', ['squeeze', 'sep']),
        ints('b0', [0, 0]), ints('e0', [0, 1]), ints('s1', [1, 1]),
        node('rowids', 'StridedSlice', ['split', 'b0', 'e0', 's1'], { T: t('DT_INT64'), Index: t('DT_INT32'), begin_mask: { i: 1 }, end_mask: { i: 1 }, shrink_axis_mask: { i: 2 } }),
        ints('b1', [0]), ints('e1', [1]), ints('s2', [1]),
        node('nrows', 'StridedSlice', ['split:2', 'b1', 'e1', 's2'], { T: t('DT_INT64'), Index: t('DT_INT32'), shrink_axis_mask: { i: 1 } }),
        constNode('empty', 'DT_STRING', { dtype: 'DT_STRING', tensorShape: {}, stringVal: [bytes('')] }),
        node('is_mask', 'Equal', ['split:1', 'empty'], { T: t('DT_STRING') }),
        node('mask_int', 'Cast', ['is_mask'], { SrcT: t('DT_BOOL'), DstT: t('DT_INT64') }),
        ints('one', [1], 'DT_INT64', true),
        node('ids', 'AddV2', ['mask_int', 'one'], { T: t('DT_INT64') }),
        ints('shape', [-1], 'DT_INT64', true),
        ints('pad', [0], 'DT_INT64', true),
        node('dense', 'RaggedTensorToTensor', ['shape', 'ids', 'pad', 'nrows', 'rowids'], {
          T: t('DT_INT64'), Tindex: t('DT_INT64'), Tshape: t('DT_INT64'), num_row_partition_tensors: { i: 2 },
          row_partition_types: { list: { s: [bytes('FIRST_DIM_SIZE'), bytes('VALUE_ROWIDS')] } },
        }),
      ],
    },
    signatureDef: {
      serving_default: {
        methodName: 'tensorflow/serving/predict',
        inputs: { text: { name: 'x:0', dtype: 'DT_STRING', tensorShape: { dim: [{ size: -1 }, { size: 1 }] } } },
        outputs: {
          dense: { name: 'dense:0', dtype: 'DT_INT64', tensorShape: { dim: [{ size: -1 }, { size: -1 }] } },
          tokens: { name: 'split:1', dtype: 'DT_STRING', tensorShape: { dim: [{ size: -1 }] } },
          lower: { name: 'lower:0', dtype: 'DT_STRING', tensorShape: { dim: [{ size: -1 }, { size: 1 }] } },
        },
      },
    },
  };
}

const dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-strings-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(path.join(dir, 'saved_model.pb'), encodePlain('tensorflow.SavedModel', { savedModelSchemaVersion: 1, metaGraphs: [textMeta()] }));
const texts = (h: HostTensor | undefined) => (h!.data as Uint8Array[]).map((b) => Buffer.from(b).toString('utf8'));

// On webgpu the row ids and row count come from GPU kernels (StridedSlice, Cast, AddV2): the host ops read them
// asynchronously (host-read.ts).
for (const backend of ['cpu', 'wasm', 'webgpu'] as const) {
  test(`a TextVectorization-shaped graph runs on raw UTF-8 text (${backend})`, backend === 'webgpu' ? needsWebGpu : {}, async () => {
    const m = await loadModel(dir, { backend });
    try {
      const x: HostTensor = { dtype: 'DT_STRING', shape: [3, 1], data: ['Operating PROFIT rose!', 'ÉCOLE  été', ''].map(bytes) };
      const out = await m.run('serving_default', { text: x });
      assert.deepEqual(texts(out.lower), ['operating profit rose!', 'école  été', '']);
      assert.deepEqual(texts(out.tokens), ['operating', 'profit', 'rose', 'école', 'été']);
      assert.deepEqual(out.dense!.shape, [3, 3]);
      assert.deepEqual(Array.from(out.dense!.data as BigInt64Array, Number), [1, 1, 1, 1, 1, 0, 0, 0, 0]);
    } finally {
      m.dispose();
    }
  });
}

test("StringToHashBucketFast (StringLookup's extra OOV buckets) gives TensorFlow's documented buckets on both backends", async () => {
  const hashDir = mkdtempSync(path.join(tmpdir(), 'tfsvc-hash-'));
  try {
    const meta: MetaGraphDef = {
      metaInfoDef: { tags: ['serve'] },
      graphDef: {
        node: [
          { name: 'x', op: 'Placeholder', attr: { dtype: t('DT_STRING') } },
          { name: 'h', op: 'StringToHashBucketFast', input: ['x'], attr: { num_buckets: { i: 3 } } },
        ],
      },
      signatureDef: {
        serving_default: {
          methodName: 'tensorflow/serving/predict',
          inputs: { x: { name: 'x:0', dtype: 'DT_STRING', tensorShape: { dim: [{ size: -1 }] } } },
          outputs: { b: { name: 'h:0', dtype: 'DT_INT64', tensorShape: { dim: [{ size: -1 }] } } },
        },
      },
    };
    writeFileSync(path.join(hashDir, 'saved_model.pb'), encodePlain('tensorflow.SavedModel', { savedModelSchemaVersion: 1, metaGraphs: [meta] }));
    for (const backend of ['cpu', 'wasm'] as const) {
      const m = await loadModel(hashDir, { backend });
      try {
        // tf.strings.to_hash_bucket_fast(["Hello", "TensorFlow", "2.x"], 3) → [0, 2, 2] (TensorFlow's API docs).
        const out = await m.run('serving_default', { x: { dtype: 'DT_STRING', shape: [3], data: ['Hello', 'TensorFlow', '2.x'].map(bytes) } });
        assert.deepEqual(Array.from(out.b!.data as BigInt64Array, Number), [0, 2, 2], backend);
      } finally {
        m.dispose();
      }
    }
  } finally {
    rmSync(hashDir, { recursive: true, force: true });
  }
});

test('RaggedTensorToTensor refuses row splits that do not partition the values (INVALID_ARGUMENT, not an abort)', async () => {
  const raggedDir = mkdtempSync(path.join(tmpdir(), 'tfsvc-ragged-'));
  try {
    const meta: MetaGraphDef = {
      metaInfoDef: { tags: ['serve'] },
      graphDef: {
        node: [
          { name: 'values', op: 'Placeholder', attr: { dtype: t('DT_INT32') } },
          { name: 'splits', op: 'Placeholder', attr: { dtype: t('DT_INT32') } },
          ints('shape', [-1], 'DT_INT32', true),
          ints('pad', [0], 'DT_INT32', true),
          {
            name: 'dense', op: 'RaggedTensorToTensor', input: ['shape', 'values', 'pad', 'splits'],
            attr: { T: t('DT_INT32'), Tindex: t('DT_INT32'), Tshape: t('DT_INT32'), num_row_partition_tensors: { i: 1 }, row_partition_types: { list: { s: [bytes('ROW_SPLITS')] } } },
          },
        ],
      },
      signatureDef: {
        serving_default: {
          methodName: 'tensorflow/serving/predict',
          inputs: {
            values: { name: 'values:0', dtype: 'DT_INT32', tensorShape: { dim: [{ size: -1 }] } },
            splits: { name: 'splits:0', dtype: 'DT_INT32', tensorShape: { dim: [{ size: -1 }] } },
          },
          outputs: { dense: { name: 'dense:0', dtype: 'DT_INT32', tensorShape: { dim: [{ size: -1 }, { size: -1 }] } } },
        },
      },
    };
    writeFileSync(path.join(raggedDir, 'saved_model.pb'), encodePlain('tensorflow.SavedModel', { savedModelSchemaVersion: 1, metaGraphs: [meta] }));
    const m = await loadModel(raggedDir, { backend: 'wasm' });
    try {
      const run = (splits: number[]) =>
        m.run('serving_default', { values: { dtype: 'DT_INT32', shape: [3], data: Int32Array.of(7, 8, 9) }, splits: { dtype: 'DT_INT32', shape: [splits.length], data: Int32Array.from(splits) } });
      const ok = await run([0, 2, 3]);
      assert.deepEqual([ok.dense!.shape, Array.from(ok.dense!.data as Int32Array)], [[2, 2], [7, 8, 9, 0]]);
      // A split a billion long would have tfjs allocate the output from it (and abort the process).
      for (const bad of [[0, 1000000000], [0, 2, 1], [1, 3], [0, 2]]) {
        await assert.rejects(run(bad), (err: Error & { code?: string }) => err.code === 'INVALID_ARGUMENT' && /row_splits must start at 0, never decrease and end at 3/.test(err.message), String(bad));
      }
    } finally {
      m.dispose();
    }
  } finally {
    rmSync(raggedDir, { recursive: true, force: true });
  }
});
