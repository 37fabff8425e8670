// bench's hand-written gRPC client (src/core/load/grpc-h2.ts) against the real tfsvc gRPC server, with grpc-js as the
// reference for answers and statuses, and against small node:http2 servers for what a real server rarely does
// (never answering, resetting, answering without gRPC) and for multiplexing (the server answers only once every call
// is in flight at the same time, so a client that does not multiplex cannot finish).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { GrpcClient } from '../../src/core/load/grpc-client.js';
import { Code, GrpcH2Sender, H2GrpcClient, sessionsFor } from '../../src/core/load/grpc-h2.js';
import { predictRequest } from '../../src/core/load/grpc-request.js';
import { resolveTarget } from '../../src/core/load/target.js';
import { decodePlain } from '../../src/core/proto/schema.js';
import { startGrpcFixture, type GrpcFixture } from './grpc-fixture.js';
import { answer, h2Server } from './h2-test-server.js';

const PREDICT = '/tensorflow.serving.PredictionService/Predict';
type Plain = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function request(url: string, model = 'half_plus_two', xs = [1, 2, 5]): Buffer {
  const t = resolveTarget(url, { model });
  return predictRequest(t, undefined, { x: { dtype: 'DT_FLOAT', shape: [xs.length, 1], data: Float32Array.from(xs) } });
}

function ys(bytes: Buffer): number[] {
  const res = decodePlain<Plain>('tensorflow.serving.PredictResponse', bytes, 'tensorflow_serving.proto');
  return Array.from(res.outputs.y.floatVal as number[]);
}

