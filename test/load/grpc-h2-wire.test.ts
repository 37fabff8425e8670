// bench's own HTTP/2 client (src/core/load/h2-connection.ts, hpack-*.ts, grpc-h2.ts) against real servers: node's
// http2 (nghttp2) for what the protocol allows a server to do (small flow-control windows, GOAWAY, RST_STREAM,
// trailers-only answers, TLS, Huffman-coded and indexed headers), grpc-js's own server, and both of tfsvc's gRPC
// servers, with grpc-js's client as the reference for what a call should give.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http2 from 'node:http2';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import fc from 'fast-check';
import * as grpc from '@grpc/grpc-js';
import { GrpcClient } from '../../src/core/load/grpc-client.js';
import { Code, H2GrpcClient } from '../../src/core/load/grpc-h2.js';
import { predictRequest } from '../../src/core/load/grpc-request.js';
import { H2Connection } from '../../src/core/load/h2-connection.js';
import { HpackDecoder, HpackError } from '../../src/core/load/hpack-decode.js';
import { huffmanCodes, huffmanDecode, HuffmanError } from '../../src/core/load/hpack-huffman.js';
import { literalHeaderBlock } from '../../src/core/load/hpack-literal.js';
import { resolveTarget } from '../../src/core/load/target.js';
import { decodePlain } from '../../src/core/proto/schema.js';
import type { GrpcImpl } from '../../src/core/serving/grpc/server.js';
import { makePki, OPENSSL_MISSING, type Pki } from '../helpers/pki.js';
import { startGrpcFixture } from './grpc-fixture.js';
import { answer, grpcFrame, h2Server, onMessage } from './h2-test-server.js';

const PREDICT = '/tensorflow.serving.PredictionService/Predict';
const ECHO = '/test.Echo/Echo';
type Plain = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Runs `fn` with a client, closing it (and `closers`) after. */
async function withClient<T>(o: ConstructorParameters<typeof H2GrpcClient>[0], fn: (c: H2GrpcClient) => Promise<T>, ...closers: { close(): Promise<void> }[]): Promise<T> {
  const c = new H2GrpcClient(o);
  try {
    return await fn(c);
  } finally {
    await c.close();
    for (const x of closers) await x.close();
  }
}

