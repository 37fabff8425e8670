// Transport limits and failure behaviour (issue 8 items 4-6), against real servers on free loopback ports with the
// gated fake engine (no sleeps): admission before the body is read (503 + Retry-After, 413 vs 503, in-flight bytes,
// gRPC before decoding), draining without losing requests already sent on keep-alive connections, slow and idle
// clients (408 and close, 504 and close), the connection cap, and large bodies decoded off the HTTP thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { GRPC_IMPLS } from '../../src/core/serving/grpc/server.js';
import protobuf from 'protobufjs';
import { startServing, type ServeOptions, type Serving } from '../../src/core/serving/server.js';
import { defaultBatching } from '../../src/core/serving/config.js';
import { protoRoot } from '../../src/core/proto/schema.js';
import { call, FAKE_ENGINE, tmpBase, until, writeVersion } from './helpers.js';

/** One worker, one batch of one row queued: the second request fills the queue while the first is held. */
const TIGHT = { ...defaultBatching(), numBatchThreads: 1, maxBatchSize: 1, maxEnqueuedBatches: 1 };

async function gatedServer(t: { after(fn: () => unknown): void }, extra: Partial<ServeOptions> = {}) {
  const base = tmpBase();
  const holdFile = path.join(base, 'hold');
  const runLog = path.join(base, 'runs.log');
  writeFileSync(holdFile, '');
  writeVersion(base, 1, { mul: 2, holdFile, runLog });
  const serving = await startServing({
    models: [{ name: 'm', basePath: base, policy: { kind: 'latest', numVersions: 1 }, labels: {} }],
    restPort: 0,
    host: '127.0.0.1',
    pollSeconds: 0,
    batching: TIGHT,
    warmup: false,
    loaderModule: FAKE_ENGINE,
    ...extra,
  });
  let closed = false;
  const release = () => rmSync(holdFile, { force: true });
  const close = async () => {
    if (closed) return;
    closed = true;
    release();
    await serving.close(5000);
  };
  t.after(async () => {
    await close();
    rmSync(base, { recursive: true, force: true });
  });
  return { serving, port: serving.restPort, release, close, runLog, base };
}

/** A raw HTTP/1.1 client on one socket: write bytes, read whatever comes back, see when the server closes. */
class RawClient {
  readonly socket: net.Socket;
  data = '';
  closed = false;
  error: Error | undefined;
  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (d) => (this.data += d.toString('latin1')));
    this.socket.on('close', () => (this.closed = true));
    this.socket.on('error', (e) => (this.error = e));
  }
  connected(): Promise<void> {
    return new Promise((r) => (this.socket.connecting ? this.socket.once('connect', () => r()) : r()));
  }
  send(s: string): void {
    this.socket.write(s);
  }
  /** Resolves with the next complete response (head + Content-Length body) and removes it from `data`. */
  async response(): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    await until(() => this.complete() !== undefined || this.closed, () => undefined, 20_000);
    const r = this.complete();
    if (!r) throw new Error(`connection closed without a response (got ${JSON.stringify(this.data)})`);
    this.data = this.data.slice(r.length);
    return r;
  }
  private complete(): { status: number; headers: Record<string, string>; body: string; length: number } | undefined {
    const end = this.data.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const lines = this.data.slice(0, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
    }
    const len = Number(headers['content-length'] ?? 0);
    if (this.data.length < end + 4 + len) return undefined;
    const body = this.data.slice(end + 4, end + 4 + len);
    return { status: Number(lines[0]!.split(' ')[1]), headers, body, length: end + 4 + len };
  }
  destroy(): void {
    this.socket.destroy();
  }
}

