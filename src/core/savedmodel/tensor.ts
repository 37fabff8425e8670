// TensorProto ↔ HostTensor, with TensorFlow's rules (tensorflow/core/framework/tensor.cc, Tensor::FromProto):
//  - `tensor_content` (raw little-endian elements) wins when present;
//  - otherwise the typed field for the dtype holds the values; an empty field means all zeros, and a field shorter than
//    the element count is padded by repeating its last value (how TF stores splat constants compactly);
//  - more values than elements is an error.
// DT_HALF and DT_BFLOAT16 values travel as 16-bit patterns in `half_val` and widen to float32 in HostTensor.
import type { HostTensor } from '../engine/types.js';
import { ModelError } from '../errors.js';
import type { TensorProto } from './types.js';
import { bfloat16ToFloat, decodeElements, encodeElements, halfToFloat, numElements, UnsupportedDtypeError } from './dtype.js';

/** Builds the error for a malformed TensorProto; default ModelError. Pass one that makes a RequestError for request data. */
export type TensorErrorFactory = (message: string) => Error;

const defaultError: TensorErrorFactory = (message) => new ModelError(message);

/** Shape of a TensorProto as numbers (-1 for unknown dims); [] for a scalar. */
export function protoShape(t: TensorProto): number[] {
  return (t.tensorShape?.dim ?? []).map((d) => d.size ?? 0);
}

/**
 * Converts a decoded TensorProto (plain object) to a HostTensor the caller owns. Throws `makeError(message)` for
 * unknown shapes, wrong tensor_content lengths, too many values, and dtypes HostTensor has no layout for.
 */
export function tensorProtoToHost(t: TensorProto, makeError: TensorErrorFactory = defaultError): HostTensor {
  const dtype = t.dtype ?? 'DT_INVALID';
  const shape = protoShape(t);
  if (t.tensorShape?.unknownRank || shape.some((d) => d < 0)) {
    throw makeError(`TensorProto of ${dtype} has an unknown shape ${JSON.stringify(shape)}`);
  }
  const n = numElements(shape);

  if (dtype === 'DT_STRING') {
    const vals = t.stringVal ?? [];
    return { dtype, shape, data: padded(vals, n, new Uint8Array(0), dtype, makeError).map((v) => new Uint8Array(v)) };
  }

  try {
    if (t.tensorContent && t.tensorContent.length > 0) {
      // Complex dtypes decode to 2n interleaved components (their element size covers both parts).
      return { dtype, shape, data: decodeElements(dtype, t.tensorContent, n) };
    }
  } catch (err) {
    if (err instanceof UnsupportedDtypeError) throw makeError(`TensorProto dtype ${dtype} is not supported`);
    throw makeError(`TensorProto tensor_content: ${(err as Error).message}`);
  }

  switch (dtype) {
    case 'DT_FLOAT':
      return { dtype, shape, data: Float32Array.from(padded(t.floatVal ?? [], n, 0, dtype, makeError)) };
    case 'DT_DOUBLE':
      return { dtype, shape, data: Float64Array.from(padded(t.doubleVal ?? [], n, 0, dtype, makeError)) };
    case 'DT_INT32':
    case 'DT_INT16':
    case 'DT_INT8':
    case 'DT_UINT8':
    case 'DT_UINT16':
    case 'DT_QINT8':
    case 'DT_QUINT8':
    case 'DT_QINT16':
    case 'DT_QUINT16':
    case 'DT_QINT32':
      return { dtype, shape, data: Int32Array.from(padded(t.intVal ?? [], n, 0, dtype, makeError)) };
    case 'DT_UINT32':
      return { dtype, shape, data: Uint32Array.from(padded(t.uint32Val ?? [], n, 0, dtype, makeError)) };
    case 'DT_INT64':
      return { dtype, shape, data: BigInt64Array.from(padded(t.int64Val ?? [], n, 0, dtype, makeError), int64Of) };
    case 'DT_UINT64':
      return { dtype, shape, data: BigUint64Array.from(padded(t.uint64Val ?? [], n, 0, dtype, makeError), uint64Of) };
    case 'DT_BOOL':
      return { dtype, shape, data: Uint8Array.from(padded(t.boolVal ?? [], n, false, dtype, makeError), (b) => (b ? 1 : 0)) };
    case 'DT_HALF':
      return { dtype, shape, data: Float32Array.from(padded(t.halfVal ?? [], n, 0, dtype, makeError), halfToFloat) };
    case 'DT_BFLOAT16':
      return { dtype, shape, data: Float32Array.from(padded(t.halfVal ?? [], n, 0, dtype, makeError), bfloat16ToFloat) };
    case 'DT_COMPLEX64':
      return { dtype, shape, data: Float32Array.from(paddedPairs(t.scomplexVal ?? [], n, dtype, makeError)) };
    case 'DT_COMPLEX128':
      return { dtype, shape, data: Float64Array.from(paddedPairs(t.dcomplexVal ?? [], n, dtype, makeError)) };
  }
  throw makeError(`TensorProto dtype ${dtype} is not supported`);
}

