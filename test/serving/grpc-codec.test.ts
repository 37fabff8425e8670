// End to end through a real grpc-js client: a Predict the server reads with the hand-written codec (wire/
// predict-request-reader.ts, predict-response-writer.ts) gets the answer the protobufjs path gives. Each request is sent
// twice, as is and with a client_id field (which the reader leaves to protobufjs): the model sees the same tensors,
// the client gets the same bytes, and those bytes are what protobufjs encodes from the model's outputs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import type { HostTensor, SignatureInfo } from '../../src/core/engine/types.js';
import { RequestError } from '../../src/core/errors.js';
import { protoType } from '../../src/core/proto/schema.js';
import type { ServableHandle, ServableLookup, VersionStatus } from '../../src/core/serving/types.js';
import { startGrpcServer, type RunningGrpcServer } from '../../src/core/serving/grpc/server.js';
import { readPredictRequest } from '../../src/core/wire/predict-request-reader.js';
import { hostToTensorProtoField } from '../../src/core/wire/tensor-field.js';

type Plain = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const spec = (dtype: string, shape: number[] | null) => ({ name: 'n:0', dtype, shape });
const SIG: SignatureInfo = {
  key: 'serving_default',
  methodName: 'tensorflow/serving/predict',
  inputs: { x: spec('DT_FLOAT', [-1, 2]), ids: spec('DT_INT64', [-1]), tag: spec('DT_STRING', [-1]) },
  outputs: { y: spec('DT_FLOAT', [-1, 2]), ids_out: spec('DT_INT64', [-1]), tag_out: spec('DT_STRING', [-1]), positive: spec('DT_BOOL', [-1, 2]), count: spec('DT_INT32', []) },
};

/** The model the 34-byte request names. */
const HALF: SignatureInfo = { key: 'serving_default', methodName: 'tensorflow/serving/predict', inputs: { x: spec('DT_FLOAT', [-1, 1]) }, outputs: { y: spec('DT_FLOAT', [-1, 1]) } };

/** y = 0.5x + 2, the ids and tags echoed, x > 0 as bools, and the number of x values. */
function model(inputs: Record<string, HostTensor>): Record<string, HostTensor> {
  const x = inputs.x!;
  const xs = x.data as Float32Array;
  return {
    y: { dtype: 'DT_FLOAT', shape: [...x.shape], data: xs.map((v) => 0.5 * v + 2) },
    ids_out: { ...inputs.ids!, shape: [...inputs.ids!.shape] },
    tag_out: { ...inputs.tag!, shape: [...inputs.tag!.shape] },
    positive: { dtype: 'DT_BOOL', shape: [...x.shape], data: Uint8Array.from(xs, (v) => (v > 0 ? 1 : 0)) },
    count: { dtype: 'DT_INT32', shape: [], data: Int32Array.of(-xs.length) },
  };
}

class Lookup implements ServableLookup {
  seen: Record<string, HostTensor>[] = [];
  sent: Record<string, HostTensor>[] = [];
  acquire(name: string): ServableHandle {
    if (name === 'half') return { name, version: 1, signatures: { serving_default: HALF }, signatureDefs: {}, run: async () => ({}), release: () => {} };
    if (name !== 'm') throw new RequestError('NOT_FOUND', `Servable not found for request: Latest(${name})`);
    return {
      name,
      version: 7,
      signatures: { serving_default: SIG },
      signatureDefs: {},
      run: async (_sig, inputs, options) => {
        this.seen.push(inputs);
        const all = model(inputs);
        const out: Record<string, HostTensor> = {};
        for (const alias of options?.outputFilter ?? Object.keys(all)) out[alias] = all[alias]!;
        this.sent.push(out);
        return out;
      },
      release: () => {},
    };
  }
  status(): VersionStatus[] {
    return [{ version: 7, state: 'AVAILABLE', errorCode: 'OK', errorMessage: '' }];
  }
}

