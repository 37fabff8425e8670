// TensorProto ↔ HostTensor, with TensorFlow's rules (tensorflow/core/framework/tensor.cc, Tensor::FromProto):
//  - `tensor_content` (raw little-endian elements) wins when present;
//  - otherwise the typed field for the dtype holds the values; an empty field means all zeros, and a field shorter than
//    the element count is padded by repeating its last value (how TF stores splat constants compactly);
//  - more values than elements: the extra values are ignored (FromProtoField copies the first n).
// The element count a shape implies is checked against `maxElements` before anything is allocated: a request of a few
// bytes can name a shape of 2^40 elements, and a value list is splat-filled to it.
// DT_HALF and DT_BFLOAT16 values travel as 16-bit patterns in `half_val` and widen to float32 in HostTensor.
import type { HostTensor } from './host-tensor.js';
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

/** TensorFlow's largest tensor rank (TensorShape::MaxDimensions). */
export const MAX_RANK = 254;

/**
 * Converts a decoded TensorProto (plain object) to a HostTensor the caller owns. Throws `makeError(message)` for
 * unknown or invalid shapes, shapes of more than `maxElements` elements (checked before any allocation), wrong
 * tensor_content lengths, and dtypes HostTensor has no layout for.
 */
export function tensorProtoToHost(t: TensorProto, makeError: TensorErrorFactory = defaultError, maxElements = Infinity): HostTensor {
  const dtype = t.dtype ?? 'DT_INVALID';
  const shape = protoShape(t);
  if (t.tensorShape?.unknownRank || shape.some((d) => d < 0)) {
    throw makeError(`TensorProto of ${dtype} has an unknown shape ${JSON.stringify(shape)}`);
  }
  if (shape.length > MAX_RANK || shape.some((d) => !Number.isSafeInteger(d))) {
    throw makeError(`TensorProto of ${dtype} has an invalid shape of rank ${shape.length}`);
  }
  // A double product: exact up to 2^53, and any larger (or overflowing) product is far above every limit anyway.
  const n = numElements(shape);
  if (n > maxElements) {
    throw makeError(`TensorProto of ${dtype} has shape ${JSON.stringify(shape)}: ${n} elements, more than the limit of ${maxElements}`);
  }

  if (dtype === 'DT_STRING') {
    // Splat-filled entries share one copy of the last value: n references, not n copies of its bytes.
    const vals = (t.stringVal ?? []).slice(0, n).map((v) => new Uint8Array(v));
    return { dtype, shape, data: padded(vals, n, new Uint8Array(0)) };
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
      return { dtype, shape, data: filled(new Float32Array(n), t.floatVal) };
    case 'DT_DOUBLE':
      return { dtype, shape, data: filled(new Float64Array(n), t.doubleVal) };
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
      return { dtype, shape, data: filled(new Int32Array(n), t.intVal) };
    case 'DT_UINT32':
      return { dtype, shape, data: filled(new Uint32Array(n), t.uint32Val) };
    case 'DT_INT64':
      return { dtype, shape, data: filled(new BigInt64Array(n), t.int64Val, int64Of) };
    case 'DT_UINT64':
      return { dtype, shape, data: filled(new BigUint64Array(n), t.uint64Val, uint64Of) };
    case 'DT_BOOL':
      return { dtype, shape, data: filled(new Uint8Array(n), t.boolVal, (b: boolean) => (b ? 1 : 0)) };
    case 'DT_HALF':
      return { dtype, shape, data: filled(new Float32Array(n), t.halfVal, halfToFloat) };
    case 'DT_BFLOAT16':
      return { dtype, shape, data: filled(new Float32Array(n), t.halfVal, bfloat16ToFloat) };
    case 'DT_COMPLEX64':
      return { dtype, shape, data: filledPairs(new Float32Array(2 * n), t.scomplexVal ?? [], dtype, makeError) };
    case 'DT_COMPLEX128':
      return { dtype, shape, data: filledPairs(new Float64Array(2 * n), t.dcomplexVal ?? [], dtype, makeError) };
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

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Filled = { length: number; [i: number]: any; fill(v: any, start?: number): unknown };

/**
 * Fills `out` from a typed value list the way FromProtoField does: the first out.length values (extra ones ignored),
 * then the last value repeated; zeros (the array's initial contents) when the list is empty. `map` converts a value.
 */
function filled<A extends Filled, V>(out: A, vals: readonly V[] | undefined, map?: (v: V) => A[number]): A {
  const n = out.length;
  const m = Math.min(n, vals?.length ?? 0);
  if (m === 0) return out;
  for (let i = 0; i < m; i++) out[i] = map ? map(vals![i]!) : (vals![i] as A[number]);
  if (m < n) out.fill(out[m - 1], m);
  return out;
}

/** `vals` extended to `n` by repeating its last value (or `zero` when empty). */
function padded<T>(vals: T[], n: number, zero: T): T[] {
  if (vals.length === n) return vals;
  const fill = vals.length ? vals[vals.length - 1]! : zero;
  while (vals.length < n) vals.push(fill);
  return vals;
}

/** Like `filled` for complex values stored as (real, imaginary) pairs: pads by repeating the last pair. */
function filledPairs<A extends Float32Array | Float64Array>(out: A, vals: number[], dtype: string, makeError: TensorErrorFactory): A {
  if (vals.length % 2) throw makeError(`TensorProto of ${dtype} has an odd number of complex components`);
  const m = Math.min(out.length, vals.length);
  for (let i = 0; i < m; i++) out[i] = vals[i]!;
  for (let i = m; m > 0 && i < out.length; i += 2) {
    out[i] = vals[m - 2]!;
    out[i + 1] = vals[m - 1]!;
  }
  return out;
}
