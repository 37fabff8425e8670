// The trivial gRPC server of bench/grpc-client.ts part 1: every unary call is answered with the same 64-byte message
// and status OK, written straight onto the socket from pre-built frames. It exists to measure clients, so it must
// cost far less per call than they do: a node:http2 server doing the same costs ~180 µs of CPU per call on the
// project's 2-core VM, which saturated its core near 5000 calls/s and made the clients wait on it.
//
// What it does of HTTP/2 (src/core/load/h2-wire.ts framing): the preface, SETTINGS (a 2^31-1 stream window and a
// connection window to match, so clients never wait for WINDOW_UPDATE, which it sends back for what it reads), PING
// acks, GOAWAY, and per stream: once the request's END_STREAM arrives, response HEADERS, one DATA frame, trailers. It
// never decodes header blocks (the answer does not depend on them, and never decoding needs no HPACK state) and
// writes its own with literals only. It respects the client's connection window; an answer fits any stream window.
import net from 'node:net';
import { DEFAULT_WINDOW, Flag, FrameReader, FrameType, frame, MAX_WINDOW, PREFACE, Setting, settingsFrame, windowUpdateFrame } from '../src/core/load/h2-wire.js';
import { literalFields } from '../src/core/load/hpack-literal.js';

/** `:status: 200` (static index 8), then content-type as a literal. */
const HEADERS_BLOCK = Buffer.concat([Buffer.from([0x88]), literalFields([['content-type', 'application/grpc']])]);
const TRAILERS_BLOCK = literalFields([['grpc-status', '0']]);
/** The largest frame HTTP/2 allows (RFC 7540 §6.5.2), announced so clients may send a request in one DATA frame. */
const MAX_FRAME = 0xff_ffff;

/** The three frames of one answer with stream id 0; `answer(id)` copies them and sets the id. */
function template(message: Buffer): { bytes: Buffer; ids: number[]; data: number } {
  const grpcMessage = Buffer.alloc(5 + message.length);
  grpcMessage.writeUInt32BE(message.length, 1);
  message.copy(grpcMessage, 5);
  const parts = [frame(FrameType.HEADERS, Flag.END_HEADERS, 0, HEADERS_BLOCK), frame(FrameType.DATA, 0, 0, grpcMessage), frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 0, TRAILERS_BLOCK)];
  const ids: number[] = [];
  let at = 0;
  for (const p of parts) {
    ids.push(at + 5);
    at += p.length;
  }
  return { bytes: Buffer.concat(parts), ids, data: grpcMessage.length };
}

export function startTrivialH2Server(message: Buffer, onListening: (port: number) => void): net.Server {
  const t = template(message);
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    sock.on('error', () => {});
    let prefaceLeft = PREFACE.length;
    let sendWindow = DEFAULT_WINDOW;
    const waiting: number[] = [];
    let out: Buffer[] = [];
    const answer = (id: number) => {
      if (sendWindow < t.data) return void waiting.push(id);
      sendWindow -= t.data;
      const b = Buffer.from(t.bytes);
      for (const at of t.ids) b.writeUInt32BE(id, at);
      out.push(b);
    };
    let received = 0;
    const reader = new FrameReader((type, flags, id, payload) => {
      if (type === FrameType.DATA) {
        received += payload.length;
        if (flags & Flag.END_STREAM) answer(id);
      } else if (type === FrameType.HEADERS) {
        if (flags & Flag.END_STREAM) answer(id);
      } else if (type === FrameType.SETTINGS && !(flags & Flag.ACK)) {
        out.push(frame(FrameType.SETTINGS, Flag.ACK, 0));
      } else if (type === FrameType.PING && !(flags & Flag.ACK)) {
        out.push(frame(FrameType.PING, Flag.ACK, 0, payload));
      } else if (type === FrameType.WINDOW_UPDATE && id === 0) {
        sendWindow += payload.readUInt32BE(0) & MAX_WINDOW;
        while (waiting.length && sendWindow >= t.data) answer(waiting.shift()!);
      } else if (type === FrameType.GOAWAY) {
        sock.end();
      }
    }, MAX_FRAME);
    sock.write(Buffer.concat([settingsFrame([[Setting.INITIAL_WINDOW_SIZE, MAX_WINDOW], [Setting.MAX_FRAME_SIZE, MAX_FRAME]]), windowUpdateFrame(0, MAX_WINDOW - DEFAULT_WINDOW)]));
    sock.on('data', (chunk: Buffer) => {
      if (prefaceLeft > 0) {
        const n = Math.min(prefaceLeft, chunk.length);
        prefaceLeft -= n;
        chunk = chunk.subarray(n);
      }
      try {
        reader.push(chunk);
      } catch {
        return sock.destroy();
      }
      if (received > 0) {
        out.push(windowUpdateFrame(0, received));
        received = 0;
      }
      if (out.length) {
        sock.write(out.length === 1 ? out[0]! : Buffer.concat(out));
        out = [];
      }
    });
  });
  server.listen(0, '127.0.0.1', () => onListening((server.address() as net.AddressInfo).port));
  return server;
}
