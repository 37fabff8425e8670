// Issue 8's bad requests against real servers on TensorFlow-written models: each is refused at the boundary by the
// request-vs-signature check (src/core/wire/signature-check.ts) with the signature's terms, and the server answers the
// next valid request exactly as before (no crash, no poisoned model).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { startServing, type Serving } from '../../src/core/serving/server.js';
import { defaultBatching } from '../../src/core/serving/config.js';
import { servingServiceDefinitions } from '../../src/core/serving/grpc/server.js';
import { needsShared, sharedModel } from '../helpers/shared-models.js';
import { firstDigits } from '../engine/mnist-digits.js';
import { call } from './helpers.js';

type Plain = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The 34-byte PredictRequest: model "half", input "x", DT_FLOAT, shape [2^40], one float_val 1.0. */
const HUGE_SHAPE_REQUEST = Buffer.from('0a060a0468616c6612180a01781213080112091207088080808080202a040000803f', 'hex');

async function serve(name: string, basePath: string, backend: 'wasm' | 'cpu', grpcPort?: number, maxRequestElements?: number): Promise<Serving> {
  return startServing({
    maxRequestElements,
    models: [{ name, basePath, policy: { kind: 'latest', numVersions: 1 }, labels: {} }],
    restPort: 0,
    grpcPort,
    host: '127.0.0.1',
    pollSeconds: 0,
    warmup: false,
    batching: { ...defaultBatching(), numBatchThreads: 1 },
    loadOptions: { backend },
  });
}

describe('gRPC: the 34-byte request declaring 2^40 elements', needsShared, () => {
  let serving: Serving;
  let client: grpc.Client;
  before(async () => {
    serving = await serve('half', sharedModel('tfserving/saved_model_half_plus_two_cpu'), 'wasm', 0);
    client = new grpc.Client(`127.0.0.1:${serving.grpcPort}`, grpc.credentials.createInsecure());
  });
  after(async () => {
    client?.close();
    await serving?.close();
  });

  const predictPath = '/tensorflow.serving.PredictionService/Predict';

  test('is INVALID_ARGUMENT naming the input and the limit, and the next valid request is answered exactly', async () => {
    assert.equal(HUGE_SHAPE_REQUEST.length, 34);
    const err = await new Promise<grpc.ServiceError | undefined>((resolve) => {
      client.makeUnaryRequest(predictPath, (b: Buffer) => b, (b: Buffer) => b, HUGE_SHAPE_REQUEST, (e) => resolve(e ?? undefined));
    });
    assert.ok(err, 'the request must fail');
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /input "x": shape \[1099511627776\] brings the request to 1099511627776 elements, more than the limit of 67108864 \(--max_request_elements\)/);

    const defs = servingServiceDefinitions();
    const Stub = grpc.makeGenericClientConstructor(defs.prediction, 'PredictionService');
    const stub = new Stub(`127.0.0.1:${serving.grpcPort}`, grpc.credentials.createInsecure()) as unknown as Record<string, (req: Plain, cb: (e: grpc.ServiceError | null, r: Plain) => void) => void>;
    try {
      const res = await new Promise<Plain>((resolve, reject) => {
        stub.Predict!({ modelSpec: { name: 'half' }, inputs: { x: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 3 }, { size: 1 }] }, floatVal: [1, 2, 5] } } }, (e, r) => (e ? reject(e) : resolve(r)));
      });
      assert.deepEqual(res.outputs.y.floatVal, [2.5, 3, 4.5]);
      assert.deepEqual(res.outputs.y.tensorShape.dim.map((d: Plain) => Number(d.size)), [3, 1]);
    } finally {
      (stub as unknown as grpc.Client).close();
    }
    // TF Serving's own example feeds [3] to x's [-1,1]: a shape of another rank that fits is still run.
    const rest = await call(serving.restPort, 'POST', '/v1/models/half:predict', '{"instances": [1.0, 2.0, 5.0]}');
    assert.equal(rest.status, 200, rest.text);
    assert.deepEqual(rest.json, { predictions: [2.5, 3.0, 4.5] });
  });
});

