// The rest of TF Serving's gRPC API, through a real @grpc/grpc-js client against `startServing`: MultiInference over
// half_plus_two's classify and regress signatures (TensorFlow-written, ../shared/models) with each of TF Serving's
// errors, and ModelService/HandleReloadConfigRequest adding and removing models while another model is under load.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startServing, type Serving } from '../../src/core/serving/server.js';
import { defaultBatching } from '../../src/core/serving/config.js';
import { needsShared, sharedModel } from '../helpers/shared-models.js';
import { FAKE_ENGINE, tmpBase, writeVersion } from './helpers.js';
import { callUnary, servingClients } from './grpc-clients.js';
import { GRPC_IMPLS } from '../../src/core/serving/grpc/server.js';

type Plain = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const clients = servingClients;
const call = callUnary;

const example = (x: number) => ({ features: { feature: { x: { floatList: { value: [x] } } } } });
const MODEL = 'saved_model_half_plus_two_2_versions';
const classify = (signatureName: string, name = MODEL) => ({ modelSpec: { name, signatureName }, methodName: 'tensorflow/serving/classify' });
const regress = (signatureName: string, name = MODEL) => ({ modelSpec: { name, signatureName }, methodName: 'tensorflow/serving/regress' });

for (const impl of GRPC_IMPLS) describe(`MultiInference on half_plus_two (TensorFlow-written, ${impl})`, needsShared, () => {
  let serving: Serving;
  let prediction: grpc.Client;
  before(async () => {
    serving = await startServing({
      models: [{ name: MODEL, basePath: sharedModel(`tfserving/${MODEL}`), policy: { kind: 'latest', numVersions: 1 }, labels: {} }],
      restPort: 0,
      grpcPort: 0,
      grpcImpl: impl,
      host: '127.0.0.1',
      pollSeconds: 0,
      batching: { ...defaultBatching(), numBatchThreads: 1 },
      maxRequestElements: 3, // the tests below send at most 3 examples, and one request of 4
    });
    prediction = clients(serving.grpcPort!).prediction;
  });
  after(async () => {
    prediction?.close();
    await serving?.close();
  });

  test('classify and regress tasks over one example set, results in task order with their ModelSpecs', async () => {
    const res = await call(prediction, 'MultiInference', {
      tasks: [regress('regress_x_to_y'), classify('classify_x_to_y')],
      input: { exampleList: { examples: [example(1), example(2), example(5)] } },
    });
    assert.equal(res.results.length, 2);
    const [r, c] = res.results;
    assert.deepEqual(r.modelSpec, { name: MODEL, signatureName: 'regress_x_to_y', version: { value: 124 } });
    assert.deepEqual(r.regressionResult.regressions.map((x: Plain) => x.value), [2.5, 3, 4.5]);
    assert.equal(c.modelSpec.signatureName, 'classify_x_to_y');
    assert.deepEqual(c.classificationResult.classifications.map((x: Plain) => x.classes.map((k: Plain) => k.score)), [[2.5], [3], [4.5]]);
    // The same examples with a shared context (ExampleListWithContext).
    const ctx = await call(prediction, 'MultiInference', {
      tasks: [regress('regress_x_to_y')],
      input: { exampleListWithContext: { examples: [{}, {}], context: example(4) } },
    });
    assert.deepEqual(ctx.results[0].regressionResult.regressions.map((x: Plain) => x.value), [4, 4]);
  });

  test("each of TF Serving's MultiInference errors, with its code and text", async () => {
    const input = { exampleList: { examples: [example(1)] } };
    const cases: Array<[Plain, grpc.status, string]> = [
      [{ tasks: [], input }, grpc.status.INVALID_ARGUMENT, 'ModelSpec has no name specified.'],
      [{ tasks: [regress('regress_x_to_y'), regress('regress_x_to_y2', '')], input }, grpc.status.INVALID_ARGUMENT, 'Found ModelSpec with an empty model name.'],
      [{ tasks: [regress('regress_x_to_y'), classify('classify_x_to_y', 'other')], input }, grpc.status.INVALID_ARGUMENT, 'All ModelSpecs in a MultiInferenceRequest must access the same model name.'],
      [{ tasks: [regress('regress_x_to_y'), regress('regress_x_to_y')], input }, grpc.status.INVALID_ARGUMENT, 'Duplicate evaluation of signature: regress_x_to_y'],
      [{ tasks: [regress('nope')], input }, grpc.status.INVALID_ARGUMENT, 'Requested signature not found in model graph: nope'],
      [{ tasks: [{ modelSpec: { name: MODEL, signatureName: 'regress_x_to_y' }, methodName: 'tensorflow/serving/predict' }], input }, grpc.status.UNIMPLEMENTED, 'Unsupported signature method_name: tensorflow/serving/predict'],
      [{ tasks: [regress('regress_x_to_y'), classify('classify_x2_to_y3')], input }, grpc.status.INVALID_ARGUMENT, 'Input tensor must be the same for all Signatures.'],
      [{ tasks: [regress('classify_x_to_y')], input }, grpc.status.INVALID_ARGUMENT, 'No regression outputs found in SignatureDef: '],
      [{ tasks: [regress('regress_x_to_y')], input: { exampleList: { examples: [] } } }, grpc.status.INVALID_ARGUMENT, 'Input is empty.'],
      [{ tasks: [regress('regress_x_to_y', 'unknown_model')], input }, grpc.status.NOT_FOUND, 'Servable not found for request: Latest(unknown_model)'],
    ];
    for (const [req, code, details] of cases) {
      await assert.rejects(call(prediction, 'MultiInference', req), (e: grpc.ServiceError) => {
        assert.equal(e.code, code, `${details}: got ${e.details}`);
        assert.ok(e.details.startsWith(details), `expected "${details}", got "${e.details}"`);
        return true;
      });
    }
  });

  test("each task's input is checked against its signature and --max_request_elements before any task runs", async () => {
    const four = { exampleList: { examples: [example(1), example(2), example(3), example(4)] } };
    const limit = 'input "inputs": shape [4] brings the request to 4 elements, more than the limit of 3 (--max_request_elements)';
    await assert.rejects(call(prediction, 'MultiInference', { tasks: [regress('regress_x_to_y'), classify('classify_x_to_y')], input: four }), (e: grpc.ServiceError) => {
      assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(e.details, limit);
      return true;
    });
    // The same text as Classify and Regress give for the same input.
    await assert.rejects(call(prediction, 'Regress', { modelSpec: { name: MODEL, signatureName: 'regress_x_to_y' }, input: four }), { code: grpc.status.INVALID_ARGUMENT, details: limit });
    // Within the cap, Classify and Regress answer: their bytes bound follows the request's own examples, not the
    // element cap alone (a cap of 3 once refused every 3-example request on bytes).
    const three = { exampleList: { examples: [example(1), example(2), example(5)] } };
    const r = await call(prediction, 'Regress', { modelSpec: { name: MODEL, signatureName: 'regress_x_to_y' }, input: three });
    assert.deepEqual(r.result.regressions.map((x: Plain) => x.value), [2.5, 3, 4.5]);
    const c = await call(prediction, 'Classify', { modelSpec: { name: MODEL, signatureName: 'classify_x_to_y' }, input: three });
    assert.deepEqual(c.result.classifications.map((x: Plain) => x.classes[0].score), [2.5, 3, 4.5]);
    // A signature name that is an Object.prototype member is not a signature.
    await assert.rejects(call(prediction, 'MultiInference', { tasks: [regress('constructor')], input: four }), {
      code: grpc.status.INVALID_ARGUMENT,
      details: 'Requested signature not found in model graph: constructor',
    });
  });

  test('empty model names and unknown classify/regress signatures use TF Serving texts', async () => {
    const input = { exampleList: { examples: [example(1)] } };
    for (const method of ['Predict', 'Classify', 'Regress', 'GetModelMetadata']) {
      await assert.rejects(call(prediction, method, { modelSpec: { name: '' }, input, metadataField: ['signature_def'] }), (e: grpc.ServiceError) => {
        assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
        assert.equal(e.details, 'ModelSpec has no name specified.', method);
        return true;
      });
    }
    await assert.rejects(call(prediction, 'Regress', { modelSpec: { name: MODEL, signatureName: 'nope' }, input }), { details: 'No signature was found with the name: nope' });
    await assert.rejects(call(prediction, 'Classify', { modelSpec: { name: MODEL, signatureName: 'nope' }, input }), { details: 'No signature was found with the name: nope' });
  });
});

