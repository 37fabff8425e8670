import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeTFRecords, maskedCrc32c, readTFRecords } from '../../src/core/savedmodel/tfrecord.js';
import { ModelError } from '../../src/core/errors.js';

test('masked CRC32C follows TensorFlow (crc32c("123456789") = 0xe3069283, then masked)', () => {
  const crc = 0xe3069283;
  const masked = ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
  assert.equal(maskedCrc32c(Buffer.from('123456789')), masked);
});

test('records round-trip, including empty ones, as views into the file', () => {
  const records = [Buffer.from('hello'), Buffer.alloc(0), Buffer.from([0, 1, 2, 255])];
  const file = encodeTFRecords(records);
  assert.equal(file.length, records.reduce((n, r) => n + 16 + r.length, 0));
  const back = readTFRecords(file);
  assert.deepEqual(back.map((b) => Buffer.from(b)), records);
});

test('a flipped data byte or a truncated file is a ModelError naming the record', () => {
  const file = encodeTFRecords([Buffer.from('abc'), Buffer.from('defg')]);
  const bad = Buffer.from(file);
  bad[19 + 12 + 1] ^= 0xff; // second record's data
  assert.throws(() => readTFRecords(bad, 'warmup'), (e: unknown) => e instanceof ModelError && /warmup: record 1 .*corrupt data/.test(e.message));
  assert.throws(() => readTFRecords(file.subarray(0, file.length - 2)), /record 1 .*truncated/);
});
