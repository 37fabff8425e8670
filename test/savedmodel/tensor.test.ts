import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensorProtoToHost, hostToTensorProto } from '../../src/core/savedmodel/tensor.js';
import { floatToHalf, halfToFloat, floatToBfloat16, bfloat16ToFloat } from '../../src/core/savedmodel/dtype.js';
import { decodePlain, encodePlain } from '../../src/core/proto/schema.js';
import type { TensorProto } from '../../src/core/savedmodel/types.js';
import type { HostTensor } from '../../src/core/engine/types.js';
import { ModelError } from '../../src/core/errors.js';

const shape = (...dims: number[]) => ({ dim: dims.map((size) => ({ size })) });

test('a short *_val list is padded by repeating the last value (TF splat rule)', () => {
  const t = tensorProtoToHost({ dtype: 'DT_FLOAT', tensorShape: shape(2, 3), floatVal: [1, 2] });
  assert.deepEqual(t.shape, [2, 3]);
  assert.deepEqual(Array.from(t.data as Float32Array), [1, 2, 2, 2, 2, 2]);
  const z = tensorProtoToHost({ dtype: 'DT_INT32', tensorShape: shape(3) });
  assert.deepEqual(Array.from(z.data as Int32Array), [0, 0, 0], 'no values means zeros');
  const s = tensorProtoToHost({ dtype: 'DT_STRING', tensorShape: shape(2), stringVal: [Buffer.from('ab')] });
  assert.deepEqual((s.data as Uint8Array[]).map((b) => Buffer.from(b).toString()), ['ab', 'ab']);
});

test('values beyond the element count are ignored, as TF\'s FromProtoField copies only the first n', () => {
  const t = tensorProtoToHost({ dtype: 'DT_FLOAT', tensorShape: shape(2), floatVal: [1, 2, 3] });
  assert.deepEqual(Array.from(t.data as Float32Array), [1, 2]);
  const s = tensorProtoToHost({ dtype: 'DT_STRING', tensorShape: shape(1), stringVal: [Buffer.from('a'), Buffer.from('b')] });
  assert.deepEqual((s.data as Uint8Array[]).map((b) => Buffer.from(b).toString()), ['a']);
});

test('a shape of more elements than the limit is refused before allocating, through the given factory', () => {
  const huge = { dtype: 'DT_FLOAT', tensorShape: shape(2 ** 40), floatVal: [1] };
  assert.throws(() => tensorProtoToHost(huge, undefined, 2 ** 26), ModelError);
  assert.throws(() => tensorProtoToHost(huge, (m) => new RangeError(m), 2 ** 26), /1099511627776 elements, more than the limit of 67108864/);
  assert.equal(tensorProtoToHost({ dtype: 'DT_FLOAT', tensorShape: shape(4), floatVal: [1] }, undefined, 4).data.length, 4);
});

test('scalar, int64, bool, uint32, uint64, small ints', () => {
  assert.deepEqual(Array.from(tensorProtoToHost({ dtype: 'DT_DOUBLE', doubleVal: [2.5] }).data as Float64Array), [2.5]);
  assert.deepEqual(tensorProtoToHost({ dtype: 'DT_DOUBLE', doubleVal: [2.5] }).shape, []);
  assert.deepEqual(Array.from(tensorProtoToHost({ dtype: 'DT_INT64', tensorShape: shape(2), int64Val: [7, -3] }).data as BigInt64Array), [7n, -3n]);
  assert.deepEqual(Array.from(tensorProtoToHost({ dtype: 'DT_BOOL', tensorShape: shape(2), boolVal: [true, false] }).data as Uint8Array), [1, 0]);
  assert.deepEqual(Array.from(tensorProtoToHost({ dtype: 'DT_UINT32', tensorShape: shape(1), uint32Val: [4000000000] }).data as Uint32Array), [4000000000]);
  assert.deepEqual(Array.from(tensorProtoToHost({ dtype: 'DT_UINT64', tensorShape: shape(1), uint64Val: [5] }).data as BigUint64Array), [5n]);
  assert.deepEqual(Array.from(tensorProtoToHost({ dtype: 'DT_INT8', tensorShape: shape(2), intVal: [-5, 7] }).data as Int32Array), [-5, 7]);
});

test('half_val widens DT_HALF and DT_BFLOAT16 to float32', () => {
  const h = tensorProtoToHost({ dtype: 'DT_HALF', tensorShape: shape(3), halfVal: [0x3c00, 0xc000, 0x3800] });
  assert.deepEqual(Array.from(h.data as Float32Array), [1, -2, 0.5]);
  const b = tensorProtoToHost({ dtype: 'DT_BFLOAT16', tensorShape: shape(2), halfVal: [0x3f80, 0x4040] });
  assert.deepEqual(Array.from(b.data as Float32Array), [1, 3]);
});

test('float16/bfloat16 conversions round trip and round to nearest even', () => {
  for (const v of [0, 1, -2, 0.5, 65504, 6.103515625e-5, 5.960464477539063e-8, Infinity, -Infinity]) {
    assert.equal(halfToFloat(floatToHalf(v)), v, `half ${v}`);
  }
  assert.ok(Number.isNaN(halfToFloat(floatToHalf(NaN))));
  assert.equal(halfToFloat(floatToHalf(1 + 2 ** -11)), 1, 'halfway rounds to even');
  assert.equal(halfToFloat(floatToHalf(70000)), Infinity, 'overflow');
  for (const v of [0, 1, -3, 0.5, 256]) assert.equal(bfloat16ToFloat(floatToBfloat16(v)), v);
});

