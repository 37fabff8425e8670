// TensorFlow dtypes: element sizes, and conversion between TF's little-endian element bytes (checkpoint shards,
// TensorProto.tensor_content) and HostTensor typed arrays (layouts in host-tensor.ts).
import type { HostTensor } from './host-tensor.js';

/**
 * Bytes per element of each fixed-size dtype as TF lays it out in memory; strings, resources and variants are absent
 * (variable length). `_REF` types (TF1 VariableV2 outputs) are reported through `baseDtype` first.
 */
export const DTYPE_SIZE: Readonly<Record<string, number>> = {
  DT_FLOAT: 4,
  DT_DOUBLE: 8,
  DT_INT32: 4,
  DT_UINT8: 1,
  DT_INT16: 2,
  DT_INT8: 1,
  DT_COMPLEX64: 8,
  DT_INT64: 8,
  DT_BOOL: 1,
  DT_QINT8: 1,
  DT_QUINT8: 1,
  DT_QINT32: 4,
  DT_BFLOAT16: 2,
  DT_QINT16: 2,
  DT_QUINT16: 2,
  DT_UINT16: 2,
  DT_COMPLEX128: 16,
  DT_HALF: 2,
  DT_UINT32: 4,
  DT_UINT64: 8,
  DT_FLOAT8_E5M2: 1,
  DT_FLOAT8_E4M3FN: 1,
  DT_FLOAT8_E4M3FNUZ: 1,
  DT_FLOAT8_E4M3B11FNUZ: 1,
  DT_FLOAT8_E5M2FNUZ: 1,
};

/** 'DT_FLOAT_REF' → 'DT_FLOAT'; other names unchanged. */
export function baseDtype(dtype: string): string {
  return dtype.endsWith('_REF') ? dtype.slice(0, -4) : dtype;
}

/** Short lower-case name for display: 'DT_FLOAT' → 'float', 'DT_FLOAT_REF' → 'float_ref'. */
export function shortDtype(dtype: string): string {
  return dtype.startsWith('DT_') ? dtype.slice(3).toLowerCase() : dtype.toLowerCase();
}

/** Number of elements of a shape (1 for a scalar). */
export function numElements(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Thrown for a dtype that has no HostTensor layout (resource, variant, float8, int4...). */
export class UnsupportedDtypeError extends Error {}

// --- 16-bit floats -----------------------------------------------------------------------------------------------

/** IEEE binary16 bit pattern → number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** number → IEEE binary16 bit pattern, rounding to nearest even (as Eigen::half does). */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and reaches infinity at the top).
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** bfloat16 bit pattern → number (the top half of a float32). */
export function bfloat16ToFloat(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0]!;
}

