// Through `tfsvc serve` (real engine, gRPC and REST), int64 ids beyond 2^53 come back digit for digit where the graph
// only moves them, as TF Serving returns them; arithmetic on them is refused with INVALID_ARGUMENT naming the node.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startServing, type Serving } from '../../src/core/serving/server.js';
import { defaultBatching } from '../../src/core/serving/config.js';
import { callUnary, servingClients } from './grpc-clients.js';
import { writeInt64Model } from '../engine/int64-model.js';
import { tmpBase } from './helpers.js';

type Plain = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('exact int64 through serve', () => {
  let serving: Serving;
  let base: string;
  let client: grpc.Client;
  before(async () => {
    base = tmpBase('tfsvc-i64serve-');
    mkdirSync(path.join(base, 'ids', '1'), { recursive: true });
    writeInt64Model(path.join(base, 'ids', '1'));
    serving = await startServing({
      models: [{ name: 'ids', basePath: path.join(base, 'ids'), policy: { kind: 'latest', numVersions: 1 }, labels: {} }],
      restPort: 0,
      grpcPort: 0,
      host: '127.0.0.1',
      pollSeconds: 0,
      batching: { ...defaultBatching(), numBatchThreads: 1 },
    });
    ({ prediction: client } = servingClients(serving.grpcPort!));
  });
  after(async () => {
    client?.close();
    await serving?.close();
    if (base) rmSync(base, { recursive: true, force: true });
  });
  const predict = (signatureName: string, values: string[]): Promise<Plain> =>
    callUnary(client, 'Predict', { modelSpec: { name: 'ids', signatureName }, inputs: { ids: { dtype: 'DT_INT64', tensorShape: { dim: [{ size: values.length }] }, int64Val: values } } });

  test('gRPC Predict: TensorProto int64_val beyond 2^53 passes through Identity and GatherV2 exactly', async () => {
    const r = await predict('serving_default', ['9007199254740993', '-9223372036854775808', '7']);
    // The plain form keeps values a number cannot hold as decimal strings (src/core/proto/schema.ts).
    assert.deepEqual(r.outputs.same.int64Val.map(String), ['9007199254740993', '-9223372036854775808', '7']);
    assert.deepEqual(r.outputs.picked.int64Val.map(String), ['7', '9007199254740993']);
    await assert.rejects(predict('plus_one', ['4294967296']), (e: grpc.ServiceError) => {
      assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
      assert.match(e.details, /node "plus" \(AddV2\) computes on it/);
      return true;
    });
  });

  test('REST predict: the JSON answer carries every digit', async () => {
    const res = await fetch(`http://127.0.0.1:${serving.restPort}/v1/models/ids:predict`, {
      method: 'POST',
      body: '{"inputs": {"ids": [18446744073709551, -8844007240823776001, 5]}}',
    });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.match(text.replace(/\s+/g, ''), /"picked":\[5,18446744073709551\],"same":\[18446744073709551,-8844007240823776001,5\]/);
  });
});