describe('HPACK decoding', () => {
  test('Huffman: RFC 7541 C.4.1\'s "www.example.com", and invalid padding or EOS is an error', () => {
    const www = Buffer.from('f1e3c2e5f23a6ba0ab90f4ff', 'hex');
    assert.equal(huffmanDecode(www, 0, www.length), 'www.example.com');
    const nocache = Buffer.from('a8eb10649cbf', 'hex'); // C.4.2 "no-cache"
    assert.equal(huffmanDecode(nocache, 0, nocache.length), 'no-cache');
    // 'a' is 00011 (5 bits): padded with ones it is valid, padded with zeros not; a whole 0xff byte is too much padding.
    assert.equal(huffmanDecode(Buffer.from([0b00011111]), 0, 1), 'a');
    assert.throws(() => huffmanDecode(Buffer.from([0b00011000]), 0, 1), HuffmanError);
    assert.throws(() => huffmanDecode(Buffer.from([0b00011111, 0xff]), 0, 2), HuffmanError);
    assert.throws(() => huffmanDecode(Buffer.from([0xff, 0xff, 0xff, 0xff]), 0, 4), HuffmanError); // EOS
  });

  test('Huffman: any bytes encoded with the table decode back (property)', () => {
    const codes = huffmanCodes();
    const encode = (bytes: Uint8Array): Buffer => {
      let bits = '';
      for (const b of bytes) bits += codes[b]![0].toString(2).padStart(codes[b]![1], '0');
      bits = bits.padEnd(Math.ceil(bits.length / 8) * 8, '1');
      return Buffer.from(Array.from({ length: bits.length / 8 }, (_, i) => parseInt(bits.slice(8 * i, 8 * i + 8), 2)));
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const e = encode(bytes);
        assert.equal(huffmanDecode(e, 0, e.length), Buffer.from(bytes).toString('latin1'));
      }),
      { numRuns: 300 },
    );
  });

  test('RFC 7541 C.3: three requests sharing a dynamic table; a bad index or truncated block is an error', () => {
    const d = new HpackDecoder();
    const pairs = (f: string[]) => Array.from({ length: f.length / 2 }, (_, i) => `${f[2 * i]}: ${f[2 * i + 1]}`);
    assert.deepEqual(pairs(d.decode(Buffer.from('828684410f7777772e6578616d706c652e636f6d', 'hex'))), [':method: GET', ':scheme: http', ':path: /', ':authority: www.example.com']);
    assert.deepEqual(pairs(d.decode(Buffer.from('828684be58086e6f2d6361636865', 'hex'))), [':method: GET', ':scheme: http', ':path: /', ':authority: www.example.com', 'cache-control: no-cache']);
    assert.deepEqual(pairs(d.decode(Buffer.from('828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565', 'hex'))), [
      ':method: GET', ':scheme: https', ':path: /index.html', ':authority: www.example.com', 'custom-key: custom-value',
    ]);
    assert.throws(() => d.decode(Buffer.from([0x80 | 70])), HpackError);
    assert.throws(() => d.decode(Buffer.from([0x40, 0x05, 0x61])), HpackError);
  });

  test('headers and trailers from node\'s http2 server (Huffman, indexed, evicted) decode as sent (property)', async () => {
    // Names a server may send (no connection-specific or reserved ones), values of printable ASCII (Huffman codes of
    // 5 to 19 bits), picked from a small pool so that later answers reuse fields the server indexed.
    const reserved = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'host', 'http2-settings', 'date', 'content-length']);
    const field = fc.tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/).filter((n) => !reserved.has(n)), fc.stringMatching(/^[!-~]([ -~]{0,300}[!-~])?$/));
    const answerSet = fc.uniqueArray(field, { selector: ([n]) => n, maxLength: 12 });
    let cases: { headers: [string, string][]; trailers: [string, string][] }[] = [];
    const server = await h2Server((s) =>
      onMessage(s, (m) => {
        const c = cases[m.readUInt32BE(0)]!;
        s.respond({ ':status': 200, ...Object.fromEntries(c.headers) }, { waitForTrailers: true });
        s.once('wantTrailers', () => s.sendTrailers(Object.fromEntries(c.trailers)));
        s.end('x');
      }),
    );
    const [host, port] = [server.address.split(':')[0]!, Number(server.address.split(':')[1])];
    const block = literalHeaderBlock('http', [[':path', '/headers'], [':authority', server.address]]);
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(answerSet, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { minLength: 1, maxLength: 30 }), async (pool, picks) => {
          cases = picks.map((p, i) => ({ headers: pool[p % pool.length]!, trailers: pool[(p + i) % pool.length]! }));
          const conn = new H2Connection({ host, port });
          try {
            // One call after another on one connection: the server's table carries over from answer to answer.
            for (let i = 0; i < cases.length; i++) {
              const got = await new Promise<{ headers: string[]; trailers: string[] }>((resolve, reject) => {
                const r = { headers: [] as string[], trailers: [] as string[] };
                let n = 0;
                const body = Buffer.alloc(4);
                body.writeUInt32BE(i);
                conn.open(block, grpcFrame(body), {
                  headers: (f, end) => {
                    if (n++ === 0) r.headers = f;
                    else r.trailers = f;
                    if (end) resolve(r);
                  },
                  data: (_p, end) => end && resolve(r),
                  aborted: (kind, detail) => reject(new Error(`${kind}: ${detail}`)),
                });
              });
              const asPairs = (f: string[]) => Array.from({ length: f.length / 2 }, (_, j) => [f[2 * j]!, f[2 * j + 1]!] as [string, string]).filter(([k]) => k !== ':status' && k !== 'date');
              assert.deepEqual(asPairs(got.headers), cases[i]!.headers);
              assert.deepEqual(asPairs(got.trailers), cases[i]!.trailers);
            }
          } finally {
            await conn.close();
          }
        }),
        { numRuns: 25 },
      );
    } finally {
      await server.close();
    }
  });
});

