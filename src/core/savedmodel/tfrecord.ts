// TFRecord files (TensorFlow's record container, used by assets.extra/tf_serving_warmup_requests): read and write.
// Each record is: uint64 LE length | uint32 LE masked_crc32c(length bytes) | data | uint32 LE masked_crc32c(data).
// The CRCs are masked CRC-32C, like every CRC TensorFlow stores (crc32c.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { ModelError } from '../errors.js';
import { crc32c, maskCrc } from './crc32c.js';

/** TensorFlow's masked CRC32C of `data`, as TFRecord framing stores it. */
export function maskedCrc32c(data: Uint8Array): number {
  return maskCrc(crc32c(data));
}

/**
 * Splits a TFRecord file's bytes into its records (views into `bytes`, not copies). Throws ModelError naming `file`
 * (when given) and the record index on a truncated file or a CRC mismatch, so a corrupt warmup file is reported, not
 * half-replayed.
 */
export function readTFRecords(bytes: Uint8Array, file?: string): Uint8Array[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: Uint8Array[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const where = `${file ?? 'TFRecord data'}: record ${records.length} at byte ${pos}`;
    if (pos + 12 > buf.length) throw new ModelError(`${where}: truncated header`, file);
    const lenBytes = buf.subarray(pos, pos + 8);
    const length = buf.readBigUInt64LE(pos);
    if (buf.readUInt32LE(pos + 8) !== maskedCrc32c(lenBytes)) throw new ModelError(`${where}: corrupt length (CRC mismatch)`, file);
    if (length > BigInt(buf.length - pos - 16)) throw new ModelError(`${where}: truncated data (${length} bytes announced)`, file);
    const n = Number(length);
    const data = buf.subarray(pos + 12, pos + 12 + n);
    if (buf.readUInt32LE(pos + 12 + n) !== maskedCrc32c(data)) throw new ModelError(`${where}: corrupt data (CRC mismatch)`, file);
    records.push(data);
    pos += 16 + n;
  }
  return records;
}

/** Encodes records as one TFRecord file's bytes (no compression), readable by TensorFlow's TFRecordReader. */
export function encodeTFRecords(records: Iterable<Uint8Array>): Buffer {
  const parts: Buffer[] = [];
  for (const data of records) {
    const header = Buffer.alloc(12);
    header.writeBigUInt64LE(BigInt(data.byteLength), 0);
    header.writeUInt32LE(maskedCrc32c(header.subarray(0, 8)), 8);
    const footer = Buffer.alloc(4);
    footer.writeUInt32LE(maskedCrc32c(data), 0);
    parts.push(header, Buffer.from(data.buffer, data.byteOffset, data.byteLength), footer);
  }
  return Buffer.concat(parts);
}

export function readTFRecordFile(file: string): Uint8Array[] {
  return readTFRecords(readFileSync(file), file);
}

export function writeTFRecordFile(file: string, records: Iterable<Uint8Array>): void {
  writeFileSync(file, encodeTFRecords(records));
}
