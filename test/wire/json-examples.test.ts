// :classify / :regress JSON (TF Serving's FillClassifyRegressRequestFromJson and result JSON) and the classifier /
// regressor result rules.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostTensor, SignatureInfo } from '../../src/core/engine/types.js';
import { RequestError } from '../../src/core/errors.js';
import { decodePlain } from '../../src/core/proto/schema.js';
import { parseJsonBody } from '../../src/core/wire/json-parse.js';
import {
  checkClassifySignature,
  checkRegressSignature,
  classificationResult,
  decodeExamplesRequest,
  encodeClassifyResponse,
  encodeRegressResponse,
  examplesFromInput,
  examplesSignature,
} from '../../src/core/wire/example-json.js';

type Features = Record<string, { bytesList?: { value: Buffer[] }; floatList?: { value: number[] }; int64List?: { value: number[] } }>;
const features = (bytes: Uint8Array): Features =>
  ((decodePlain('tensorflow.Example', bytes) as { features?: { feature?: Features } }).features?.feature ?? {}) as Features;

function rejects(text: string, message: string) {
  assert.throws(
    () => decodeExamplesRequest(parseJsonBody(text)),
    (e: unknown) => e instanceof RequestError && e.code === 'INVALID_ARGUMENT' && e.message === message,
    message,
  );
}

describe('decodeExamplesRequest', () => {
  test('feature kinds follow the JSON: ints and bools -> int64, other numbers -> float, strings and b64 -> bytes', () => {
    const req = decodeExamplesRequest(
      parseJsonBody(`{
        "examples": [
          {"names": ["foo", "bar"], "ratings": [8.0, 9.0], "age": 20, "flag": true, "img": {"b64": "aGVsbG8="}},
          {"names": "baz", "ratings": 6.5, "ids": [1, 2], "empty": []}
        ]}`),
    );
    assert.equal(req.signatureName, '');
    assert.equal(req.examples.length, 2);
    const a = features(req.examples[0]);
    assert.deepEqual(a.names.bytesList!.value.map(String), ['foo', 'bar']);
    assert.deepEqual(a.ratings.floatList!.value, [8, 9]);
    assert.deepEqual(a.age.int64List!.value, [20]);
    assert.deepEqual(a.flag.int64List!.value, [1]);
    assert.deepEqual(a.img.bytesList!.value.map(String), ['hello']);
    const b = features(req.examples[1]);
    assert.deepEqual(b.names.bytesList!.value.map(String), ['baz']);
    assert.deepEqual(b.ratings.floatList!.value, [6.5]);
    assert.deepEqual(b.ids.int64List!.value, [1, 2]);
    assert.deepEqual(b.empty, {});
  });

  test('context features are merged into every example, the example winning on conflicts', () => {
    const req = decodeExamplesRequest(
      parseJsonBody('{"signature_name": "regress_x_to_y", "context": {"country": "pl", "x": 1.0}, "examples": [{"x": 80.0}, {"y": 3}]}'),
    );
    assert.equal(req.signatureName, 'regress_x_to_y');
    const a = features(req.examples[0]);
    assert.deepEqual(a.country.bytesList!.value.map(String), ['pl']);
    assert.deepEqual(a.x.floatList!.value, [80]);
    const b = features(req.examples[1]);
    assert.deepEqual(b.x.floatList!.value, [1]);
    assert.deepEqual(b.y.int64List!.value, [3]);
  });

  test("TF Serving's error texts", () => {
    rejects('{"signature_name": 1, "examples": []}',
      "JSON Value: {\n    \"signature_name\": 1,\n    \"examples\": []\n} not formatted correctly. 'signature_name' key must be a string value.");
    rejects('{"context": [1], "examples": [{}]}', 'Example must be JSON object but got JSON Array');
    rejects('{"signature_name": "x"}',
      "JSON Value: {\n    \"signature_name\": \"x\"\n} When method is classify, key 'examples' is expected and was not found");
    rejects('{"examples": {}}', "JSON Value: {\n    \"examples\": {}\n} Expecting 'examples' value to be an list/array");
    rejects('{"examples": []}', "JSON Value: {\n    \"examples\": []\n} 'examples' value is an empty array");
    rejects('{"examples": [1]}', 'Example must be JSON object but got JSON Number');
    rejects('{"examples": [{"names": [null]}]}', 'Feature: names has element with unexpected JSON type: Null');
    rejects('{"examples": [{"names": [[1]]}]}', 'Feature: names has element with unexpected JSON type: Array');
    rejects('{"examples": [{"names": {"x": 1}}]}', 'Feature: names has element with unexpected JSON type: Object');
    rejects('{"examples": [{"v": [1, 2.5]}]}', 'Unexpected element type in feature: v expecting type: int64');
    rejects('{"examples": [{"v": [2.5, "a"]}]}', 'Unexpected element type in feature: v expecting type: float');
    rejects('{"examples": [{"v": ["a", true]}]}', 'Unexpected element type in feature: v expecting type: bytes');
    rejects('{"examples": [{"v": 18446744073709551615}]}', 'Feature: v has uint64_t element. Only int64_t is supported.');
    rejects('{"examples": [{"v": {"b64": "!!"}}]}', 'Unable to base64 decode');
  });

  test('gRPC Input: example_list and example_list_with_context', () => {
    const plain = examplesFromInput({ exampleList: { examples: [{ features: { feature: { x: { floatList: { value: [2] } } } } }] } });
    assert.deepEqual(features(plain[0]).x.floatList!.value, [2]);
    const ctx = examplesFromInput({
      exampleListWithContext: { context: { features: { feature: { c: { int64List: { value: [7] } } } } }, examples: [{}, {}] },
    });
    assert.equal(ctx.length, 2);
    assert.deepEqual(features(ctx[1]).c.int64List!.value, [7]);
    assert.throws(() => examplesFromInput({}), { message: 'Input is empty.' });
  });
});

