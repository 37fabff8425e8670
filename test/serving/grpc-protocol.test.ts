// gRPC-over-HTTP/2 protocol behaviour of both gRPC server implementations (--grpc_impl h2 and grpc-js, the reference),
// through a real grpc-js client and, where a client library would hide the wire, raw node:http2: deadlines, client
// cancellation, compressed requests, message size limits, unknown methods, content types, Trailers-Only errors,
// message counts of unary calls, binary metadata, percent-encoded messages, the connection cap and forced close.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import zlib from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { RequestError } from '../../src/core/errors.js';
import type { HostTensor, SignatureInfo } from '../../src/core/engine/types.js';
import type { ServableHandle, ServableLookup, VersionStatus } from '../../src/core/serving/types.js';
import { GRPC_IMPLS, servingServiceDefinitions, startGrpcServer, type GrpcImpl, type GrpcServerOptions, type RunningGrpcServer } from '../../src/core/serving/grpc/server.js';
import { until } from './helpers.js';

type Plain = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const X = { name: 'x:0', dtype: 'DT_FLOAT', shape: [-1, 1] };
const SIGNATURES: Record<string, SignatureInfo> = {
  serving_default: { key: 'serving_default', methodName: 'tensorflow/serving/predict', inputs: { x: X }, outputs: { y: { ...X, name: 'y:0' } } },
};

/**
 * Model "m" doubles x; model "slow" never finishes on its own: its run waits for the call's abort signal, and records
 * that it was aborted (the server must tell the work a call is over).
 */
class Lookup implements ServableLookup {
  acquired = 0;
  released = 0;
  aborted = 0;
  running = 0;
  started = 0;
  acquire(name: string): ServableHandle {
    if (name !== 'm' && name !== 'slow') throw new RequestError('NOT_FOUND', `Servable not found for request: Latest(${name})`);
    this.acquired++;
    return {
      name,
      version: 1,
      signatures: SIGNATURES,
      signatureDefs: {},
      run: (_sig, inputs, options) => {
        const x = inputs.x!;
        if (name === 'm') return Promise.resolve({ y: { dtype: 'DT_FLOAT', shape: [...x.shape], data: (x.data as Float32Array).map((v) => 2 * v) } as HostTensor });
        this.running++;
        this.started++;
        return new Promise((_resolve, reject) => {
          const signal = options?.signal;
          const onAbort = () => {
            this.running--;
            this.aborted++;
            reject(signal!.reason);
          };
          if (signal?.aborted) onAbort();
          else signal?.addEventListener('abort', onAbort, { once: true });
        });
      },
      release: () => {
        this.released++;
      },
    };
  }
  status(): VersionStatus[] {
    return [{ version: 1, state: 'AVAILABLE', errorCode: 'OK', errorMessage: '' }];
  }
}

const defs = servingServiceDefinitions();
const predictRequest = (model: string, xs: number[]): Plain => ({
  modelSpec: { name: model },
  inputs: { x: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: xs.length }, { size: 1 }] }, floatVal: xs } },
});
const encodePredict = (req: Plain): Buffer => defs.prediction.Predict!.requestSerialize(req) as Buffer;
const frame = (msg: Buffer, compressed = false): Buffer => {
  const f = Buffer.alloc(5 + msg.length);
  f[0] = compressed ? 1 : 0;
  f.writeUInt32BE(msg.length, 1);
  msg.copy(f, 5);
  return f;
};

type Client = grpc.Client & Record<string, Function>; // eslint-disable-line @typescript-eslint/no-unsafe-function-type

function predictionClient(port: number, options: grpc.ChannelOptions = {}): Client {
  const Ctor = grpc.makeGenericClientConstructor(defs.prediction, 'PredictionService');
  return new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), options) as Client;
}

function predict(client: Client, req: Plain, options: grpc.CallOptions = {}, md = new grpc.Metadata()): Promise<{ err: grpc.ServiceError | null; res?: Plain }> {
  return new Promise((resolve) => client.Predict(req, md, options, (err: grpc.ServiceError | null, res: Plain) => resolve({ err, res })));
}

interface RawAnswer {
  headers: http2.IncomingHttpHeaders;
  trailers?: http2.IncomingHttpHeaders;
  data: Buffer;
}

