// Request checking of LoadedModel.run: TF Serving's INVALID_ARGUMENT errors for bad aliases, dtypes and filters.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel, type EngineModel } from '../../src/core/engine/model.js';
import { RequestError } from '../../src/core/errors.js';
import { needsShared, sharedModel } from '../helpers/shared-models.js';

describe('run() rejects bad requests before running', needsShared, () => {
  let m: EngineModel;
  before(async () => {
    m = await loadModel(sharedModel('tfjs/model_multi_output'));
  });
  after(() => m?.dispose());
  const x = { dtype: 'DT_INT32', shape: [], data: Int32Array.of(1) };

  const invalid = (re: RegExp) => (err: unknown) => {
    assert.ok(err instanceof RequestError, String(err));
    assert.equal(err.code, 'INVALID_ARGUMENT');
    assert.equal(err.httpStatus, 400);
    assert.match(err.message, re);
    return true;
  };

  test('missing and extra inputs', async () => {
    await assert.rejects(m.run('serving_default', { x }), invalid(/input size does not match signature: 1!=2 .*Missing but required: \{y\}/));
    await assert.rejects(m.run('serving_default', { x, y: x, z: x }), invalid(/Sent extra: \{z\}/));
    // Names that plain objects inherit are aliases like any other, neither present nor accepted by default.
    await assert.rejects(m.run('serving_default', { x, toString: x }), invalid(/Sent extra: \{toString\}\. Missing but required: \{y\}/));
    await assert.rejects(m.run('serving_default', { x, y: x }, ['constructor']), invalid(/output tensor alias not found in signature: constructor/));
  });

  test('wrong dtype', async () => {
    const f = { dtype: 'DT_FLOAT', shape: [], data: Float32Array.of(1) };
    await assert.rejects(m.run('serving_default', { x: f, y: x }), invalid(/Expects arg\[0\] to be int32 but float is provided/));
  });

  test('data that does not fill the shape', async () => {
    await assert.rejects(m.run('serving_default', { x: { ...x, shape: [2] }, y: x }), invalid(/shape \[2\] needs 2 values, got 1/));
  });

  test('unknown output alias in the filter, unknown signature', async () => {
    await assert.rejects(m.run('serving_default', { x, y: x }, ['nope']), invalid(/output tensor alias not found in signature: nope/));
    await assert.rejects(m.run('nope', { x, y: x }), invalid(/Serving signature name: "nope" not found in signature def/));
    await assert.rejects(m.run('constructor', { x, y: x }), invalid(/Serving signature name: "constructor" not found in signature def/));
  });
});
