// The hot gRPC message in, read straight into typed arrays: a serialized PredictRequest walked once into a
// WirePredictRequest (its ModelSpec, output_filter and, per input, the dtype, the shape and where the values lie in
// the message), whose inputs become HostTensors only after the request-vs-signature check has passed on what they
// declare (decodeWireInputs).
//
// Why by hand (a measured hot path: bench/predict-codec.ts, docs/serve.md "The gRPC path"): protobufjs decodes
// float_val into a JS array of numbers, toObject copies that array, and tensorProtoToHost copies it once more into a
// Float32Array; with the objects around them that was a sixth of the gRPC server's main thread plus garbage. Here a
// packed float_val or a tensor_content is one memcpy into the Float32Array the batcher takes.
//
// CONTRACT. readPredictRequest(bytes) returns either a view that gives exactly what the protobufjs path gives
// (decodePlain('tensorflow.serving.PredictRequest') then decodePredictInputs: the same ModelSpec and output_filter,
// the same HostTensors, the same checks and errors in the same order, with the same limits applied before anything
// sized by the request is allocated), or undefined, and the caller decodes the message with protobufjs as before. It
// returns undefined for everything it does not take on, so that protobufjs' semantics and errors stay the answer
// there: a big-endian host; bytes that are not a Buffer (protobufjs decodes strings of Buffers and Uint8Arrays
// differently); fields other than model_spec, inputs and output_filter (predict_streamed_options, client_id, unknown
// ones); a singular field given twice; dtypes other than DT_FLOAT, DT_DOUBLE, DT_INT32, DT_INT64, DT_BOOL and
// DT_STRING; a value list other than the dtype's own; unknown rank, negative or huge (>= 2^49) dimensions, a rank
// over 254, a tensor_content of the wrong length (all refused later by the protobufjs path, with its messages); an
// alias of "__proto__"; and any malformed or truncated bytes (protobufjs reports them with its own error). It never
// throws. One deliberate difference: NaN payload bits of float and double values are kept as sent (a memcpy, as
// TensorFlow's own decoding does), where the protobufjs path may quiet them; the values are NaN either way.
import type { HostTensor, SignatureInfo } from '../engine/types.js';
import { MAX_RANK } from '../savedmodel/tensor.js';
import { checkedPredictInputs, splatStringBytes } from './predict-proto.js';
import { DEFAULT_LIMITS, elementBytes, shapeElements, type RequestLimits, type TensorHeader } from './signature-check.js';

type Plain = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The value lists read here, by TensorProto field number. */
const enum Field {
  Float = 5,
  Double = 6,
  Int = 7,
  String = 8,
  Int64 = 10,
  Bool = 11,
}

/** The dtypes read here: DataType enum value → name, the value list field and the tensor_content element size. */
const FAST_DTYPES: Record<number, { name: string; field: Field; size: number }> = {
  1: { name: 'DT_FLOAT', field: Field.Float, size: 4 },
  2: { name: 'DT_DOUBLE', field: Field.Double, size: 8 },
  3: { name: 'DT_INT32', field: Field.Int, size: 4 },
  7: { name: 'DT_STRING', field: Field.String, size: 0 },
  9: { name: 'DT_INT64', field: Field.Int64, size: 8 },
  10: { name: 'DT_BOOL', field: Field.Bool, size: 1 },
};

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** One input as read: what it declares, and where its values lie in the message. */
export interface WireTensor {
  dtype: string;
  shape: number[];
  /** Elements the shape implies. */
  n: number;
  /** Byte range of a non-empty tensor_content (which wins over the value list), or start -1. */
  contentStart: number;
  contentEnd: number;
  /** The value list as [start, end) byte ranges, flat: runs of fixed-width values or of varints; one per string. */
  segs: number[];
  /** Values in the list. */
  count: number;
}

/** A PredictRequest read by readPredictRequest; `modelSpec` and `outputFilter` are what protobufjs' PLAIN gives. */
export class WirePredictRequest {
  constructor(
    /** The message (the values are copied out of it by decodeWireInputs). */
    readonly bytes: Buffer,
    readonly modelSpec: Plain | undefined,
    /** By alias, in the order protobufjs' map object would give them. */
    readonly tensors: Record<string, WireTensor>,
    readonly outputFilter: string[] | undefined,
  ) {}
}

