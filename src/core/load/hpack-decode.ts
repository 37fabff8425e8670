// HPACK header block decoding (RFC 7541) for bench's HTTP/2 client (h2-connection.ts): servers index and
// Huffman-encode their response headers and trailers, so the client keeps the connection's dynamic table in step and
// decodes every block in order, including blocks of calls it has given up on. Why written here: hpack-huffman.ts.
import { huffmanDecode, HuffmanError } from './hpack-huffman.js';

/** RFC 7541 Appendix A. Index 1 is STATIC[0]. */
const STATIC: readonly (readonly [string, string])[] = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'], [':scheme', 'http'],
  [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'], [':status', '304'], [':status', '400'],
  [':status', '404'], [':status', '500'], ['accept-charset', ''], ['accept-encoding', 'gzip, deflate'], ['accept-language', ''],
  ['accept-ranges', ''], ['accept', ''], ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''],
  ['cache-control', ''], ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''], ['etag', ''], ['expect', ''],
  ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''], ['if-modified-since', ''], ['if-none-match', ''], ['if-range', ''],
  ['if-unmodified-since', ''], ['last-modified', ''], ['link', ''], ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''],
  ['proxy-authorization', ''], ['range', ''], ['referer', ''], ['refresh', ''], ['retry-after', ''], ['server', ''], ['set-cookie', ''],
  ['strict-transport-security', ''], ['transfer-encoding', ''], ['user-agent', ''], ['vary', ''], ['via', ''], ['www-authenticate', ''],
];

/** A header block that cannot be decoded: the connection's table is lost, so the connection ends (COMPRESSION_ERROR). */
export class HpackError extends Error {}

export class HpackDecoder {
  /** Dynamic table, oldest first (dynamic index 1 is the last element). */
  private readonly table: [string, string][] = [];
  private size = 0;
  private maxSize: number;

  /** `limit`: SETTINGS_HEADER_TABLE_SIZE we announced (4096 unless we said otherwise). */
  constructor(private readonly limit = 4096) {
    this.maxSize = limit;
  }

  /** Decodes one whole header block into [name, value, name, value, ...]. */
  decode(b: Buffer): string[] {
    const out: string[] = [];
    const at = { i: 0 };
    try {
      while (at.i < b.length) {
        const first = b[at.i]!;
        if (first & 0x80) {
          const [n, v] = this.entry(integer(b, at, 7));
          out.push(n, v);
        } else if (first & 0x40) {
          const index = integer(b, at, 6);
          const name = index ? this.entry(index)[0] : string(b, at);
          const value = string(b, at);
          this.add(name, value);
          out.push(name, value);
        } else if (first & 0x20) {
          const size = integer(b, at, 5);
          if (size > this.limit) throw new HpackError(`table size update to ${size}, above the ${this.limit} allowed`);
          this.maxSize = size;
          this.evict(0);
        } else {
          // Literal without indexing (0000) or never indexed (0001): the same to a decoder.
          const index = integer(b, at, 4);
          const name = index ? this.entry(index)[0] : string(b, at);
          out.push(name, string(b, at));
        }
      }
    } catch (err) {
      if (err instanceof HuffmanError) throw new HpackError(err.message);
      throw err;
    }
    return out;
  }

  private entry(index: number): readonly [string, string] {
    if (index >= 1 && index <= STATIC.length) return STATIC[index - 1]!;
    const e = this.table[this.table.length - (index - STATIC.length)];
    if (index < 1 || !e) throw new HpackError(`header index ${index} is not in the table (${STATIC.length} static, ${this.table.length} dynamic)`);
    return e;
  }

  private add(name: string, value: string): void {
    const size = name.length + value.length + 32;
    this.evict(size);
    // An entry larger than the table empties it and is not added (RFC 7541 §4.4).
    if (size <= this.maxSize) {
      this.table.push([name, value]);
      this.size += size;
    }
  }

  /** Evicts oldest entries until `room` more bytes fit. */
  private evict(room: number): void {
    let drop = 0;
    while (this.size + room > this.maxSize && drop < this.table.length) {
      const [n, v] = this.table[drop++]!;
      this.size -= n.length + v.length + 32;
    }
    if (drop) this.table.splice(0, drop);
  }
}

/** An integer with an N-bit prefix (RFC 7541 §5.1), advancing `at.i`. */
function integer(b: Buffer, at: { i: number }, prefix: number): number {
  const max = (1 << prefix) - 1;
  let v = b[at.i++]! & max;
  if (v < max) return v;
  let shift = 0;
  for (;;) {
    if (at.i >= b.length) throw new HpackError('header block ends inside an integer');
    const byte = b[at.i++]!;
    v += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(byte & 0x80)) break;
    if (shift > 28) throw new HpackError('integer too large in a header block');
  }
  return v;
}

/** A string literal (RFC 7541 §5.2): H bit, 7-bit-prefix length, then the octets (Huffman-coded when H). */
function string(b: Buffer, at: { i: number }): string {
  if (at.i >= b.length) throw new HpackError('header block ends before a string');
  const huffman = (b[at.i]! & 0x80) !== 0;
  const length = integer(b, at, 7);
  const end = at.i + length;
  if (end > b.length) throw new HpackError('header string longer than its block');
  const s = huffman ? huffmanDecode(b, at.i, end) : b.toString('latin1', at.i, end);
  at.i = end;
  return s;
}
