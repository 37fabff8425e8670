// HTTP/2 framing (RFC 7540 §4, §6) for bench's own HTTP/2 client (h2-connection.ts): frame headers written into
// buffers, and a reader that cuts a byte stream into frames. Only what a client of unary gRPC calls needs; no
// priorities, no server push. Why not node:http2: see grpc-h2.ts.
//
// A frame is a 9-byte header (24-bit payload length, 8-bit type, 8-bit flags, 31-bit stream id) and the payload.

/** The 24 bytes a client sends first (RFC 7540 §3.5). */
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const FrameType = { DATA: 0, HEADERS: 1, PRIORITY: 2, RST_STREAM: 3, SETTINGS: 4, PUSH_PROMISE: 5, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
export const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;
export const Setting = { HEADER_TABLE_SIZE: 1, ENABLE_PUSH: 2, MAX_CONCURRENT_STREAMS: 3, INITIAL_WINDOW_SIZE: 4, MAX_FRAME_SIZE: 5, MAX_HEADER_LIST_SIZE: 6 } as const;
/** Error codes of RST_STREAM and GOAWAY (RFC 7540 §7). */
export const H2Error = { NO_ERROR: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2, FLOW_CONTROL_ERROR: 3, SETTINGS_TIMEOUT: 4, STREAM_CLOSED: 5, FRAME_SIZE_ERROR: 6, REFUSED_STREAM: 7, CANCEL: 8, COMPRESSION_ERROR: 9, CONNECT_ERROR: 10, ENHANCE_YOUR_CALM: 11, INADEQUATE_SECURITY: 12, HTTP_1_1_REQUIRED: 13 } as const;

/** Until the peer says otherwise (RFC 7540 §6.5.2). */
export const DEFAULT_WINDOW = 65_535;
export const DEFAULT_MAX_FRAME = 16_384;
export const MAX_WINDOW = 0x7fff_ffff;

/** Writes a frame header at `at` of `b`. */
export function writeFrameHeader(b: Buffer, at: number, length: number, type: number, flags: number, stream: number): void {
  b[at] = (length >>> 16) & 0xff;
  b[at + 1] = (length >>> 8) & 0xff;
  b[at + 2] = length & 0xff;
  b[at + 3] = type;
  b[at + 4] = flags;
  b.writeUInt32BE(stream & MAX_WINDOW, at + 5);
}

/** A whole frame with `payload`. */
export function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.allocUnsafe(9 + payload.length);
  writeFrameHeader(b, 0, payload.length, type, flags, stream);
  payload.copy(b, 9);
  return b;
}

export function settingsFrame(settings: [id: number, value: number][]): Buffer {
  const p = Buffer.allocUnsafe(6 * settings.length);
  settings.forEach(([id, v], i) => {
    p.writeUInt16BE(id, 6 * i);
    p.writeUInt32BE(v, 6 * i + 2);
  });
  return frame(FrameType.SETTINGS, 0, 0, p);
}

export function windowUpdateFrame(stream: number, increment: number): Buffer {
  const p = Buffer.allocUnsafe(4);
  p.writeUInt32BE(increment & MAX_WINDOW, 0);
  return frame(FrameType.WINDOW_UPDATE, 0, stream, p);
}

export function rstStreamFrame(stream: number, code: number): Buffer {
  const p = Buffer.allocUnsafe(4);
  p.writeUInt32BE(code, 0);
  return frame(FrameType.RST_STREAM, 0, stream, p);
}

export function goawayFrame(lastStream: number, code: number): Buffer {
  const p = Buffer.allocUnsafe(8);
  p.writeUInt32BE(lastStream & MAX_WINDOW, 0);
  p.writeUInt32BE(code, 4);
  return frame(FrameType.GOAWAY, 0, 0, p);
}

/** Thrown for bytes that break the framing rules: the connection ends with GOAWAY carrying `code`. */
export class H2ProtocolError extends Error {
  constructor(
    message: string,
    readonly code: number = H2Error.PROTOCOL_ERROR,
  ) {
    super(message);
  }
}

/** Called once per whole frame; `payload` is a view that is only valid during the call. */
export type OnFrame = (type: number, flags: number, stream: number, payload: Buffer) => void;

/**
 * Cuts the bytes of a connection into frames. `push` takes each chunk as it arrives; frames split across chunks are
 * joined (only then is anything copied). Frames longer than `maxFrame` (what we told the peer) are a FRAME_SIZE_ERROR.
 */
export class FrameReader {
  private rest: Buffer | undefined;

  constructor(
    private readonly onFrame: OnFrame,
    private readonly maxFrame: number = DEFAULT_MAX_FRAME,
  ) {}

  push(chunk: Buffer): void {
    let b = chunk;
    if (this.rest) {
      b = Buffer.concat([this.rest, chunk]);
      this.rest = undefined;
    }
    let at = 0;
    while (b.length - at >= 9) {
      const length = (b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!;
      if (length > this.maxFrame) throw new H2ProtocolError(`a ${length}-byte frame, above the ${this.maxFrame} bytes allowed`, H2Error.FRAME_SIZE_ERROR);
      if (b.length - at < 9 + length) break;
      const type = b[at + 3]!;
      const flags = b[at + 4]!;
      const stream = b.readUInt32BE(at + 5) & MAX_WINDOW;
      this.onFrame(type, flags, stream, b.subarray(at + 9, at + 9 + length));
      at += 9 + length;
    }
    if (at < b.length) this.rest = b.subarray(at);
  }
}

/**
 * The payload of a HEADERS/DATA frame without its padding (and, for HEADERS, the priority fields).
 * A pad length that does not fit is a PROTOCOL_ERROR (RFC 7540 §6.1).
 */
export function unpadded(type: number, flags: number, payload: Buffer): Buffer {
  let start = 0;
  let end = payload.length;
  if (flags & Flag.PADDED) {
    if (payload.length < 1) throw new H2ProtocolError('padded frame without a pad length');
    end -= payload[0]!;
    start = 1;
  }
  if (type === FrameType.HEADERS && flags & Flag.PRIORITY) start += 5;
  if (end < start) throw new H2ProtocolError('padding longer than the frame');
  return payload.subarray(start, end);
}