/** Thrown (one shared object: no stack to build) when the bytes leave the fast path; never escapes this module. */
const LEAVE = { leave: true };

/** A position in the message, and the last varint read (as protobufjs' LongBits: low and high 32 bits). */
class Cursor {
  pos = 0;
  lo = 0;
  hi = 0;
  /** Bytes the last varint took. */
  width = 0;
  constructor(readonly buf: Buffer) {}

  /** A varint of at most 10 bytes ending before `end` into lo/hi (protobufjs' readLongVarint). */
  varint64(end: number): void {
    const b = this.buf;
    let p = this.pos;
    let lo = 0;
    let hi = 0;
    let byte = 0;
    for (let i = 0; i < 4; i++) {
      if (p >= end) throw LEAVE;
      byte = b[p++]!;
      lo = (lo | ((byte & 127) << (7 * i))) >>> 0;
      if (byte < 128) return this.done(p, lo, 0);
    }
    if (p >= end) throw LEAVE;
    byte = b[p++]!;
    lo = (lo | ((byte & 127) << 28)) >>> 0;
    hi = (byte & 127) >> 4;
    if (byte < 128) return this.done(p, lo, hi);
    for (let i = 0; i < 5; i++) {
      if (p >= end) throw LEAVE;
      byte = b[p++]!;
      hi = (hi | ((byte & 127) << (7 * i + 3))) >>> 0;
      if (byte < 128) return this.done(p, lo, hi);
    }
    throw LEAVE;
  }

  private done(p: number, lo: number, hi: number): void {
    this.width = p - this.pos;
    this.pos = p;
    this.lo = lo;
    this.hi = hi;
  }

  /**
   * A 32-bit varint (tags, lengths, int32, bool): the low 32 bits. protobufjs' uint32 reads five bytes and then skips
   * five more blindly, which matches only a varint of at most 5 or exactly 10 bytes: others leave.
   */
  varint32(end: number): number {
    this.varint64(end);
    if (this.width > 5 && this.width !== 10) throw LEAVE;
    return this.lo;
  }

  /** A length-delimited field's length, checked to end within `end`; returns the field's end. */
  delimited(end: number): number {
    const len = this.varint32(end);
    const stop = this.pos + len;
    if (stop > end) throw LEAVE;
    return stop;
  }

  /** A UTF-8 string of `stop - pos` bytes, decoded as protobufjs' BufferReader does (Buffer#utf8Slice). */
  string(stop: number): string {
    const s = this.buf.toString('utf8', this.pos, stop);
    this.pos = stop;
    return s;
  }

  /** A non-negative int64 small enough for a number (< 2^49), as protobufjs' longs: Number gives it; else leave. */
  smallInt64(end: number): number {
    this.varint64(end);
    if (this.hi >= 2 ** 17) throw LEAVE;
    return this.hi * 2 ** 32 + this.lo;
  }
}

/**
 * Reads a serialized PredictRequest; undefined when protobufjs must decode it (see the contract at the top). The
 * result holds positions into `bytes`: the caller keeps `bytes` unchanged until decodeWireInputs has run.
 */
export function readPredictRequest(bytes: Uint8Array): WirePredictRequest | undefined {
  if (!LITTLE_ENDIAN || !Buffer.isBuffer(bytes)) return undefined;
  try {
    return readRequest(new Cursor(bytes));
  } catch {
    return undefined; // LEAVE, or anything unforeseen: protobufjs decides
  }
}

function readRequest(c: Cursor): WirePredictRequest {
  const end = c.buf.length;
  let modelSpec: Plain | undefined;
  let outputFilter: string[] | undefined;
  const tensors: Record<string, WireTensor> = {};
  while (c.pos < end) {
    const tag = c.varint32(end);
    const stop = (tag & 7) === 2 ? c.delimited(end) : -1;
    if (stop < 0) throw LEAVE;
    switch (tag >>> 3) {
      case 1:
        if (modelSpec) throw LEAVE;
        modelSpec = readModelSpec(c, stop);
        break;
      case 2:
        readInputEntry(c, stop, tensors);
        break;
      case 3:
        (outputFilter ??= []).push(c.string(stop));
        break;
      default:
        throw LEAVE;
    }
  }
  return new WirePredictRequest(c.buf, modelSpec, tensors, outputFilter);
}

