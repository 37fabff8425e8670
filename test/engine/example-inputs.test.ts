// Classify/regress signatures whose SignatureDef declares a non-string dtype for the placeholder that feeds
// ParseExample's serialized input (TF Serving's half_plus_three testdata does): the engine feeds DT_STRING, as TF
// Serving's classifier/regressor do, and says so in the signature it exposes. A SavedModel written to a temp
// directory (no ../shared needed), then the real half_plus_three when ../shared is present.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadModel } from '../../src/core/engine/model.js';
import { encodeExample } from '../../src/core/engine/example.js';
import type { HostTensor } from '../../src/core/engine/types.js';
import { RequestError } from '../../src/core/errors.js';
import { buildExecutableGraph, modelSourceFrom } from '../../src/core/graph/build.js';
import { encodePlain } from '../../src/core/proto/schema.js';
import type { MetaGraphDef, NodeDef, TensorProto } from '../../src/core/savedmodel/types.js';
import { needsShared, sharedModel } from '../helpers/shared-models.js';

const t = (type: string) => ({ type });
const strings = (...s: string[]): TensorProto => ({ dtype: 'DT_STRING', tensorShape: { dim: [{ size: s.length }] }, stringVal: s.map((x) => Buffer.from(x)) });
const constNode = (name: string, dtype: string, tensor: TensorProto): NodeDef => ({ name, op: 'Const', attr: { dtype: t(dtype), value: { tensor } } });
const examples = (...v: number[]) => v.map((x) => encodeExample({ x: { kind: 'float', values: [x] } }));
const stringInput = (records: Uint8Array[]): HostTensor => ({ dtype: 'DT_STRING', shape: [records.length], data: records });

/**
 * y = 0.5 * x + 3 where x is parsed from tf.Examples (ParseExample v1, one dense float feature "x" of shape [1]),
 * reached from the `tf_example` placeholder through an Identity. Three signatures read the same placeholder:
 *   regress_declared_float  regress, input declared DT_FLOAT with no shape (half_plus_three's mistake)
 *   regress_string          regress, input declared DT_STRING [-1] (the usual export)
 *   predict_declared_float  predict, input declared DT_FLOAT: not a tf.Example method, left as declared
 */
function meta(): MetaGraphDef {
  const scalarF = (v: number): TensorProto => ({ dtype: 'DT_FLOAT', floatVal: [v] });
  return {
    metaInfoDef: { tags: ['serve'] },
    graphDef: {
      node: [
        { name: 'tf_example', op: 'Placeholder', attr: { dtype: t('DT_STRING') } },
        { name: 'serialized', op: 'Identity', input: ['tf_example'], attr: { T: t('DT_STRING') } },
        constNode('names', 'DT_STRING', strings()),
        constNode('key_x', 'DT_STRING', { dtype: 'DT_STRING', stringVal: [Buffer.from('x')] }),
        constNode('default_x', 'DT_FLOAT', { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 0 }] } }),
        {
          name: 'pe', op: 'ParseExample',
          input: ['serialized', 'names', 'key_x', 'default_x'],
          attr: { Nsparse: { i: 0 }, Ndense: { i: 1 }, sparse_types: { list: {} }, Tdense: { list: { type: ['DT_FLOAT'] } }, dense_shapes: { list: { shape: [{ dim: [{ size: 1 }] }] } } },
        },
        constNode('a', 'DT_FLOAT', scalarF(0.5)),
        constNode('b', 'DT_FLOAT', scalarF(3)),
        { name: 'mul', op: 'Mul', input: ['a', 'pe'], attr: { T: t('DT_FLOAT') } },
        { name: 'y', op: 'Add', input: ['mul', 'b'], attr: { T: t('DT_FLOAT') } },
      ],
    },
    signatureDef: {
      regress_declared_float: {
        methodName: 'tensorflow/serving/regress',
        inputs: { inputs: { name: 'tf_example:0', dtype: 'DT_FLOAT' } },
        outputs: { outputs: { name: 'y:0', dtype: 'DT_FLOAT' } },
      },
      regress_string: {
        methodName: 'tensorflow/serving/regress',
        inputs: { inputs: { name: 'tf_example:0', dtype: 'DT_STRING', tensorShape: { dim: [{ size: -1 }] } } },
        outputs: { outputs: { name: 'y:0', dtype: 'DT_FLOAT' } },
      },
      predict_declared_float: {
        methodName: 'tensorflow/serving/predict',
        inputs: { examples: { name: 'tf_example:0', dtype: 'DT_FLOAT' } },
        outputs: { y: { name: 'y:0', dtype: 'DT_FLOAT' } },
      },
    },
  };
}

