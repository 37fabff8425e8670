// Checkpoints written here, byte by byte, the way TensorFlow's table_builder.cc and tensor_bundle.cc write them: many
// data blocks, restart points every 2 keys, snappy or plain blocks, two shards and multi-element string tensors.
// (The real TF-written checkpoints are covered in checkpoint.test.ts; these reach the cases those files don't.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodePlain } from '../../src/core/proto/schema.js';
import { readTable } from '../../src/core/savedmodel/sstable.js';
import { openCheckpoint } from '../../src/core/savedmodel/checkpoint.js';
import { crc32c, maskCrc } from '../../src/core/savedmodel/crc32c.js';
import { tempDir } from './model-copy.js';
import { buildTable, u32, varint } from './table-writer.js';

test('readTable: many blocks, restart points, prefix-compressed keys, snappy and plain', () => {
  const entries: [Buffer, Buffer][] = Array.from({ length: 37 }, (_, i) => [
    Buffer.from(`layer_${String(i).padStart(3, '0')}/kernel`),
    Buffer.from(`value ${i}`.repeat(1 + (i % 3))),
  ]);
  for (const compress of [false, true]) {
    const got = readTable(buildTable(entries, 5, compress), 'x.index');
    assert.deepEqual(got.map((e) => e.key.toString()), entries.map(([k]) => k.toString()));
    assert.deepEqual(got.map((e) => e.value.toString()), entries.map(([, v]) => v.toString()));
  }
});

/** Shard bytes of a string tensor and its entry CRC, as tensor_bundle.cc's WriteStringTensor computes them. */
function stringTensorBytes(strings: Buffer[]): { bytes: Buffer; crc: number } {
  let crc = 0;
  for (const s of strings) crc = crc32c(u32(s.length), crc);
  const lengthChecksum = u32(maskCrc(crc));
  crc = crc32c(lengthChecksum, crc);
  for (const s of strings) crc = crc32c(s, crc);
  return { bytes: Buffer.concat([...strings.map((s) => varint(s.length)), lengthChecksum, ...strings]), crc };
}

test('openCheckpoint: two shards, a string tensor of 3 elements, int16 and bool tensors', async (t) => {
  const dir = tempDir(t);
  const prefix = path.join(dir, 'variables');
  const strings = [Buffer.from('vocab'), Buffer.alloc(0), Buffer.alloc(200, 0x61)];
  const str = stringTensorBytes(strings);
  const floats = Buffer.from(new Float32Array([1.5, -2, 0.25, 8]).buffer);
  const int16 = Buffer.from(new Int16Array([-7, 300]).buffer);
  const bools = Buffer.from([1, 0, 1]);
  // Shard 0: floats then int16 (TF pads nothing between entries for these); shard 1: bools then the strings.
  writeFileSync(`${prefix}.data-00000-of-00002`, Buffer.concat([floats, int16]));
  writeFileSync(`${prefix}.data-00001-of-00002`, Buffer.concat([bools, str.bytes]));
  const entry = (e: Record<string, unknown>) => Buffer.from(encodePlain('tensorflow.BundleEntryProto', e));
  const shape = (...dims: number[]) => ({ dim: dims.map((size) => ({ size })) });
  const entries: [Buffer, Buffer][] = [
    [Buffer.alloc(0), Buffer.from(encodePlain('tensorflow.BundleHeaderProto', { numShards: 2, version: { producer: 1 } }))],
    [Buffer.from('dense/bias'), entry({ dtype: 'DT_BOOL', shape: shape(3), shardId: 1, offset: 0, size: 3, crc32c: maskCrc(crc32c(bools)) })],
    [Buffer.from('dense/kernel'), entry({ dtype: 'DT_FLOAT', shape: shape(2, 2), shardId: 0, offset: 0, size: 16, crc32c: maskCrc(crc32c(floats)) })],
    [Buffer.from('dense/steps'), entry({ dtype: 'DT_INT16', shape: shape(2), shardId: 0, offset: 16, size: 4, crc32c: maskCrc(crc32c(int16)) })],
    [Buffer.from('vocab'), entry({ dtype: 'DT_STRING', shape: shape(3), shardId: 1, offset: 3, size: str.bytes.length, crc32c: maskCrc(str.crc) })],
  ];
  writeFileSync(`${prefix}.index`, buildTable(entries, 2, true));

  const ck = await openCheckpoint(prefix);
  assert.equal(ck.header.numShards, 2);
  assert.deepEqual(ck.keys(), ['dense/bias', 'dense/kernel', 'dense/steps', 'vocab']);
  assert.deepEqual(Array.from(ck.read('dense/kernel').data as Float32Array), [1.5, -2, 0.25, 8]);
  assert.deepEqual(ck.read('dense/kernel').shape, [2, 2]);
  assert.deepEqual(Array.from(ck.read('dense/steps').data as Int32Array), [-7, 300]);
  assert.deepEqual(Array.from(ck.read('dense/bias').data as Uint8Array), [1, 0, 1]);
  const v = ck.read('vocab');
  assert.deepEqual((v.data as Uint8Array[]).map((s) => Buffer.from(s).toString()), strings.map((s) => s.toString()));
  assert.equal(ck.objectGraph(), undefined);
  assert.throws(() => ck.read('nope'), /checkpoint has no variable "nope"/);

  // Corrupt one string byte: the entry CRC catches it; corrupt a length: the length checksum catches it.
  const shard1 = `${prefix}.data-00001-of-00002`;
  const good = Buffer.concat([bools, str.bytes]);
  const badByte = Buffer.from(good);
  badByte[badByte.length - 1] ^= 1;
  writeFileSync(shard1, badByte);
  assert.throws(() => ck.read('vocab'), /CRC32C mismatch for variable "vocab"/);
  const badLength = Buffer.from(good);
  badLength[3] = 4; // first element's length: 5 → 4
  writeFileSync(shard1, badLength);
  assert.throws(() => ck.read('vocab'), /string length checksum mismatch for variable "vocab"/);
});