/**
 * The ModelSpec of a serialized request, read by hand without decoding anything else: admission control
 * (serving/grpc/admission.ts) needs only the model, version and signature a call names before deciding to decode it.
 * `nested` false: the spec is field 1 of the message (PredictRequest, ClassificationRequest, RegressionRequest);
 * true: field 1 is a message whose field 1 is the spec, and the first one counts (MultiInferenceRequest.tasks[0]
 * .model_spec). Returns the spec as protobufjs' PLAIN gives it, null when the message has none, or undefined when
 * this reader cannot say (a non-Buffer, malformed bytes, a field given twice, an unknown field in the spec, a version
 * >= 2^49): the caller decodes with protobufjs then. Never throws. Field numbers: TF Serving's model.proto and
 * inference.proto (proto/tensorflow_serving.proto).
 */
export function peekModelSpec(bytes: Uint8Array, nested = false): Plain | null | undefined {
  if (!Buffer.isBuffer(bytes)) return undefined;
  try {
    const c = new Cursor(bytes);
    const end = bytes.length;
    let spec: Plain | null = null;
    let seen = false;
    while (c.pos < end) {
      const tag = c.varint32(end);
      if (tag >>> 3 === 1 && (tag & 7) !== 2) throw LEAVE; // protobufjs reads field 1 as a message whatever its wire type
      if (tag >>> 3 === 1) {
        const stop = c.delimited(end);
        if (seen) {
          if (!nested) throw LEAVE; // protobufjs merges a repeated singular message: leave that to it
          c.pos = stop;
          continue;
        }
        seen = true;
        spec = nested ? readTaskSpec(c, stop) : readModelSpec(c, stop);
        continue;
      }
      skipField(c, tag & 7, end);
    }
    return spec;
  } catch {
    return undefined;
  }
}

/**
 * The ModelSpec at the very start of a request message's first bytes, for admission before the rest has arrived
 * (serving/grpc/h2-server.ts asks on each DATA chunk): clients serialize field 1 first, so the spec is usually
 * within the first chunk. `nested` as for peekModelSpec. Returns the spec as PLAIN gives it, or undefined when
 * `prefix` does not start with a whole spec (not yet arrived, not the first field, or unreadable): the caller then
 * waits for more bytes or for the whole message. Never throws.
 */
export function peekLeadingModelSpec(prefix: Uint8Array, nested = false): Plain | undefined {
  if (!Buffer.isBuffer(prefix)) return undefined;
  try {
    const c = new Cursor(prefix);
    if (c.varint32(prefix.length) !== FIELD_1_DELIMITED) return undefined;
    let stop = c.delimited(prefix.length);
    if (nested) {
      if (c.varint32(stop) !== FIELD_1_DELIMITED) return undefined;
      stop = c.delimited(stop);
    }
    return readModelSpec(c, stop);
  } catch {
    return undefined;
  }
}

/** The tag of field 1 with wire type 2 (length-delimited). */
const FIELD_1_DELIMITED = (1 << 3) | 2;

/** InferenceTask { model_spec 1, method_name 2 }: the spec, or null without one. */
function readTaskSpec(c: Cursor, end: number): Plain | null {
  let spec: Plain | null = null;
  while (c.pos < end) {
    const tag = c.varint32(end);
    if (tag >>> 3 === 1 && (tag & 7) !== 2) throw LEAVE;
    if (tag >>> 3 === 1) {
      if (spec) throw LEAVE;
      spec = readModelSpec(c, c.delimited(end));
    } else skipField(c, tag & 7, end);
  }
  return spec;
}