describe('--max_request_elements reaches both front ends', needsShared, () => {
  let serving: Serving;
  before(async () => {
    serving = await serve('half', sharedModel('tfserving/saved_model_half_plus_two_cpu'), 'wasm', 0, 4);
  });
  after(async () => {
    await serving?.close();
  });

  test('a request of 5 elements is 400 / INVALID_ARGUMENT under a cap of 4; one of 4 is answered', async () => {
    const over = await call(serving.restPort, 'POST', '/v1/models/half:predict', '{"instances": [[1.0], [2.0], [3.0], [4.0], [5.0]]}');
    assert.equal(over.status, 400, over.text);
    assert.equal(over.json.error, 'input "x": shape [5,1] brings the request to 5 elements, more than the limit of 4 (--max_request_elements)');
    const fits = await call(serving.restPort, 'POST', '/v1/models/half:predict', '{"instances": [[1.0], [2.0], [3.0], [4.0]]}');
    assert.deepEqual(fits.json, { predictions: [[2.5], [3.0], [3.5], [4.0]] });

    const Stub = grpc.makeGenericClientConstructor(servingServiceDefinitions().prediction, 'PredictionService');
    const stub = new Stub(`127.0.0.1:${serving.grpcPort}`, grpc.credentials.createInsecure()) as unknown as Record<string, (req: Plain, cb: (e: grpc.ServiceError | null, r: Plain) => void) => void>;
    try {
      const err = await new Promise<grpc.ServiceError | null>((resolve) => {
        stub.Predict!({ modelSpec: { name: 'half' }, inputs: { x: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 5 }, { size: 1 }] }, floatVal: [1] } } }, (e) => resolve(e));
      });
      assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(err?.details, 'input "x": shape [5,1] brings the request to 5 elements, more than the limit of 4 (--max_request_elements)');
    } finally {
      (stub as unknown as grpc.Client).close();
    }
  });
});

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`REST on the Keras 3 MNIST CNN (${backend}): a request of the wrong shape`, needsShared, () => {
    let serving: Serving;
    let valid: string;
    before(async () => {
      serving = await serve('cnn', sharedModel('keras/mnist_cnn_keras3'), backend);
      const d = firstDigits(1);
      const images: number[][][][] = [];
      for (let k = 0; k < 2; k++) {
        const img: number[][][] = [];
        for (let i = 0; i < 28; i++) img.push(Array.from(d.images.subarray(k * 784 + i * 28, k * 784 + i * 28 + 28), (v) => [v]));
        images.push(img);
      }
      valid = JSON.stringify({ instances: images });
    });
    after(async () => {
      await serving?.close();
    });

    test('is 400 naming the input and both shapes; valid requests before and after get the same answer', async () => {
      const before = await call(serving.restPort, 'POST', '/v1/models/cnn:predict', valid);
      assert.equal(before.status, 200, before.text);
      assert.equal(before.json.predictions.length, 2);

      const bad = await call(serving.restPort, 'POST', '/v1/models/cnn:predict', '{"instances":[[[[0.0]]]]}');
      assert.equal(bad.status, 400, bad.text);
      assert.match(bad.json.error, /^input "[^"]+": shape \[1,1,1,1\] is not compatible with the signature's \[-1,28,28,1\]$/);
      const flat = await call(serving.restPort, 'POST', '/v1/models/cnn:predict', '{"instances":[[0.0, 1.0]]}');
      assert.equal(flat.status, 400, flat.text);
      assert.match(flat.json.error, /shape \[1,2\] is not compatible with the signature's \[-1,28,28,1\]/);

      for (let i = 0; i < 3; i++) {
        const again = await call(serving.restPort, 'POST', '/v1/models/cnn:predict', valid);
        assert.equal(again.status, 200, again.text);
        assert.equal(again.text, before.text, 'the same request must get the same answer after a bad one');
      }
    });
  });
}