function writeModel(m: MetaGraphDef): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tfsvc-example-inputs-'));
  writeFileSync(path.join(dir, 'saved_model.pb'), encodePlain('tensorflow.SavedModel', { savedModelSchemaVersion: 1, metaGraphs: [m] }));
  return dir;
}

test('the graph builder re-types a classify/regress input that feeds ParseExample to DT_STRING, and only that', async () => {
  const m = meta();
  const src = modelSourceFrom({ dir: '/m', file: '/m/saved_model.pb', savedModel: { metaGraphs: [m] }, assets: [], assetsExtra: [] }, m);
  const declared = await buildExecutableGraph(src, 'regress_declared_float');
  assert.deepEqual(declared.exampleInputs, ['inputs']);
  // No shape was recorded: a batch of serialized Examples, not the scalar an empty TensorShapeProto would mean.
  assert.deepEqual(declared.inputs.inputs!.spec, { name: 'tf_example:0', dtype: 'DT_STRING', shape: null });
  const placeholder = (declared.artifacts.modelTopology as { node: NodeDef[] }).node.find((n) => n.name === declared.inputs.inputs!.node);
  assert.equal(placeholder?.attr?.dtype?.type, 'DT_STRING');

  const already = await buildExecutableGraph(src, 'regress_string');
  assert.deepEqual(already.exampleInputs, []);
  assert.deepEqual(already.inputs.inputs!.spec.shape, [-1]);

  const predict = await buildExecutableGraph(src, 'predict_declared_float');
  assert.deepEqual(predict.exampleInputs, []);
  assert.equal(predict.inputs.examples!.spec.dtype, 'DT_FLOAT');
});

test('loadModel runs serialized tf.Examples through a regress signature that declares DT_FLOAT', async (t) => {
  const dir = writeModel(meta());
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const model = await loadModel(dir, { backend: 'cpu' });
  t.after(() => model.dispose());

  // The signature the engine exposes (serving decodes requests with it) says what run() accepts.
  assert.equal(model.signatures.regress_declared_float!.inputs.inputs!.dtype, 'DT_STRING');
  assert.equal(model.signatures.predict_declared_float!.inputs.examples!.dtype, 'DT_FLOAT');

  for (const key of ['regress_declared_float', 'regress_string']) {
    const out = await model.run(key, { inputs: stringInput(examples(1, 2, 5)) });
    assert.deepEqual(out.outputs!.shape, [3, 1], key);
    assert.deepEqual(Array.from(out.outputs!.data as Float32Array), [3.5, 4, 5.5], key);
  }
  // A float tensor for a tf.Example input is refused with TensorFlow's feed-type error, as TF Serving would answer.
  await assert.rejects(
    model.run('regress_declared_float', { inputs: { dtype: 'DT_FLOAT', shape: [1], data: Float32Array.of(1) } }),
    (err: unknown) => err instanceof RequestError && /Expects arg\[0\] to be string but float is provided/.test(err.message),
  );
});

test('half_plus_three: its regress signature (declared DT_FLOAT) answers tf.Examples [1,2,5] with [3.5,4,5.5]', needsShared, async (t) => {
  const model = await loadModel(sharedModel('tfserving/saved_model_half_plus_three/00000123', t));
  t.after(() => model.dispose());
  const key = 'tensorflow/serving/regress';
  assert.equal(model.signatures[key]!.inputs.inputs!.dtype, 'DT_STRING');
  const out = await model.run(key, { inputs: stringInput(examples(1, 2, 5)) });
  assert.deepEqual(Array.from(out.outputs!.data as Float32Array), [3.5, 4, 5.5]);
});