/** Steps over one field's value of wire type `wire` (varint, fixed64, length-delimited, fixed32); others leave. */
function skipField(c: Cursor, wire: number, end: number): void {
  let stop: number;
  if (wire === 0) {
    c.varint64(end);
    return;
  }
  if (wire === 1) stop = c.pos + 8;
  else if (wire === 2) stop = c.delimited(end);
  else if (wire === 5) stop = c.pos + 4;
  else throw LEAVE;
  if (stop > end) throw LEAVE;
  c.pos = stop;
}

/** ModelSpec { name 1, version 2 (Int64Value { value 1 }), signature_name 3, version_label 4 } as PLAIN gives it. */
function readModelSpec(c: Cursor, end: number): Plain {
  let name: string | undefined;
  let version: Plain | undefined;
  let signatureName: string | undefined;
  let versionLabel: string | undefined;
  while (c.pos < end) {
    const tag = c.varint32(end);
    if ((tag & 7) !== 2) throw LEAVE;
    const stop = c.delimited(end);
    switch (tag >>> 3) {
      case 1:
        if (name !== undefined) throw LEAVE;
        name = c.string(stop);
        break;
      case 2:
        if (version) throw LEAVE;
        version = {};
        while (c.pos < stop) {
          if (c.varint32(stop) !== 8 || 'value' in version) throw LEAVE;
          version.value = c.smallInt64(stop);
        }
        break;
      case 3:
        if (signatureName !== undefined) throw LEAVE;
        signatureName = c.string(stop);
        break;
      case 4:
        if (versionLabel !== undefined) throw LEAVE;
        versionLabel = c.string(stop);
        break;
      default:
        throw LEAVE;
    }
  }
  const spec: Plain = {};
  if (name !== undefined) spec.name = name;
  if (version) spec.version = version;
  if (signatureName !== undefined) spec.signatureName = signatureName;
  if (versionLabel !== undefined) spec.versionLabel = versionLabel;
  return spec;
}

/** One map<string, TensorProto> entry { key 1, value 2 }; a later entry of the same key replaces it, as in protobufjs. */
function readInputEntry(c: Cursor, end: number, tensors: Record<string, WireTensor>): void {
  let key = '';
  let keySeen = false;
  let value: WireTensor | undefined;
  while (c.pos < end) {
    const tag = c.varint32(end);
    if ((tag & 7) !== 2) throw LEAVE;
    const stop = c.delimited(end);
    if (tag >>> 3 === 1 && !keySeen) {
      key = c.string(stop);
      keySeen = true;
    } else if (tag >>> 3 === 2 && !value) {
      value = readTensor(c, stop);
    } else {
      throw LEAVE;
    }
  }
  // No value: protobufjs' toObject fails on it. "__proto__" would set the map object's prototype there.
  if (!value || key === '__proto__') throw LEAVE;
  tensors[key] = value;
}

