// The HPACK Huffman code (RFC 7541 §5.2, Appendix B), decoding only: bench's HTTP/2 client (h2-connection.ts) must
// read the header blocks servers send, and servers Huffman-encode strings when that is shorter. No npm package for
// HPACK is in this project's dependencies (node:http2 keeps its nghttp2 one inside), and the client never needs to
// encode with it (its requests are literals without Huffman).
//
// Appendix B's code is canonical: codes of one length are consecutive, in symbol order, and each length's first
// code follows the previous length's last. So the code lengths alone (the table's `len` column) define it.

/** Code length in bits of symbols 0..255 and of EOS (256), from RFC 7541 Appendix B. */
const LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];
const EOS = 256;

/** The canonical codes of LENGTHS: [code, length] per symbol. Exported for the tests' encoder. */
export function huffmanCodes(): [code: number, length: number][] {
  const order = LENGTHS.map((len, sym) => ({ len, sym })).sort((a, b) => a.len - b.len || a.sym - b.sym);
  const codes: [number, number][] = new Array(LENGTHS.length);
  let code = 0;
  let len = order[0]!.len;
  for (const e of order) {
    code *= 2 ** (e.len - len);
    len = e.len;
    codes[e.sym] = [code, len];
    code++;
  }
  return codes;
}

// The decoding tree, flattened: node n's children are at next[2n] (bit 0) and next[2n+1] (bit 1); a child value
// >= 0 is a node, < 0 is a leaf for symbol -value-1.
const next = new Int32Array(2 * 2 * LENGTHS.length).fill(0);
{
  let nodes = 1;
  for (const [sym, [code, length]] of huffmanCodes().entries()) {
    let n = 0;
    for (let i = length - 1; i >= 0; i--) {
      const slot = 2 * n + (Math.floor(code / 2 ** i) & 1);
      if (i === 0) next[slot] = -sym - 1;
      else {
        if (next[slot] === 0) next[slot] = nodes++;
        n = next[slot]!;
      }
    }
  }
}

/** Thrown for a string that is not valid Huffman (RFC 7541 §5.2: EOS inside, or padding that is not EOS's prefix). */
export class HuffmanError extends Error {}

/** Decodes `b[start, end)`; latin1 like every HTTP/2 header byte. */
export function huffmanDecode(b: Buffer, start: number, end: number): string {
  const out = Buffer.allocUnsafe(Math.ceil(((end - start) * 8) / 5));
  let o = 0;
  let n = 0;
  // Bits read since the last symbol, and whether they were all ones (the only padding allowed).
  let pending = 0;
  let allOnes = true;
  for (let i = start; i < end; i++) {
    const byte = b[i]!;
    for (let bit = 7; bit >= 0; bit--) {
      const one = (byte >> bit) & 1;
      const v = next[2 * n + one]!;
      pending++;
      allOnes &&= one === 1;
      if (v < 0) {
        const sym = -v - 1;
        if (sym === EOS) throw new HuffmanError('EOS symbol inside a Huffman-coded string');
        out[o++] = sym;
        n = 0;
        pending = 0;
        allOnes = true;
      } else n = v;
    }
  }
  if (pending > 7 || !allOnes) throw new HuffmanError('invalid padding at the end of a Huffman-coded string');
  return out.toString('latin1', 0, o);
}
