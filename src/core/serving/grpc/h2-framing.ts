// The gRPC-over-HTTP/2 wire details the node:http2 server (h2-server.ts) needs, from gRPC's PROTOCOL-HTTP2.md:
// length-prefixed messages (1 byte compressed flag, 4 bytes big-endian length, the message), grpc-timeout values,
// percent-encoded grpc-message, and the per-message compression a client may apply (grpc-encoding gzip / deflate).
// Written by hand because this is the measured hot path of every gRPC call (docs/serve.md, "The gRPC path").
import zlib from 'node:zlib';

/** One request message as it came off the wire (still compressed when `compressed`). */
export interface WireMessage {
  compressed: boolean;
  data: Buffer;
}

/** A message announced larger than the limit: refused from its 5-byte prefix, before its bytes are buffered. */
export class MessageTooLarge extends Error {
  constructor(readonly size: number, readonly max: number) {
    // grpc-js's text, so clients see the same whichever server implementation answers.
    super(`Received message larger than max (${size} vs. ${max})`);
  }
}

/**
 * Splits a stream's DATA chunks into length-prefixed messages. A message that arrives whole in one chunk (the common
 * case) is a view of that chunk, not a copy; a split one is copied once into a buffer of its announced size, allocated
 * when its second chunk arrives. A split message announced larger than PREALLOCATE_MAX is kept as the chunks received
 * and joined when complete: what a stream holds is what its client has sent, not what its prefix claims (a prefix
 * announcing 256 MiB followed by silence holds a few bytes, until --body_timeout_ms ends the call).
 */
export const PREALLOCATE_MAX = 1 << 20;

export class MessageReader {
  readonly messages: WireMessage[] = [];
  private readonly head = Buffer.alloc(5);
  private headFill = 0;
  private body: Buffer | undefined;
  private bodyFill = 0;
  /** A large split message: its announced length, and the pieces received so far (views of the chunks). */
  private pieces: Buffer[] | undefined;
  private piecesLength = 0;
  private piecesFill = 0;
  private compressed = false;
  /** The message in `pieces` is one of up to PREALLOCATE_MAX bytes whose buffer is allocated on its second chunk. */
  private deferred = false;

  /** `max`: largest message accepted, in bytes (-1: no limit). */
  constructor(private readonly max: number) {}