/** A TensorProto of a fast dtype with a known shape; anything else leaves. */
function readTensor(c: Cursor, end: number): WireTensor {
  let dtype = -1;
  let shape: number[] | undefined;
  let contentStart = -1;
  let contentEnd = -1;
  let listField = 0;
  const segs: number[] = [];
  let count = 0;
  while (c.pos < end) {
    const tag = c.varint32(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    switch (field) {
      case 1: // dtype
        if (wire !== 0 || dtype >= 0) throw LEAVE;
        dtype = c.varint32(end) | 0;
        break;
      case 2: // tensor_shape
        if (wire !== 2 || shape) throw LEAVE;
        shape = readShape(c, c.delimited(end));
        break;
      case 3: // version_number: not used by the conversion
        if (wire !== 0) throw LEAVE;
        c.varint32(end);
        break;
      case 4: // tensor_content
        if (wire !== 2 || contentStart >= 0) throw LEAVE;
        contentEnd = c.delimited(end);
        contentStart = c.pos;
        c.pos = contentEnd;
        break;
      case Field.Float:
      case Field.Double:
      case Field.Int:
      case Field.String:
      case Field.Int64:
      case Field.Bool:
        if (listField && listField !== field) throw LEAVE;
        listField = field;
        count += readValues(c, end, field, wire, segs);
        break;
      default:
        throw LEAVE;
    }
  }
  const fast = FAST_DTYPES[dtype];
  if (!fast || (listField && listField !== fast.field)) throw LEAVE;
  shape ??= [];
  const n = shapeElements(shape);
  if (contentEnd === contentStart || fast.field === Field.String) {
    contentStart = contentEnd = -1; // empty, or ignored (strings): the value list holds the values
  } else if (contentEnd - contentStart !== n * fast.size) {
    throw LEAVE; // tensorProtoToHost refuses it, in its words
  }
  return { dtype: fast.name, shape, n, contentStart, contentEnd, segs, count };
}

/** TensorShapeProto { dim 2 (Dim { size 1, name 2 }), unknown_rank 3 }: the sizes, when all known and small. */
function readShape(c: Cursor, end: number): number[] {
  const shape: number[] = [];
  while (c.pos < end) {
    const tag = c.varint32(end);
    if (tag === 0x18) {
      if (c.varint32(end) !== 0) throw LEAVE; // unknown rank
      continue;
    }
    if (tag !== 0x12) throw LEAVE;
    const stop = c.delimited(end);
    let size = 0;
    let sizeSeen = false;
    while (c.pos < stop) {
      const dimTag = c.varint32(stop);
      if (dimTag === 0x08 && !sizeSeen) {
        size = c.smallInt64(stop);
        sizeSeen = true;
      } else if (dimTag === 0x12) {
        c.pos = c.delimited(stop); // the dimension's name
      } else {
        throw LEAVE;
      }
    }
    shape.push(size);
    if (shape.length > MAX_RANK) throw LEAVE;
  }
  return shape;
}

/** One occurrence of a value list field (packed or not) into `segs`; returns the number of values it holds. */
function readValues(c: Cursor, end: number, field: Field, wire: number, segs: number[]): number {
  const start = c.pos;
  const width = field === Field.Float ? 4 : field === Field.Double ? 8 : 0;
  if (wire === 2) {
    const stop = c.delimited(end);
    const from = c.pos;
    segs.push(from, stop);
    if (field === Field.String) {
      c.pos = stop;
      return 1;
    }
    if (width) {
      if ((stop - from) % width) throw LEAVE;
      c.pos = stop;
      return (stop - from) / width;
    }
    let values = 0;
    while (c.pos < stop) {
      if (field === Field.Int64) c.varint64(stop);
      else c.varint32(stop);
      values++;
    }
    return values;
  }
  if (width === 4 ? wire !== 5 : width === 8 ? wire !== 1 : wire !== 0 || field === Field.String) throw LEAVE;
  if (width) {
    if (start + width > end) throw LEAVE;
    c.pos = start + width;
  } else if (field === Field.Int64) {
    c.varint64(end);
  } else {
    c.varint32(end);
  }
  segs.push(start, c.pos);
  return 1;
}

/** What an input declares, before anything is allocated (predict-proto.ts' protoHeader for these tensors). */
function wireHeader(t: WireTensor): TensorHeader {
  if (t.dtype !== 'DT_STRING') return { dtype: t.dtype, shape: t.shape, bytes: t.n * elementBytes(t.dtype) };
  return { dtype: t.dtype, shape: t.shape, bytes: splatStringBytes(t.count, (i) => t.segs[2 * i + 1]! - t.segs[2 * i]!, t.n) };
}

/**
 * The inputs of a WirePredictRequest as HostTensors, checked against `signature` exactly as decodePredictInputs
 * checks the protobufjs objects (same order, same errors); values are copied out of the message only afterwards.
 */
export function decodeWireInputs(req: WirePredictRequest, signature: SignatureInfo, limits: RequestLimits = DEFAULT_LIMITS, requestBytes = 0): Record<string, HostTensor> {
  return checkedPredictInputs(req.tensors, signature, limits, requestBytes, wireHeader, (t) => wireTensorToHost(req.bytes, t));
}

/** Tensor::FromProto for a read tensor: tensor_content, else the value list splat-filled to n (zeros when empty). */
function wireTensorToHost(buf: Buffer, t: WireTensor): HostTensor {
  const { dtype, shape, n } = t;
  switch (dtype) {
    case 'DT_FLOAT':
      return { dtype, shape, data: fixedWidth(buf, t, new Float32Array(n), 4) };
    case 'DT_DOUBLE':
      return { dtype, shape, data: fixedWidth(buf, t, new Float64Array(n), 8) };
    case 'DT_INT32': {
      const out = new Int32Array(n);
      if (t.contentStart >= 0) return { dtype, shape, data: copyContent(buf, t, out) };
      return { dtype, shape, data: varints(buf, t, out, (c) => c.lo | 0) };
    }
    case 'DT_BOOL': {
      const out = new Uint8Array(n);
      if (t.contentStart >= 0) {
        copyContent(buf, t, out);
        for (let i = 0; i < n; i++) out[i] = out[i] ? 1 : 0;
        return { dtype, shape, data: out };
      }
      return { dtype, shape, data: varints(buf, t, out, (c) => (c.lo !== 0 ? 1 : 0)) };
    }
    case 'DT_INT64': {
      const out = new BigInt64Array(n);
      if (t.contentStart >= 0) return { dtype, shape, data: copyContent(buf, t, out) };
      // Two's complement words written straight into the array (little-endian host): no BigInt per value.
      const words = new Uint32Array(out.buffer, out.byteOffset, 2 * n);
      let i = 0;
      forEachVarint(buf, t, true, (c) => {
        words[2 * i] = c.lo;
        words[2 * i + 1] = c.hi;
        i++;
      });
      if (i > 0 && i < n) out.fill(out[i - 1]!, i);
      return { dtype, shape, data: out };
    }
    default: {
      // DT_STRING: the first n values copied; the splat-filled rest share the last one (as tensorProtoToHost does).
      const data: Uint8Array[] = [];
      const kept = Math.min(t.count, n);
      for (let i = 0; i < kept; i++) data.push(new Uint8Array(buf.subarray(t.segs[2 * i]!, t.segs[2 * i + 1]!)));
      const fill = kept > 0 ? data[kept - 1]! : new Uint8Array(0);
      while (data.length < n) data.push(fill);
      return { dtype, shape, data };
    }
  }
}

type Typed = Float32Array | Float64Array | Int32Array | Uint8Array | BigInt64Array;

function copyContent<A extends Typed>(buf: Buffer, t: WireTensor, out: A): A {
  new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(buf.subarray(t.contentStart, t.contentEnd));
  return out;
}

/** Float or double values: byte copies of the runs (no alignment needed), then the splat fill. */
function fixedWidth<A extends Float32Array | Float64Array>(buf: Buffer, t: WireTensor, out: A, width: number): A {
  if (t.contentStart >= 0) return copyContent(buf, t, out);
  const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  const want = bytes.length;
  let at = 0;
  for (let s = 0; s < t.segs.length && at < want; s += 2) {
    const from = t.segs[s]!;
    const take = Math.min(t.segs[s + 1]! - from, want - at);
    bytes.set(buf.subarray(from, from + take), at);
    at += take;
  }
  const m = at / width;
  if (m > 0 && m < out.length) out.fill(out[m - 1]!, m);
  return out;
}

/** 32-bit varint values (int_val, bool_val) through `map`, then the splat fill. */
function varints<A extends Int32Array | Uint8Array>(buf: Buffer, t: WireTensor, out: A, map: (c: Cursor) => number): A {
  let i = 0;
  forEachVarint(buf, t, false, (c) => {
    out[i++] = map(c);
  });
  if (i > 0 && i < out.length) out.fill(out[i - 1]!, i);
  return out;
}

/** Calls `each` with the cursor on each of the first n varints of the list (already checked by readValues). */
function forEachVarint(buf: Buffer, t: WireTensor, wide: boolean, each: (c: Cursor) => void): void {
  const c = new Cursor(buf);
  let left = t.n;
  for (let s = 0; s < t.segs.length && left > 0; s += 2) {
    c.pos = t.segs[s]!;
    const stop = t.segs[s + 1]!;
    while (c.pos < stop && left > 0) {
      if (wide) c.varint64(stop);
      else c.varint32(stop);
      each(c);
      left--;
    }
  }
}