/** One request on raw node:http2: the headers given (POST and the Predict path unless overridden), `frames` as the body. */
function raw(port: number, headers: http2.OutgoingHttpHeaders, frames: Buffer[]): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const stream = session.request({ ':method': 'POST', ':path': '/tensorflow.serving.PredictionService/Predict', 'content-type': 'application/grpc', te: 'trailers', ...headers });
    let answer: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    stream.on('response', (h) => (answer = h));
    stream.on('trailers', (h) => (trailers = h));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', () => undefined);
    stream.on('close', () => {
      session.close();
      resolve({ headers: answer, trailers, data: Buffer.concat(chunks) });
    });
    for (const f of frames) stream.write(f);
    stream.end();
  });
}

/** The gRPC status of a raw answer: from the trailers, or from the headers of a Trailers-Only answer. */
const statusOf = (a: RawAnswer) => ({ code: Number((a.trailers ?? a.headers)['grpc-status']), message: decodeURIComponent(String((a.trailers ?? a.headers)['grpc-message'] ?? '')) });

for (const impl of GRPC_IMPLS) {
  describe(`gRPC protocol (${impl})`, () => {
    const lookup = new Lookup();
    const seenMetadata: grpc.Metadata[] = [];
    let server: RunningGrpcServer;
    let client: Client;
    const MAX = 64 * 1024;

    before(async () => {
      server = await startGrpcServer(lookup, {
        port: 0,
        host: '127.0.0.1',
        impl,
        maxMessageBytes: MAX,
        // A gate that admits everything and keeps the metadata it was shown.
        gate: {
          admitGrpc: async (metadata: grpc.Metadata) => {
            seenMetadata.push(metadata);
            return () => undefined;
          },
        },
      });
      client = predictionClient(server.port);
    });
    after(async () => {
      client?.close();
      await server?.close(0);
    });

    test('a call answers with the model output', async () => {
      const { err, res } = await predict(client, predictRequest('m', [1, 2]));
      assert.equal(err, null);
      assert.deepEqual(res!.outputs.y.floatVal, [2, 4]);
    });

    test('deadline: DEADLINE_EXCEEDED, and the running work is aborted', async () => {
      const before = lookup.aborted;
      const { err } = await predict(client, predictRequest('slow', [1]), { deadline: Date.now() + 300 });
      assert.equal(err?.code, grpc.status.DEADLINE_EXCEEDED, err?.details);
      await until(() => lookup.aborted > before, () => undefined);
      await until(() => lookup.acquired === lookup.released, () => undefined);
    });

    test('client cancel (RST_STREAM): the work is aborted and the model handle released', async () => {
      const before = lookup.aborted;
      const started = lookup.started;
      const call = client.Predict(predictRequest('slow', [1]), (err: grpc.ServiceError | null) => assert.equal(err?.code, grpc.status.CANCELLED)) as grpc.ClientUnaryCall;
      await until(() => lookup.started > started, () => undefined);
      call.cancel();
      await until(() => lookup.aborted > before, () => undefined);
      await until(() => lookup.acquired === lookup.released, () => undefined);
    });

    test('gzip and deflate compressed requests are decompressed', async () => {
      for (const algorithm of [1, 2]) {
        const c = predictionClient(server.port, { 'grpc.default_compression_algorithm': algorithm });
        try {
          const { err, res } = await predict(c, predictRequest('m', [3]));
          assert.equal(err, null, `algorithm ${algorithm}: ${err?.details}`);
          assert.deepEqual(res!.outputs.y.floatVal, [6]);
        } finally {
          c.close();
        }
      }
      // The same on the raw wire, with the reply uncompressed and the accepted encodings advertised.
      const a = await raw(server.port, { 'grpc-encoding': 'gzip' }, [frame(zlib.gzipSync(encodePredict(predictRequest('m', [5]))), true)]);
      assert.equal(statusOf(a).code, grpc.status.OK, statusOf(a).message);
      assert.equal(a.data[0], 0, 'the reply is not compressed');
      assert.match(String(a.headers['grpc-accept-encoding']), /gzip/);
      const unknown = await raw(server.port, { 'grpc-encoding': 'snappy' }, [frame(Buffer.from('x'), true)]);
      assert.equal(statusOf(unknown).code, grpc.status.UNIMPLEMENTED);
      assert.match(statusOf(unknown).message, /unsupported encoding "snappy"/);
    });

    test('a message over the limit is RESOURCE_EXHAUSTED, decided from its length prefix', async () => {
      const { err } = await predict(client, predictRequest('m', Array.from({ length: 20_000 }, () => 1)));
      assert.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(err!.details, /Received message larger than max \(\d+ vs\.? 65536\)/);
      // Only the prefix of a 1 GiB message is sent, and the stream is left open: the answer comes without the body.
      const answer = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        const session = http2.connect(`http://127.0.0.1:${server.port}`);
        session.on('error', reject);
        const stream = session.request({ ':method': 'POST', ':path': '/tensorflow.serving.PredictionService/Predict', 'content-type': 'application/grpc', te: 'trailers' });
        const prefix = Buffer.alloc(5);
        prefix.writeUInt32BE(1 << 30, 1);
        stream.write(prefix);
        stream.on('response', (h) => {
          stream.close();
          session.close();
          resolve(h);
        });
        stream.on('error', () => undefined);
      });
      assert.equal(Number(answer['grpc-status']), grpc.status.RESOURCE_EXHAUSTED);
    });

    test('an unknown method or service is UNIMPLEMENTED', async () => {
      for (const path of ['/tensorflow.serving.PredictionService/Nope', '/no.such.Service/Predict']) {
        const a = await raw(server.port, { ':path': path }, [frame(Buffer.alloc(0))]);
        assert.equal(statusOf(a).code, grpc.status.UNIMPLEMENTED, path);
      }
    });

    test('a content type other than application/grpc is HTTP 415', async () => {
      const a = await raw(server.port, { 'content-type': 'application/json' }, [Buffer.from('{}')]);
      assert.equal(a.headers[':status'], 415);
      const proto = await raw(server.port, { 'content-type': 'application/grpc+proto' }, [frame(encodePredict(predictRequest('m', [1])))]);
      assert.equal(statusOf(proto).code, grpc.status.OK);
    });

    test('an error before any message is Trailers-Only: the status in the response headers, no body, no trailers', async () => {
      const a = await raw(server.port, {}, [frame(encodePredict(predictRequest('nope', [1])))]);
      assert.equal(a.headers[':status'], 200);
      assert.equal(Number(a.headers['grpc-status']), grpc.status.NOT_FOUND);
      assert.equal(decodeURIComponent(String(a.headers['grpc-message'])), 'Servable not found for request: Latest(nope)');
      assert.equal(a.trailers, undefined);
      assert.equal(a.data.length, 0);
      // A success has headers, one message, then the status in trailers.
      const ok = await raw(server.port, {}, [frame(encodePredict(predictRequest('m', [1])))]);
      assert.equal(ok.headers['grpc-status'], undefined);
      assert.equal(Number(ok.trailers?.['grpc-status']), grpc.status.OK);
      assert.equal(ok.data.readUInt32BE(1), ok.data.length - 5);
    });

    test('a unary call with no message or two messages is refused', async () => {
      const none = await raw(server.port, {}, []);
      assert.equal(statusOf(none).code, grpc.status.UNIMPLEMENTED);
      const msg = frame(encodePredict(predictRequest('m', [1])));
      const two = await raw(server.port, {}, [msg, msg]);
      assert.equal(statusOf(two).code, grpc.status.UNIMPLEMENTED);
      assert.match(statusOf(two).message, /second request message/);
    });

    test('a malformed grpc-timeout is INTERNAL; a valid one in any unit is accepted', async () => {
      const bad = await raw(server.port, { 'grpc-timeout': '1x' }, [frame(encodePredict(predictRequest('m', [1])))]);
      assert.equal(statusOf(bad).code, grpc.status.INTERNAL);
      for (const t of ['1H', '2M', '30S', '5000m', '5000000u', '5000000000n'.slice(0, 8) + 'n']) {
        const ok = await raw(server.port, { 'grpc-timeout': t }, [frame(encodePredict(predictRequest('m', [1])))]);
        if (t.endsWith('n')) assert.ok([grpc.status.OK, grpc.status.DEADLINE_EXCEEDED].includes(statusOf(ok).code), t);
        else assert.equal(statusOf(ok).code, grpc.status.OK, t);
      }
    });

    test('metadata reaches the gate: text and -bin (base64) values', async () => {
      const md = new grpc.Metadata();
      md.set('x-team', 'vision');
      md.set('x-trace-bin', Buffer.from([0, 1, 2, 250, 255]));
      const { err } = await predict(client, predictRequest('m', [1]), {}, md);
      assert.equal(err, null);
      const seen = seenMetadata.at(-1)!;
      assert.deepEqual(seen.get('x-team'), ['vision']);
      assert.deepEqual(seen.get('x-trace-bin'), [Buffer.from([0, 1, 2, 250, 255])]);
    });

    test('error messages with non-ASCII characters, % and trailing spaces arrive intact', async () => {
      const { err } = await predict(client, predictRequest('mödel 100% ', [1]));
      assert.equal(err?.code, grpc.status.NOT_FOUND);
      assert.equal(err!.details, 'Servable not found for request: Latest(mödel 100% )');
    });
  });
}

