// TensorFlow's V2 checkpoint ("tensor bundle") reader, after tensorflow/core/util/tensor_bundle/tensor_bundle.cc.
//
// A checkpoint at `prefix` (a SavedModel's is `<dir>/variables/variables`) is:
//   prefix.index                   LevelDB table (sstable.ts): key "" → BundleHeaderProto, then each variable's
//                                  checkpoint key → BundleEntryProto {dtype, shape, shard_id, offset, size, crc32c}
//   prefix.data-NNNNN-of-MMMMM     raw tensor bytes; entry (shard_id, offset, size) locates each tensor
// Fixed-size tensors are their little-endian elements. String tensors are
//   [varint64 length of each element][4-byte masked CRC32C of the lengths][element bytes, concatenated]
// and their entry CRC covers the lengths (each as a little-endian uint32, or uint64 when it doesn't fit), the stored
// length checksum, then the element bytes. Every entry's CRC is checked on read, as TensorFlow does.
import { openSync, readSync, closeSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { decodePlain } from '../proto/schema.js';
import { ModelError } from '../errors.js';
import type { HostTensor } from './host-tensor.js';
import type { BundleEntryProto, BundleHeaderProto, TrackableObjectGraph } from './types.js';
import { readTable } from './sstable.js';
import { crc32c, unmaskCrc } from './crc32c.js';
import { decodeElements, numElements, UnsupportedDtypeError } from './dtype.js';

/** Checkpoint key of the serialized TrackableObjectGraph in TF2 checkpoints (a scalar string tensor). */
export const OBJECT_GRAPH_KEY = '_CHECKPOINTABLE_OBJECT_GRAPH';

export interface Checkpoint {
  /** The prefix the checkpoint was opened with, e.g. `<dir>/variables/variables`. */
  readonly prefix: string;
  /** `<prefix>.index`. */
  readonly indexFile: string;
  readonly header: BundleHeaderProto;
  /** Every tensor's checkpoint key in key order (the header entry excluded). */
  keys(): string[];
  has(key: string): boolean;
  /** The index entry of `key`; throws ModelError when there is none. */
  entry(key: string): BundleEntryProto;
  /** Shape of `key`'s tensor from its index entry (no data read). */
  shape(key: string): number[];
  /** Path of data shard `shardId`: `<prefix>.data-0000S-of-0000N`. */
  shardFile(shardId: number): string;
  /**
   * Reads one tensor from its shard (synchronously; the caller owns the result). Verifies the entry's masked CRC32C and
   * throws ModelError naming the key and the shard file on mismatch, truncation or an unsupported dtype.
   */
  read(key: string): HostTensor;
  /**
   * Whether read(key) has already read this entry's bytes and found its CRC32C right. Lets a caller that must check
   * every entry (validate's checksums) skip the ones the engine already read, e.g. the object graph.
   */
  verified(key: string): boolean;
  /** The TF2 object graph stored under '_CHECKPOINTABLE_OBJECT_GRAPH', or undefined for TF1 checkpoints. */
  objectGraph(): TrackableObjectGraph | undefined;
}

/**
 * Opens the checkpoint at `prefix`: reads and checks the whole index, and checks that every shard an entry names exists
 * and is long enough. Throws ModelError("<file>: <problem>") otherwise.
 */
export async function openCheckpoint(prefix: string): Promise<Checkpoint> {
  const indexFile = `${prefix}.index`;
  let bytes: Buffer;
  try {
    bytes = await readFile(indexFile);
  } catch (err) {
    throw new ModelError(`${indexFile}: cannot read checkpoint index (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, indexFile, { cause: err });
  }
  const table = readTable(bytes, indexFile);
  if (table.length === 0 || table[0]!.key.length !== 0) {
    throw new ModelError(`${indexFile}: not a TensorFlow checkpoint index (no header entry)`, indexFile);
  }
  const header = decodeEntry<BundleHeaderProto>('tensorflow.BundleHeaderProto', table[0]!.value, indexFile, '(header)');
  if (header.endianness === 'BIG') {
    throw new ModelError(`${indexFile}: big-endian checkpoints are not supported`, indexFile);
  }
  const numShards = header.numShards ?? 0;
  const entries = new Map<string, BundleEntryProto>();
  for (const { key, value } of table.slice(1)) {
    const k = key.toString('utf8');
    entries.set(k, decodeEntry<BundleEntryProto>('tensorflow.BundleEntryProto', value, indexFile, k));
  }

  const shardFile = (id: number) => `${prefix}.data-${pad5(id)}-of-${pad5(numShards)}`;
  // Check every shard the entries name up front, so a missing or cut-short shard is reported at open, not mid-run.
  const shardSizes = new Map<number, number>();
  for (const [key, e] of entries) {
    if (e.slices?.length) continue; // partitioned: the entry holds no data of its own
    const id = e.shardId ?? 0;
    if (id >= numShards) {
      throw new ModelError(`${indexFile}: variable "${key}" names shard ${id} but the header says there are ${numShards}`, indexFile);
    }
    let size = shardSizes.get(id);
    if (size === undefined) {
      const file = shardFile(id);
      try {
        size = (await stat(file)).size;
      } catch {
        throw new ModelError(`${file}: checkpoint data shard is missing (named by ${indexFile})`, file);
      }
      shardSizes.set(id, size);
    }
    const end = (e.offset ?? 0) + (e.size ?? 0);
    if (end > size) {
      throw new ModelError(`${shardFile(id)}: data shard is truncated: variable "${key}" needs bytes up to ${end}, the file has ${size}`, shardFile(id));
    }
  }

  let objectGraph: TrackableObjectGraph | undefined | null = null;
  const verified = new Set<string>();
  const entry = (key: string): BundleEntryProto => {
    const e = entries.get(key);
    if (!e) throw new ModelError(`${indexFile}: checkpoint has no variable "${key}"`, indexFile);
    return e;
  };

  const checkpoint: Checkpoint = {
    prefix,
    indexFile,
    header,
    keys: () => [...entries.keys()],
    has: (key) => entries.has(key),
    entry,
    shape: (key) => (entry(key).shape?.dim ?? []).map((d) => d.size ?? 0),
    shardFile,
    read(key) {
      const e = entry(key);
      const file = shardFile(e.shardId ?? 0);
      const dtype = e.dtype ?? 'DT_INVALID';
      if (e.slices?.length) throw new ModelError(`${indexFile}: variable "${key}" is partitioned into slices, which tfsvc does not read`, indexFile);
      const shape = checkpoint.shape(key);
      const n = numElements(shape);
      const bytes = readRange(file, e.offset ?? 0, e.size ?? 0, key);
      const bad = (what: string) => new ModelError(`${file}: ${what} for variable "${key}" (the file is corrupt)`, file);
      if (dtype === 'DT_STRING') {
        const { strings, crc } = decodeStrings(bytes, n, bad);
        if (crc !== unmaskCrc(e.crc32c ?? 0)) throw bad('CRC32C mismatch');
        verified.add(key);
        return { dtype, shape, data: strings };
      }
      if (crc32c(bytes) !== unmaskCrc(e.crc32c ?? 0)) throw bad('CRC32C mismatch');
      verified.add(key);
      try {
        return { dtype, shape, data: decodeElements(dtype, bytes, n) };
      } catch (err) {
        if (err instanceof UnsupportedDtypeError) {
          throw new ModelError(`${file}: variable "${key}" has dtype ${dtype}, which tfsvc cannot read`, file);
        }
        throw bad((err as Error).message);
      }
    },
    verified: (key) => verified.has(key),
    objectGraph() {
      if (objectGraph === null) {
        objectGraph = undefined;
        if (entries.has(OBJECT_GRAPH_KEY)) {
          const t = checkpoint.read(OBJECT_GRAPH_KEY);
          const raw = (t.data as Uint8Array[])[0];
          if (raw) objectGraph = decodeEntry<TrackableObjectGraph>('tensorflow.TrackableObjectGraph', raw, shardFile(entry(OBJECT_GRAPH_KEY).shardId ?? 0), OBJECT_GRAPH_KEY);
        }
      }
      return objectGraph;
    },
  };
  return checkpoint;
}

function pad5(n: number): string {
  return String(n).padStart(5, '0');
}

function decodeEntry<T>(type: string, bytes: Uint8Array, file: string, key: string): T {
  try {
    return decodePlain<T>(type, bytes);
  } catch (err) {
    throw new ModelError(`${file}: entry "${key}" is not a valid ${type.replace('tensorflow.', '')} (${(err as Error).message})`, file, { cause: err });
  }
}

/** `size` bytes at `offset` of `file`, in a fresh buffer. */
function readRange(file: string, offset: number, size: number, key: string): Buffer {
  const buf = Buffer.alloc(size);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new ModelError(`${file}: cannot open checkpoint data shard for variable "${key}" (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, file, { cause: err });
  }
  try {
    let done = 0;
    while (done < size) {
      const got = readSync(fd, buf, done, size - done, offset + done);
      if (got === 0) throw new ModelError(`${file}: data shard is truncated at variable "${key}" (needs bytes up to ${offset + size})`, file);
      done += got;
    }
  } finally {
    closeSync(fd);
  }
  return buf;
}

/** Decodes a string tensor's shard bytes (layout in the file comment); returns the elements and the running CRC. */
function decodeStrings(bytes: Buffer, n: number, bad: (what: string) => Error): { strings: Uint8Array[]; crc: number } {
  if (bytes.length === 0 && n === 0) return { strings: [], crc: 0 };
  const lengths: number[] = [];
  let pos = 0;
  let crc = 0;
  const word = Buffer.alloc(8);
  for (let i = 0; i < n; i++) {
    let len = 0;
    let mul = 1;
    for (;;) {
      if (pos >= bytes.length) throw bad('string lengths run past the entry');
      const b = bytes[pos++]!;
      len += (b & 0x7f) * mul;
      if (b < 0x80) break;
      mul *= 128;
      if (mul > 2 ** 63) throw bad('malformed string length');
    }
    lengths.push(len);
    if (len <= 0xffffffff) {
      word.writeUInt32LE(len, 0);
      crc = crc32c(word.subarray(0, 4), crc);
    } else {
      word.writeBigUInt64LE(BigInt(len), 0);
      crc = crc32c(word, crc);
    }
  }
  if (pos + 4 > bytes.length) throw bad('string length checksum is missing');
  const lengthChecksum = bytes.subarray(pos, pos + 4);
  if (unmaskCrc(lengthChecksum.readUInt32LE(0)) !== crc) throw bad('string length checksum mismatch');
  crc = crc32c(lengthChecksum, crc);
  pos += 4;
  const strings: Uint8Array[] = [];
  for (const len of lengths) {
    if (pos + len > bytes.length) throw bad('string bytes run past the entry');
    const s = bytes.subarray(pos, pos + len);
    crc = crc32c(s, crc);
    strings.push(s);
    pos += len;
  }
  return { strings, crc };
}
