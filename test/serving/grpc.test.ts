// The gRPC front end (tensorflow.serving.PredictionService / ModelService) over a fake ServableLookup whose model
// computes y = 0.5x + 2 like half_plus_two, called through a real @grpc/grpc-js client on a free loopback port.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import type { HostTensor, SignatureInfo } from '../../src/core/engine/types.js';
import { RequestError } from '../../src/core/errors.js';
import { decodePlain } from '../../src/core/proto/schema.js';
import type { ServableHandle, ServableLookup, VersionSelector, VersionStatus } from '../../src/core/serving/types.js';
import { GRPC_IMPLS, servingServiceDefinitions, startGrpcServer, type RunningGrpcServer } from '../../src/core/serving/grpc/server.js';
import { tensorProtoToHost } from '../../src/core/savedmodel/tensor.js';
import type { TensorProto } from '../../src/core/savedmodel/types.js';

const X = { name: 'x:0', dtype: 'DT_FLOAT', shape: [-1, 1] };
const EXAMPLES = { name: 'tf_example:0', dtype: 'DT_STRING', shape: null };
const signatures: Record<string, SignatureInfo> = {
  serving_default: { key: 'serving_default', methodName: 'tensorflow/serving/predict', inputs: { x: X }, outputs: { y: { ...X, name: 'y:0' } } },
  classify_x_to_y: { key: 'classify_x_to_y', methodName: 'tensorflow/serving/classify', inputs: { inputs: EXAMPLES }, outputs: { scores: { ...X, name: 'y:0' } } },
  regress_x_to_y: { key: 'regress_x_to_y', methodName: 'tensorflow/serving/regress', inputs: { inputs: EXAMPLES }, outputs: { outputs: { ...X, name: 'y:0' } } },
};
const signatureDefs = {
  serving_default: {
    inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: -1 }, { size: 1 }] } } },
    outputs: { y: { name: 'y:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: -1 }, { size: 1 }] } } },
    methodName: 'tensorflow/serving/predict',
  },
};

/** x of each serialized Example (feature "x", float_list). */
function exampleXs(examples: Uint8Array[]): number[] {
  return examples.map((b) => {
    const ex = decodePlain<{ features?: { feature?: Record<string, { floatList?: { value?: number[] } }> } }>('tensorflow.Example', b);
    return ex.features?.feature?.x?.floatList?.value?.[0] ?? NaN;
  });
}

class FakeLookup implements ServableLookup {
  acquired = 0;
  released = 0;
  lastRun?: { signature: string; inputs: Record<string, HostTensor>; outputFilter?: string[] };
  acquire(name: string, selector?: VersionSelector): ServableHandle {
    if (name !== 'half_plus_two') throw new RequestError('NOT_FOUND', `Servable not found for request: Latest(${name})`);
    if (selector?.version !== undefined && selector.version !== 123) {
      throw new RequestError('NOT_FOUND', `Servable not found for request: Specific(${name}, ${selector.version})`);
    }
    if (selector?.label !== undefined && selector.label !== 'stable') {
      throw new RequestError('INVALID_ARGUMENT', `Unrecognized servable version label: ${selector.label}`);
    }
    this.acquired++;
    return {
      name,
      version: 123,
      signatures,
      signatureDefs,
      run: async (signature, inputs, options) => {
        this.lastRun = { signature, inputs, outputFilter: options?.outputFilter };
        const x = inputs.x ?? inputs.inputs;
        const xs = x.dtype === 'DT_STRING' ? exampleXs(x.data as Uint8Array[]) : Array.from(x.data as Float32Array);
        const y: HostTensor = { dtype: 'DT_FLOAT', shape: x.dtype === 'DT_STRING' ? [xs.length, 1] : [...x.shape], data: Float32Array.from(xs, (v) => 0.5 * v + 2) };
        const alias = Object.keys(signatures[signature].outputs)[0];
        return { [alias]: y };
      },
      release: () => {
        this.released++;
      },
    };
  }
  status(name: string): VersionStatus[] {
    if (name !== 'half_plus_two') throw new RequestError('NOT_FOUND', `Could not find any versions of model ${name}`);
    return [{ version: 123, state: 'AVAILABLE', errorCode: 'OK', errorMessage: '' }];
  }
}

