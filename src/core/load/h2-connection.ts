// One HTTP/2 client connection (RFC 7540) over a net.Socket (or a TLS socket that negotiated ALPN h2), for bench's
// gRPC client (grpc-h2.ts, where the why is): many request streams at once, each one HEADERS block (pre-encoded by
// the caller, hpack-literal.ts) and one body sent with END_STREAM; responses decoded frame by frame.
//
// What it does of the protocol: the preface and SETTINGS exchange (acked both ways), stream ids, the peer's
// SETTINGS_MAX_CONCURRENT_STREAMS / INITIAL_WINDOW_SIZE / MAX_FRAME_SIZE, flow control both ways (the peer's
// connection and stream windows are respected when sending, queueing what does not fit; what we receive is given
// back with WINDOW_UPDATE once half a window is used), CONTINUATION, padding, RST_STREAM both ways, PING acks and
// GOAWAY (streams above the peer's last-stream-id are reported 'refused': never processed, safe to retry elsewhere).
// What it does not: priorities, server push (disabled in our SETTINGS; a PUSH_PROMISE is a protocol error), trailers
// from our side, request bodies that are not whole Buffers up front.
//
// Writes are gathered and go out once per event-loop turn (setImmediate): at thousands of calls a second, many
// calls' frames leave in one socket write.
import net from 'node:net';
import tls from 'node:tls';
import { HpackDecoder, HpackError } from './hpack-decode.js';
import {
  DEFAULT_MAX_FRAME,
  DEFAULT_WINDOW,
  Flag,
  FrameReader,
  FrameType,
  frame,
  goawayFrame,
  H2Error,
  H2ProtocolError,
  MAX_WINDOW,
  PREFACE,
  rstStreamFrame,
  Setting,
  settingsFrame,
  unpadded,
  windowUpdateFrame,
  writeFrameHeader,
} from './h2-wire.js';

/**
 * How a stream ended without the peer ending it: `reset` (RST_STREAM from the peer, `code` is its error code),
 * `refused` (never processed: GOAWAY above its id, or REFUSED_STREAM; safe to send again), `lost` (the connection
 * failed after it was up), `connect` (the connection never came up).
 */
export type StreamAbort = 'reset' | 'refused' | 'lost' | 'connect';

/** What a stream's owner hears. After `end` or `aborted` nothing more comes. */
export interface StreamListener {
  /** A decoded header block ([name, value, ...]); `end` when it ended the stream (trailers, or trailers-only). */
  headers(fields: string[], end: boolean): void;
  /** Payload of one DATA frame (a view valid only during the call); `end` when it ended the stream. */
  data(payload: Buffer, end: boolean): void;
  aborted(kind: StreamAbort, detail: string, code?: number): void;
}

export interface H2ConnectionOptions {
  host: string;
  port: number;
  /** TLS options (ALPN h2 is added): the connection is https. Absent: plaintext h2c with prior knowledge. */
  tls?: tls.ConnectionOptions;
  /** Receive window per stream and for the connection (bytes; at least 65,535). */
  window?: number;
  /** Called once when the connection is closed and every stream has been told. */
  onClose?: () => void;
  /** Called when a stream may have become free (one ended, or the peer's SETTINGS changed), for calls that wait. */
  onRoom?: () => void;
}

interface Stream {
  id: number;
  listener: StreamListener;
  /** The peer's window for this stream (may go negative after a SETTINGS change). */
  sendWindow: number;
  /** Body bytes not yet sent, from `offset`. */
  body: Buffer | undefined;
  offset: number;
  /** Received bytes not yet given back with WINDOW_UPDATE. */
  unacked: number;
  /** Our END_STREAM is out. */
  sent: boolean;
}

const MAX_STREAM_ID = 0x7fff_ffff;
/** Header blocks (HEADERS + CONTINUATION) above this end the connection: a server sending them is broken. */
const MAX_HEADER_BLOCK = 1 << 20;

const ABORT_NAMES = Object.fromEntries(Object.entries(H2Error).map(([k, v]) => [v, k]));
export function h2ErrorName(code: number): string {
  return ABORT_NAMES[code] ?? `code ${code}`;
}