/**
 * Converts a HostTensor to a plain TensorProto ready for `encodePlain('tensorflow.TensorProto', ...)`: strings in
 * `stringVal`, every other dtype as raw `tensorContent` (compact, and what TF itself writes for large constants).
 */
export function hostToTensorProto(h: HostTensor): TensorProto {
  const proto: TensorProto = { dtype: h.dtype, tensorShape: { dim: h.shape.map((size) => ({ size })) } };
  if (h.dtype === 'DT_STRING') {
    proto.stringVal = (h.data as Uint8Array[]).map((s) => Buffer.from(s.buffer, s.byteOffset, s.byteLength));
    return proto;
  }
  try {
    proto.tensorContent = Buffer.from(encodeElements(h.dtype, h.data).buffer);
  } catch (err) {
    throw new ModelError(`cannot encode a ${h.dtype} tensor: ${(err as Error).message}`);
  }
  return proto;
}

// Decoded int64_val/uint64_val values are numbers when exact (below 2^53) and decimal strings otherwise (see
// exactTensorInt64Values in src/core/proto/schema.ts); strings are read exactly. A number can still be a rounded one
// (a plain object built by hand, a pbtxt): the int64 limits are common sentinels (a scalar tf.int64.max in
// `int64_val`) and round to ±2^63 and 2^64, which BigInt64Array/BigUint64Array would wrap to the other end of the
// range: INT64_MAX would become INT64_MIN. Such numbers saturate instead, which gives the limits back exactly.
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

function int64Of(v: number | string | bigint): bigint {
  if (typeof v !== 'number') return BigInt(v);
  return v >= 2 ** 63 ? INT64_MAX : BigInt(v);
}

function uint64Of(v: number | string | bigint): bigint {
  if (typeof v !== 'number') return BigInt(v);
  return v >= 2 ** 64 ? UINT64_MAX : BigInt(v);
}

/** `vals` extended to `n` by repeating its last value (or `zero` when empty); error when longer than `n`. */
function padded<T>(vals: T[], n: number, zero: T, dtype: string, makeError: TensorErrorFactory): T[] {
  if (vals.length > n) throw makeError(`TensorProto of ${dtype} has ${vals.length} values for ${n} elements`);
  if (vals.length === n) return vals;
  const fill = vals.length ? vals[vals.length - 1]! : zero;
  const out = vals.slice();
  while (out.length < n) out.push(fill);
  return out;
}

/** Like `padded` for complex values stored as (real, imaginary) pairs: pads by repeating the last pair. */
function paddedPairs(vals: number[], n: number, dtype: string, makeError: TensorErrorFactory): number[] {
  if (vals.length % 2) throw makeError(`TensorProto of ${dtype} has an odd number of complex components`);
  if (vals.length > 2 * n) throw makeError(`TensorProto of ${dtype} has ${vals.length / 2} values for ${n} elements`);
  const re = vals.length ? vals[vals.length - 2]! : 0;
  const im = vals.length ? vals[vals.length - 1]! : 0;
  const out = vals.slice();
  while (out.length < 2 * n) out.push(re, im);
  return out;
}
