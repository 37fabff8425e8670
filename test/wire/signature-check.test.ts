// The request-vs-signature check and the gRPC PredictRequest decoder: what a client sees for each kind of bad input
// (texts in the signature's terms), and what TF Serving accepts that must stay accepted.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostTensor, SignatureInfo } from '../../src/core/engine/types.js';
import { RequestError } from '../../src/core/errors.js';
import { decodePredictInputs } from '../../src/core/wire/predict-proto.js';
import { checkInputs, DEFAULT_MAX_REQUEST_ELEMENTS } from '../../src/core/wire/signature-check.js';

const sig = (inputs: Record<string, [string, number[] | null]>): SignatureInfo => ({
  key: 'serving_default',
  methodName: 'tensorflow/serving/predict',
  inputs: Object.fromEntries(Object.entries(inputs).map(([k, [dtype, shape]]) => [k, { name: `${k}:0`, dtype, shape }])),
  outputs: {},
});
const f32 = (shape: number[]): HostTensor => ({ dtype: 'DT_FLOAT', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
const CNN = sig({ x: ['DT_FLOAT', [-1, 28, 28, 1]] });

function refuses(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RequestError, String(e));
    assert.equal(e.code, 'INVALID_ARGUMENT');
    assert.equal(e.httpStatus, 400);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

describe('signature check', () => {
  test('a shape the signature cannot take names the input and both shapes', () => {
    refuses(() => checkInputs(CNN, { x: f32([1, 2, 2, 1]) }), 'input "x": shape [1,2,2,1] is not compatible with the signature\'s [-1,28,28,1]');
    refuses(() => checkInputs(CNN, { x: f32([1, 1, 1, 1]) }), 'input "x": shape [1,1,1,1] is not compatible with the signature\'s [-1,28,28,1]');
    refuses(() => checkInputs(CNN, { x: f32([3]) }), 'input "x": shape [3] is not compatible with the signature\'s [-1,28,28,1]');
    checkInputs(CNN, { x: f32([2, 28, 28, 1]) });
  });

  test('a shape of another rank whose elements fit the signature is run, as TF Serving runs half_plus_two\'s [3] for [-1,1]', () => {
    checkInputs(sig({ x: ['DT_FLOAT', [-1, 1]] }), { x: f32([3]) });
    checkInputs(sig({ x: ['DT_FLOAT', [2]] }), { x: f32([1, 2]) });
    checkInputs(CNN, { x: f32([2, 784]) });
    refuses(() => checkInputs(sig({ x: ['DT_FLOAT', [2]] }), { x: f32([1, 3]) }), /shape \[1,3\] is not compatible with the signature's \[2\]/);
    checkInputs(sig({ x: ['DT_FLOAT', null] }), { x: f32([7, 1, 9]) });
  });

  test('dtype, unknown aliases and inputs disagreeing on the batch size', () => {
    refuses(() => checkInputs(CNN, { x: { dtype: 'DT_INT32', shape: [1], data: new Int32Array(1) } }), 'input "x": dtype DT_INT32 does not match the signature\'s DT_FLOAT');
    refuses(() => checkInputs(CNN, { y: f32([1]) }), /input "y" is not an input of signature "serving_default"/);
    const two = sig({ a: ['DT_FLOAT', [-1, 2]], b: ['DT_FLOAT', [-1]] });
    checkInputs(two, { a: f32([3, 2]), b: f32([3]) });
    refuses(() => checkInputs(two, { a: f32([3, 2]), b: f32([4]) }), /input "b": batch size 4 .* does not match input "a"'s 3/);
  });

  test('a tensor holding fewer values than its shape says is refused', () => {
    refuses(() => checkInputs(CNN, { x: { dtype: 'DT_FLOAT', shape: [1, 28, 28, 1], data: new Float32Array(3) } }), 'input "x": 3 values for shape [1,28,28,1], which holds 784');
  });

  test('elements over --max_request_elements and decoded bytes over their bound are refused', () => {
    assert.equal(DEFAULT_MAX_REQUEST_ELEMENTS, 2 ** 26);
    const limits = { maxElements: 1000 };
    const two = sig({ a: ['DT_FLOAT', [-1, 2]], b: ['DT_FLOAT', [-1, 2]] });
    checkInputs(two, { a: f32([250, 2]), b: f32([250, 2]) }, limits);
    refuses(() => checkInputs(two, { a: f32([300, 2]), b: f32([300, 2]) }, limits), 'input "b": shape [300,2] brings the request to 1200 elements, more than the limit of 1000 (--max_request_elements)');
    const strings = sig({ s: ['DT_STRING', [-1]] });
    const big = new Uint8Array(9000);
    refuses(() => checkInputs(strings, { s: { dtype: 'DT_STRING', shape: [1], data: [big] } }, limits), /take 9000 bytes, more than the limit of 8000/);
    // ...unless the request itself was that large (bytes a client sent are not a splat expansion).
    checkInputs(strings, { s: { dtype: 'DT_STRING', shape: [1], data: [big] } }, limits, 9100);
  });
});

describe('gRPC PredictRequest decoding', () => {
  const proto = (shape: number[], rest: Record<string, unknown>) => ({ dtype: 'DT_FLOAT', tensorShape: { dim: shape.map((size) => ({ size })) }, ...rest });

  test('follows Tensor::FromProto: extra values ignored, a short list splat-filled with its last value, none means zeros', () => {
    const s = sig({ x: ['DT_FLOAT', [-1]] });
    assert.deepEqual(Array.from(decodePredictInputs({ x: proto([2], { floatVal: [1, 2, 3] }) }, s).x!.data as Float32Array), [1, 2]);
    assert.deepEqual(Array.from(decodePredictInputs({ x: proto([4], { floatVal: [1, 2] }) }, s).x!.data as Float32Array), [1, 2, 2, 2]);
    assert.deepEqual(Array.from(decodePredictInputs({ x: proto([2], {}) }, s).x!.data as Float32Array), [0, 0]);
  });

  test('a declared shape beyond the cap is refused before its values exist; a splat string beyond the byte bound too', () => {
    const s = sig({ x: ['DT_FLOAT', [-1]] });
    refuses(() => decodePredictInputs({ x: proto([2 ** 40], { floatVal: [1] }) }, s), 'input "x": shape [1099511627776] brings the request to 1099511627776 elements, more than the limit of 67108864 (--max_request_elements)');
    const str = sig({ s: ['DT_STRING', [-1]] });
    const splat = { dtype: 'DT_STRING', tensorShape: { dim: [{ size: 1000 }] }, stringVal: [Buffer.alloc(100)] };
    refuses(() => decodePredictInputs({ s: splat }, str, { maxElements: 1000 }), /take 100000 bytes, more than the limit of 8000/);
    assert.equal(decodePredictInputs({ s: splat }, str, { maxElements: 20000 }).s!.data.length, 1000);
  });

  test('TF Serving\'s alias errors come first, then the signature check on what the protos declare', () => {
    refuses(() => decodePredictInputs({ z: proto([1], {}) }, CNN), 'Signature input alias: x(feed name: x:0) not found in request and no default value provided. Inputs expected to be in the request {z}, or default input alias set: ');
    refuses(() => decodePredictInputs({ x: proto([1, 2, 2, 1], { floatVal: [0] }) }, CNN), 'input "x": shape [1,2,2,1] is not compatible with the signature\'s [-1,28,28,1]');
  });
});
