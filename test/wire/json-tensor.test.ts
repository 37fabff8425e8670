// TF Serving's JSON tensor rules (util/json_tensor.cc and json_tensor_test.cc semantics): request decoding, response
// encoding byte for byte, and its exact error texts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostTensor, SignatureInfo, TensorSpec } from '../../src/core/engine/types.js';
import { RequestError } from '../../src/core/errors.js';
import { encodeErrorJson, encodePredictResponse } from '../../src/core/wire/json-tensor.js';
import { parseJsonBody } from '../../src/core/wire/json-parse.js';
import { requestSignatureName } from '../../src/core/wire/json-request.js';
import { decodePredictRequest } from '../../src/core/wire/predict-json.js';
import { formatFloat32, formatFloat64, formatG } from '../../src/core/wire/float-format.js';
import { checkOutputFilter, checkPredictInputs, predictSignature } from '../../src/core/wire/predict-rules.js';

function sig(inputs: Record<string, string>): SignatureInfo {
  const specs: Record<string, TensorSpec> = {};
  for (const [k, dtype] of Object.entries(inputs)) specs[k] = { name: `${k}:0`, dtype, shape: null };
  return { key: 'serving_default', methodName: 'tensorflow/serving/predict', inputs: specs, outputs: {} };
}

const decode = (text: string, s: SignatureInfo) => decodePredictRequest(parseJsonBody(text), s);

/** Asserts that decoding fails with exactly `message` (and `code`, default INVALID_ARGUMENT). */
function rejects(text: string, s: SignatureInfo, message: string, code = 'INVALID_ARGUMENT') {
  assert.throws(
    () => decode(text, s),
    (e: unknown) => {
      assert.ok(e instanceof RequestError, `not a RequestError: ${String(e)}`);
      assert.equal(e.message, message);
      assert.equal(e.code, code);
      return true;
    },
  );
}

const values = (t: HostTensor) => Array.from(t.data as ArrayLike<number | bigint>);
const strings = (t: HostTensor) => (t.data as Uint8Array[]).map((b) => Buffer.from(b).toString('utf8'));

describe('parseJsonBody', () => {
  test('accepts NaN, Infinity and -Infinity literals', () => {
    const body = parseJsonBody('{"instances": [NaN, Infinity, -Infinity, 1.5]}') as { instances: number[] };
    assert.ok(Number.isNaN(body.instances[0]));
    assert.equal(body.instances[1], Infinity);
    assert.equal(body.instances[2], -Infinity);
    assert.equal(body.instances[3], 1.5);
  });

  test('ignores text after the first value (rapidjson kParseStopWhenDoneFlag)', () => {
    assert.deepEqual(parseJsonBody('{"instances": [[1,2],[3,4]]}X'), { instances: [[1, 2], [3, 4]] });
  });

  test("malformed JSON gives TF Serving's rapidjson message and byte offset", () => {
    const cases: [string, string][] = [
      ['', 'JSON Parse error: The document is empty'],
      ['   ', 'JSON Parse error: The document is empty. at offset: 3'],
      ['{', 'JSON Parse error: Missing a name for object member. at offset: 1'],
      ['{"a" 1}', 'JSON Parse error: Missing a colon after a name of object member. at offset: 5'],
      ['{"a": 1 "b": 2}', "JSON Parse error: Missing a comma or '}' after an object member. at offset: 8"],
      ['{"instances": [1,2', "JSON Parse error: Missing a comma or ']' after an array element. at offset: 18"],
      ['[1,]', 'JSON Parse error: Invalid value. at offset: 3'],
      ['{"a": 1.}', 'JSON Parse error: Miss fraction part in number. at offset: 8'],
      ['{"a": 1e}', 'JSON Parse error: Miss exponent in number. at offset: 8'],
      ['{"a": "\\x"}', 'JSON Parse error: Invalid escape character in string. at offset: 7'],
      ['{"a": "abc', 'JSON Parse error: Missing a closing quotation mark in string. at offset: 10'],
      ['{"é": nul}', 'JSON Parse error: Invalid value. at offset: 10'],
      ['[tru]', 'JSON Parse error: Invalid value. at offset: 4'],
      ['x', 'JSON Parse error: Invalid value. at offset: 0'],
    ];
    for (const [text, message] of cases) {
      assert.throws(() => parseJsonBody(text), (e: unknown) => e instanceof RequestError && e.code === 'INVALID_ARGUMENT' && e.message === message, text);
    }
  });

  test('deeply nested documents parse without overflowing the stack (json_tensor_test DeeplyNested*)', () => {
    const deep = '['.repeat(500000) + ']'.repeat(500000);
    const ok = decode(`{"instances":[1], "nested":${deep}}`, sig({ x: 'DT_INT32' }));
    assert.deepEqual(ok.inputs.x.shape, [1]);
    assert.throws(
      () => decode(`{"signature_name":${deep}}`, sig({ x: 'DT_INT32' })),
      (e: unknown) => e instanceof RequestError && e.message.startsWith('JSON Value: {\n    "signature_name": [[[[') &&
        e.message.endsWith(" not formatted correctly. 'signature_name' key must be a string value.") && e.message.length < 400,
    );
  });

  test('a top level that is not an object is rejected by the decoder', () => {
    rejects('[1, 2]', sig({ x: 'DT_FLOAT' }), 'JSON Value: [1, 2] Is not object');
  });
});

