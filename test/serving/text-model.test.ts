// A Keras TextVectorization model (TensorFlow-written, ../shared/models/wild/finsent_textvec) served for real and fed
// raw text: REST with UTF-8 strings and {"b64": ...}, gRPC with a DT_STRING TensorProto. The vocabulary lives in the
// checkpoint as a MutableHashTable; the answers are the README's (computed from the stored vocabulary).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startServing, type Serving } from '../../src/core/serving/server.js';
import { defaultBatching } from '../../src/core/serving/config.js';
import { servingServiceDefinitions } from '../../src/core/serving/grpc/server.js';
import { tensorProtoToHost } from '../../src/core/savedmodel/tensor.js';
import type { TensorProto } from '../../src/core/savedmodel/types.js';
import { needsShared, sharedModel } from '../helpers/shared-models.js';
import { call, tmpBase } from './helpers.js';

const pad = (ids: number[]) => [...ids, ...new Array(100 - ids.length).fill(0)];
const SENTENCE = 'accord gran compani plan move product russia although compani grow';
const SENTENCE_IDS = pad([72, 1, 4, 86, 407, 22, 118, 1, 4, 446]);
const RAW = 'Operating profit rose to EUR 13.1 mn!';
const RAW_IDS = pad([1, 14, 92, 1, 3, 1, 9]);

describe('a text model fed raw strings over REST and gRPC', needsShared, () => {
  let serving: Serving;
  let base: string;
  let client: grpc.Client & Record<string, Function>; // eslint-disable-line @typescript-eslint/no-unsafe-function-type
  before(async () => {
    const src = sharedModel('wild/finsent_textvec/1');
    base = tmpBase();
    const v = path.join(base, 'finsent', '1');
    mkdirSync(v, { recursive: true });
    symlinkSync(path.join(src, 'saved_model.pb'), path.join(v, 'saved_model.pb'));
    symlinkSync(path.join(src, 'variables'), path.join(v, 'variables'));
    serving = await startServing({
      models: [{ name: 'finsent', basePath: path.dirname(v), policy: { kind: 'latest', numVersions: 1 }, labels: {} }],
      restPort: 0,
      grpcPort: 0,
      host: '127.0.0.1',
      pollSeconds: 0,
      batching: { ...defaultBatching(), numBatchThreads: 1 },
      log: () => {},
    });
    const Prediction = grpc.makeGenericClientConstructor(servingServiceDefinitions().prediction, 'PredictionService');
    client = new Prediction(`127.0.0.1:${serving.grpcPort}`, grpc.credentials.createInsecure()) as never;
  });
  after(async () => {
    client?.close();
    await serving?.close();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  test('REST: UTF-8 strings and {"b64": ...} in one request, row and columnar formats', async () => {
    const b64 = Buffer.from(RAW, 'utf8').toString('base64');
    const col = await call(serving.restPort, 'POST', '/v1/models/finsent:predict', { inputs: { input_29: [[SENTENCE], [{ b64 }]] } });
    assert.equal(col.status, 200, col.text);
    assert.deepEqual(col.json, { outputs: [SENTENCE_IDS, RAW_IDS] });
    const row = await call(serving.restPort, 'POST', '/v1/models/finsent:predict', { instances: [[RAW]] });
    assert.equal(row.status, 200, row.text);
    assert.deepEqual(row.json, { predictions: [RAW_IDS] });
  });

  test('gRPC: a DT_STRING TensorProto in, int64_val out', async () => {
    const res = await new Promise<Record<string, any>>((resolve, reject) => // eslint-disable-line @typescript-eslint/no-explicit-any
      client.Predict(
        {
          modelSpec: { name: 'finsent' },
          inputs: { input_29: { dtype: 'DT_STRING', tensorShape: { dim: [{ size: 2 }, { size: 1 }] }, stringVal: [Buffer.from(RAW), Buffer.from(SENTENCE)] } },
        },
        (err: grpc.ServiceError | null, r: Record<string, any>) => (err ? reject(err) : resolve(r)), // eslint-disable-line @typescript-eslint/no-explicit-any
      ),
    );
    const out = tensorProtoToHost(res.outputs.text_vectorization_28 as TensorProto);
    assert.equal(out.dtype, 'DT_INT64');
    assert.deepEqual(out.shape, [2, 100]);
    assert.deepEqual(Array.from(out.data as BigInt64Array, Number), [...RAW_IDS, ...SENTENCE_IDS]);
  });
});
