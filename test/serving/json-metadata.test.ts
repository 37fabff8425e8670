// GET .../metadata and status JSON against TF Serving's own answer for half_plus_two (../shared testdata).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decodePlain } from '../../src/core/proto/schema.js';
import type { SavedModel } from '../../src/core/savedmodel/types.js';
import { encodeMetadataResponse, encodeStatusResponse } from '../../src/core/serving/rest/metadata-json.js';
import { needsShared, sharedModel } from '../helpers/shared-models.js';

function signatureDefs(modelDir: string): Record<string, unknown> {
  const sm = decodePlain<SavedModel>('tensorflow.SavedModel', readFileSync(path.join(modelDir, 'saved_model.pb')));
  return sm.metaGraphs![0].signatureDef as Record<string, unknown>;
}

describe('encodeMetadataResponse', needsShared, () => {
  test('equals TF Serving\'s half_plus_two_model_metadata.json', (t) => {
    const defs = signatureDefs(sharedModel('tfserving/saved_model_half_plus_two_cpu/00000123', t));
    const expectedText = readFileSync(sharedModel('tfserving/half_plus_two_model_metadata.json', t), 'utf8');
    const expected = JSON.parse(expectedText);
    const out = encodeMetadataResponse({ name: 'default', version: 123 }, defs);
    assert.deepEqual(JSON.parse(out), expected);

    // Byte layout: TF Serving glues two protobuf JSON printouts together (http_rest_api_util.cc ToJsonString).
    assert.ok(out.startsWith('{\n"model_spec":{\n "name": "default",\n "signature_name": "",\n "version": "123"\n}\n,\n"metadata": {"signature_def": {\n "signature_def": {\n'));
    assert.ok(out.endsWith('\n  }\n }\n}\n}\n}\n'));
    // The testdata file is the same document re-indented (one space per level); with the same map order the
    // re-indented output is byte-identical, which pins every field name, order and default.
    const order = Object.keys(expected.metadata.signature_def.signature_def);
    const reordered = Object.fromEntries(order.map((k) => [k, defs[k]]));
    const again = encodeMetadataResponse({ name: 'default', version: 123 }, reordered);
    assert.equal(`${JSON.stringify(JSON.parse(again), null, 1)}\n`, expectedText);
  });

  test('two-version model metadata', (t) => {
    const defs = signatureDefs(sharedModel('tfserving/saved_model_half_plus_two_2_versions/00000123', t));
    const expected = JSON.parse(readFileSync(sharedModel('tfserving/saved_model_half_plus_two_2_versions_metadata.json', t), 'utf8'));
    const out = encodeMetadataResponse({ name: 'saved_model_half_plus_two_2_versions', version: 123 }, defs);
    assert.deepEqual(JSON.parse(out), expected);
  });
});

describe('encodeStatusResponse', () => {
  test("protobuf's JSON layout with int64 version as a string", () => {
    const out = encodeStatusResponse([
      { version: 124, state: 'LOADING', errorCode: 'OK', errorMessage: '' },
      { version: 123, state: 'END', errorCode: 'UNKNOWN', errorMessage: 'Could not load "x"' },
    ]);
    assert.equal(
      out,
      '{\n "model_version_status": [\n  {\n   "version": "124",\n   "state": "LOADING",\n   "status": {\n    "error_code": "OK",\n' +
        '    "error_message": ""\n   }\n  },\n  {\n   "version": "123",\n   "state": "END",\n   "status": {\n    "error_code": "UNKNOWN",\n' +
        '    "error_message": "Could not load \\"x\\""\n   }\n  }\n ]\n}\n',
    );
  });
});