describe('decodePredictRequest: row format ("instances")', () => {
  test('single unnamed input: scalars stack into a batch', () => {
    const r = decode('{"instances": [1, 2.0, 3, 4, 5.003, 0.007, 0.0]}', sig({ x: 'DT_FLOAT' }));
    assert.equal(r.format, 'row');
    assert.deepEqual(r.inputs.x.shape, [7]);
    assert.equal(r.inputs.x.dtype, 'DT_FLOAT');
    assert.deepEqual(values(r.inputs.x), [1, 2, 3, 4, 5.003, 0.007, 0].map(Math.fround));
  });

  test('single unnamed input: nested lists keep their shape', () => {
    const r = decode('{"instances": [[[1, 2]], [[3, 4]]]}', sig({ x: 'DT_INT32' }));
    assert.deepEqual(r.inputs.x.shape, [2, 1, 2]);
    assert.ok(r.inputs.x.data instanceof Int32Array);
    assert.deepEqual(values(r.inputs.x), [1, 2, 3, 4]);
  });

  test('a double tensor keeps full precision; a float tensor rounds like float32', () => {
    const d = decode('{"instances": [0.662, 1435774380]}', sig({ x: 'DT_DOUBLE' }));
    assert.deepEqual(values(d.inputs.x), [0.662, 1435774380]);
    const f = decode('{"instances": [1435774380, 1435774380.0]}', sig({ x: 'DT_FLOAT' }));
    assert.deepEqual(values(f.inputs.x), [Math.fround(1435774380), Math.fround(1435774380)]);
    const big = decode(`{"instances": [${Number.MAX_VALUE}, ${-Number.MAX_VALUE}]}`, sig({ x: 'DT_FLOAT' }));
    assert.deepEqual(values(big.inputs.x), [Infinity, -Infinity]);
  });

  test('b64 objects decode to bytes for DT_STRING; plain strings are UTF-8', () => {
    const r = decode('{"instances": [{"b64": "aGVsbG8="}, {"b64": "d29ybGQ="}]}', sig({ x: 'DT_STRING' }));
    assert.deepEqual(r.inputs.x.shape, [2]);
    assert.deepEqual(strings(r.inputs.x), ['hello', 'world']);
    const lists = decode('{"instances": [[{"b64": "aGVsbG8="}], ["wörld"]]}', sig({ x: 'DT_STRING' }));
    assert.deepEqual(lists.inputs.x.shape, [2, 1]);
    assert.deepEqual(strings(lists.inputs.x), ['hello', 'wörld']);
  });

  test('named inputs: one object per instance, each stacked separately', () => {
    const s = sig({ int_tensor: 'DT_INT32', str_tensor: 'DT_STRING', float_tensor: 'DT_FLOAT', dbl_tensor: 'DT_DOUBLE' });
    const r = decode(
      `{"instances": [
        {"int_tensor": [[1, 2], [3, 4], [5, 6]], "str_tensor": ["foo", "bar"], "float_tensor": [1.0, NaN], "dbl_tensor": [0.7]},
        {"int_tensor": [[7, 8], [9, 0], [1, 2]], "str_tensor": ["baz", "bat"], "float_tensor": [2.0, Infinity], "dbl_tensor": [-0.5]}
      ]}`,
      s,
    );
    assert.deepEqual(r.inputs.int_tensor.shape, [2, 3, 2]);
    assert.deepEqual(values(r.inputs.int_tensor), [1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2]);
    assert.deepEqual(r.inputs.str_tensor.shape, [2, 2]);
    assert.deepEqual(strings(r.inputs.str_tensor), ['foo', 'bar', 'baz', 'bat']);
    assert.deepEqual(r.inputs.float_tensor.shape, [2, 2]);
    assert.deepEqual(values(r.inputs.float_tensor), [1, NaN, 2, Infinity]);
    assert.deepEqual(values(r.inputs.dbl_tensor), [0.7, -0.5]);
  });

  test('a single named input may also be given as objects', () => {
    const r = decode('{"instances": [{"x": [1.0]}, {"x": [2.0]}]}', sig({ x: 'DT_FLOAT' }));
    assert.deepEqual(r.inputs.x.shape, [2, 1]);
  });

  test('int64 and uint64 keep every digit; bool and uint32 check their ranges', () => {
    const r = decode('{"inputs": {"a": [9007199254740993, -9223372036854775808], "b": [18446744073709551615], "c": [true, false], "d": [4294967295]}}',
      sig({ a: 'DT_INT64', b: 'DT_UINT64', c: 'DT_BOOL', d: 'DT_UINT32' }));
    assert.deepEqual(values(r.inputs.a), [9007199254740993n, -9223372036854775808n]);
    assert.deepEqual(values(r.inputs.b), [18446744073709551615n]);
    assert.deepEqual(values(r.inputs.c), [1, 0]);
    assert.deepEqual(values(r.inputs.d), [4294967295]);
  });

  test('int8/uint8/int16 values are cast like TensorFlow casts int_val', () => {
    const r = decode('{"inputs": {"a": [300, -1], "b": [200], "c": [40000]}}', sig({ a: 'DT_UINT8', b: 'DT_INT8', c: 'DT_INT16' }));
    assert.deepEqual(values(r.inputs.a), [44, 255]);
    assert.deepEqual(values(r.inputs.b), [-56]);
    assert.deepEqual(values(r.inputs.c), [-25536]);
  });

  test('missing, both, empty or non-list keys', () => {
    const s = sig({ x: 'DT_INT32' });
    rejects('{"signature_name": "serving_default"}', s, "Missing 'inputs' or 'instances' key");
    rejects(
      '{"instances": [[1,2],[3,4],[5,6,7]], "inputs": [[1,2],[3,4],[5,6,7]]}',
      s,
      "JSON Value: {\n    \"instances\": [[1, 2], [3, 4], [5, 6, 7]],\n    \"inputs\": [[1, 2], [3, 4], [5, 6, 7]]\n} Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist ",
    );
    rejects('{"instances": []}', s, "JSON Value: {\n    \"instances\": []\n} No values in 'instances' array");
    rejects('{"instances": {"x": 1}}', s, "JSON Value: {\n    \"instances\": {\n        \"x\": 1\n    }\n} Expecting 'instances' to be an list/array");
  });

  test('signature_name must be a string', () => {
    rejects(
      '{"signature_name": 5, "instances": [[1,2],[3,4],[5,6,7]]}',
      sig({ x: 'DT_INT32' }),
      "JSON Value: {\n    \"signature_name\": 5,\n    \"instances\": [[1, 2], [3, 4], [5, 6, 7]]\n} not formatted correctly. 'signature_name' key must be a string value.",
    );
    assert.equal(requestSignatureName(parseJsonBody('{"signature_name": "classify_x_to_y"}')), 'classify_x_to_y');
    assert.equal(requestSignatureName(parseJsonBody('{"instances": [1]}')), '');
  });

  test('ragged instances: size and shape disagreements', () => {
    const s = sig({ x: 'DT_INT32' });
    rejects('{"instances": [[1,2],[3,4],[5,6,7]]}', s,
      "Failed to process element: 2 of 'instances' list. Error: INVALID_ARGUMENT: Expecting tensor size: 2 but got: 3");
    rejects('{"instances": [[1,2],[3,4],[[5,6]]]}', s,
      "Failed to process element: 2 of 'instances' list. Error: INVALID_ARGUMENT: Expecting shape [2] but got: [1,2]");
    rejects('{"instances": [1, [1]]}', s,
      "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: Expecting shape [] but got: [1]");
    rejects('{"instances": [[[1, 2], [3]]]}', s,
      "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: Encountered list at unexpected size: 1 at level: 1 expected size: 2");
    rejects('{"instances": [[1, [2]]]}', s,
      "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: Encountered list at unexpected level: 1 expected < 1");
    rejects('{"instances": [[[1], 2]]}', s,
      "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: 2 found at incorrect level: 2 in the JSON DOM. Expected at level: 2");
  });

  test('dtype mismatches quote the value as the client wrote it', () => {
    rejects('{"instances": [[1,2],["a", "b"]]}', sig({ x: 'DT_INT32' }),
      "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: \"a\" Type: String is not of expected type: int32");
    rejects('{"instances": [1.0]}', sig({ x: 'DT_INT32' }),
      "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: 1.0 Type: Number is not of expected type: int32");
    rejects('{"inputs": [1, 2.5]}', sig({ x: 'DT_INT64' }), 'JSON Value: 2.5 Type: Number is not of expected type: int64');
    rejects('{"inputs": [true]}', sig({ x: 'DT_FLOAT' }), 'JSON Value: true Type: True is not of expected type: float');
    rejects('{"inputs": [1]}', sig({ x: 'DT_BOOL' }), 'JSON Value: 1 Type: Number is not of expected type: bool');
    rejects('{"inputs": [-1]}', sig({ x: 'DT_UINT32' }), 'JSON Value: -1 Type: Number is not of expected type: uint32');
    rejects('{"inputs": [null]}', sig({ x: 'DT_STRING' }), 'JSON Value: null Type: Null is not of expected type: string');
    rejects('{"inputs": [{"b64": "aGk="}]}', sig({ x: 'DT_FLOAT' }),
      'JSON Value: {\n    "b64": "aGk="\n} Type: Object is not of expected type: float');
    rejects('{"inputs": [1]}', sig({ x: 'DT_HALF' }), 'Conversion of JSON Value: 1 to type: half', 'UNIMPLEMENTED');
  });

  test('bad base64', () => {
    const s = sig({ x: 'DT_STRING' });
    rejects('{"inputs": [{"b64": "%%%"}]}', s, 'Unable to base64 decode');
    rejects('{"inputs": [{"b64": "aGk=", "x": 1}]}', s, 'JSON Value: {\n    "b64": "aGk=",\n    "x": 1\n} not formatted correctly for base64 data');
  });

  test('named instances: mixing objects and lists, wrong keys', () => {
    const s = sig({ int_tensor: 'DT_INT32', str_tensor: 'DT_STRING' });
    rejects('{"instances": [[1, 2]]}', s,
      'instances is a plain list, but expecting list of objects as multiple input tensors required as per tensorinfo_map');
    rejects('{"instances": [{"int_tensor": [1], "str_tensor": ["a"]}, [1, 20, 30]]}', s,
      'Expecting object but got list at item 1 of input list');
    rejects('{"instances": [{"int_tensor": [1], "str_tensor": ["a"]}, {"int_tensor": [1, 2], "str_tensor": ["b"]}]}', s,
      "Failed to process element: 1 key: int_tensor of 'instances' list. Error: INVALID_ARGUMENT: Expecting tensor size: 1 but got: 2");
    rejects('{"instances": [{"int_tensor": [1]}]}', s,
      "Failed to process element: 0 of 'instances' list. JSON object: {\n    \"int_tensor\": [1]\n} keys must be equal to: int_tensor,str_tensor");
    rejects('{"instances": [{"int_tensor": [1], "str_tensor": ["a"], "other": 1}]}', s,
      "Failed to process element: 0 key: other of 'instances' list. Error: INVALID_ARGUMENT: JSON object: does not have named input: other");
    const one = sig({ str_tensor: 'DT_STRING' });
    rejects('{"instances": [["baz", "bar"], {"str_tensor": ["baz", "bat"]}]}', one,
      'Expecting value/list but got object at item 1 of input list');
  });
});