const f32 = (shape: number[], v: number[]): HostTensor => ({ dtype: 'DT_FLOAT', shape, data: Float32Array.from(v) });

describe('classify / regress results', () => {
  test("regress: {\"results\": [...]} on one line, TF Serving's float text", () => {
    assert.equal(encodeRegressResponse({ outputs: f32([2, 1], [42, 3.5]) }, undefined, 2), '{\n    "results": [42.0, 3.5]\n}');
    assert.throws(() => encodeRegressResponse({ outputs: f32([1, 2], [1, 2]) }, undefined, 1), {
      message: 'Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got [1,2]',
    });
    assert.throws(() => encodeRegressResponse({ outputs: f32([2], [1, 2]) }, undefined, 3), {
      message: 'Input batch size did not match output batch size: 3 vs. 2',
    });
  });

  test('classify: [label, score] pairs per example; missing classes are empty labels', () => {
    assert.equal(encodeClassifyResponse({ scores: f32([1, 1], [12]) }, undefined, 1), '{\n    "results": [[["", 12.0]]\n    ]\n}');
    const both = encodeClassifyResponse(
      { classes: { dtype: 'DT_STRING', shape: [2, 2], data: ['a', 'b', 'c', 'd'].map((s) => Buffer.from(s)) }, scores: f32([2, 2], [0.25, 0.75, 0.5, 0.5]) },
      undefined,
      2,
    );
    assert.equal(both, '{\n    "results": [[["a", 0.25], ["b", 0.75]], [["c", 0.5], ["d", 0.5]]\n    ]\n}');
    assert.throws(() => classificationResult({ scores: f32([2], [1, 2]) }, 2), {
      message: 'Expected Tensor shape: [batch_size num_classes] but got [2]',
    });
    assert.throws(() => classificationResult({ classes: { dtype: 'DT_STRING', shape: [1, 2], data: [Buffer.from('a'), Buffer.from('b')] }, scores: f32([1, 1], [1]) }, 1), {
      message: 'Tensors class and score should match in dim_size(1). Got 2 vs. 1',
    });
  });

  test('signature checks (method_name is not checked, as in TF Serving by default)', () => {
    const spec = { name: 't:0', dtype: 'DT_STRING', shape: null };
    const classify: SignatureInfo = { key: 'c', methodName: 'tensorflow/serving/predict', inputs: { inputs: spec }, outputs: { scores: spec } };
    assert.equal(checkClassifySignature(classify), 'inputs');
    const predict: SignatureInfo = { key: 'p', methodName: 'tensorflow/serving/predict', inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', shape: [-1, 1] } }, outputs: { y: spec } };
    assert.throws(() => checkClassifySignature(predict), (e: Error) => e.message.startsWith('No classification inputs found in SignatureDef: inputs {\n  key: "x"\n  value {\n    name: "x:0"\n    dtype: DT_FLOAT\n    tensor_shape {\n      dim {\n        size: -1\n'));
    assert.throws(() => checkRegressSignature({ ...classify, outputs: { scores: spec } }), (e: Error) => e.message.startsWith('No regression outputs found in SignatureDef: '));
    assert.throws(() => checkRegressSignature({ ...classify, outputs: {} }), { message: 'Expected one output Tensor.' });
    assert.equal(examplesSignature({ serving_default: classify }, ''), classify);
    assert.throws(() => examplesSignature({ serving_default: classify }, 'nope'), { message: 'No signature was found with the name: nope' });
    for (const name of ['constructor', '__proto__', 'toString']) {
      assert.throws(() => examplesSignature({ serving_default: classify }, name), { message: `No signature was found with the name: ${name}` });
    }
  });
});
