// TensorProto int64_val / uint64_val hold tensor values, any 64-bit integer: they must decode exactly, not through a
// float64 number (exact only below 2^53). The TensorProtos here are encoded by hand (varints written below), so the
// test does not rely on protobufjs' encoder to produce what it then decodes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePlain, encodePlain } from '../../src/core/proto/schema.js';
import { tensorProtoToHost } from '../../src/core/savedmodel/tensor.js';
import type { MetaGraphDef, TensorProto } from '../../src/core/savedmodel/types.js';

/** Protobuf base-128 varint of an unsigned 64-bit value (negative int64 values are written as their 2^64 complement). */
function varint(v: bigint): number[] {
  let u = BigInt.asUintN(64, v);
  const out: number[] = [];
  do {
    let b = Number(u & 0x7fn);
    u >>= 7n;
    if (u) b |= 0x80;
    out.push(b);
  } while (u);
  return out;
}

/** TensorProto { dtype = 1; tensor_shape = 2 { dim = 2 { size = 1 } }; <field> = packed values }. */
function tensorProtoBytes(dtype: number, field: number, values: bigint[]): Uint8Array {
  const dim = [0x08, ...varint(BigInt(values.length))]; // TensorShapeProto.Dim.size = 1
  const shape = [0x12, dim.length, ...dim]; // TensorShapeProto.dim = 2
  const packed = values.flatMap(varint);
  return Uint8Array.from([
    0x08, dtype, // dtype = 1
    0x12, shape.length, ...shape, // tensor_shape = 2
    ...varint(BigInt((field << 3) | 2)), ...varint(BigInt(packed.length)), ...packed, // packed repeated, wire type 2
  ]);
}

const DT_INT64 = 9;
const DT_UINT64 = 23;
const INT64_VAL = 10;
const UINT64_VAL = 17;

test('int64_val beyond 2^53 decodes exactly: 2^62+1 and -2^63', () => {
  const values = [2n ** 62n + 1n, -(2n ** 63n), 7n, -(2n ** 53n) - 1n];
  const proto = decodePlain<TensorProto>('tensorflow.TensorProto', tensorProtoBytes(DT_INT64, INT64_VAL, values));
  const host = tensorProtoToHost(proto);
  assert.equal(host.dtype, 'DT_INT64');
  assert.deepEqual(host.shape, [4]);
  assert.deepEqual([...(host.data as BigInt64Array)], values);
  // Values a number holds exactly keep the plain number form; the others are exact decimal strings.
  assert.deepEqual(proto.int64Val, ['4611686018427387905', '-9223372036854775808', 7, '-9007199254740993']);
});

test('uint64_val beyond 2^63 decodes exactly', () => {
  const values = [2n ** 64n - 1n, 2n ** 63n + 3n, 42n];
  const host = tensorProtoToHost(decodePlain<TensorProto>('tensorflow.TensorProto', tensorProtoBytes(DT_UINT64, UINT64_VAL, values)));
  assert.equal(host.dtype, 'DT_UINT64');
  assert.deepEqual([...(host.data as BigUint64Array)], values);
});

test('exact int64 values survive being nested in a graph and encoded again', () => {
  const tensor = decodePlain<TensorProto>('tensorflow.TensorProto', tensorProtoBytes(DT_INT64, INT64_VAL, [2n ** 62n + 1n]));
  const meta: MetaGraphDef = { graphDef: { node: [{ name: 'c', op: 'Const', attr: { dtype: { type: 'DT_INT64' }, value: { tensor } } }] } };
  const back = decodePlain<MetaGraphDef>('tensorflow.MetaGraphDef', encodePlain('tensorflow.MetaGraphDef', meta as Record<string, unknown>));
  const nested = back.graphDef!.node![0]!.attr!.value!.tensor!;
  assert.deepEqual([...(tensorProtoToHost(nested).data as BigInt64Array)], [2n ** 62n + 1n]);
});

test('other int64 fields keep their plain number form', () => {
  // TensorShapeProto.Dim.size is an int64: still a number.
  const proto = decodePlain<TensorProto>('tensorflow.TensorProto', tensorProtoBytes(DT_INT64, INT64_VAL, [1n, 2n]));
  assert.equal(proto.tensorShape!.dim![0]!.size, 2);
  assert.equal(typeof proto.tensorShape!.dim![0]!.size, 'number');
});