describe('decodePredictRequest: columnar format ("inputs")', () => {
  test('a single unnamed input may be a list, a scalar or a b64 object', () => {
    const r = decode('{"inputs": [[1, 2], [3, 4], [5, 6]]}', sig({ x: 'DT_INT32' }));
    assert.equal(r.format, 'columnar');
    assert.deepEqual(r.inputs.x.shape, [3, 2]);
    const scalar = decode('{"inputs": 7}', sig({ x: 'DT_INT32' }));
    assert.deepEqual(scalar.inputs.x.shape, []);
    assert.deepEqual(values(scalar.inputs.x), [7]);
    const b = decode('{"inputs": {"b64": "aGk="}}', sig({ x: 'DT_STRING' }));
    assert.deepEqual(b.inputs.x.shape, []);
    assert.deepEqual(strings(b.inputs.x), ['hi']);
  });

  test('named inputs may have different leading dimensions; extra keys are ignored', () => {
    const r = decode('{"inputs": {"a": [1, 2, 3], "b": [["x"]], "ignored": 1}}', sig({ a: 'DT_FLOAT', b: 'DT_STRING' }));
    assert.deepEqual(r.inputs.a.shape, [3]);
    assert.deepEqual(r.inputs.b.shape, [1, 1]);
    assert.deepEqual(Object.keys(r.inputs).sort(), ['a', 'b']);
  });

  test('errors', () => {
    const two = sig({ a: 'DT_FLOAT', b: 'DT_FLOAT' });
    rejects('{"inputs": [1, 2]}', two,
      'inputs is a plain value/list, but expecting an object as multiple input tensors required as per tensorinfo_map');
    rejects('{"inputs": {"a": [1]}}', two, "Missing named input: b in 'inputs' object.");
    rejects('{"inputs": [[1], [2, 3]]}', sig({ x: 'DT_FLOAT' }), 'Encountered list at unexpected size: 2 at level: 1 expected size: 1');
    rejects('{"inputs": [1]}', { ...sig({}), key: 'other' }, 'Failed to get input map for signature: DEFAULT');
  });
});