const predictHead = (len: number | 'chunked', extra = '') =>
  `POST /v1/models/m:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${len === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${len}`}\r\n${extra}\r\n`;

/** Fills the queue: one request held in the engine, one queued behind it. Resolves their replies later. */
async function fillQueue(port: number, runLog: string) {
  const held = call(port, 'POST', '/v1/models/m:predict', { instances: [[1]] });
  await until(() => existsSync(runLog), () => undefined);
  const queued = call(port, 'POST', '/v1/models/m:predict', { instances: [[2]] });
  return { held, queued };
}

test('overload: 503 with Retry-After before the body is read, nothing parsed, no connection failures', async (t) => {
  const { serving, port, release, runLog } = await gatedServer(t);
  const { held, queued } = await fillQueue(port, runLog);
  // The queue is full once the queued request is waiting: a probe request is refused.
  await until(async () => (await call(port, 'POST', '/v1/models/m:predict', { instances: [[3]] })).status === 503, () => undefined);

  // Headers announcing a 1 MB body that is never sent: the answer comes anyway, so it was decided before any read.
  const unread = new RawClient(port);
  unread.send(predictHead(1_000_000));
  const r1 = await unread.response();
  assert.equal(r1.status, 503);
  assert.equal(r1.headers['retry-after'], '1');
  assert.match(JSON.parse(r1.body).error, /batch scheduling queue to which this task was submitted is full/);
  // Up to 2 MiB left unread: stepped over, and the connection is kept for the client's retry. Sent now, the body
  // is skipped in step: the next request on the connection is read from the right byte.
  assert.notEqual(r1.headers.connection, 'close');
  unread.send(' '.repeat(1_000_000) + 'GET /v1/models/m HTTP/1.1\r\nHost: x\r\n\r\n');
  const after = await unread.response();
  assert.equal(after.status, 200, after.body);
  assert.match(after.body, /AVAILABLE/);
  unread.destroy();

  // Over 2 MiB left unread: the server closes rather than read it all (Tomcat's maxSwallowSize), even when the client
  // has already sent the whole body, and the client still reads its 503 (no reset before the answer).
  const big = new RawClient(port);
  big.send(predictHead(3_000_000));
  const r3 = await big.response();
  assert.equal(r3.status, 503);
  assert.equal(r3.headers.connection, 'close');
  await until(() => big.closed, () => undefined);
  big.destroy();
  const eager = new RawClient(port);
  eager.send(predictHead(3_000_000) + ' '.repeat(3_000_000));
  const r4 = await eager.response();
  assert.equal(r4.status, 503);
  assert.equal(r4.headers.connection, 'close');
  eager.destroy();

  // Garbage JSON is refused as overload (503), not as bad input (400): it was never parsed. The connection stays up
  // (the unread body is discarded) and serves the next request on it.
  const garbage = '{"instances": [[1.0, tru';
  const keep = new RawClient(port);
  keep.send(predictHead(garbage.length) + garbage);
  const r2 = await keep.response();
  assert.equal(r2.status, 503, r2.body);
  assert.notEqual(r2.headers.connection, 'close');
  keep.send('GET /v1/models/m HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal((await keep.response()).status, 200);
  keep.destroy();

  // A burst on keep-alive connections: every request gets an HTTP answer (200 or 503), none fails at the TCP level.
  const burst = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => call(port, 'POST', '/v1/models/m:predict', { instances: [[i]] })));
  const failed = burst.filter((b) => b.status === 'rejected');
  assert.equal(failed.length, 0, `transport failures: ${failed.map((f) => String((f as PromiseRejectedResult).reason)).join('; ')}`);
  release();
  assert.equal((await held).status, 200);
  assert.equal((await queued).status, 200);
  for (const b of burst) assert.ok([200, 503].includes((b as PromiseFulfilledResult<{ status: number }>).value.status));
  const metrics = await call(port, 'GET', '/monitoring/prometheus/metrics');
  assert.match(metrics.text, /^:tensorflow:serving:request_count\{model_name="m",status="UNAVAILABLE"\} \d+/m, 'refusals are counted');
  void serving;
});

test('in-flight byte budget: 503 + Retry-After while held bytes would exceed it; a lone large request still fits', async (t) => {
  const { port, release, runLog } = await gatedServer(t, {
    batching: { ...defaultBatching(), numBatchThreads: 1 },
    limits: { maxInFlightBytes: 600 },
  });
  const big = { instances: Array.from({ length: 60 }, (_, i) => [i]) }; // ~ 400 bytes
  assert.ok(JSON.stringify(big).length > 300);
  const first = call(port, 'POST', '/v1/models/m:predict', big);
  await until(() => existsSync(runLog), () => undefined);
  const second = await call(port, 'POST', '/v1/models/m:predict', big);
  assert.equal(second.status, 503, second.text);
  assert.equal(second.headers.get('retry-after'), '1');
  assert.match(second.json.error, /more than 600 bytes of requests are in flight/);
  // A chunked body (no Content-Length) is charged as it streams.
  const chunked = new RawClient(port);
  const body = JSON.stringify(big);
  chunked.send(predictHead('chunked') + `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`);
  const r = await chunked.response();
  assert.equal(r.status, 503, r.body);
  chunked.destroy();
  release();
  assert.equal((await first).status, 200);
  // Budget free again.
  assert.equal((await call(port, 'POST', '/v1/models/m:predict', big)).status, 200);
});

test('413 (never admissible) is told apart from 503 (retry later), declared or chunked', async (t) => {
  const { port, release, runLog } = await gatedServer(t, { maxBodyBytes: 100 });
  const { held, queued } = await fillQueue(port, runLog);
  await until(async () => (await call(port, 'POST', '/v1/models/m:predict', { instances: [[3]] })).status === 503, () => undefined);
  // Queue full AND body over the limit: 413, because retrying can never succeed.
  const over = await call(port, 'POST', '/v1/models/m:predict', { instances: Array.from({ length: 50 }, () => [1]) });
  assert.equal(over.status, 413);
  assert.match(over.json.error, /Request body too large: the limit is 100 bytes/);
  assert.equal(over.headers.get('retry-after'), null);
  release();
  await Promise.all([held, queued]);
  const chunked = new RawClient(port);
  const body = JSON.stringify({ instances: Array.from({ length: 50 }, () => [1]) });
  chunked.send(predictHead('chunked') + `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`);
  const r = await chunked.response();
  assert.equal(r.status, 413);
  assert.equal(r.headers.connection, 'close');
  await until(() => chunked.closed, () => undefined);
});

/** A raw gRPC client: sends `bytes` as the request message of `method` unchanged. */
function rawGrpc(port: number, method: string, bytes: Buffer): Promise<{ code: number; details: string }> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      `/tensorflow.serving.PredictionService/${method}`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      bytes,
      (err) => {
        client.close();
        resolve({ code: err?.code ?? 0, details: err?.details ?? '' });
      },
    );
  });
}

for (const impl of GRPC_IMPLS) test(`gRPC (${impl}): a full queue answers UNAVAILABLE before the message is decoded`, async (t) => {
  const { port, release, runLog, serving } = await gatedServer(t, { grpcPort: 0, grpcImpl: impl });
  const { held, queued } = await fillQueue(port, runLog);
  await until(async () => (await call(port, 'POST', '/v1/models/m:predict', { instances: [[3]] })).status === 503, () => undefined);
  const spec = protoRoot('tensorflow_serving.proto').lookupType('tensorflow.serving.ModelSpec');
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).bytes(spec.encode(spec.fromObject({ name: 'm' })).finish());
  // Field 2 (inputs) announces 5 bytes and then the message ends: any decoder would fail on it.
  const msg = Buffer.concat([Buffer.from(w.finish()), Buffer.from([0x12, 0x05, 0x0a])]);
  const refused = await rawGrpc(serving.grpcPort!, 'Predict', msg);
  assert.equal(refused.code, grpc.status.UNAVAILABLE, refused.details);
  assert.match(refused.details, /queue to which this task was submitted is full/);
  release();
  await Promise.all([held, queued]);
  // Admitted, the same bytes fail to decode: INVALID_ARGUMENT naming the problem, not a crash.
  const bad = await rawGrpc(serving.grpcPort!, 'Predict', msg);
  assert.equal(bad.code, grpc.status.INVALID_ARGUMENT, bad.details);
  assert.match(bad.details, /Could not parse the request message/);
});

/** A PredictRequest's first bytes: its ModelSpec (field 1) naming `model`, as clients serialize it first. */
function specPrefix(model: string): Buffer {
  const spec = protoRoot('tensorflow_serving.proto').lookupType('tensorflow.serving.ModelSpec');
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).bytes(spec.encode(spec.fromObject({ name: model })).finish());
  return Buffer.from(w.finish());
}

/**
 * A gRPC Predict on a raw HTTP/2 stream that announces an `announced`-byte message and sends only `first` of it: what
 * the server answers before the rest arrives (or nothing), and how the stream ended.
 */
function partialPredict(port: number, first: Buffer, announced: number) {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  const stream = session.request({ ':method': 'POST', ':path': '/tensorflow.serving.PredictionService/Predict', 'content-type': 'application/grpc', te: 'trailers' });
  stream.on('error', () => {});
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(announced, 1);
  stream.write(Buffer.concat([prefix, first]));
  const answer = new Promise<{ status?: string; message?: string; rstCode?: number }>((resolve) => {
    let headers: http2.IncomingHttpHeaders | undefined;
    stream.on('response', (h) => (headers = h));
    stream.on('trailers', (h) => (headers = { ...headers, ...h }));
    stream.on('close', () => resolve({ status: headers?.['grpc-status'] as string | undefined, message: headers?.['grpc-message'] as string | undefined, rstCode: stream.rstCode }));
    stream.resume();
  });
  return { answer, stream, close: () => session.destroy() };
}

test('gRPC (h2): a full queue refuses from the message\'s first bytes; the client is told to stop sending the rest', async (t) => {
  const { port, release, runLog, serving } = await gatedServer(t, { grpcPort: 0, grpcImpl: 'h2' });
  const { held, queued } = await fillQueue(port, runLog);
  await until(async () => (await call(port, 'POST', '/v1/models/m:predict', { instances: [[3]] })).status === 503, () => undefined);
  // 1 MiB announced, 30-odd bytes sent: without a decision from the first bytes the call would wait for the rest.
  const p = partialPredict(serving.grpcPort!, specPrefix('m'), 1 << 20);
  const a = await p.answer;
  p.close();
  assert.equal(a.status, String(grpc.status.UNAVAILABLE), JSON.stringify(a));
  assert.match(decodeURIComponent(a.message ?? ''), /queue to which this task was submitted is full/);
  assert.equal(a.rstCode, http2.constants.NGHTTP2_NO_ERROR, 'reset with NO_ERROR: stop sending, not an error');
  // grpc-js, sending a whole 2 MB message, reads the same status (not CANCELLED) from the early answer and reset.
  const big = Buffer.concat([specPrefix('m'), Buffer.from([0x12, 0x80, 0x80, 0x80, 0x01]), Buffer.alloc(2 << 20)]);
  const refused = await rawGrpc(serving.grpcPort!, 'Predict', big);
  assert.equal(refused.code, grpc.status.UNAVAILABLE, refused.details);
  release();
  await Promise.all([held, queued]);
});

test('gRPC (h2): admitted from its first bytes, a call holds its announced size until it ends, also when reset', async (t) => {
  const { serving, release } = await gatedServer(t, { grpcPort: 0, grpcImpl: 'h2', batching: { ...defaultBatching(), numBatchThreads: 1 }, limits: { maxInFlightBytes: 600 } });
  release();
  // Admitted on its first bytes and charged the 500 bytes it announces, before they arrive.
  const p = partialPredict(serving.grpcPort!, specPrefix('m'), 500);
  const msg = Buffer.concat([specPrefix('m'), Buffer.alloc(200)]);
  await until(async () => (await rawGrpc(serving.grpcPort!, 'Predict', msg)).code === grpc.status.RESOURCE_EXHAUSTED, () => undefined);
  const refused = await rawGrpc(serving.grpcPort!, 'Predict', msg);
  assert.equal(refused.code, grpc.status.RESOURCE_EXHAUSTED, refused.details);
  assert.match(refused.details, /more than 600 bytes of requests are in flight/);
  // The client gives up on the call: its charge is released with it.
  p.stream.close(http2.constants.NGHTTP2_CANCEL);
  await p.answer;
  p.close();
  await until(async () => (await rawGrpc(serving.grpcPort!, 'Predict', msg)).code !== grpc.status.RESOURCE_EXHAUSTED, () => undefined);
  const after = await rawGrpc(serving.grpcPort!, 'Predict', msg);
  assert.notEqual(after.code, grpc.status.RESOURCE_EXHAUSTED, after.details);
});

test('drain: requests written on idle keep-alive connections just before close are all answered, with Connection: close', async (t) => {
  const { port, release, close, runLog } = await gatedServer(t, { batching: { ...defaultBatching(), numBatchThreads: 1 }, grpcPort: 0 });
  const body = JSON.stringify({ instances: [[21]] });
  const clients = await Promise.all(
    Array.from({ length: 8 }, async () => {
      const c = new RawClient(port);
      await c.connected();
      return c;
    }),
  );
  // One request in the engine, held, so the server has work in flight when it starts draining.
  const inFlight = call(port, 'POST', '/v1/models/m:predict', body);
  await until(() => existsSync(runLog), () => undefined);
  // Each connection has served a request already: idle keep-alive sockets, as a client pool holds them.
  release();
  for (const c of clients) {
    c.send('GET /v1/models/m HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal((await c.response()).status, 200);
  }
  await inFlight;
  writeFileSync(path.join(path.dirname(runLog), 'hold'), '');
  // Requests go out on every idle connection, then close() starts in the same tick: none has been read by the server.
  for (const c of clients) c.send(predictHead(body.length) + body);
  const closing = close();
  release();
  for (const c of clients) {
    const r = await c.response();
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(JSON.parse(r.body), { predictions: [[42]] });
    assert.equal(r.headers.connection, 'close');
  }
  await closing;
  for (const c of clients) {
    await until(() => c.closed, () => undefined);
    assert.equal(c.error, undefined, 'no connection reset');
  }
});

for (const impl of GRPC_IMPLS) test(`gRPC drain (${impl}): a call in flight when the server closes finishes normally`, async (t) => {
  const { serving, release, close, runLog } = await gatedServer(t, { grpcPort: 0, grpcImpl: impl });
  const { servingServiceDefinitions } = await import('../../src/core/serving/grpc/server.js');
  const Prediction = grpc.makeGenericClientConstructor(servingServiceDefinitions().prediction, 'PredictionService');
  const client = new Prediction(`127.0.0.1:${serving.grpcPort}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, Function>; // eslint-disable-line @typescript-eslint/no-unsafe-function-type
  t.after(() => client.close());
  const reply = new Promise<{ err: grpc.ServiceError | null; res: any }>((resolve) =>
    client.Predict(
      { modelSpec: { name: 'm' }, inputs: { x: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: 1 }, { size: 1 }] }, floatVal: [21] } } },
      (err: grpc.ServiceError | null, res: unknown) => resolve({ err, res }),
    ),
  );
  await until(() => existsSync(runLog), () => undefined);
  const closing = close();
  release();
  const { err, res } = await reply;
  assert.equal(err, null);
  assert.deepEqual(res.outputs.y.floatVal, [42]);
  await closing;
});