async function withServer(impl: GrpcImpl, opts: Partial<Pick<GrpcServerOptions, 'maxConnections' | 'bodyTimeoutMs' | 'idleTimeoutMs' | 'maxConcurrentStreams' | 'keepaliveTimeMs' | 'keepaliveTimeoutMs'>>, body: (server: RunningGrpcServer, lookup: Lookup) => Promise<void>): Promise<void> {
  const lookup = new Lookup();
  const server = await startGrpcServer(lookup, { port: 0, host: '127.0.0.1', impl, ...opts });
  try {
    await body(server, lookup);
  } finally {
    await server.close(0);
  }
}

test('h2: a client may send a large message without waiting for the server (1 MiB per call, 16 MiB per connection)', async () => {
  await withServer('h2', {}, async (server) => {
    const session = http2.connect(`http://127.0.0.1:${server.port}`);
    try {
      await new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()));
      assert.equal(session.remoteSettings.initialWindowSize, 1 << 20, 'per-call window');
      // The connection window is opened by a WINDOW_UPDATE right after the server's SETTINGS.
      await until(() => (session.state.remoteWindowSize ?? 0) >= 16 << 20, () => `connection window ${session.state.remoteWindowSize}`);
    } finally {
      session.destroy();
    }
  });
});

test('h2: connections over --max_connections get UNAVAILABLE naming the limit; the first keeps working', async () => {
  await withServer('h2', { maxConnections: 1 }, async (server) => {
    const first = predictionClient(server.port);
    // A channel of its own (grpc-js clients to one address otherwise share a connection).
    const second = predictionClient(server.port, { 'grpc.use_local_subchannel_pool': 1 });
    try {
      assert.equal((await predict(first, predictRequest('m', [1]))).err, null);
      const { err } = await predict(second, predictRequest('m', [1]));
      assert.equal(err?.code, grpc.status.UNAVAILABLE);
      assert.match(err!.details, /Too many open connections \(the limit is 1, --max_connections\)/);
      assert.equal((await predict(first, predictRequest('m', [2]))).err, null);
    } finally {
      first.close();
      second.close();
    }
  });
});

