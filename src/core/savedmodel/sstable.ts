// Reader for the LevelDB table ("SSTable") format that TensorFlow uses for checkpoint indexes (variables.index),
// as written by tensorflow/core/lib/io/table_builder.cc (a copy of LevelDB's):
//
//   [data block 1] ... [data block N] [meta-index block] [index block] [footer: 48 bytes]
//   block    = contents, then a 5-byte trailer: compression type (0 none, 1 snappy) + masked CRC32C of contents+type
//   contents = entries, then uint32 restart offsets, then uint32 restart count
//   entry    = varint32 shared key bytes, varint32 unshared key bytes, varint32 value length, key delta, value
//   footer   = meta-index handle, index handle (each varint64 offset + varint64 size), zero padding to 40 bytes,
//              then the 8-byte magic 0xdb4775248b80fb57 (little-endian)
// The index block maps a separator key to each data block's handle. Everything is read eagerly: indexes are small.
import { createRequire } from 'node:module';
import { ModelError } from '../errors.js';
import { crc32c, unmaskCrc } from './crc32c.js';

// snappy is a native addon that costs 20-35 ms to load, and only older checkpoints need it: today's BundleWriter writes
// index blocks uncompressed (tensor_bundle.cc sets kNoCompression), while older TF1 checkpoints (e.g. half_plus_two)
// compressed them. So it loads on the first compressed block, synchronously like the rest of this reader.
let snappy: typeof import('snappy') | undefined;
function uncompress(contents: Buffer): Buffer {
  snappy ??= createRequire(import.meta.url)('snappy') as typeof import('snappy');
  return snappy.uncompressSync(contents) as Buffer;
}

export interface TableEntry {
  key: Buffer;
  value: Buffer;
}

const FOOTER_LENGTH = 48;
const MAGIC_LO = 0x8b80fb57;
const MAGIC_HI = 0xdb477524;
const TRAILER_LENGTH = 5;

interface BlockHandle {
  offset: number;
  size: number;
}

/** Cursor over a buffer that reads LevelDB varints; `fail` builds the error for malformed input. */
class Cursor {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
    readonly fail: (what: string) => Error,
  ) {}

  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw this.fail('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (!Number.isSafeInteger(result)) throw this.fail('varint out of range');
        return result;
      }
      mul *= 128;
    }
    throw this.fail('malformed varint');
  }

  bytes(n: number): Buffer {
    if (this.pos + n > this.end) throw this.fail('entry runs past the end of its block');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

/**
 * Reads every entry of the table in `bytes` (the whole file), in key order. `file` names the file in errors.
 * Throws ModelError("<file>: <problem>") for a bad magic number, truncation, a block CRC mismatch or malformed blocks.
 */
export function readTable(bytes: Buffer, file: string): TableEntry[] {
  const fail = (what: string) => new ModelError(`${file}: not a valid checkpoint index (${what})`, file);
  if (bytes.length < FOOTER_LENGTH) throw fail(`file is ${bytes.length} bytes, shorter than a table footer`);
  const footerStart = bytes.length - FOOTER_LENGTH;
  if (bytes.readUInt32LE(bytes.length - 8) !== MAGIC_LO || bytes.readUInt32LE(bytes.length - 4) !== MAGIC_HI) {
    throw fail('bad magic number: truncated, or not a TensorFlow checkpoint index');
  }
  const footer = new Cursor(bytes, footerStart, bytes.length - 8, fail);
  footer.varint(); // meta-index handle: TF writes an empty meta-index, and tfsvc needs nothing from it.
  footer.varint();
  const indexHandle: BlockHandle = { offset: footer.varint(), size: footer.varint() };

  const entries: TableEntry[] = [];
  for (const indexEntry of blockEntries(readBlock(bytes, indexHandle, footerStart, fail), fail)) {
    const h = new Cursor(indexEntry.value, 0, indexEntry.value.length, fail);
    const handle: BlockHandle = { offset: h.varint(), size: h.varint() };
    for (const e of blockEntries(readBlock(bytes, handle, footerStart, fail), fail)) entries.push(e);
  }
  return entries;
}

/** Contents of one block, CRC-checked and decompressed. */
function readBlock(bytes: Buffer, handle: BlockHandle, limit: number, fail: (what: string) => Error): Buffer {
  const end = handle.offset + handle.size;
  if (end + TRAILER_LENGTH > limit) throw fail(`block at offset ${handle.offset} runs past the end of the file`);
  const type = bytes[end]!;
  const stored = bytes.readUInt32LE(end + 1);
  const actual = crc32c(bytes.subarray(handle.offset, end + 1));
  if (unmaskCrc(stored) !== actual) throw fail(`CRC mismatch in block at offset ${handle.offset}`);
  const contents = bytes.subarray(handle.offset, end);
  if (type === 0) return contents;
  if (type === 1) {
    try {
      return uncompress(contents);
    } catch (err) {
      throw fail(`snappy block at offset ${handle.offset} does not decompress: ${(err as Error).message}`);
    }
  }
  throw fail(`unknown block compression type ${type} at offset ${handle.offset}`);
}

/** The entries of one block's contents, with prefix-compressed keys expanded. */
function blockEntries(block: Buffer, fail: (what: string) => Error): TableEntry[] {
  if (block.length < 4) throw fail('block too short');
  const numRestarts = block.readUInt32LE(block.length - 4);
  const restartsStart = block.length - 4 * (numRestarts + 1);
  if (restartsStart < 0) throw fail('block restart array is larger than the block');
  const c = new Cursor(block, 0, restartsStart, fail);
  const out: TableEntry[] = [];
  let prev: Buffer = Buffer.alloc(0);
  while (c.pos < restartsStart) {
    const shared = c.varint();
    const unshared = c.varint();
    const valueLength = c.varint();
    if (shared > prev.length) throw fail('key shares more bytes than the previous key has');
    const delta = c.bytes(unshared);
    const key = shared === 0 ? Buffer.from(delta) : Buffer.concat([prev.subarray(0, shared), delta]);
    out.push({ key, value: c.bytes(valueLength) });
    prev = key;
  }
  return out;
}
