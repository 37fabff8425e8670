// node:http2 servers for the tests of bench's gRPC client (grpc-h2.test.ts, grpc-h2-wire.test.ts): the test writes
// the stream handler, so a server can do what real ones rarely do (reset, GOAWAY, never answer, answer in pieces).
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

/** A gRPC message frame: flag 0, length, bytes. */
export function grpcFrame(message: Buffer): Buffer {
  const f = Buffer.alloc(5 + message.length);
  f.writeUInt32BE(message.length, 1);
  message.copy(f, 5);
  return f;
}

/** Reads a call's whole request body, then `then(message)`. */
export function onMessage(s: http2.ServerHttp2Stream, then: (message: Buffer) => void): void {
  const chunks: Buffer[] = [];
  s.on('error', () => {});
  s.on('data', (c: Buffer) => chunks.push(c));
  s.on('end', () => then(Buffer.concat(chunks).subarray(5)));
}

export function answer(s: http2.ServerHttp2Stream, message: Buffer, trailers: http2.OutgoingHttpHeaders = { 'grpc-status': '0' }): void {
  if (s.destroyed) return;
  s.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  s.once('wantTrailers', () => s.sendTrailers(trailers));
  s.end(grpcFrame(message));
}

/** A node:http2 server (TLS when `secure` is given) whose stream handler is the test's. */
export async function h2Server(onStream: (s: http2.ServerHttp2Stream, h: http2.IncomingHttpHeaders) => void, o: { settings?: http2.Settings; secure?: { key: Buffer; cert: Buffer } } = {}) {
  const server = o.secure ? http2.createSecureServer({ ...o.secure, settings: o.settings }) : http2.createServer({ settings: o.settings });
  let sessions = 0;
  const live = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions++;
    live.add(s);
    s.on('close', () => live.delete(s));
    s.on('error', () => {});
  });
  server.on('stream', onStream);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    get sessions() {
      return sessions;
    },
    // Sessions the test left with a stream never answered (after its GOAWAY) would keep the server open.
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        for (const s of live) s.destroy();
      }),
  };
}