describe('predict rules', () => {
  const s: SignatureInfo = { ...sig({ a: 'DT_FLOAT', b: 'DT_FLOAT' }), outputs: { y: { name: 'y:0', dtype: 'DT_FLOAT', shape: null }, z: { name: 'z:0', dtype: 'DT_FLOAT', shape: null } } };
  test('input aliases must match the signature', () => {
    assert.throws(() => checkPredictInputs(s, ['a']), {
      message: 'input size does not match signature: 1!=2 len({a}) != len({a,b}). Sent extra: {}. Missing but required: {b}.',
    });
    assert.throws(() => checkPredictInputs(s, ['a', 'c']), {
      message: 'Signature input alias: b(feed name: b:0) not found in request and no default value provided. Inputs expected to be in the request {a,c}, or default input alias set: ',
    });
    checkPredictInputs(s, ['b', 'a']);
  });
  test('output_filter and signature keys', () => {
    assert.deepEqual(checkOutputFilter(s, []), ['y', 'z']);
    assert.throws(() => checkOutputFilter(s, ['q']), { message: 'output tensor alias not found in signature: q Outputs expected to be in the set {y,z}.' });
    assert.throws(() => checkOutputFilter(s, ['y', 'y']), { message: 'duplicate output tensor alias: y' });
    assert.throws(() => predictSignature({}, ''), { message: 'Serving signature key "serving_default" not found.', code: 'FAILED_PRECONDITION' });
  });
});

