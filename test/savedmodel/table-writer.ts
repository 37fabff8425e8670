// Writes LevelDB tables the way TensorFlow's table_builder.cc does, for tests of the checkpoint index reader and of
// commands that read hand-made checkpoints.
import snappy from 'snappy';
import { crc32c, maskCrc } from '../../src/core/savedmodel/crc32c.js';

export function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Buffer.from(out);
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

/** One block's contents: prefix-compressed entries with a restart point every `interval` keys. */
function blockContents(entries: [Buffer, Buffer][], interval = 2): Buffer {
  const parts: Buffer[] = [];
  const restarts: number[] = [];
  let size = 0;
  let prev: Buffer = Buffer.alloc(0);
  entries.forEach(([key, value], i) => {
    let shared = 0;
    if (i % interval === 0) restarts.push(size);
    else while (shared < prev.length && shared < key.length && prev[shared] === key[shared]) shared++;
    const e = Buffer.concat([varint(shared), varint(key.length - shared), varint(value.length), key.subarray(shared), value]);
    parts.push(e);
    size += e.length;
    prev = key;
  });
  if (restarts.length === 0) restarts.push(0);
  return Buffer.concat([...parts, ...restarts.map(u32), u32(restarts.length)]);
}

/** A whole table: data blocks of `perBlock` entries, an empty meta-index, the index block and the footer. */
export function buildTable(entries: [Buffer, Buffer][], perBlock: number, compress: boolean): Buffer {
  const file: Buffer[] = [];
  let offset = 0;
  const writeBlock = (contents: Buffer) => {
    const body = compress ? (snappy.compressSync(contents) as Buffer) : contents;
    const type = Buffer.from([compress ? 1 : 0]);
    const trailer = Buffer.concat([type, u32(maskCrc(crc32c(Buffer.concat([body, type]))))]);
    const handle = Buffer.concat([varint(offset), varint(body.length)]);
    file.push(body, trailer);
    offset += body.length + trailer.length;
    return handle;
  };
  const index: [Buffer, Buffer][] = [];
  for (let i = 0; i < entries.length; i += perBlock) {
    const chunk = entries.slice(i, i + perBlock);
    index.push([chunk[chunk.length - 1]![0], writeBlock(blockContents(chunk))]);
  }
  const meta = writeBlock(blockContents([]));
  const idx = writeBlock(blockContents(index, 1));
  const handles = Buffer.concat([meta, idx]);
  const footer = Buffer.concat([handles, Buffer.alloc(40 - handles.length), u32(0x8b80fb57), u32(0xdb477524)]);
  return Buffer.concat([...file, footer]);
}