type Plain = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

for (const impl of GRPC_IMPLS) describe(`gRPC PredictionService / ModelService (${impl})`, () => {
  const lookup = new FakeLookup();
  let server: RunningGrpcServer;
  let prediction: grpc.Client & Record<string, Function>; // eslint-disable-line @typescript-eslint/no-unsafe-function-type
  let model: grpc.Client & Record<string, Function>; // eslint-disable-line @typescript-eslint/no-unsafe-function-type

  before(async () => {
    server = await startGrpcServer(lookup, { port: 0, host: '127.0.0.1', impl });
    const defs = servingServiceDefinitions();
    const Prediction = grpc.makeGenericClientConstructor(defs.prediction, 'PredictionService');
    const Model = grpc.makeGenericClientConstructor(defs.model, 'ModelService');
    prediction = new Prediction(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as never;
    model = new Model(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as never;
  });
  after(async () => {
    prediction?.close();
    model?.close();
    await server?.close();
  });

  const call = (client: Record<string, Function>, method: string, req: Plain) => // eslint-disable-line @typescript-eslint/no-unsafe-function-type
    new Promise<Plain>((resolve, reject) => client[method](req, (err: grpc.ServiceError | null, res: Plain) => (err ? reject(err) : resolve(res))));

  test('Predict: y = 0.5x + 2 with float_val outputs and the served model_spec', async () => {
    const res = await call(prediction, 'Predict', {
      modelSpec: { name: 'half_plus_two', signatureName: 'serving_default' },
      inputs: { x: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 3 }, { size: 1 }] }, floatVal: [1, 2, 5] } },
    });
    assert.deepEqual(res.modelSpec, { name: 'half_plus_two', version: { value: 123 }, signatureName: 'serving_default' });
    assert.deepEqual(res.outputs.y.floatVal, [2.5, 3, 4.5]);
    assert.deepEqual(tensorProtoToHost(res.outputs.y as TensorProto).shape, [3, 1]);
  });

  test('Predict accepts tensor_content, a version number and a label', async () => {
    const content = Buffer.from(new Float32Array([4]).buffer);
    const byVersion = await call(prediction, 'Predict', {
      modelSpec: { name: 'half_plus_two', version: { value: 123 } },
      inputs: { x: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 1 }, { size: 1 }] }, tensorContent: content } },
    });
    assert.deepEqual(byVersion.outputs.y.floatVal, [4]);
    const byLabel = await call(prediction, 'Predict', {
      modelSpec: { name: 'half_plus_two', versionLabel: 'stable' },
      inputs: { x: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 1 }, { size: 1 }] }, floatVal: [0] } },
      outputFilter: ['y'],
    });
    assert.deepEqual(byLabel.outputs.y.floatVal, [2]);
    assert.deepEqual(lookup.lastRun?.outputFilter, ['y']);
  });

  test('errors carry TF Serving codes and texts', async () => {
    const x = { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 1 }] }, floatVal: [1] };
    const cases: [Plain, grpc.status, string][] = [
      [{ modelSpec: { name: 'nope' }, inputs: { x } }, grpc.status.NOT_FOUND, 'Servable not found for request: Latest(nope)'],
      [{ modelSpec: { name: 'half_plus_two', version: { value: 7 } }, inputs: { x } }, grpc.status.NOT_FOUND, 'Servable not found for request: Specific(half_plus_two, 7)'],
      [{ modelSpec: { name: 'half_plus_two', signatureName: 'missing' }, inputs: { x } }, grpc.status.FAILED_PRECONDITION, 'Serving signature key "missing" not found.'],
      [{ modelSpec: { name: 'half_plus_two' }, inputs: { z: x } }, grpc.status.INVALID_ARGUMENT, 'Signature input alias: x(feed name: x:0) not found in request and no default value provided. Inputs expected to be in the request {z}, or default input alias set: '],
      [{ modelSpec: { name: 'half_plus_two' }, inputs: {} }, grpc.status.INVALID_ARGUMENT, 'input size does not match signature: 0!=1 len({}) != len({x}). Sent extra: {}. Missing but required: {x}.'],
      [{ modelSpec: { name: 'half_plus_two' }, inputs: { x }, outputFilter: ['q'] }, grpc.status.INVALID_ARGUMENT, 'output tensor alias not found in signature: q Outputs expected to be in the set {y}.'],
      [{ inputs: { x } }, grpc.status.INVALID_ARGUMENT, 'Missing ModelSpec'],
    ];
    for (const [req, code, details] of cases) {
      await assert.rejects(call(prediction, 'Predict', req), (e: grpc.ServiceError) => {
        assert.equal(e.code, code, details);
        assert.equal(e.details, details);
        return true;
      });
    }
    assert.equal(lookup.acquired, lookup.released, 'every acquired handle is released');
  });

  test('Classify and Regress run the serialized Examples (context merged in)', async () => {
    const ex = (x: number) => ({ features: { feature: { x: { floatList: { value: [x] } } } } });
    const reg = await call(prediction, 'Regress', {
      modelSpec: { name: 'half_plus_two', signatureName: 'regress_x_to_y' },
      input: { exampleList: { examples: [ex(80), ex(1)] } },
    });
    assert.deepEqual(reg.result.regressions, [{ value: 42 }, { value: 2.5 }]);
    assert.deepEqual(reg.modelSpec, { name: 'half_plus_two', version: { value: 123 }, signatureName: 'regress_x_to_y' });
    const cls = await call(prediction, 'Classify', {
      modelSpec: { name: 'half_plus_two', signatureName: 'classify_x_to_y' },
      input: { exampleListWithContext: { context: ex(20), examples: [{}] } },
    });
    assert.deepEqual(cls.result.classifications, [{ classes: [{ score: 12 }] }]);
    await assert.rejects(call(prediction, 'Regress', { modelSpec: { name: 'half_plus_two' }, input: { exampleList: { examples: [ex(1)] } } }), (e: grpc.ServiceError) =>
      e.code === grpc.status.INVALID_ARGUMENT && e.details.startsWith('No regression inputs found in SignatureDef: '));
    await assert.rejects(call(prediction, 'Classify', { modelSpec: { name: 'half_plus_two', signatureName: 'classify_x_to_y' }, input: {} }), (e: grpc.ServiceError) =>
      e.code === grpc.status.INVALID_ARGUMENT && e.details === 'Input is empty.');
  });

  test('GetModelMetadata packs a SignatureDefMap in an Any', async () => {
    const res = await call(prediction, 'GetModelMetadata', { modelSpec: { name: 'half_plus_two' }, metadataField: ['signature_def'] });
    assert.deepEqual(res.modelSpec, { name: 'half_plus_two', version: { value: 123 } });
    const any = res.metadata.signature_def;
    assert.equal(any.type_url, 'type.googleapis.com/tensorflow.serving.SignatureDefMap');
    const map = decodePlain<Plain>('tensorflow.serving.SignatureDefMap', any.value, 'tensorflow_serving.proto');
    assert.equal(map.signatureDef.serving_default.inputs.x.name, 'x:0');
    assert.deepEqual(map.signatureDef.serving_default.inputs.x.tensorShape.dim, [{ size: -1 }, { size: 1 }]);
    await assert.rejects(call(prediction, 'GetModelMetadata', { modelSpec: { name: 'half_plus_two' }, metadataField: ['x'] }), {
      code: grpc.status.INVALID_ARGUMENT,
      details: 'Metadata field x is not supported',
    });
    await assert.rejects(call(prediction, 'GetModelMetadata', { modelSpec: { name: 'half_plus_two' } }), {
      details: 'GetModelMetadataRequest must specify at least one metadata_field',
    });
  });

  test('GetModelStatus', async () => {
    const res = await call(model, 'GetModelStatus', { modelSpec: { name: 'half_plus_two' } });
    assert.deepEqual(res.modelVersionStatus, [{ version: 123, state: 'AVAILABLE', status: {} }]);
    await assert.rejects(call(model, 'GetModelStatus', { modelSpec: { name: 'nope' } }), { code: grpc.status.NOT_FOUND });
  });

  test('MultiInference without tasks names no model (TF Serving: the first task picks the servable)', async () => {
    await assert.rejects(call(prediction, 'MultiInference', {}), { code: grpc.status.INVALID_ARGUMENT, details: 'ModelSpec has no name specified.' });
  });
});