describe('HTTP/2 protocol against node\'s http2 server', () => {
  test('flow control both ways: 1 MiB messages and several 300 KiB ones at once, through 64 KiB windows', async () => {
    const server = await h2Server((s) => onMessage(s, (m) => answer(s, m)), { settings: { initialWindowSize: 65_535 } });
    await withClient({ address: server.address, sessions: 1, timeoutMs: 20_000, window: 65_535 }, async (c) => {
      const big = randomBytes(1 << 20);
      const a = await c.unary(ECHO, big, true);
      assert.equal(a.code, Code.OK, a.details);
      assert.ok(a.message!.equals(big));
      assert.equal(a.bytesIn, big.length + 5);
      const several = Array.from({ length: 5 }, () => randomBytes(300 << 10));
      const answers = await Promise.all(several.map((m) => c.unary(ECHO, m, true)));
      answers.forEach((x, i) => assert.ok(x.code === Code.OK && x.message!.equals(several[i]!), x.details));
    }, server);
  });

  test('SETTINGS_MAX_CONCURRENT_STREAMS: calls beyond the server\'s limit wait for a free stream on the same connection', async () => {
    let open = 0;
    let most = 0;
    let streams = 0;
    const server = await h2Server((s) => {
      streams++;
      most = Math.max(most, ++open);
      s.on('close', () => open--);
      onMessage(s, (m) => setTimeout(() => answer(s, m), 5));
    }, { settings: { maxConcurrentStreams: 2 } });
    await withClient({ address: server.address, sessions: 1, timeoutMs: 5_000 }, async (c) => {
      await c.unary(ECHO, Buffer.from('first')); // the server's SETTINGS are in
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => c.unary(ECHO, Buffer.from(`call ${i}`), true)));
      assert.deepEqual(answers.map((a) => a.message?.toString()), Array.from({ length: 10 }, (_, i) => `call ${i}`));
      assert.equal(most, 2);
      assert.equal(streams, 11);
      assert.equal(server.sessions, 1);
    }, server);
  });

  test('a header block larger than the server\'s frame size goes out in CONTINUATION frames', async () => {
    let seen = '';
    const server = await h2Server((s, h) => {
      seen = String(h['x-big']);
      onMessage(s, (m) => answer(s, m));
    }, { settings: { maxHeaderListSize: 200_000 } });
    const big = 'v'.repeat(40_000);
    await withClient({ address: server.address, sessions: 1, timeoutMs: 5_000, metadata: { 'X-Big': big } }, async (c) => {
      const a = await c.unary(ECHO, Buffer.from('hi'), true);
      assert.equal(a.code, Code.OK, a.details);
      assert.equal(seen, big);
    }, server);
  });

  test('GOAWAY: calls above the last stream id go again on a new connection; calls below it finish', async () => {
    const held: http2.ServerHttp2Stream[] = [];
    const server = await h2Server((s) =>
      onMessage(s, (m) => {
        if (s.session!.closed) return;
        held.push(s);
        if (held.length === 2) {
          // The second call (stream 3) is refused by GOAWAY with last-stream-id 1; the first is still answered.
          s.session!.goaway(http2.constants.NGHTTP2_NO_ERROR, held[0]!.id!);
          answer(held[0]!, Buffer.from('first'));
        } else if (held.length > 2) answer(s, m);
      }),
    );
    await withClient({ address: server.address, sessions: 1, timeoutMs: 5_000 }, async (c) => {
      const [a, b] = await Promise.all([c.unary(ECHO, Buffer.from('one'), true), c.unary(ECHO, Buffer.from('two'), true)]);
      assert.equal(a.code, Code.OK, a.details);
      assert.equal(a.message!.toString(), 'first');
      assert.equal(b.code, Code.OK, b.details);
      assert.equal(b.message!.toString(), 'two');
      assert.equal(server.sessions, 2);
    }, server);
  });

  test('GOAWAY with an error, then the connection drops: the call fails as a reset naming the GOAWAY', async () => {
    const server = await h2Server((s) => {
      s.on('error', () => {});
      s.session!.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, 0, Buffer.from('too many'));
      setImmediate(() => s.session?.destroy());
    });
    await withClient({ address: server.address, sessions: 1, timeoutMs: 5_000 }, async (c) => {
      const a = await c.unary(ECHO, Buffer.from('x'));
      assert.equal(a.code, Code.UNAVAILABLE);
      assert.equal(a.failure, 'reset');
      assert.match(a.details, /GOAWAY \(ENHANCE_YOUR_CALM: too many\)/);
    }, server);
  });

  test('a call refused every time is sent 3 times, then fails as a reset', async () => {
    let streams = 0;
    const server = await h2Server((s) => onMessage(s, () => (streams++, s.close(http2.constants.NGHTTP2_REFUSED_STREAM))));
    await withClient({ address: server.address, sessions: 1, timeoutMs: 5_000 }, async (c) => {
      const a = await c.unary(ECHO, Buffer.from('x'));
      assert.deepEqual([a.code, a.failure], [Code.UNAVAILABLE, 'reset']);
      assert.match(a.details, /REFUSED_STREAM/);
      assert.equal(streams, 3);
    }, server);
  });

  test('RST_STREAM: REFUSED_STREAM is sent again, CANCEL is CANCELLED, and the connection carries on', async () => {
    let n = 0;
    const server = await h2Server((s) =>
      onMessage(s, (m) => {
        n++;
        if (m.toString() === 'refuse' && n === 1) s.close(http2.constants.NGHTTP2_REFUSED_STREAM);
        else if (m.toString() === 'cancel') s.close(http2.constants.NGHTTP2_CANCEL);
        else answer(s, m);
      }),
    );
    await withClient({ address: server.address, sessions: 1, timeoutMs: 5_000 }, async (c) => {
      const refused = await c.unary(ECHO, Buffer.from('refuse'), true);
      assert.equal(refused.code, Code.OK, refused.details);
      assert.equal(n, 2);
      const cancelled = await c.unary(ECHO, Buffer.from('cancel'));
      assert.equal(cancelled.code, Code.CANCELLED);
      assert.equal(cancelled.failure, 'reset');
      assert.match(cancelled.details, /RST_STREAM CANCEL/);
      const after = await c.unary(ECHO, Buffer.from('fine'), true);
      assert.equal(after.message!.toString(), 'fine');
      assert.equal(server.sessions, 1);
    }, server);
  });

  test('a trailers-only error reads as grpc-js reads it (code, percent-decoded UTF-8 message)', async () => {
    const server = await h2Server((s) =>
      onMessage(s, () => s.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '9', 'grpc-message': 'not%20ready%20%E2%9C%93' }, { endStream: true })),
    );
    const ref = new GrpcClient(server.address, 'Predict', { connections: 1, timeoutMs: 5_000 });
    await withClient({ address: server.address, sessions: 1, timeoutMs: 5_000 }, async (c) => {
      const a = await c.unary(PREDICT, Buffer.from('x'));
      const err = (await ref.call(Buffer.from('x')).then(() => assert.fail('grpc-js got OK'), (e) => e)) as grpc.ServiceError;
      assert.equal(a.code, grpc.status.FAILED_PRECONDITION);
      assert.equal(a.code, err.code);
      assert.equal(a.details, 'not ready ✓');
      assert.equal(a.details, err.details);
      assert.equal(a.failure, undefined);
    }, server, ref);
  });

  test('a server that answers in HTTP/1.1 is a protocol error, reported as a reset', async () => {
    const socks = new Set<net.Socket>();
    const server = net.createServer((sock) => {
      socks.add(sock);
      sock.on('error', () => {});
      sock.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    await withClient({ address, sessions: 1, timeoutMs: 5_000 }, async (c) => {
      const a = await c.unary(ECHO, Buffer.from('x'));
      assert.equal(a.code, Code.UNAVAILABLE);
      assert.equal(a.failure, 'reset');
      assert.match(a.details, /HTTP\/2 protocol error from the server/);
    }, { close: () => new Promise<void>((r) => (server.close(() => r()), socks.forEach((x) => x.destroy()))) });
  });
});