for (const impl of GRPC_IMPLS) {
  test(`${impl}: close() cuts calls still running after the grace period, and resolves`, async () => {
    const lookup = new Lookup();
    const server = await startGrpcServer(lookup, { port: 0, host: '127.0.0.1', impl });
    const client = predictionClient(server.port);
    try {
      const reply = predict(client, predictRequest('slow', [1]));
      await until(() => lookup.started > 0, () => undefined);
      await server.close(200);
      const { err } = await reply;
      assert.ok(err && [grpc.status.CANCELLED, grpc.status.UNAVAILABLE, grpc.status.INTERNAL].includes(err.code), `${err?.code} ${err?.details}`);
      await until(() => lookup.acquired === lookup.released, () => undefined);
    } finally {
      client.close();
    }
  });
}

/** A raw HTTP/2 connection that opens a Predict stream, sends a prefix announcing `announced` bytes and `sent` of them, and stalls. */
function stalledCall(port: number, announced: number, sent: number) {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => undefined);
  const stream = session.request({ ':method': 'POST', ':path': '/tensorflow.serving.PredictionService/Predict', 'content-type': 'application/grpc', te: 'trailers' });
  stream.on('error', () => undefined);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(announced, 1);
  stream.write(Buffer.concat([prefix, Buffer.alloc(sent)]));
  const headers = new Promise<http2.IncomingHttpHeaders>((resolve) => stream.on('response', resolve));
  const streamClosed = new Promise<number>((resolve) => stream.on('close', () => resolve(stream.rstCode ?? -1)));
  const sessionClosed = new Promise<void>((resolve) => session.on('close', resolve));
  let goaway = false;
  session.on('goaway', () => (goaway = true));
  return { session, stream, headers, streamClosed, sessionClosed, goaway: () => goaway };
}

