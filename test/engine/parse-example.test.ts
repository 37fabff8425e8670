// ParseExampleV2 as a tfjs custom op, on an in-memory graph: float, int64 and bytes features, defaults, and TF's errors.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { buildExecutableGraph, modelSourceFrom } from '../../src/core/graph/build.js';
import { initBackend } from '../../src/core/engine/backend.js';
import { registerCustomOps, stringBytes } from '../../src/core/engine/custom-ops.js';
import { encodeExample } from '../../src/core/engine/example.js';
import type { MetaGraphDef, NodeDef, TensorProto } from '../../src/core/savedmodel/types.js';

const strings = (...s: string[]): TensorProto => ({ dtype: 'DT_STRING', tensorShape: { dim: [{ size: s.length }] }, stringVal: s.map((x) => Buffer.from(x)) });
const constNode = (name: string, dtype: string, tensor: TensorProto): NodeDef => ({ name, op: 'Const', attr: { dtype: { type: dtype }, value: { tensor } } });

/** `aLength`: values per example of float feature a. */
function meta(aLength = 1): MetaGraphDef {
  const t = (type: string) => ({ type });
  return {
    metaInfoDef: { tags: ['serve'] },
    graphDef: {
      node: [
        { name: 'serialized', op: 'Placeholder', attr: { dtype: t('DT_STRING') } },
        constNode('names', 'DT_STRING', strings()),
        constNode('sparse_keys', 'DT_STRING', strings()),
        constNode('dense_keys', 'DT_STRING', strings('a', 'b', 'c')),
        constNode('ragged_keys', 'DT_STRING', strings()),
        constNode('a_default', 'DT_FLOAT', { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 0 }] } }),
        constNode('b_default', 'DT_INT64', { dtype: 'DT_INT64', tensorShape: { dim: [{ size: 2 }] }, int64Val: [7, 8] }),
        constNode('c_default', 'DT_STRING', strings('none')),
        {
          name: 'pe', op: 'ParseExampleV2',
          input: ['serialized', 'names', 'sparse_keys', 'dense_keys', 'ragged_keys', 'a_default', 'b_default', 'c_default'],
          attr: {
            num_sparse: { i: 0 },
            Tdense: { list: { type: ['DT_FLOAT', 'DT_INT64', 'DT_STRING'] } },
            dense_shapes: { list: { shape: [{ dim: [{ size: aLength }] }, { dim: [{ size: 2 }] }, { dim: [{ size: 1 }] }] } },
            sparse_types: { list: {} }, ragged_value_types: { list: {} }, ragged_split_types: { list: {} },
          },
        },
      ],
    },
    signatureDef: {
      parse: {
        inputs: { examples: { name: 'serialized:0', dtype: 'DT_STRING', tensorShape: { dim: [{ size: -1 }] } } },
        outputs: {
          a: { name: 'pe:0', dtype: 'DT_FLOAT' },
          b: { name: 'pe:1', dtype: 'DT_INT64' },
          c: { name: 'pe:2', dtype: 'DT_STRING' },
        },
      },
    },
  };
}

let model: Awaited<ReturnType<typeof loadGraphModel>>;
let outputs: Record<string, string>;

async function load(aLength = 1): Promise<typeof model> {
  const m = meta(aLength);
  const g = await buildExecutableGraph(modelSourceFrom({ dir: '/m', file: '/m/saved_model.pb', savedModel: { metaGraphs: [m] }, assets: [], assetsExtra: [] }, m), 'parse');
  outputs = Object.fromEntries(Object.entries(g.outputs).map(([k, v]) => [k, v.tensor]));
  return loadGraphModel(tf.io.fromMemory(g.artifacts));
}

before(async () => {
  await initBackend('cpu');
  registerCustomOps();
  model = await load();
});

function parse(records: Uint8Array[], m = model): tf.Tensor[] {
  const input = tf.tensor(records, [records.length], 'string');
  try {
    return m.execute({ serialized: input }, [outputs.a!, outputs.b!, outputs.c!]) as tf.Tensor[];
  } finally {
    input.dispose();
  }
}

test('dense float, int64 and bytes features, with defaults for the missing ones', () => {
  const [a, b, c] = parse([
    encodeExample({ a: { kind: 'float', values: [1.5] }, b: { kind: 'int64', values: [3, 4] }, c: { kind: 'bytes', values: [Buffer.from('xyz')] } }),
    encodeExample({ a: { kind: 'float', values: [-2] } }),
  ]);
  assert.deepEqual(a!.shape, [2, 1]);
  assert.deepEqual(Array.from(a!.dataSync()), [1.5, -2]);
  assert.deepEqual(b!.shape, [2, 2]);
  assert.deepEqual(Array.from(b!.dataSync()), [3, 4, 7, 8]);
  assert.deepEqual(stringBytes(c!).map((x) => Buffer.from(x).toString()), ['xyz', 'none']);
});

test("a required feature that is missing, the wrong type, or the wrong count fails with TF's texts", () => {
  assert.throws(() => parse([encodeExample({ b: { kind: 'int64', values: [1, 2] } })]), /Feature: a \(data type: float\) is required but could not be found/);
  assert.throws(() => parse([encodeExample({ a: { kind: 'int64', values: [1] } })]), /Key: a, Index: 0\.  Data types don't match\. Expected type: float, Actual type: int64/);
  assert.throws(() => parse([encodeExample({ a: { kind: 'float', values: [1, 2] } })]), /Key: a, Index: 0\.  Number of float values != expected\.  Values size: 2 but output shape: \[1\]/);
  assert.throws(() => parse([Uint8Array.of(0xff, 0xff, 0xff)]), /Could not parse example input, value: '0'/);
});

test('an int64 feature outside int32 is refused, not wrapped', () => {
  const a = { kind: 'float' as const, values: [1] };
  assert.throws(() => parse([encodeExample({ a, b: { kind: 'int64', values: [1, 2 ** 31] } })]), /Key: b, Index: 0\.  int64 value 2147483648 does not fit the 32-bit integers/);
  assert.deepEqual(Array.from(parse([encodeExample({ a, b: { kind: 'int64', values: [-(2 ** 31), 2 ** 31 - 1] } })])[1]!.dataSync()), [-(2 ** 31), 2 ** 31 - 1]);
});

test('a feature of 300k values per example (an image) parses', async () => {
  const big = await load(300_000);
  const values = Array.from({ length: 300_000 }, (_, i) => i % 7);
  const [a] = parse([encodeExample({ a: { kind: 'float', values } })], big);
  assert.deepEqual(a!.shape, [1, 300_000]);
  assert.equal(a!.dataSync()[300_000 - 1], (300_000 - 1) % 7);
  big.dispose();
});
