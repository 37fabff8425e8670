// The request header block of bench's HTTP/2 client (h2-connection.ts), HPACK-encoded once per (method, metadata)
// and reused for every call (RFC 7541 §6.1, §6.2.2): only static-table references and literals without indexing, no
// Huffman, so encoding changes no table on either side and the same bytes are valid on any connection at any time.

/**
 * A request header block that needs no encoder state: `:method: POST` and `:scheme` from the static table, every
 * other field a literal without indexing and without Huffman, so one block serves every call of a connection.
 */
export function literalHeaderBlock(scheme: 'http' | 'https', fields: [string, string][]): Buffer {
  return Buffer.concat([Buffer.from([0x80 | 3, 0x80 | (scheme === 'http' ? 6 : 7)]), literalFields(fields)]);
}

/** `fields` as literals without indexing, new names, no Huffman (RFC 7541 §6.2.2): valid in any block, any time. */
export function literalFields(fields: [string, string][]): Buffer {
  const parts: number[] = [];
  const int = (v: number, prefix: number, mask: number) => {
    const max = (1 << prefix) - 1;
    if (v < max) return void parts.push(mask | v);
    parts.push(mask | max);
    v -= max;
    while (v >= 128) {
      parts.push((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    parts.push(v);
  };
  const str = (s: string) => {
    const bytes = Buffer.from(s, 'latin1');
    int(bytes.length, 7, 0);
    for (const x of bytes) parts.push(x);
  };
  for (const [name, value] of fields) {
    parts.push(0x00);
    str(name);
    str(value);
  }
  return Buffer.from(parts);
}