export class H2Connection {
  private readonly socket: net.Socket;
  private readonly streams = new Map<number, Stream>();
  private readonly hpack = new HpackDecoder();
  private readonly reader: FrameReader;
  private nextId = 1;
  private out: Buffer[] = [];
  private flushing: NodeJS.Immediate | undefined;
  /** Streams with body bytes waiting for window, in order. */
  private readonly blocked = new Set<Stream>();

  // The peer's settings and windows.
  private maxStreams = Infinity;
  private peerInitialWindow = DEFAULT_WINDOW;
  private peerMaxFrame = DEFAULT_MAX_FRAME;
  private sendWindow = DEFAULT_WINDOW;

  // Ours.
  private readonly window: number;
  private unacked = 0;

  // A header block being received across CONTINUATION frames.
  private headerStream = 0;
  private headerEnd = false;
  private headerParts: Buffer[] = [];
  private headerBytes = 0;

  /** The socket is connected (and TLS negotiated). */
  connected = false;
  /** GOAWAY received or sent, or closing: no new streams. */
  draining = false;
  closed = false;
  private failure: Error | undefined;
  private closeDetail = '';
  private readonly closedPromise: Promise<void>;

  constructor(private readonly o: H2ConnectionOptions) {
    this.window = Math.min(MAX_WINDOW, Math.max(DEFAULT_WINDOW, o.window ?? DEFAULT_WINDOW));
    this.reader = new FrameReader((t, f, s, p) => this.onFrame(t, f, s, p));
    if (o.tls) {
      const s = tls.connect({ ...o.tls, host: o.host, port: o.port, ALPNProtocols: ['h2'], servername: o.tls.servername ?? (net.isIP(o.host) ? undefined : o.host) });
      s.once('secureConnect', () => {
        if (s.alpnProtocol !== 'h2') return this.fail(new Error(`the server did not agree to HTTP/2 over TLS (ALPN: ${s.alpnProtocol || 'none'})`));
        this.connected = true;
      });
      this.socket = s;
    } else {
      this.socket = net.connect({ host: o.host, port: o.port });
      this.socket.once('connect', () => (this.connected = true));
    }
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => {
      try {
        this.reader.push(chunk);
      } catch (err) {
        const code = err instanceof H2ProtocolError ? err.code : err instanceof HpackError ? H2Error.COMPRESSION_ERROR : H2Error.INTERNAL_ERROR;
        this.fail(new Error(`HTTP/2 protocol error from the server: ${(err as Error).message}`), code);
      }
    });
    this.socket.on('error', (err) => (this.failure ??= err));
    this.closedPromise = new Promise((resolve) => this.socket.once('close', () => resolve(this.onSocketClose())));
    // Writes before 'connect' are buffered by the socket. We announce: no push, our window, and enlarge the
    // connection window (which only WINDOW_UPDATE can do) to the same size.
    this.queue(PREFACE);
    this.queue(settingsFrame([[Setting.ENABLE_PUSH, 0], [Setting.INITIAL_WINDOW_SIZE, this.window]]));
    if (this.window > DEFAULT_WINDOW) this.queue(windowUpdateFrame(0, this.window - DEFAULT_WINDOW));
  }

  /** Streams open now. */
  get active(): number {
    return this.streams.size;
  }

  /** A new stream can be opened now. */
  get canOpen(): boolean {
    return !this.draining && !this.closed && this.streams.size < this.maxStreams;
  }

  /**
   * Opens a stream: the request header block (`block`, sent in HEADERS and CONTINUATION frames as the peer's frame
   * size allows) and `body` with END_STREAM (as the peer's windows allow). Returns the stream id.
   */
  open(block: Buffer, body: Buffer, listener: StreamListener): number {
    if (!this.canOpen) throw new Error('no stream can be opened on this connection');
    const id = this.nextId;
    this.nextId += 2;
    // Stream ids are never reused: a connection that has used them all takes no more calls (RFC 7540 §5.1.1).
    if (this.nextId > MAX_STREAM_ID) this.draining = true;
    const s: Stream = { id, listener, sendWindow: this.peerInitialWindow, body, offset: 0, unacked: 0, sent: false };
    this.streams.set(id, s);
    if (block.length <= this.peerMaxFrame) {
      // The common case, in one buffer: HEADERS, and the DATA frame header when the whole body fits the windows.
      const whole = body.length <= this.peerMaxFrame && body.length <= s.sendWindow && body.length <= this.sendWindow;
      const b = Buffer.allocUnsafe(9 + block.length + (whole ? 9 : 0));
      writeFrameHeader(b, 0, block.length, FrameType.HEADERS, Flag.END_HEADERS, id);
      block.copy(b, 9);
      if (whole) {
        writeFrameHeader(b, 9 + block.length, body.length, FrameType.DATA, Flag.END_STREAM, id);
        this.queue(b);
        if (body.length) this.queue(body);
        s.sendWindow -= body.length;
        this.sendWindow -= body.length;
        s.body = undefined;
        s.sent = true;
        return id;
      }
      this.queue(b);
    } else {
      for (let at = 0; at < block.length; at += this.peerMaxFrame) {
        const part = block.subarray(at, at + this.peerMaxFrame);
        const last = at + this.peerMaxFrame >= block.length;
        this.queue(frame(at === 0 ? FrameType.HEADERS : FrameType.CONTINUATION, last ? Flag.END_HEADERS : 0, id, part));
      }
    }
    this.sendBody(s);
    return id;
  }

  /** Ends a stream from our side (RST_STREAM with `code`); its listener hears nothing more. */
  reset(id: number, code: number = H2Error.CANCEL): void {
    const s = this.streams.get(id);
    if (!s) return;
    this.forget(s);
    if (!this.closed) this.queue(rstStreamFrame(id, code));
  }

  /** Says GOAWAY, fails the streams still open (`detail`) and closes the socket; resolves once it is closed. */
  close(detail = 'client closed'): Promise<void> {
    if (!this.closed && !this.socket.writableEnded) {
      this.draining = true;
      this.closeDetail = detail;
      this.queue(goawayFrame(0, H2Error.NO_ERROR));
      this.flush();
      // Once our GOAWAY is out, nothing more is needed from the peer: a server that keeps its side open (a stream it
      // never answered) must not keep us, or the process, waiting.
      this.socket.end(() => this.socket.destroy());
    }
    return this.closedPromise;
  }

  // ---- sending

  private queue(b: Buffer): void {
    this.out.push(b);
    this.flushing ??= setImmediate(() => this.flush());
  }

  private flush(): void {
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = undefined;
    if (this.out.length === 0 || this.socket.destroyed || this.socket.writableEnded) return void (this.out = []);
    const b = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out);
    this.out = [];
    this.socket.write(b);
  }

  /** Sends what the windows allow of `s`'s body; what is left waits in `blocked` for WINDOW_UPDATE. */
  private sendBody(s: Stream): void {
    const body = s.body;
    if (!body) return;
    while (true) {
      const left = body.length - s.offset;
      const n = Math.min(left, this.peerMaxFrame, s.sendWindow, this.sendWindow);
      if (n <= 0 && left > 0) {
        this.blocked.add(s);
        return;
      }
      const end = n === left;
      const h = Buffer.allocUnsafe(9);
      writeFrameHeader(h, 0, n, FrameType.DATA, end ? Flag.END_STREAM : 0, s.id);
      this.queue(h);
      if (n) this.queue(body.subarray(s.offset, s.offset + n));
      s.offset += n;
      s.sendWindow -= n;
      this.sendWindow -= n;
      if (end) {
        s.body = undefined;
        s.sent = true;
        this.blocked.delete(s);
        return;
      }
    }
  }

  /** Gives newly opened window to blocked streams in order (a snapshot: sendBody may block a stream again). */
  private drainBlocked(): void {
    for (const s of [...this.blocked]) {
      if (this.sendWindow <= 0) return;
      if (s.sendWindow <= 0) continue;
      this.blocked.delete(s);
      this.sendBody(s);
    }
  }

  // ---- receiving

  private onFrame(type: number, flags: number, id: number, payload: Buffer): void {
    if (this.headerStream && type !== FrameType.CONTINUATION) throw new H2ProtocolError(`frame type ${type} inside a header block (CONTINUATION expected)`);
    switch (type) {
      case FrameType.DATA:
        return this.onData(flags, id, payload);
      case FrameType.HEADERS:
        if (id === 0) throw new H2ProtocolError('HEADERS on stream 0');
        this.headerStream = id;
        this.headerEnd = (flags & Flag.END_STREAM) !== 0;
        this.headerParts = [];
        this.headerBytes = 0;
        return this.onHeaderFragment(flags, unpadded(type, flags, payload));
      case FrameType.CONTINUATION:
        if (id !== this.headerStream || id === 0) throw new H2ProtocolError('CONTINUATION without a header block to continue');
        return this.onHeaderFragment(flags, payload);
      case FrameType.RST_STREAM: {
        if (payload.length !== 4) throw new H2ProtocolError('RST_STREAM of the wrong size', H2Error.FRAME_SIZE_ERROR);
        const s = this.streams.get(id);
        if (!s) return;
        const code = payload.readUInt32BE(0);
        this.forget(s);
        if (code === H2Error.REFUSED_STREAM) s.listener.aborted('refused', 'stream refused by the server (REFUSED_STREAM)', code);
        else s.listener.aborted('reset', `stream reset by the server (RST_STREAM ${h2ErrorName(code)})`, code);
        return;
      }
      case FrameType.SETTINGS:
        return this.onSettings(flags, id, payload);
      case FrameType.PING:
        if (payload.length !== 8) throw new H2ProtocolError('PING of the wrong size', H2Error.FRAME_SIZE_ERROR);
        if (!(flags & Flag.ACK)) this.queue(frame(FrameType.PING, Flag.ACK, 0, payload));
        return;
      case FrameType.GOAWAY:
        return this.onGoaway(payload);
      case FrameType.WINDOW_UPDATE: {
        if (payload.length !== 4) throw new H2ProtocolError('WINDOW_UPDATE of the wrong size', H2Error.FRAME_SIZE_ERROR);
        const inc = payload.readUInt32BE(0) & MAX_WINDOW;
        if (id === 0) {
          if (inc === 0) throw new H2ProtocolError('WINDOW_UPDATE of 0 for the connection');
          this.sendWindow += inc;
          if (this.sendWindow > MAX_WINDOW) throw new H2ProtocolError('connection window above 2^31-1', H2Error.FLOW_CONTROL_ERROR);
          return this.drainBlocked();
        }
        const s = this.streams.get(id);
        if (!s) return;
        s.sendWindow += inc;
        if (inc === 0 || s.sendWindow > MAX_WINDOW) {
          this.reset(id, inc === 0 ? H2Error.PROTOCOL_ERROR : H2Error.FLOW_CONTROL_ERROR);
          return s.listener.aborted('reset', `the server broke flow control on the stream (WINDOW_UPDATE of ${inc})`);
        }
        if (this.blocked.has(s)) {
          this.blocked.delete(s);
          this.sendBody(s);
        }
        return;
      }
      case FrameType.PUSH_PROMISE:
        throw new H2ProtocolError('PUSH_PROMISE, though push was disabled');
      default:
        return; // PRIORITY and unknown frame types are ignored (RFC 7540 §4.1, §5.5).
    }
  }

  private onData(flags: number, id: number, payload: Buffer): void {
    if (id === 0) throw new H2ProtocolError('DATA on stream 0');
    // Every DATA frame counts against the connection window, also on streams we have already left.
    this.unacked += payload.length;
    if (this.unacked >= this.window / 2) {
      this.queue(windowUpdateFrame(0, this.unacked));
      this.unacked = 0;
    }
    const s = this.streams.get(id);
    if (!s) return;
    const end = (flags & Flag.END_STREAM) !== 0;
    if (end) this.finish(s);
    else {
      s.unacked += payload.length;
      if (s.unacked >= this.window / 2) {
        this.queue(windowUpdateFrame(id, s.unacked));
        s.unacked = 0;
      }
    }
    s.listener.data(unpadded(FrameType.DATA, flags, payload), end);
  }

  private onHeaderFragment(flags: number, fragment: Buffer): void {
    this.headerBytes += fragment.length;
    if (this.headerBytes > MAX_HEADER_BLOCK) throw new H2ProtocolError(`a header block above ${MAX_HEADER_BLOCK} bytes`);
    this.headerParts.push(fragment);
    if (!(flags & Flag.END_HEADERS)) {
      // The fragment is a view into a read buffer that is reused: keep a copy.
      this.headerParts[this.headerParts.length - 1] = Buffer.from(fragment);
      return;
    }
    const id = this.headerStream;
    const block = this.headerParts.length === 1 ? this.headerParts[0]! : Buffer.concat(this.headerParts);
    this.headerStream = 0;
    this.headerParts = [];
    // Decoded whatever the stream's state: the table must stay in step with the server's.
    const fields = this.hpack.decode(block);
    const s = this.streams.get(id);
    if (!s) return;
    if (this.headerEnd) this.finish(s);
    s.listener.headers(fields, this.headerEnd);
  }

  private onSettings(flags: number, id: number, payload: Buffer): void {
    if (id !== 0) throw new H2ProtocolError('SETTINGS on a stream');
    if (flags & Flag.ACK) return;
    if (payload.length % 6) throw new H2ProtocolError('SETTINGS of the wrong size', H2Error.FRAME_SIZE_ERROR);
    for (let at = 0; at < payload.length; at += 6) {
      const key = payload.readUInt16BE(at);
      const v = payload.readUInt32BE(at + 2);
      if (key === Setting.MAX_CONCURRENT_STREAMS) this.maxStreams = v;
      else if (key === Setting.MAX_FRAME_SIZE) {
        if (v < DEFAULT_MAX_FRAME || v > 0xff_ffff) throw new H2ProtocolError(`SETTINGS_MAX_FRAME_SIZE ${v} out of range`);
        this.peerMaxFrame = v;
      } else if (key === Setting.INITIAL_WINDOW_SIZE) {
        if (v > MAX_WINDOW) throw new H2ProtocolError(`SETTINGS_INITIAL_WINDOW_SIZE ${v} above 2^31-1`, H2Error.FLOW_CONTROL_ERROR);
        // Applies to every open stream, by the difference (RFC 7540 §6.9.2).
        const delta = v - this.peerInitialWindow;
        this.peerInitialWindow = v;
        for (const s of this.streams.values()) s.sendWindow += delta;
      }
      // HEADER_TABLE_SIZE bounds the table of our encoder, which never indexes; the rest do not concern a client.
    }
    this.queue(frame(FrameType.SETTINGS, Flag.ACK, 0));
    this.drainBlocked();
    this.o.onRoom?.();
  }

  private onGoaway(payload: Buffer): void {
    if (payload.length < 8) throw new H2ProtocolError('GOAWAY of the wrong size', H2Error.FRAME_SIZE_ERROR);
    const last = payload.readUInt32BE(0) & MAX_WINDOW;
    const code = payload.readUInt32BE(4);
    const debug = payload.subarray(8).toString('utf8').slice(0, 200);
    this.draining = true;
    const why = `the server sent GOAWAY (${h2ErrorName(code)}${debug ? `: ${debug}` : ''})`;
    // A graceful GOAWAY may follow one with an error (a server that then closes): the error is the news.
    if (code !== H2Error.NO_ERROR || !this.closeDetail) this.closeDetail = why;
    for (const s of [...this.streams.values()]) {
      if (s.id > last) {
        this.forget(s);
        s.listener.aborted('refused', `${why}; the call was not processed`);
      }
    }
    if (this.streams.size === 0) void this.close(why);
  }

  /** The peer ended `s`: it leaves the connection (our side is done too, or is given up with RST_STREAM). */
  private finish(s: Stream): void {
    this.forget(s);
    if (!s.sent) this.queue(rstStreamFrame(s.id, H2Error.NO_ERROR));
  }

  private forget(s: Stream): void {
    if (!this.streams.delete(s.id)) return;
    this.blocked.delete(s);
    if (this.draining && this.streams.size === 0 && !this.closed) queueMicrotask(() => void this.close(this.closeDetail));
    this.o.onRoom?.();
  }

  /** A connection error: GOAWAY with `code` when we can still say it, then the socket goes. */
  private fail(err: Error, code: number = H2Error.PROTOCOL_ERROR): void {
    this.failure ??= err;
    this.draining = true;
    if (!this.socket.destroyed && this.connected) {
      this.queue(goawayFrame(0, code));
      this.flush();
    }
    this.socket.destroy();
  }

  private onSocketClose(): void {
    this.closed = true;
    this.draining = true;
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = undefined;
    this.out = [];
    const f = this.failure as NodeJS.ErrnoException | undefined;
    const detail = f ? `${f.code ?? ''} ${f.message}`.trim() : this.closeDetail || 'the server closed the connection';
    const kind: StreamAbort = this.connected ? 'lost' : 'connect';
    for (const s of [...this.streams.values()]) {
      this.streams.delete(s.id);
      s.listener.aborted(kind, detail);
    }
    this.blocked.clear();
    this.o.onClose?.();
  }
}