  /** Adds a chunk; throws MessageTooLarge as soon as a prefix announces more than the limit. */
  push(chunk: Buffer): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.pieces && this.deferred && this.pieces.length > 0) {
        // A second chunk of a message of up to PREALLOCATE_MAX: now it gets its buffer (see the start of a message).
        this.body = Buffer.allocUnsafe(this.piecesLength);
        let at = 0;
        for (const p of this.pieces) at += p.copy(this.body, at);
        this.bodyFill = at;
        this.pieces = undefined;
        this.deferred = false;
      }
      if (this.pieces) {
        const take = Math.min(this.piecesLength - this.piecesFill, n - i);
        this.pieces.push(chunk.subarray(i, i + take));
        this.piecesFill += take;
        i += take;
        if (this.piecesFill === this.piecesLength) {
          this.messages.push({ compressed: this.compressed, data: Buffer.concat(this.pieces, this.piecesLength) });
          this.pieces = undefined;
        }
        continue;
      }
      if (this.body) {
        const take = Math.min(this.body.length - this.bodyFill, n - i);
        chunk.copy(this.body, this.bodyFill, i, i + take);
        this.bodyFill += take;
        i += take;
        if (this.bodyFill === this.body.length) {
          this.messages.push({ compressed: this.compressed, data: this.body });
          this.body = undefined;
        }
        continue;
      }
      let len: number;
      if (this.headFill === 0 && n - i >= 5) {
        this.compressed = chunk[i] !== 0;
        len = chunk.readUInt32BE(i + 1);
        i += 5;
      } else {
        const take = Math.min(5 - this.headFill, n - i);
        chunk.copy(this.head, this.headFill, i, i + take);
        this.headFill += take;
        i += take;
        if (this.headFill < 5) return;
        this.headFill = 0;
        this.compressed = this.head[0] !== 0;
        len = this.head.readUInt32BE(1);
      }
      if (this.max >= 0 && len > this.max) throw new MessageTooLarge(len, this.max);
      if (n - i >= len) {
        this.messages.push({ compressed: this.compressed, data: chunk.subarray(i, i + len) });
        i += len;
      } else {
        // Held as the chunks received. Up to PREALLOCATE_MAX, only until a second chunk arrives: a call refused on its
        // first bytes (h2-server.ts, admission) never allocates the size its prefix announces.
        this.pieces = [];
        this.piecesLength = len;
        this.piecesFill = 0;
        this.deferred = len <= PREALLOCATE_MAX;
      }
    }
  }

  /**
   * The first message as received so far (admission from its first bytes, h2-server.ts): its compressed flag, its
   * announced length, and the bytes in (a view; for a large split message a copy of at most `upTo` bytes). Undefined
   * until its 5-byte prefix is in.
   */
  firstMessagePrefix(upTo: number): { compressed: boolean; announced: number; bytes: Buffer } | undefined {
    const m = this.messages[0];
    if (m) return { compressed: m.compressed, announced: m.data.length, bytes: m.data };
    if (this.body) return { compressed: this.compressed, announced: this.body.length, bytes: this.body.subarray(0, this.bodyFill) };
    if (this.pieces) {
      const bytes = this.pieces.length === 1 ? this.pieces[0]!.subarray(0, upTo) : Buffer.concat(this.pieces, Math.min(upTo, this.piecesFill));
      return { compressed: this.compressed, announced: this.piecesLength, bytes };
    }
    return undefined;
  }

  /** Bytes held for the message being received (tests: bounded by what was sent, not what was announced). */
  get buffered(): number {
    return this.pieces ? this.piecesFill : this.body ? this.body.length : 0;
  }

  /** Whether a message has begun and not ended (the stream ended mid-message). */
  get partial(): boolean {
    return this.body !== undefined || this.pieces !== undefined || this.headFill > 0;
  }
}

/** `message` with its 5-byte prefix (uncompressed). */
export function frameMessage(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

const TIMEOUT_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000_001 };

/** grpc-timeout ("TimeoutValue TimeoutUnit": at most 8 digits, then H M S m u n) in ms; undefined when malformed. */
export function parseGrpcTimeout(v: string): number | undefined {
  const m = /^(\d{1,8})([HMSmun])$/.exec(v);
  return m ? Number(m[1]) * TIMEOUT_UNIT_MS[m[2]!]! : undefined;
}

/**
 * grpc-message: UTF-8, with bytes outside printable ASCII (and '%') percent-encoded. A space at either end is encoded
 * too: HTTP/2 forbids a field value that starts or ends with whitespace (nghttp2 would drop the header), and TF
 * Serving's messages do end with one ("... default input alias set: ").
 */
export function encodeGrpcMessage(s: string): string {
  if (/^(?! )[\x20-\x24\x26-\x7e]*$/.test(s) && !s.endsWith(' ')) return s;
  const bytes = Buffer.from(s, 'utf8');
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const plain = b >= 0x20 && b <= 0x7e && b !== 0x25 && !(b === 0x20 && (i === 0 || i === bytes.length - 1));
    out += plain ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Encodings a request message may be compressed with (advertised in grpc-accept-encoding). */
export const ACCEPT_ENCODING = 'identity,deflate,gzip';

export type DecompressError = { kind: 'unsupported' } | { kind: 'too-large' } | { kind: 'corrupt' };

/** Inflates a message compressed with `encoding`, refusing output past `max` bytes (-1: none). */
export function decompress(data: Buffer, encoding: string, max: number): Promise<Buffer> {
  const inflate = encoding === 'gzip' ? zlib.gunzip : encoding === 'deflate' ? zlib.inflate : undefined;
  if (!inflate) return Promise.reject<Buffer>({ kind: 'unsupported' } satisfies DecompressError);
  return new Promise((resolve, reject) => {
    inflate(data, max >= 0 ? { maxOutputLength: Math.max(1, max) } : {}, (err, out) => {
      if (!err) resolve(out);
      else reject({ kind: (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? 'too-large' : 'corrupt' } satisfies DecompressError);
    });
  });
}
