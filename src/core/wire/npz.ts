// NumPy's .npz archives (numpy.savez / savez_compressed): a zip file with one NAME.npy entry per array, stored or
// deflated. Read by walking the central directory (sizes and offsets are exact there; numpy writes its local headers
// with zip64 placeholders), with zip64 extra fields, and node:zlib for deflate. Nothing else of zip is needed.
import { inflateRawSync } from 'node:zlib';
import { UsageError } from '../errors.js';

const EOCD = 0x06054b50;
const ZIP64_EOCD_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX32 = 0xffffffff;

export interface ZipEntry {
  name: string;
  data: Buffer;
}

/** The end-of-central-directory record: where the central directory starts and how many entries it has. */
function centralDirectory(b: Buffer, where: string): { offset: number; count: number } {
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 0xffff); i--) {
    if (b.readUInt32LE(i) !== EOCD) continue;
    let count = b.readUInt16LE(i + 10);
    let offset = b.readUInt32LE(i + 16);
    if ((offset === MAX32 || count === 0xffff) && i >= 20 && b.readUInt32LE(i - 20) === ZIP64_EOCD_LOCATOR) {
      const z = Number(b.readBigUInt64LE(i - 20 + 8));
      if (b.readUInt32LE(z) !== ZIP64_EOCD) throw new UsageError(`${where}: broken zip64 end record`);
      count = Number(b.readBigUInt64LE(z + 32));
      offset = Number(b.readBigUInt64LE(z + 48));
    }
    return { offset, count };
  }
  throw new UsageError(`${where}: not a zip (.npz) file: no end of central directory`);
}

/** Every entry of a zip archive, decompressed. */
export function readZip(bytes: Uint8Array, where: string): ZipEntry[] {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { offset, count } = centralDirectory(b, where);
  const entries: ZipEntry[] = [];
  let p = offset;
  for (let k = 0; k < count; k++) {
    if (p + 46 > b.length || b.readUInt32LE(p) !== CENTRAL) throw new UsageError(`${where}: broken zip central directory`);
    const method = b.readUInt16LE(p + 10);
    let compressed = b.readUInt32LE(p + 20);
    let size = b.readUInt32LE(p + 24);
    const nameLen = b.readUInt16LE(p + 28);
    const extraLen = b.readUInt16LE(p + 30);
    const commentLen = b.readUInt16LE(p + 32);
    let local = b.readUInt32LE(p + 42);
    const name = b.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    // zip64 extra field (id 1): the 64-bit values, in this order, of exactly the fields that read 0xFFFFFFFF.
    let e = p + 46 + nameLen;
    const end = e + extraLen;
    while (e + 4 <= end) {
      const id = b.readUInt16LE(e);
      const len = b.readUInt16LE(e + 2);
      if (id === 1) {
        let q = e + 4;
        if (size === MAX32) (size = Number(b.readBigUInt64LE(q))), (q += 8);
        if (compressed === MAX32) (compressed = Number(b.readBigUInt64LE(q))), (q += 8);
        if (local === MAX32) local = Number(b.readBigUInt64LE(q));
      }
      e += 4 + len;
    }
    if (b.readUInt32LE(local) !== LOCAL) throw new UsageError(`${where}: broken zip entry ${name}`);
    const start = local + 30 + b.readUInt16LE(local + 26) + b.readUInt16LE(local + 28);
    const raw = b.subarray(start, start + compressed);
    let data: Buffer;
    if (method === 0) data = Buffer.from(raw);
    else if (method === 8) data = inflateRawSync(raw);
    else throw new UsageError(`${where}: entry ${name} uses zip compression method ${method}; only stored and deflate are read`);
    if (data.length !== size) throw new UsageError(`${where}: entry ${name} is ${data.length} bytes, its header says ${size}`);
    entries.push({ name, data });
    p = end + commentLen;
  }
  return entries;
}

/** The arrays of an .npz archive by name (the entry name without ".npy"), still as .npy bytes. */
export function readNpz(bytes: Uint8Array, where: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const e of readZip(bytes, where)) out.set(e.name.replace(/\.npy$/, ''), e.data);
  return out;
}
