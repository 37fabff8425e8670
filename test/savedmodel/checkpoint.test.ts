import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { openCheckpoint, OBJECT_GRAPH_KEY } from '../../src/core/savedmodel/checkpoint.js';
import { crc32c, maskCrc, unmaskCrc } from '../../src/core/savedmodel/crc32c.js';
import { ModelError } from '../../src/core/errors.js';
import { needsShared, sharedModel } from '../helpers/shared-models.js';
import { copyModel } from './model-copy.js';

const HALF_PLUS_TWO = 'tfserving/saved_model_half_plus_two_cpu/00000123';
const prefixOf = (dir: string) => path.join(dir, 'variables', 'variables');

test('crc32c: known vector and TF mask round trip', () => {
  // The standard CRC-32C check value of "123456789".
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  for (const v of [0, 1, 0xe3069283, 0xffffffff, 0x12345678]) assert.equal(unmaskCrc(maskCrc(v)), v);
  assert.notEqual(maskCrc(0x12345678), 0x12345678);
});

test('TF1 checkpoint with snappy index blocks: half_plus_two a=0.5, b=2.0', needsShared, async (t) => {
  const ck = await openCheckpoint(prefixOf(sharedModel(HALF_PLUS_TWO, t)));
  assert.equal(ck.header.numShards, 1);
  assert.deepEqual(ck.keys(), ['a', 'a2', 'b', 'c', 'c2']);
  const a = ck.read('a');
  assert.equal(a.dtype, 'DT_FLOAT');
  assert.deepEqual(a.shape, []);
  assert.deepEqual(Array.from(a.data as Float32Array), [0.5]);
  assert.deepEqual(Array.from(ck.read('b').data as Float32Array), [2]);
  assert.equal(ck.objectGraph(), undefined, 'TF1 checkpoints have no object graph');
  assert.equal(ck.entry('b').shardId ?? 0, 0);
});

test('half_plus_three b=3.0', needsShared, async (t) => {
  const ck = await openCheckpoint(prefixOf(sharedModel('tfserving/saved_model_half_plus_three/00000123', t)));
  assert.deepEqual(Array.from(ck.read('b').data as Float32Array), [3]);
});

test('TF2 checkpoint: object graph string tensor decodes and names every variable key', needsShared, async (t) => {
  const ck = await openCheckpoint(prefixOf(sharedModel('tfserving/saved_model_half_plus_two_tf2_cpu/00000123', t)));
  const raw = ck.read(OBJECT_GRAPH_KEY);
  assert.equal(raw.dtype, 'DT_STRING');
  assert.equal((raw.data as Uint8Array[]).length, 1);
  const graph = ck.objectGraph();
  assert.ok(graph?.nodes?.length);
  const keys = graph!.nodes!.flatMap((n) => (n.attributes ?? []).map((a) => a.checkpointKey));
  for (const k of ck.keys().filter((k) => k !== OBJECT_GRAPH_KEY)) assert.ok(keys.includes(k), `object graph names ${k}`);
  assert.deepEqual(Array.from(ck.read('a/.ATTRIBUTES/VARIABLE_VALUE').data as Float32Array), [0.5]);
  assert.deepEqual(Array.from(ck.read('b/.ATTRIBUTES/VARIABLE_VALUE').data as Float32Array), [2]);
});

test('int64 and int32 variables read with their dtypes', needsShared, async (t) => {
  const ck = await openCheckpoint(prefixOf(sharedModel('tfjs/int64_multiply', t)));
  const v = ck.read('v1/.ATTRIBUTES/VARIABLE_VALUE');
  assert.equal(v.dtype, 'DT_INT64');
  assert.ok(v.data instanceof BigInt64Array);
  const ck2 = await openCheckpoint(prefixOf(sharedModel('tfjs/times_two_int', t)));
  const w = ck2.read('v/.ATTRIBUTES/VARIABLE_VALUE');
  assert.equal(w.dtype, 'DT_INT32');
  assert.deepEqual(Array.from(w.data as Int32Array), [2]);
});

test('Keras 2 dense kernel [784,10] reads in full and its CRC checks', needsShared, async (t) => {
  const ck = await openCheckpoint(prefixOf(sharedModel('keras/mnist_dense_keras2/1', t)));
  const k = ck.read('layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE');
  assert.deepEqual(k.shape, [784, 10]);
  assert.equal((k.data as Float32Array).length, 7840);
  assert.ok((k.data as Float32Array).some((x) => x !== 0));
});

test('a flipped byte in a data shard is a CRC error naming the variable and the shard', needsShared, async (t) => {
  const dir = copyModel(sharedModel(HALF_PLUS_TWO, t), t);
  const prefix = prefixOf(dir);
  const ck0 = await openCheckpoint(prefix);
  const e = ck0.entry('b');
  const shard = ck0.shardFile(0);
  const bytes = readFileSync(shard);
  bytes[e.offset ?? 0] ^= 0x40;
  writeFileSync(shard, bytes);
  const ck = await openCheckpoint(prefix);
  assert.deepEqual(Array.from(ck.read('a').data as Float32Array), [0.5], 'other variables still read');
  assert.throws(() => ck.read('b'), (err: unknown) => {
    assert.ok(err instanceof ModelError);
    assert.match(err.message, /CRC32C mismatch/);
    assert.match(err.message, /"b"/);
    assert.ok(err.message.includes(shard), err.message);
    return true;
  });
});

test('a missing data shard is reported at open, naming the shard', needsShared, async (t) => {
  const dir = copyModel(sharedModel(HALF_PLUS_TWO, t), t);
  const shard = `${prefixOf(dir)}.data-00000-of-00001`;
  rmSync(shard);
  await assert.rejects(openCheckpoint(prefixOf(dir)), (err: unknown) => {
    assert.ok(err instanceof ModelError);
    assert.ok(err.message.startsWith(shard), err.message);
    assert.match(err.message, /missing/);
    return true;
  });
});

test('a truncated data shard is reported at open', needsShared, async (t) => {
  const dir = copyModel(sharedModel('keras/mnist_dense_keras2/1', t), t);
  const shard = `${prefixOf(dir)}.data-00000-of-00001`;
  truncateSync(shard, Math.floor(statSync(shard).size / 2));
  await assert.rejects(openCheckpoint(prefixOf(dir)), /truncated/);
});

test('a truncated or garbage index is a one-line error naming the index file', needsShared, async (t) => {
  const dir = copyModel(sharedModel(HALF_PLUS_TWO, t), t);
  const index = `${prefixOf(dir)}.index`;
  const good = readFileSync(index);
  truncateSync(index, good.length - 10);
  await assert.rejects(openCheckpoint(prefixOf(dir)), (err: unknown) => {
    assert.ok(err instanceof ModelError);
    assert.ok(err.message.startsWith(index));
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });
  writeFileSync(index, Buffer.from('not a table at all, just some text that is long enough to hold a footer......'));
  await assert.rejects(openCheckpoint(prefixOf(dir)), /bad magic number/);
  // A flipped byte inside a block breaks that block's CRC.
  const flipped = Buffer.from(good);
  flipped[3] ^= 0xff;
  writeFileSync(index, flipped);
  await assert.rejects(openCheckpoint(prefixOf(dir)), /CRC mismatch/);
});

test('a missing index is a ModelError naming it', async () => {
  await assert.rejects(openCheckpoint('/nonexistent/variables/variables'), /\/nonexistent\/variables\/variables\.index: cannot read checkpoint index/);
});
