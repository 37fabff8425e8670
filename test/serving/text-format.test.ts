import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseTextProto, TextFormatError } from '../../src/core/proto/text-format.js';
import { protoType } from '../../src/core/proto/schema.js';
import { parseBatchingParameters, parseModelConfigList, parseMonitoringConfig } from '../../src/core/serving/config.js';
import { UsageError } from '../../src/core/errors.js';
import { needsShared, sharedModel } from '../helpers/shared-models.js';

test('TF Serving config files from tensorflow/serving parse into tfsvc configs', needsShared, () => {
  process.env.TEST_HALF_PLUS_TWO_DIR = '/models/half_plus_two';
  const models = parseModelConfigList(readFileSync(sharedModel('tfserving/good_model_config.txt'), 'utf8'), 'good_model_config.txt', '/');
  assert.deepEqual(models.map((m) => [m.name, m.basePath, m.policy]), [
    ['half_plus_two', '/models/half_plus_two', { kind: 'latest', numVersions: 1 }],
    ['half_plus_three', '/${TEST_HALF_PLUS_THREE_DIR}', { kind: 'latest', numVersions: 1 }],
  ]);
  const b = parseBatchingParameters(readFileSync(sharedModel('tfserving/batching_config.txt'), 'utf8'));
  assert.equal(b.maxBatchSize, 128);
  assert.equal(b.batchTimeoutMicros, 0);
  assert.equal(b.maxEnqueuedBatches, 1000000);
  assert.equal(b.numBatchThreads, 8);
  assert.deepEqual(parseMonitoringConfig(readFileSync(sharedModel('tfserving/monitoring_config.txt'), 'utf8')), {
    prometheusEnabled: true,
    path: '/monitoring/prometheus/metrics',
  });
});

test('version policies, labels, repeated fields written both ways, comments and separators', () => {
  const models = parseModelConfigList(
    `# two models
     model_config_list {
       config { name: 'a' base_path: "/m/a" model_platform: "tensorflow"
                model_version_policy { specific { versions: 1 versions: 3 } }
                version_labels { key: "stable" value: 1 } version_labels { key: 'canary', value: 3 } }
       config < name: "b"; base_path: "/m/b"; model_version_policy: { all: {} } >
       config { name: "c" base_path: "rel" model_version_policy { latest { num_versions: 2 } } }
     }`,
    'cfg',
    '/base',
  );
  assert.deepEqual(models[0], { name: 'a', basePath: '/m/a', policy: { kind: 'specific', versions: [1, 3] }, labels: { stable: 1, canary: 3 } });
  assert.deepEqual(models[1]!.policy, { kind: 'all' });
  assert.deepEqual(models[2]!.policy, { kind: 'latest', numVersions: 2 });
  assert.equal(models[2]!.basePath, '/base/rel');
  const b = parseBatchingParameters('max_batch_size { value: 8 } allowed_batch_sizes: [2, 4, 8] batch_timeout_micros { value: 500 }');
  assert.deepEqual(b.allowedBatchSizes, [2, 4, 8]);
});

test('errors name the line, column and field', () => {
  assert.throws(
    () => parseModelConfigList('model_config_list {\n  config { nmae: "x" }\n}', 'm.txt'),
    (e: unknown) => e instanceof UsageError && /m\.txt:2:12: unknown field 'nmae' in tensorflow\.serving\.ModelConfig/.test(e.message),
  );
  assert.throws(() => parseModelConfigList('model_config_list { config { name: "x" ', 'm.txt'), /missing '}'/);
  assert.throws(() => parseBatchingParameters('max_batch_size { value: 8 } allowed_batch_sizes: [2, 4]'), /must equal max_batch_size/);
  assert.throws(() => parseBatchingParameters('max_batch_size { value: "8" }'), /expected an integer/);
  assert.throws(() => parseTextProto('name: "a" name: "b"', protoType('tensorflow.NodeDef')), TextFormatError);
});

test('TensorFlow messages: enums by name, bytes with escapes, maps of messages, floats', () => {
  const node = parseTextProto<Record<string, any>>(
    `name: "c" op: "Const" input: ["a", "^b"]
     attr { key: "dtype" value { type: DT_FLOAT } }
     attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 2 } } float_val: [1.5, -inf] } } }
     attr { key: "s" value { s: "\\x01\\n\\101" "BC" } }`,
    protoType('tensorflow.NodeDef'),
  );
  assert.deepEqual(node.input, ['a', '^b']);
  assert.equal(node.attr.dtype.type, 'DT_FLOAT');
  assert.deepEqual(node.attr.value.tensor.floatVal, [1.5, -Infinity]);
  assert.deepEqual(node.attr.value.tensor.tensorShape.dim, [{ size: 2 }]);
  assert.deepEqual([...node.attr.s.s], [1, 10, 65, 66, 67]);
});