test('tensor_content wins and decodes little-endian elements (unaligned buffers too)', () => {
  const raw = Buffer.alloc(13);
  Buffer.from(new Float32Array([1.5, -2, 3]).buffer).copy(raw, 1);
  const t = tensorProtoToHost({ dtype: 'DT_FLOAT', tensorShape: shape(3), tensorContent: raw.subarray(1), floatVal: [9] });
  assert.deepEqual(Array.from(t.data as Float32Array), [1.5, -2, 3]);
  assert.throws(() => tensorProtoToHost({ dtype: 'DT_FLOAT', tensorShape: shape(4), tensorContent: raw.subarray(1) }), /needs 16 bytes/);
});

test('unknown shapes and unsupported dtypes are errors', () => {
  assert.throws(() => tensorProtoToHost({ dtype: 'DT_FLOAT', tensorShape: shape(-1) }), /unknown shape/);
  assert.throws(() => tensorProtoToHost({ dtype: 'DT_RESOURCE', tensorShape: shape(1) }), /not supported/);
});

test('hostToTensorProto round trips through protobuf encoding for every HostTensor layout', () => {
  const cases: HostTensor[] = [
    { dtype: 'DT_FLOAT', shape: [2, 2], data: new Float32Array([1, 2, 3, 4.5]) },
    { dtype: 'DT_DOUBLE', shape: [1], data: new Float64Array([Math.PI]) },
    { dtype: 'DT_INT32', shape: [3], data: new Int32Array([-1, 0, 2 ** 31 - 1]) },
    { dtype: 'DT_INT16', shape: [2], data: new Int32Array([-300, 300]) },
    { dtype: 'DT_INT8', shape: [2], data: new Int32Array([-128, 127]) },
    { dtype: 'DT_UINT8', shape: [2], data: new Int32Array([0, 255]) },
    { dtype: 'DT_UINT16', shape: [1], data: new Int32Array([65535]) },
    { dtype: 'DT_UINT32', shape: [1], data: new Uint32Array([4294967295]) },
    { dtype: 'DT_INT64', shape: [2], data: new BigInt64Array([-(2n ** 62n), 5n]) },
    { dtype: 'DT_UINT64', shape: [1], data: new BigUint64Array([2n ** 63n]) },
    { dtype: 'DT_BOOL', shape: [3], data: new Uint8Array([1, 0, 1]) },
    { dtype: 'DT_HALF', shape: [2], data: new Float32Array([0.5, -1]) },
    { dtype: 'DT_BFLOAT16', shape: [2], data: new Float32Array([2, -0.25]) },
    { dtype: 'DT_COMPLEX64', shape: [1], data: new Float32Array([1, -1]) },
    { dtype: 'DT_STRING', shape: [2], data: [Buffer.from('héllo'), new Uint8Array([0, 255])] },
    { dtype: 'DT_FLOAT', shape: [0, 3], data: new Float32Array(0) },
  ];
  for (const h of cases) {
    const proto = hostToTensorProto(h);
    const wire = encodePlain('tensorflow.TensorProto', proto as Record<string, unknown>);
    const back = tensorProtoToHost(decodePlain<TensorProto>('tensorflow.TensorProto', wire));
    assert.equal(back.dtype, h.dtype);
    assert.deepEqual(back.shape, h.shape, h.dtype);
    if (Array.isArray(h.data)) {
      assert.deepEqual((back.data as Uint8Array[]).map((b) => Array.from(b)), h.data.map((b) => Array.from(b)));
    } else {
      assert.deepEqual(Array.from(back.data as ArrayLike<unknown>), Array.from(h.data as ArrayLike<unknown>), h.dtype);
      assert.equal(back.data.constructor, h.data.constructor, h.dtype);
    }
  }
});

test('the int64 limits in int64_val/uint64_val (decoded as rounded numbers) come back exactly, not wrapped', () => {
  // A scalar tf.int64.max/min constant is stored in int64_val; decoding rounds it to ±2^63 (2^64 for uint64 max).
  const decode = (fields: Record<string, unknown>) =>
    tensorProtoToHost(decodePlain<TensorProto>('tensorflow.TensorProto', encodePlain('tensorflow.TensorProto', { tensorShape: {}, ...fields }))).data;
  assert.deepEqual([...(decode({ dtype: 'DT_INT64', int64Val: ['9223372036854775807'] }) as BigInt64Array)], [2n ** 63n - 1n]);
  assert.deepEqual([...(decode({ dtype: 'DT_INT64', int64Val: ['-9223372036854775808'] }) as BigInt64Array)], [-(2n ** 63n)]);
  assert.deepEqual([...(decode({ dtype: 'DT_UINT64', uint64Val: ['18446744073709551615'] }) as BigUint64Array)], [2n ** 64n - 1n]);
  assert.deepEqual([...(decode({ dtype: 'DT_INT64', tensorShape: shape(2), int64Val: [-5, 2 ** 40] }) as BigInt64Array)], [-5n, 2n ** 40n]);
});