describe('HandleReloadConfigRequest', () => {
  let serving: Serving;
  let base: string;
  let prediction: grpc.Client;
  let model: grpc.Client;
  const config = (names: string[]) => ({
    config: { modelConfigList: { config: names.map((n) => ({ name: n, basePath: path.join(base, n), modelPlatform: 'tensorflow' })) } },
  });
  const predict = (name: string) => call(prediction, 'Predict', { modelSpec: { name }, inputs: { x: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 1 }, { size: 1 }] }, floatVal: [3] } } });
  before(async () => {
    base = tmpBase('tfsvc-reload-');
    writeVersion(path.join(base, 'steady'), 1, { mul: 2 });
    writeVersion(path.join(base, 'added'), 1, { mul: 10 });
    writeVersion(path.join(base, 'broken'), 1, { fail: 'variables/variables.index: truncated' });
    serving = await startServing({
      models: [{ name: 'steady', basePath: path.join(base, 'steady'), policy: { kind: 'latest', numVersions: 1 }, labels: {} }],
      restPort: 0,
      grpcPort: 0,
      host: '127.0.0.1',
      pollSeconds: 0,
      loaderModule: FAKE_ENGINE,
      batching: { ...defaultBatching(), numBatchThreads: 2 },
    });
    ({ prediction, model } = clients(serving.grpcPort!));
  });
  after(async () => {
    prediction?.close();
    model?.close();
    await serving?.close();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  test('adds and removes a model at runtime with zero failed requests to the model kept', async () => {
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const load = (async () => {
      // A bounded closed loop of 4 callers on the model that stays in every config.
      await Promise.all(Array.from({ length: 4 }, async () => {
        for (let i = 0; i < 2000 && !stop; i++) {
          try {
            const r = await predict('steady');
            assert.deepEqual(r.outputs.y.floatVal, [6]);
            ok++;
          } catch (err) {
            failures.push((err as Error).message);
          }
        }
      }));
    })();
    try {
      await assert.rejects(predict('added'), { code: grpc.status.NOT_FOUND });
      const added = await call(model, 'HandleReloadConfigRequest', { ...config(['steady', 'added']), metricNames: ['/tensorflow/serving/request_count'] });
      assert.deepEqual(added.status ?? {}, {}, 'OK status (defaults are left off the wire)');
      assert.deepEqual(added.metric, [{ name: '/tensorflow/serving/request_count', int64ValueIncrease: 0 }]);
      // OK means served: the new model answers at once.
      assert.deepEqual((await predict('added')).outputs.y.floatVal, [30]);
      const removed = await call(model, 'HandleReloadConfigRequest', config(['steady']));
      assert.deepEqual(removed.status ?? {}, {});
      await serving.settled();
      await assert.rejects(predict('added'), (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND && e.details === 'Servable not found for request: Latest(added)');
      const status = await call(model, 'GetModelStatus', { modelSpec: { name: 'added' } });
      assert.deepEqual(status.modelVersionStatus.map((s: Plain) => [s.version, s.state]), [[1, 'END']]);
    } finally {
      stop = true;
      await load;
    }
    assert.deepEqual(failures, []);
    assert.ok(ok > 0);
  });

  test('rejects duplicate names, relative base paths, other config kinds and models that fail to load', async () => {
    const dup = config(['steady', 'steady']);
    await assert.rejects(call(model, 'HandleReloadConfigRequest', dup), { code: grpc.status.INVALID_ARGUMENT, details: 'Illegal to list model steady multiple times in config list' });
    const rel = { config: { modelConfigList: { config: [{ name: 'steady', basePath: 'models/steady' }] } } };
    await assert.rejects(call(model, 'HandleReloadConfigRequest', rel), { code: grpc.status.INVALID_ARGUMENT, details: 'Expected model steady to have an absolute path or URI; got base_path()=models/steady' });
    await assert.rejects(call(model, 'HandleReloadConfigRequest', { config: {} }), {
      code: grpc.status.INVALID_ARGUMENT,
      details: 'ServerModelConfig type not supported by HandleReloadConfigRequest. Only ModelConfigList is currently supported',
    });
    await assert.rejects(call(model, 'HandleReloadConfigRequest', config(['steady', 'broken'])), (e: grpc.ServiceError) => {
      assert.equal(e.code, grpc.status.UNKNOWN);
      assert.match(e.details, /^1 model\(s\) did not become available: \{\{\{name: broken version: 1\} due to error: .*truncated/);
      return true;
    });
    // Nothing above disturbed the model that stays.
    assert.deepEqual((await predict('steady')).outputs.y.floatVal, [6]);
  });

  test('GetModelStatus reads the version only, as TF Serving: a version_label gives every version', async () => {
    const all = await call(model, 'GetModelStatus', { modelSpec: { name: 'steady', versionLabel: 'whatever' } });
    assert.deepEqual(all.modelVersionStatus.map((s: Plain) => s.version), [1]);
    await assert.rejects(call(model, 'GetModelStatus', { modelSpec: { name: 'steady', version: { value: 9 } } }), { details: 'Could not find version 9 of model steady' });
  });
});