describe('gRPC Predict through the hand-written codec, end to end', () => {
  const lookup = new Lookup();
  let server: RunningGrpcServer;
  let client: grpc.Client;
  const reqType = protoType('tensorflow.serving.PredictRequest', 'tensorflow_serving.proto');
  const resType = protoType('tensorflow.serving.PredictResponse', 'tensorflow_serving.proto');

  before(async () => {
    server = await startGrpcServer(lookup, { port: 0, host: '127.0.0.1' });
    client = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
  });
  after(async () => {
    client?.close();
    await server?.close(1000);
  });

  const send = (body: Buffer) =>
    new Promise<{ err: grpc.ServiceError | null; bytes?: Buffer }>((resolve) => {
      client.makeUnaryRequest('/tensorflow.serving.PredictionService/Predict', (b: Buffer) => b, (b: Buffer) => b, body, (err, bytes) => resolve({ err, bytes }));
    });

  /** The request as is, and with client_id (field 6) appended, which sends it down the protobufjs path. */
  const bothWays = async (request: Plain, readHere = true) => {
    const body = Buffer.from(reqType.encode(reqType.fromObject(request)).finish());
    assert.equal(readPredictRequest(body) !== undefined, readHere, 'which path reads the request as is');
    const fast = await send(body);
    const plain = await send(Buffer.concat([body, Buffer.from([0x32, 0x01, 0x63])]));
    return { fast, plain };
  };

  const request = (x: number[], extra: Plain = {}) => ({
    modelSpec: { name: 'm' },
    inputs: {
      x: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: x.length / 2 }, { size: 2 }] }, floatVal: x },
      ids: { dtype: 'DT_INT64', tensorShape: { dim: [{ size: x.length / 2 }] }, int64Val: ['-9223372036854775808', '9223372036854775807'].slice(0, x.length / 2) },
      tag: { dtype: 'DT_STRING', tensorShape: { dim: [{ size: x.length / 2 }] }, stringVal: [Buffer.from('a'), Buffer.from('')].slice(0, x.length / 2) },
    },
    ...extra,
  });

  test('both paths give the model the same tensors and the client the bytes protobufjs encodes from its outputs', async () => {
    for (const [x, extra] of [
      [[1, -2, 0.5, -0], {}],
      [[3, 4], { outputFilter: ['y', 'count'] }],
      [[Infinity, -Infinity], { modelSpec: { name: 'm', signatureName: 'serving_default' } }],
      [[NaN, 1], {}], // a NaN output: the writer leaves it to protobufjs
    ] as [number[], Plain][]) {
      lookup.seen = [];
      lookup.sent = [];
      const { fast, plain } = await bothWays(request(x, extra));
      assert.equal(fast.err, null, fast.err?.details);
      assert.equal(plain.err, null, plain.err?.details);
      assert.equal(fast.bytes!.toString('hex'), plain.bytes!.toString('hex'));
      assert.deepEqual(lookup.seen[0], lookup.seen[1]);
      const outputs: Plain = {};
      for (const [alias, t] of Object.entries(lookup.sent[0]!)) outputs[alias] = hostToTensorProtoField(t);
      const want = resType.encode(resType.fromObject({ modelSpec: { name: 'm', version: { value: 7 }, signatureName: 'serving_default' }, outputs })).finish();
      assert.equal(fast.bytes!.toString('hex'), Buffer.from(want).toString('hex'));
      const y = (resType.toObject(resType.decode(fast.bytes!)) as Plain).outputs.y;
      assert.deepEqual(y.floatVal, x.map((v) => 0.5 * v + 2));
    }
  });

  test('bad requests get the same status and message on both paths', async () => {
    const cases: Plain[] = [
      request([1, 2], { modelSpec: { name: 'nope' } }), // NOT_FOUND
      // tensor_content of the wrong length: left to protobufjs (and refused by tensorProtoToHost) either way
      { ...request([1, 2]), inputs: { ...request([1, 2]).inputs, x: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 1 }, { size: 2 }] }, tensorContent: Buffer.alloc(12) } } },
      { ...request([1, 2]), inputs: { ...request([1, 2]).inputs, x: { dtype: 'DT_DOUBLE', tensorShape: { dim: [{ size: 1 }, { size: 2 }] }, doubleVal: [1, 2] } } },
      { ...request([1, 2]), inputs: { ...request([1, 2]).inputs, x: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 1 }, { size: 3 }] }, floatVal: [1] } } },
      { ...request([1, 2]), inputs: { ...request([1, 2]).inputs, ids: { dtype: 'DT_INT64', tensorShape: { dim: [{ size: 2 }] }, int64Val: [1] } } },
      { ...request([1, 2]), inputs: { x: request([1, 2]).inputs.x } },
      request([1, 2], { outputFilter: ['nope'] }),
      request([1, 2], { modelSpec: {} }),
    ];
    for (const [i, c] of cases.entries()) {
      const { fast, plain } = await bothWays(c, i !== 1);
      assert.ok(fast.err && plain.err, 'both must fail');
      assert.equal(fast.err.code, plain.err.code);
      assert.equal(fast.err.details, plain.err.details);
    }
    // The 34-byte request declaring 2^40 elements (model "half"): refused by the check, on the fast path too.
    const huge = Buffer.from('0a060a0468616c6612180a01781213080112091207088080808080202a040000803f', 'hex');
    assert.equal(huge.length, 34);
    const r = await send(huge);
    assert.equal(r.err?.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(r.err?.details, 'input "x": shape [1099511627776] brings the request to 1099511627776 elements, more than the limit of 67108864 (--max_request_elements)');
  });
});