describe('bench gRPC client over node:http2', () => {
  let fast: GrpcFixture;
  let slow: GrpcFixture;
  before(async () => {
    fast = await startGrpcFixture();
    slow = await startGrpcFixture({ delayMs: 300 });
  });
  after(async () => {
    await fast?.close();
    await slow?.close();
  });

  test('Predict answers match grpc-js byte for byte on the tfsvc server, and carry the model\'s values', async () => {
    const body = request(fast.url);
    const h2 = new H2GrpcClient({ address: fast.url.slice('grpc://'.length), sessions: 1, timeoutMs: 10_000 });
    const ref = new GrpcClient(fast.url.slice('grpc://'.length), 'Predict', { connections: 1, timeoutMs: 10_000 });
    try {
      const a = await h2.unary(PREDICT, body, true);
      assert.equal(a.code, Code.OK, a.details);
      const expected = await ref.call(body);
      assert.deepEqual(a.message, expected);
      assert.deepEqual(ys(a.message!), [2.5, 3, 4.5]);
      assert.equal(a.bytesIn, expected.length + 5);
    } finally {
      await h2.close();
      await ref.close();
    }
  });

  test('a server error arrives with the same gRPC code and message as through grpc-js, mapped to TF Serving\'s REST status', async () => {
    const address = fast.url.slice('grpc://'.length);
    const body = request(fast.url, 'nope');
    const h2 = new H2GrpcClient({ address, sessions: 1, timeoutMs: 10_000 });
    const ref = new GrpcClient(address, 'Predict', { connections: 1, timeoutMs: 10_000 });
    const sender = new GrpcH2Sender(address, 'Predict', { connections: 4, timeoutMs: 10_000 });
    try {
      const a = await h2.unary(PREDICT, body);
      const err = (await ref.call(body).then(() => assert.fail('grpc-js got OK'), (e) => e)) as grpc.ServiceError;
      assert.equal(a.code, err.code);
      assert.equal(a.code, grpc.status.NOT_FOUND);
      assert.equal(a.details, err.details);
      assert.equal(a.failure, undefined);
      const out = await sender.send(body);
      assert.equal(out.status, 404);
      assert.equal(out.error, 'http');
      assert.match(out.message!, /^NOT_FOUND: Servable not found for request: Latest\(nope\)/);
    } finally {
      await h2.close();
      await ref.close();
      await sender.close();
    }
  });

  test('the deadline travels as grpc-timeout: a slower server answers DEADLINE_EXCEEDED, counted as a timeout', async () => {
    const sender = new GrpcH2Sender(slow.url.slice('grpc://'.length), 'Predict', { connections: 1, timeoutMs: 50 });
    try {
      const out = await sender.send(request(slow.url));
      assert.equal(out.error, 'timeout');
      assert.match(out.message!, /^DEADLINE_EXCEEDED/);
    } finally {
      await sender.close();
    }
  });

  test('a server that never answers: the client\'s own deadline ends the call', async () => {
    let timeoutHeader: unknown;
    const silent = await h2Server((s, h) => {
      timeoutHeader = h['grpc-timeout'];
      s.on('error', () => {});
    });
    const h2 = new H2GrpcClient({ address: silent.address, sessions: 1, timeoutMs: 60 });
    try {
      const a = await h2.unary(PREDICT, Buffer.from([1, 2, 3]));
      assert.equal(a.code, Code.DEADLINE_EXCEEDED);
      assert.equal(a.failure, 'timeout');
      assert.equal(timeoutHeader, '60m');
    } finally {
      await h2.close();
      await silent.close();
    }
  });

  test('transport failures: nothing listening is a connect error, a reset stream a reset, a non-gRPC 404 UNIMPLEMENTED', async () => {
    const gone = await h2Server(() => {});
    const address = gone.address;
    await gone.close();
    const refused = new H2GrpcClient({ address, sessions: 1, timeoutMs: 5_000 });
    const a = await refused.unary(PREDICT, Buffer.alloc(0));
    await refused.close();
    assert.equal(a.code, Code.UNAVAILABLE);
    assert.equal(a.failure, 'connect');
    assert.match(a.details, /ECONNREFUSED/);

    let n = 0;
    const odd = await h2Server((s) => {
      s.on('error', () => {});
      if (n++ === 0) s.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      else {
        s.respond({ ':status': 404, 'content-type': 'text/html' });
        s.end('<h1>not here</h1>');
      }
    });
    const h2 = new H2GrpcClient({ address: odd.address, sessions: 1, timeoutMs: 5_000 });
    try {
      const reset = await h2.unary(PREDICT, Buffer.alloc(0));
      assert.equal(reset.code, Code.UNAVAILABLE);
      assert.equal(reset.failure, 'reset');
      const notGrpc = await h2.unary(PREDICT, Buffer.alloc(0));
      assert.equal(notGrpc.code, Code.UNIMPLEMENTED);
      assert.match(notGrpc.details, /HTTP status 404/);
    } finally {
      await h2.close();
      await odd.close();
    }
  });

  test('many calls in flight at once share a few HTTP/2 connections; metadata goes with each call', async () => {
    const N = 200;
    const waiting: http2.ServerHttp2Stream[] = [];
    const auth = new Set<unknown>();
    // Answers nothing until all N calls are open at the same time, then echoes each call's message.
    const server = await h2Server((s, h) => {
      auth.add(h.authorization);
      const chunks: Buffer[] = [];
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('end', () => {
        (s as unknown as { message: Buffer }).message = Buffer.concat(chunks).subarray(5);
        waiting.push(s);
        if (waiting.length === N) for (const w of waiting) answer(w, (w as unknown as { message: Buffer }).message);
      });
    });
    const sessions = sessionsFor(N);
    const h2 = new H2GrpcClient({ address: server.address, sessions, timeoutMs: 30_000, metadata: { Authorization: 'Bearer t0k' } });
    try {
      const answers = await Promise.all(Array.from({ length: N }, (_, i) => h2.unary(PREDICT, Buffer.from(`call ${i}`), true)));
      assert.deepEqual(answers.map((a) => a.code), new Array(N).fill(Code.OK));
      assert.deepEqual(answers.map((a) => a.message!.toString()), Array.from({ length: N }, (_, i) => `call ${i}`));
      assert.ok(sessions < N / 10);
      assert.equal(server.sessions, sessions);
      assert.deepEqual([...auth], ['Bearer t0k']);
    } finally {
      await h2.close();
      await server.close();
    }
  });
});