test('h2: a request message not all in within --body_timeout_ms is DEADLINE_EXCEEDED and its stream reset; then the idle connection closes', { timeout: 30_000 }, async () => {
  await withServer('h2', { bodyTimeoutMs: 300, idleTimeoutMs: 400 }, async (server) => {
    const c = stalledCall(server.port, 100, 10);
    const h = await c.headers;
    assert.equal(Number(h['grpc-status']), grpc.status.DEADLINE_EXCEEDED);
    assert.match(decodeURIComponent(String(h['grpc-message'])), /did not arrive within 300 ms \(--body_timeout_ms\)/);
    assert.equal(await c.streamClosed, http2.constants.NGHTTP2_CANCEL, 'the stream is reset');
    await c.sessionClosed; // GOAWAY, then the server closes the connection that has no call left
    assert.ok(c.goaway(), 'the client was told (GOAWAY) before the connection closed');
    assert.deepEqual(server.transport!(), { connections: 0, streams: 0 });
  });
});

test('h2: 50 slow senders are all answered and every connection and stream goes away (no fds left behind)', { timeout: 30_000 }, async () => {
  await withServer('h2', { bodyTimeoutMs: 200, idleTimeoutMs: 300 }, async (server) => {
    const fds = (): number => (existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').length : 0);
    const fdsBefore = fds();
    const calls = Array.from({ length: 50 }, (_, i) => stalledCall(server.port, 1000, i));
    const codes = await Promise.all(calls.map((c) => c.headers.then((h) => Number(h['grpc-status']))));
    assert.deepEqual(new Set(codes), new Set([grpc.status.DEADLINE_EXCEEDED]));
    await Promise.all(calls.map((c) => c.sessionClosed));
    await until(() => server.transport!().connections === 0 && server.transport!().streams === 0, () => undefined);
    // Both ends of the 50 connections live in this process: their sockets are all closed again (a little slack for
    // whatever else the runtime opens meanwhile).
    await until(() => fds() <= fdsBefore + 5, () => undefined);
    // A well-behaved client still gets answers.
    const client = predictionClient(server.port);
    try {
      assert.equal((await predict(client, predictRequest('m', [1]))).err, null);
    } finally {
      client.close();
    }
  });
});

for (const impl of GRPC_IMPLS) test(`${impl}: an idle connection is closed (GOAWAY) and the client reconnects; one with a call in flight is not idle`, { timeout: 30_000 }, async () => {
  await withServer(impl, { idleTimeoutMs: 300 }, async (server, lookup) => {
    // On the raw wire: one call, then nothing; the server says GOAWAY and closes the connection.
    const session = http2.connect(`http://127.0.0.1:${server.port}`);
    session.on('error', () => undefined);
    let goaway: number | undefined;
    session.on('goaway', (code: number) => (goaway = code));
    const closed = new Promise<void>((resolve) => session.on('close', resolve));
    const s = session.request({ ':method': 'POST', ':path': '/tensorflow.serving.PredictionService/Predict', 'content-type': 'application/grpc', te: 'trailers' });
    s.on('error', () => undefined);
    s.resume();
    s.end(frame(encodePredict(predictRequest('m', [1]))));
    await closed;
    assert.equal(goaway, http2.constants.NGHTTP2_NO_ERROR, 'a graceful GOAWAY came first');
    if (server.transport) await until(() => server.transport!().connections === 0, () => undefined);

    const client = predictionClient(server.port);
    try {
      assert.equal((await predict(client, predictRequest('m', [1]))).err, null);
      await new Promise((r) => setTimeout(r, 700));
      // The connection was closed meanwhile; the next call reconnects.
      assert.equal((await predict(client, predictRequest('m', [2]))).err, null);
      // A call that runs for 4 idle periods keeps its connection: it ends by its own deadline, not UNAVAILABLE.
      const started = lookup.started;
      const slow = predict(client, predictRequest('slow', [1]), { deadline: Date.now() + 1200 });
      await until(() => lookup.started > started, () => undefined);
      const { err } = await slow;
      assert.equal(err?.code, grpc.status.DEADLINE_EXCEEDED, err?.details);
      if (server.transport) assert.equal(server.transport().connections, 1, 'the connection stayed open while the call ran');
    } finally {
      client.close();
    }
  });
});

for (const impl of GRPC_IMPLS) test(`${impl}: SETTINGS_MAX_CONCURRENT_STREAMS caps the calls open on one connection; the client queues the rest`, { timeout: 30_000 }, async () => {
  await withServer(impl, { maxConcurrentStreams: 2 }, async (server, lookup) => {
    const session = http2.connect(`http://127.0.0.1:${server.port}`);
    session.on('error', () => undefined);
    try {
      const settings = await new Promise<http2.Settings>((resolve) => session.once('remoteSettings', resolve));
      assert.equal(settings.maxConcurrentStreams, 2);
      const body = frame(encodePredict(predictRequest('slow', [1])));
      const streams = Array.from({ length: 3 }, () => {
        const s = session.request({ ':method': 'POST', ':path': '/tensorflow.serving.PredictionService/Predict', 'content-type': 'application/grpc', te: 'trailers' });
        s.on('error', () => undefined);
        s.end(body);
        return s;
      });
      await until(() => lookup.started === 2, () => undefined);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(lookup.started, 2, 'the third call waits for a free stream');
      if (server.transport) assert.equal(server.transport().streams, 2);
      streams[0]!.close(http2.constants.NGHTTP2_CANCEL);
      await until(() => lookup.started === 3, () => undefined);
      for (const s of streams) s.close(http2.constants.NGHTTP2_CANCEL);
      await until(() => lookup.acquired === lookup.released, () => undefined);
    } finally {
      session.destroy();
    }
  });
});

for (const impl of GRPC_IMPLS) test(`${impl}: keepalive: a peer that stops answering PINGs is cut and its call cancelled; one that answers is kept`, { timeout: 30_000 }, async () => {
  await withServer(impl, { keepaliveTimeMs: 150, keepaliveTimeoutMs: 1000 }, async (server, lookup) => {
    // A TCP relay that can stop passing the client's bytes (its PING ACKs among them) while the socket stays open.
    let frozen = false;
    let upstreamClosed = 0;
    const relay = net.createServer((down) => {
      const up = net.connect(server.port, '127.0.0.1');
      down.on('data', (d) => {
        if (!frozen) up.write(d);
      });
      up.on('data', (d) => down.write(d));
      up.on('close', () => {
        upstreamClosed++;
        down.destroy();
      });
      down.on('close', () => up.destroy());
      up.on('error', () => undefined);
      down.on('error', () => undefined);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
    const client = predictionClient((relay.address() as net.AddressInfo).port);
    try {
      const aborted = lookup.aborted;
      const call = predict(client, predictRequest('slow', [1]));
      await until(() => lookup.started > 0, () => undefined);
      await new Promise((r) => setTimeout(r, 800)); // several PING rounds, answered
      assert.equal(lookup.aborted, aborted, 'a peer that answers keeps its call');
      assert.equal(upstreamClosed, 0);
      frozen = true;
      await until(() => lookup.aborted > aborted && upstreamClosed > 0, () => undefined);
      const { err } = await call;
      assert.ok(err, 'the call failed on the client too');
    } finally {
      client.close();
      await new Promise<void>((r) => relay.close(() => r()));
    }
  });
});

/** `n` raw TCP connections to `port` that send `bytes` (if any) and then neither read nor close: peers ignoring GOAWAY. */
async function deafPeers(port: number, n: number, bytes?: Buffer): Promise<net.Socket[]> {
  return Promise.all(
    Array.from({ length: n }, () => new Promise<net.Socket>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => {
        if (bytes) c.write(bytes);
        resolve(c);
      });
      c.on('error', () => undefined);
    })),
  );
}
const PREFACE_AND_SETTINGS = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);

test('h2: connections whose peer ignores GOAWAY and never closes are cut anyway (idle, and at shutdown)', { timeout: 30_000 }, async () => {
  await withServer('h2', { idleTimeoutMs: 200 }, async (server) => {
    const peers = [...(await deafPeers(server.port, 10)), ...(await deafPeers(server.port, 10, PREFACE_AND_SETTINGS))];
    try {
      await until(() => server.transport!().connections === 20, () => undefined);
      await until(() => server.transport!().connections === 0, () => undefined);
    } finally {
      for (const p of peers) p.destroy();
    }
  });
  // Shutdown with a long grace: deaf peers with no call do not hold it up for the grace period.
  const lookup = new Lookup();
  const server = await startGrpcServer(lookup, { port: 0, host: '127.0.0.1', impl: 'h2', idleTimeoutMs: 0 });
  const peers = await deafPeers(server.port, 5, PREFACE_AND_SETTINGS);
  try {
    await until(() => server.transport!().connections === 5, () => undefined);
    await server.close(120_000);
    await until(() => server.transport!().connections === 0, () => undefined);
  } finally {
    for (const p of peers) p.destroy();
  }
});
