// A version whose warmup record fails is END with the status that record's request got, as TF Serving reports it
// (its warmup returns the request's own status): INVALID_ARGUMENT for an input that does not fit the signature,
// FAILED_PRECONDITION for a signature the model lacks; the message names the file and the record. Seen through REST
// (GET /v1/models/m/versions/N) and gRPC (ModelService/GetModelStatus); the good version keeps serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startServing } from '../../src/core/serving/server.js';
import { defaultBatching } from '../../src/core/serving/config.js';
import { servingServiceDefinitions } from '../../src/core/serving/grpc/server.js';
import { encodePlain } from '../../src/core/proto/schema.js';
import { writeTFRecordFile } from '../../src/core/savedmodel/tfrecord.js';
import { WARMUP_FILE } from '../../src/core/savedmodel/warmup-file.js';
import { call, FAKE_ENGINE, tmpBase, until, writeVersion } from './helpers.js';

type Plain = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Version `v` of the fake model (x: DT_FLOAT [-1,1]) with a warmup file of one good record, then `bad` (if any). */
function versionWithWarmup(base: string, v: number, bad?: Plain): void {
  const dir = writeVersion(base, v, { mul: 2 });
  mkdirSync(path.join(dir, 'assets.extra'));
  const log = (l: Plain) => encodePlain('tensorflow.serving.PredictionLog', l, 'tensorflow_serving.proto');
  const good = log({ predictLog: { request: { inputs: { x: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 1 }, { size: 1 }] }, floatVal: [1] } } } } });
  writeTFRecordFile(path.join(dir, WARMUP_FILE), bad ? [good, log(bad)] : [good]);
}

test('a failed warmup record: the version is END with the request\'s status code and a message naming the record (REST and gRPC)', { timeout: 60_000 }, async (t) => {
  const base = tmpBase();
  versionWithWarmup(base, 1);
  versionWithWarmup(base, 2, { predictLog: { request: { inputs: { x: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 1 }, { size: 3 }] }, floatVal: [1, 2, 3] } } } } });
  versionWithWarmup(base, 3, { predictLog: { request: { modelSpec: { signatureName: 'nope' }, inputs: { x: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 1 }, { size: 1 }] }, floatVal: [1] } } } } });
  const serving = await startServing({
    models: [{ name: 'm', basePath: base, policy: { kind: 'all' }, labels: {} }],
    restPort: 0,
    grpcPort: 0,
    host: '127.0.0.1',
    pollSeconds: 0,
    batching: { ...defaultBatching(), numBatchThreads: 1 },
    loaderModule: FAKE_ENGINE,
  });
  const Model = grpc.makeGenericClientConstructor(servingServiceDefinitions().model, 'ModelService');
  const client = new Model(`127.0.0.1:${serving.grpcPort}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, Function>; // eslint-disable-line @typescript-eslint/no-unsafe-function-type
  t.after(async () => {
    client.close();
    await serving.close();
    rmSync(base, { recursive: true, force: true });
  });
  const port = serving.restPort;
  const status = async (v: number) => (await call(port, 'GET', `/v1/models/m/versions/${v}`)).json?.model_version_status?.[0];
  await until(async () => (await status(1))?.state === 'AVAILABLE' && (await status(2))?.state === 'END' && (await status(3))?.state === 'END', () => undefined, 45_000);

  const shape = await status(2);
  assert.equal(shape.status.error_code, 'INVALID_ARGUMENT');
  assert.equal(shape.status.error_message, '2/assets.extra/tf_serving_warmup_requests: record 1: input "x": shape [1,3] is not compatible with the signature\'s [-1,1]');
  const signature = await status(3);
  assert.equal(signature.status.error_code, 'FAILED_PRECONDITION');
  assert.match(signature.status.error_message, /^3\/assets\.extra\/tf_serving_warmup_requests: record 1: signature "nope" not found/);

  // gRPC GetModelStatus carries the same code (enum INVALID_ARGUMENT = 3) and message.
  const grpcStatus = await new Promise<Plain>((resolve, reject) =>
    client.GetModelStatus({ modelSpec: { name: 'm', version: { value: 2 } } }, (err: grpc.ServiceError | null, res: Plain) => (err ? reject(err) : resolve(res))),
  );
  const v2 = grpcStatus.modelVersionStatus[0];
  assert.equal(v2.state, 'END');
  assert.equal(v2.status.errorCode, 'INVALID_ARGUMENT');
  assert.equal(v2.status.errorMessage, shape.status.error_message);

  // The good version serves.
  const ok = await call(port, 'POST', '/v1/models/m/versions/1:predict', { instances: [[1]] });
  assert.equal(ok.status, 200, ok.text);
});
