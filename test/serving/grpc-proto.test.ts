// proto/tensorflow_serving.proto: field numbers are the wire format TF Serving clients and warmup files use. These
// tests decode bytes assembled by hand from TF Serving's .proto field numbers, so a wrong number fails here.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePlain, encodePlain, protoRoot } from '../../src/core/proto/schema.js';

const FILE = 'tensorflow_serving.proto';

/** A length-delimited field: tag (field << 3 | 2), length, bytes (all short enough for one-byte varints). */
const ld = (field: number, ...parts: (number[] | Buffer)[]) => {
  const body = Buffer.concat(parts.map((p) => Buffer.from(p)));
  assert.ok(body.length < 128);
  return Buffer.concat([Buffer.from([(field << 3) | 2, body.length]), body]);
};
const str = (field: number, s: string) => ld(field, Buffer.from(s));
const varint = (field: number, v: number) => Buffer.from([(field << 3) | 0, v]);

describe('tensorflow_serving.proto', () => {
  test('loads together with tensorflow.proto and the google.protobuf wrappers', () => {
    const root = protoRoot(FILE);
    for (const name of ['PredictRequest', 'PredictResponse', 'ClassificationRequest', 'RegressionResponse', 'GetModelMetadataResponse', 'GetModelStatusResponse', 'PredictionLog']) {
      assert.ok(root.lookupType(`tensorflow.serving.${name}`));
    }
    assert.deepEqual(root.lookupService('tensorflow.serving.PredictionService').methodsArray.map((m) => m.name).sort(),
      ['Classify', 'GetModelMetadata', 'MultiInference', 'Predict', 'Regress']);
    assert.deepEqual(root.lookupService('tensorflow.serving.ModelService').methodsArray.map((m) => m.name), ['GetModelStatus', 'HandleReloadConfigRequest']);
  });

  test('a warmup PredictionLog record (predict_log = 6) decodes', () => {
    const spec = ld(1, str(1, 'half_plus_two'), ld(2, varint(1, 123)), str(3, 'serving_default'));
    const tensor = ld(2, varint(1, 1 /* DT_FLOAT */), ld(2, ld(2, varint(1, 1))), ld(5, [0, 0, 0x80, 0x3f] /* 1.0f */));
    const request = ld(1, spec, ld(2, str(1, 'x'), tensor), str(3, 'y'));
    const record = Buffer.concat([ld(1, ld(1, str(1, 'half_plus_two'))), ld(6, request)]);
    const log = decodePlain<Record<string, any>>('tensorflow.serving.PredictionLog', record, FILE); // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(log.logMetadata.modelSpec.name, 'half_plus_two');
    const req = log.predictLog.request;
    assert.deepEqual(req.modelSpec, { name: 'half_plus_two', version: { value: 123 }, signatureName: 'serving_default' });
    assert.deepEqual(req.inputs.x, { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 1 }] }, floatVal: [1] });
    assert.deepEqual(req.outputFilter, ['y']);
  });

  test('classify_log = 2 and regress_log = 3 carry tf.Examples (example_list = 1, with_context = 2)', () => {
    const example = ld(1, ld(1, str(1, 'x'), ld(2, ld(2, ld(1, [0, 0, 0x80, 0x3f])))));
    const classify = ld(2, ld(1, ld(2, ld(1, ld(1, example)))));
    const c = decodePlain<Record<string, any>>('tensorflow.serving.PredictionLog', classify, FILE); // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.deepEqual(c.classifyLog.request.input.exampleList.examples[0].features.feature.x.floatList.value, [1]);
    const regress = ld(3, ld(1, ld(2, ld(2, ld(1, example), ld(2)))));
    const r = decodePlain<Record<string, any>>('tensorflow.serving.PredictionLog', regress, FILE); // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(r.regressLog.request.input.exampleListWithContext.examples.length, 1);
  });

  test('ModelSpec.version_label = 4 and status enums encode with TF Serving numbers', () => {
    assert.deepEqual([...encodePlain('tensorflow.serving.ModelSpec', { name: 'm', versionLabel: 'canary' }, FILE)], [...str(1, 'm'), ...str(4, 'canary')]);
    const status = encodePlain('tensorflow.serving.ModelVersionStatus', { version: 2, state: 'AVAILABLE', status: { errorCode: 'NOT_FOUND', errorMessage: 'e' } }, FILE);
    assert.deepEqual([...status], [...varint(1, 2), ...varint(2, 30), ...ld(3, varint(1, 5), str(2, 'e'))]);
  });
});