test('slow clients: head and body read timeouts answer 408 and close the socket; connections do not pile up', async (t) => {
  const { serving, port } = await gatedServer(t, { limits: { headerTimeoutMs: 200, bodyTimeoutMs: 400 } });
  const before = serving.rest.connections();
  const slowHead = new RawClient(port);
  slowHead.send('POST /v1/models/m:predict HTTP/1.1\r\nHost: x\r\n');
  const slowBodies = Array.from({ length: 10 }, () => {
    const c = new RawClient(port);
    c.send(predictHead(1000) + '{"instances": [[');
    return c;
  });
  for (const c of [slowHead, ...slowBodies]) {
    await until(() => c.closed, () => undefined, 20_000);
    assert.match(c.data, /^HTTP\/1\.1 408 /, c.data);
  }
  await until(() => serving.rest.connections() === before, () => undefined);
});

test('a 504 closes the connection (a client still sending its body does not keep the socket)', async (t) => {
  const { port, runLog } = await gatedServer(t, { timeoutMs: 200, batching: { ...defaultBatching(), numBatchThreads: 1 } });
  const c = new RawClient(port);
  const body = JSON.stringify({ instances: [[1]] });
  c.send(predictHead(body.length) + body);
  await until(() => existsSync(runLog), () => undefined);
  const r = await c.response();
  assert.equal(r.status, 504);
  assert.equal(r.headers.connection, 'close');
  await until(() => c.closed, () => undefined);
});