/** number → bfloat16 bit pattern, rounding to nearest even. */
export function floatToBfloat16(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  if (Number.isNaN(v)) return ((x >>> 16) & 0x8000) | 0x7fc0;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

// --- bytes ↔ HostTensor ---------------------------------------------------------------------------------------------

/** A copy of `bytes` in a fresh ArrayBuffer, so typed-array views over it are aligned and owned by the caller. */
function aligned(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

/**
 * Decodes `n` little-endian elements of `dtype` from `bytes` (exactly n × size bytes) into HostTensor data.
 * Complex dtypes give interleaved (real, imaginary) pairs: 2n floats. Quantized types widen like their plain kin.
 * Throws UnsupportedDtypeError for dtypes with no HostTensor layout, RangeError when the byte count is wrong.
 */
export function decodeElements(dtype: string, bytes: Uint8Array, n: number): HostTensor['data'] {
  const size = DTYPE_SIZE[dtype];
  if (size === undefined || dtype.startsWith('DT_FLOAT8')) throw new UnsupportedDtypeError(`dtype ${dtype} is not supported`);
  if (bytes.byteLength !== n * size) {
    throw new RangeError(`${dtype} tensor of ${n} elements needs ${n * size} bytes, found ${bytes.byteLength}`);
  }
  const buf = aligned(bytes);
  switch (dtype) {
    case 'DT_FLOAT':
      return new Float32Array(buf);
    case 'DT_DOUBLE':
      return new Float64Array(buf);
    case 'DT_INT32':
    case 'DT_QINT32':
      return new Int32Array(buf);
    case 'DT_UINT32':
      return new Uint32Array(buf);
    case 'DT_INT64':
      return new BigInt64Array(buf);
    case 'DT_UINT64':
      return new BigUint64Array(buf);
    case 'DT_INT16':
    case 'DT_QINT16':
      return Int32Array.from(new Int16Array(buf));
    case 'DT_UINT16':
    case 'DT_QUINT16':
      return Int32Array.from(new Uint16Array(buf));
    case 'DT_INT8':
    case 'DT_QINT8':
      return Int32Array.from(new Int8Array(buf));
    case 'DT_UINT8':
    case 'DT_QUINT8':
      return Int32Array.from(new Uint8Array(buf));
    case 'DT_BOOL': {
      const b = new Uint8Array(buf);
      for (let i = 0; i < b.length; i++) b[i] = b[i] ? 1 : 0;
      return b;
    }
    case 'DT_HALF':
      return Float32Array.from(new Uint16Array(buf), halfToFloat);
    case 'DT_BFLOAT16':
      return Float32Array.from(new Uint16Array(buf), bfloat16ToFloat);
    case 'DT_COMPLEX64':
      return new Float32Array(buf);
    case 'DT_COMPLEX128':
      return new Float64Array(buf);
  }
  throw new UnsupportedDtypeError(`dtype ${dtype} is not supported`);
}

/** Inverse of decodeElements: HostTensor data of a fixed-size dtype → TF's little-endian element bytes. */
export function encodeElements(dtype: string, data: HostTensor['data']): Uint8Array {
  if (Array.isArray(data)) throw new UnsupportedDtypeError(`${dtype} data is a list of strings, not fixed-size elements`);
  const arr = data as Exclude<HostTensor['data'], Uint8Array[]>;
  const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
  const num = (i: number) => Number(arr[i]);
  switch (dtype) {
    case 'DT_FLOAT':
    case 'DT_COMPLEX64':
      return bytesOf(arr instanceof Float32Array ? arr : Float32Array.from(arr as ArrayLike<number>, Number));
    case 'DT_DOUBLE':
    case 'DT_COMPLEX128':
      return bytesOf(arr instanceof Float64Array ? arr : Float64Array.from(arr as ArrayLike<number>, Number));
    case 'DT_INT32':
    case 'DT_QINT32':
      return bytesOf(arr instanceof Int32Array ? arr : Int32Array.from({ length: arr.length }, (_, i) => num(i)));
    case 'DT_UINT32':
      return bytesOf(Uint32Array.from({ length: arr.length }, (_, i) => num(i)));
    case 'DT_INT64':
      return bytesOf(arr instanceof BigInt64Array ? arr : BigInt64Array.from({ length: arr.length }, (_, i) => BigInt(arr[i]!)));
    case 'DT_UINT64':
      return bytesOf(arr instanceof BigUint64Array ? arr : BigUint64Array.from({ length: arr.length }, (_, i) => BigInt(arr[i]!)));
    case 'DT_INT16':
    case 'DT_QINT16':
      return bytesOf(Int16Array.from({ length: arr.length }, (_, i) => num(i)));
    case 'DT_UINT16':
    case 'DT_QUINT16':
      return bytesOf(Uint16Array.from({ length: arr.length }, (_, i) => num(i)));
    case 'DT_INT8':
    case 'DT_QINT8':
      return bytesOf(Int8Array.from({ length: arr.length }, (_, i) => num(i)));
    case 'DT_UINT8':
    case 'DT_QUINT8':
      return bytesOf(Uint8Array.from({ length: arr.length }, (_, i) => num(i)));
    case 'DT_BOOL':
      return Uint8Array.from({ length: arr.length }, (_, i) => (arr[i] ? 1 : 0));
    case 'DT_HALF':
      return bytesOf(Uint16Array.from({ length: arr.length }, (_, i) => floatToHalf(num(i))));
    case 'DT_BFLOAT16':
      return bytesOf(Uint16Array.from({ length: arr.length }, (_, i) => floatToBfloat16(num(i))));
  }
  throw new UnsupportedDtypeError(`dtype ${dtype} is not supported`);
}