describe('TLS', () => {
  let pki: Pki | undefined;
  before(() => {
    pki = makePki();
  });
  after(() => pki?.cleanup());

  test('gRPC over TLS (ALPN h2) with a trusted CA; an untrusted server or one without h2 is a connect error', async (t) => {
    if (!pki) return t.skip(OPENSSL_MISSING);
    const secure = { key: pki.read(pki.serverKey), cert: pki.read(pki.serverCert) };
    const server = await h2Server((s, h) => onMessage(s, (m) => answer(s, Buffer.concat([Buffer.from(`${h[':scheme']} `), m]))), { secure });
    await withClient({ address: server.address, sessions: 1, timeoutMs: 5_000, tls: { ca: pki.read(pki.ca) } }, async (c) => {
      const a = await c.unary(ECHO, Buffer.from('over tls'), true);
      assert.equal(a.code, Code.OK, a.details);
      assert.equal(a.message!.toString(), 'https over tls');
    });
    await withClient({ address: server.address, sessions: 1, timeoutMs: 5_000, tls: { ca: pki.read(pki.otherCa) } }, async (c) => {
      const a = await c.unary(ECHO, Buffer.from('x'));
      assert.equal(a.code, Code.UNAVAILABLE);
      assert.equal(a.failure, 'connect');
      assert.match(a.details, /certificate/i);
    }, server);
    const h1 = https.createServer(secure, (_req, res) => res.end('h1'));
    await new Promise<void>((r) => h1.listen(0, '127.0.0.1', r));
    await withClient({ address: `127.0.0.1:${(h1.address() as AddressInfo).port}`, sessions: 1, timeoutMs: 5_000, tls: { ca: pki.read(pki.ca) } }, async (c) => {
      const a = await c.unary(ECHO, Buffer.from('x'));
      assert.equal(a.failure, 'connect');
      // Node's https server refuses the handshake itself (no common ALPN protocol); a server that accepts without ALPN
      // is refused by the client ("did not agree to HTTP/2").
      assert.match(a.details, /no application protocol|did not agree to HTTP\/2/);
    }, { close: () => new Promise<void>((r) => h1.close(() => r())) });
  });
});