test('connection cap: a connection over --max_connections gets 503, Retry-After and Connection: close', async (t) => {
  const { port } = await gatedServer(t, { limits: { maxConnections: 2 } });
  const a = new RawClient(port);
  const b = new RawClient(port);
  await Promise.all([a.connected(), b.connected()]);
  a.send('GET /v1/models/m HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal((await a.response()).status, 200);
  const c = new RawClient(port);
  c.send('GET /v1/models/m HTTP/1.1\r\nHost: x\r\n\r\n');
  const r = await c.response();
  assert.equal(r.status, 503);
  assert.equal(r.headers['retry-after'], '1');
  assert.match(JSON.parse(r.body).error, /Too many open connections \(the limit is 2/);
  await until(() => c.closed, () => undefined);
  a.destroy();
  b.destroy();
});

test('bodies decoded on a worker thread answer exactly as on the HTTP thread, errors included', async (t) => {
  const base = tmpBase();
  writeVersion(base, 1, { mul: 2, add: 1 });
  const serve = (offThreadDecodeBytes: number): Promise<Serving> =>
    startServing({
      models: [{ name: 'm', basePath: base, policy: { kind: 'latest', numVersions: 1 }, labels: {} }],
      restPort: 0,
      host: '127.0.0.1',
      pollSeconds: 0,
      warmup: false,
      loaderModule: FAKE_ENGINE,
      limits: { offThreadDecodeBytes },
    });
  const [worker, main] = await Promise.all([serve(1), serve(1 << 30)]);
  t.after(async () => {
    await Promise.all([worker.close(), main.close()]);
    rmSync(base, { recursive: true, force: true });
  });
  const bodies = [
    { instances: Array.from({ length: 500 }, (_, i) => [i / 7]) },
    { inputs: { x: [[1], [2]] } },
    { signature_name: 'echo_batch', instances: [[1], [2], [3]] },
    '{"instances": [[1.0], [NaN]]}',
    '{"instances": [[1.0], ["a"]]}',
    '{"instances": [[1.0], [2.0]',
    '',
    { signature_name: 'nope', instances: [[1]] },
    { examples: [{ x: [1] }] },
  ];
  for (const b of bodies) {
    const [w, m] = await Promise.all([call(worker.restPort, 'POST', '/v1/models/m:predict', b), call(main.restPort, 'POST', '/v1/models/m:predict', b)]);
    assert.equal(w.status, m.status, `${JSON.stringify(b).slice(0, 60)}: ${w.text} vs ${m.text}`);
    assert.equal(w.text, m.text);
  }
  const [w, m] = await Promise.all([
    call(worker.restPort, 'POST', '/v1/models/m:classify', { examples: [{ x: [1] }] }),
    call(main.restPort, 'POST', '/v1/models/m:classify', { examples: [{ x: [1] }] }),
  ]);
  assert.equal(w.status, m.status);
  assert.equal(w.text, m.text);
});