const f32 = (shape: number[], v: number[]): HostTensor => ({ dtype: 'DT_FLOAT', shape, data: Float32Array.from(v) });

describe('encodePredictResponse', () => {
  test("row format: TF Serving's exact bytes for half_plus_two", () => {
    assert.equal(encodePredictResponse({ y: f32([3], [2.5, 3, 4.5]) }, 'row'), '{\n    "predictions": [2.5, 3.0, 4.5\n    ]\n}');
    assert.equal(encodePredictResponse({ y: f32([2, 1], [2.5, 3]) }, 'row'), '{\n    "predictions": [[2.5], [3.0]\n    ]\n}');
  });

  test('columnar format pretty-prints the whole tensor', () => {
    assert.equal(encodePredictResponse({ y: f32([2], [3.5, 4]) }, 'columnar'), '{\n    "outputs": [\n        3.5,\n        4.0\n    ]\n}');
    const two = encodePredictResponse({ b: f32([1], [1]), a: { dtype: 'DT_INT64', shape: [], data: BigInt64Array.from([9007199254740993n]) } }, 'columnar');
    assert.equal(two, '{\n    "outputs": {\n        "a": 9007199254740993,\n        "b": [\n            1.0\n        ]\n    }\n}');
  });

  test('several outputs in row format: one object per batch item; *_bytes as b64', () => {
    const out = encodePredictResponse(
      {
        int_tensor: { dtype: 'DT_INT32', shape: [2, 2], data: Int32Array.from([1, 2, 3, 4]) },
        str_tensor_bytes: { dtype: 'DT_STRING', shape: [2], data: [Buffer.from('hello'), Buffer.from('tf')] },
        flag: { dtype: 'DT_BOOL', shape: [2], data: Uint8Array.from([1, 0]) },
      },
      'row',
    );
    assert.equal(
      out,
      '{\n    "predictions": [\n        {\n            "flag": true,\n            "int_tensor": [1, 2],\n            "str_tensor_bytes": {\n' +
        '                "b64": "aGVsbG8="\n            }\n        },\n        {\n            "flag": false,\n            "int_tensor": [3, 4],\n' +
        '            "str_tensor_bytes": {\n                "b64": "dGY="\n            }\n        }\n    ]\n}',
    );
    assert.deepEqual(JSON.parse(out).predictions[1], { flag: false, int_tensor: [3, 4], str_tensor_bytes: { b64: 'dGY=' } });
  });

  test("floats use StrCat's six digits unless they do not round-trip; NaN/Infinity literals", () => {
    const out = encodePredictResponse({ float_tensor: f32([2, 3], [9000000, 999999, 0.5, 0.0003, 0.00003, 555557.5]) }, 'row');
    assert.equal(out, '{\n    "predictions": [[9e+06, 999999.0, 0.5], [0.0003, 3e-05, 555557.5]\n    ]\n}');
    const nonFinite = encodePredictResponse({ f: f32([2, 2], [NaN, Infinity, 3, -Infinity]) }, 'row');
    assert.equal(nonFinite, '{\n    "predictions": [[NaN, Infinity], [3.0, -Infinity]\n    ]\n}');
    assert.equal(formatFloat32(Math.fround(Math.PI)), '3.14159274');
    assert.equal(formatFloat32(Math.fround(0.1)), '0.1');
    assert.equal(formatFloat32(Math.fround(1 / 3)), '0.333333343');
    assert.equal(formatFloat32(-0), '-0.0');
    assert.equal(formatFloat32(Math.fround(1234567.125)), '1234567.12');
    assert.equal(formatFloat64(0.1), '0.1');
    assert.equal(formatFloat64(Math.PI), '3.1415926535897931');
    assert.equal(formatFloat64(1e100), '1e+100');
  });

  test("formatG matches C's %g, ties rounded half to even", () => {
    assert.equal(formatG(2.5, 1), '2');
    assert.equal(formatG(3.5, 1), '4');
    assert.equal(formatG(0.125, 2), '0.12');
    assert.equal(formatG(1234567, 6), '1.23457e+06');
    assert.equal(formatG(0.0001, 6), '0.0001');
    assert.equal(formatG(0.00001234, 6), '1.234e-05');
    assert.equal(formatG(123456, 6), '123456');
  });

  test('reference dtypes (DT_FLOAT_REF outputs of TF1 models) print as their base type', () => {
    assert.equal(encodePredictResponse({ output: { dtype: 'DT_FLOAT_REF', shape: [], data: Float32Array.from([2]) } }, 'columnar'), '{\n    "outputs": 2.0\n}');
  });

  test('zero batch, scalars and errors', () => {
    assert.equal(encodePredictResponse({ y: f32([0], []) }, 'row'), '{\n    "predictions": []\n}');
    assert.equal(encodePredictResponse({ y: f32([], [1.5]) }, 'columnar'), '{\n    "outputs": 1.5\n}');
    assert.throws(() => encodePredictResponse({}, 'row'), { message: 'Cannot convert empty tensor map to JSON' });
    assert.throws(() => encodePredictResponse({ y: f32([], [1]) }, 'row'), { message: 'Tensor name: y has no shape information ' });
    assert.throws(() => encodePredictResponse({ a: f32([2], [1, 2]), b: f32([3], [1, 2, 3]) }, 'row'), {
      message: 'Tensor name: b has inconsistent batch size: 3 expecting: 2',
    });
    assert.throws(() => encodePredictResponse({ y: { dtype: 'DT_HALF', shape: [1], data: Float32Array.from([1]) } }, 'row'), {
      message: 'Failed to write JSON value for tensor type: half',
    });
  });

  test('error bodies', () => {
    assert.equal(encodeErrorJson('Missing \'inputs\' or "instances"\tkey\u0001'), '{\n    "error": "Missing \'inputs\' or \\"instances\\"\\tkey\\u0001"\n}');
  });
});