describe('the client against real gRPC servers', () => {
  for (const impl of ['h2', 'grpc-js'] as GrpcImpl[]) {
    test(`tfsvc's ${impl} gRPC server: answers, errors and 200 concurrent calls agree with grpc-js's client`, async () => {
      const fixture = await startGrpcFixture({ impl });
      const address = fixture.url.slice('grpc://'.length);
      const ref = new GrpcClient(address, 'Predict', { connections: 1, timeoutMs: 10_000 });
      await withClient({ address, sessions: 2, timeoutMs: 10_000 }, async (c) => {
        const body = (xs: number[], model = 'half_plus_two') => predictRequest(resolveTarget(fixture.url, { model }), undefined, { x: { dtype: 'DT_FLOAT', shape: [xs.length, 1], data: Float32Array.from(xs) } });
        const a = await c.unary(PREDICT, body([1, 2, 5]), true);
        assert.equal(a.code, Code.OK, a.details);
        assert.deepEqual(a.message, await ref.call(body([1, 2, 5])));
        const bad = await c.unary(PREDICT, body([1], 'nope'));
        const err = (await ref.call(body([1], 'nope')).then(() => assert.fail('grpc-js got OK'), (e) => e)) as grpc.ServiceError;
        assert.deepEqual([bad.code, bad.details], [err.code, err.details]);
        const many = await Promise.all(Array.from({ length: 200 }, (_, i) => c.unary(PREDICT, body([i]), true)));
        const ys = many.map((m) => {
          assert.equal(m.code, Code.OK, m.details);
          return decodePlain<Plain>('tensorflow.serving.PredictResponse', m.message!, 'tensorflow_serving.proto').outputs.y.floatVal[0];
        });
        assert.deepEqual(ys, Array.from({ length: 200 }, (_, i) => 0.5 * i + 2));
      }, ref, fixture);
    });
  }

  test('grpc-js\'s own server: echoes of 1 byte to 2 MiB, a status with metadata, and a deadline', async () => {
    const id = (b: Buffer) => b;
    const server = new grpc.Server();
    server.addService(
      { Echo: { path: ECHO, requestStream: false, responseStream: false, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id } },
      {
        Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
          const m = call.request;
          if (m.toString() === 'fail') {
            const md = new grpc.Metadata();
            md.set('x-why', 'because');
            return cb({ code: grpc.status.RESOURCE_EXHAUSTED, details: 'out of túrns', metadata: md });
          }
          if (m.toString() === 'slow') return void setTimeout(() => cb(null, m), 500);
          cb(null, m);
        },
      },
    );
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    await withClient({ address: `127.0.0.1:${port}`, sessions: 1, timeoutMs: 10_000 }, async (c) => {
      for (const size of [1, 70_000, 2 << 20]) {
        const m = randomBytes(size);
        const a = await c.unary(ECHO, m, true);
        assert.equal(a.code, Code.OK, a.details);
        assert.ok(a.message!.equals(m));
      }
      const f = await c.unary(ECHO, Buffer.from('fail'));
      assert.deepEqual([f.code, f.details, f.failure], [Code.RESOURCE_EXHAUSTED, 'out of túrns', undefined]);
    });
    await withClient({ address: `127.0.0.1:${port}`, sessions: 1, timeoutMs: 100 }, async (c) => {
      const slow = await c.unary(ECHO, Buffer.from('slow'));
      assert.equal(slow.code, Code.DEADLINE_EXCEEDED);
    }, { close: () => new Promise<void>((r) => server.tryShutdown(() => r())) });
  });
});
