// The hot gRPC message out, written straight from typed arrays: a PredictResponse (outputs map, model_spec) encoded
// from the output HostTensors, byte for byte what the protobufjs path sends (hostToTensorProtoField, fromObject,
// encode): TF Serving's AsProtoField form (values in the typed repeated field), fields in field-number order, proto3
// fields that are set written even at their zero value, as protobufjs does.
//
// Why by hand (a measured hot path: bench/predict-codec.ts, docs/serve.md "The gRPC path"): the protobufjs path turns
// each output's typed array into a JS array (hostToTensorProtoField), fromObject copies it, and encode writes it one
// value at a time; here float and double values are one memcpy from the output's array into the message.
//
// CONTRACT. encodePredictResponse(reply) gives exactly the bytes of the protobufjs path. writePredictResponse writes
// DT_FLOAT, DT_DOUBLE, DT_INT32/INT16/INT8/UINT8/UINT16, DT_INT64, DT_BOOL and DT_STRING outputs (and their _REF
// forms) with ASCII aliases and ModelSpec strings, and returns undefined for everything else, where
// encodePredictResponse runs the protobufjs path: other dtypes, a NaN among float/double values (protobufjs writes
// the NaN V8 hands it, whose payload bits V8 may change: those bytes are protobufjs' to write), data of an unexpected
// array type, a version that is not a non-negative safe integer, a ModelSpec of another shape.
import type { HostTensor } from '../engine/types.js';
import { protoType } from '../proto/schema.js';
import { hostToTensorProtoField } from './tensor-field.js';

type Plain = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The ModelSpec a Predict answers with (server.ts' responseSpec). */
export interface ReplySpec {
  name: string;
  version: { value: number };
  signatureName?: string;
}

/** A Predict answer before encoding: the outputs to send (in the order to send them) and the ModelSpec. */
export class PredictReply {
  constructor(
    readonly modelSpec: ReplySpec,
    readonly outputs: Record<string, HostTensor>,
  ) {}

  /** The plain PredictResponse the protobufjs path encodes. */
  toPlain(): Plain {
    const outputs: Plain = {};
    for (const alias of Object.keys(this.outputs)) outputs[alias] = hostToTensorProtoField(this.outputs[alias]!);
    return { modelSpec: this.modelSpec, outputs };
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** TensorProto field tags (field << 3 | wire type) of the value lists written here, and their DataType numbers. */
const FAST: Record<string, { dtype: number; tag: number }> = {
  DT_FLOAT: { dtype: 1, tag: 0x2a },
  DT_DOUBLE: { dtype: 2, tag: 0x32 },
  DT_INT32: { dtype: 3, tag: 0x3a },
  DT_UINT8: { dtype: 4, tag: 0x3a },
  DT_INT16: { dtype: 5, tag: 0x3a },
  DT_INT8: { dtype: 6, tag: 0x3a },
  DT_UINT16: { dtype: 17, tag: 0x3a },
  DT_STRING: { dtype: 7, tag: 0x42 },
  DT_INT64: { dtype: 9, tag: 0x52 },
  DT_BOOL: { dtype: 10, tag: 0x5a },
};

/** The PredictResponse bytes for `reply`: written here when it can, by protobufjs otherwise (the same bytes). */
export function encodePredictResponse(reply: PredictReply): Buffer {
  const fast = writePredictResponse(reply);
  if (fast) return fast;
  const type = protoType('tensorflow.serving.PredictResponse', 'tensorflow_serving.proto');
  return Buffer.from(type.encode(type.fromObject(reply.toPlain())).finish());
}

/** Bytes of an unsigned varint of a non-negative integer below 2^53. */
function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Bytes of a varint of a 64-bit value given as low and high 32-bit words. */
function varint64Size(lo: number, hi: number): number {
  return hi === 0 ? varintSize(lo) : Math.ceil((64 - Math.clz32(hi)) / 7);
}

const isAscii = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return false;
  return true;
};

/** Size of one output's TensorProto body and of its value list, or undefined when it is not written here. */
interface Sized {
  tensor: HostTensor;
  base: string;
  shapeBytes: number;
  listBytes: number;
  bodyBytes: number;
}

function sizeTensor(t: HostTensor): Sized | undefined {
  const base = t.dtype.endsWith('_REF') ? t.dtype.slice(0, -4) : t.dtype;
  const fast = FAST[base];
  if (!fast) return undefined;
  let shapeBytes = 0;
  for (const d of t.shape) {
    if (!Number.isSafeInteger(d) || d < 0) return undefined;
    const dim = d ? 1 + varintSize(d) : 0;
    shapeBytes += 1 + varintSize(dim) + dim;
  }
  const d = t.data;
  let listBytes = 0;
  switch (base) {
    case 'DT_FLOAT':
    case 'DT_DOUBLE': {
      if (!(d instanceof (base === 'DT_FLOAT' ? Float32Array : Float64Array))) return undefined;
      const f = d as Float32Array | Float64Array;
      for (let i = 0; i < f.length; i++) if (f[i] !== f[i]) return undefined;
      listBytes = f.byteLength;
      break;
    }
    case 'DT_INT64': {
      if (!(d instanceof BigInt64Array)) return undefined;
      const w = new Uint32Array(d.buffer, d.byteOffset, 2 * d.length);
      for (let i = 0; i < w.length; i += 2) listBytes += varint64Size(w[i]!, w[i + 1]!);
      break;
    }
    case 'DT_BOOL':
      if (!(d instanceof Uint8Array)) return undefined;
      listBytes = d.length;
      break;
    case 'DT_STRING': {
      if (!Array.isArray(d)) return undefined;
      for (const s of d) {
        if (!(s instanceof Uint8Array)) return undefined;
        listBytes += 1 + varintSize(s.byteLength) + s.byteLength;
      }
      break;
    }
    default: {
      if (!(d instanceof Int32Array)) return undefined;
      for (let i = 0; i < d.length; i++) listBytes += d[i]! < 0 ? 10 : varintSize(d[i]!);
    }
  }
  // dtype, tensor_shape, then the value list (packed: tag, length, values; strings: already counted per value).
  let bodyBytes = 2 + 1 + varintSize(shapeBytes) + shapeBytes;
  if (d.length > 0) bodyBytes += base === 'DT_STRING' ? listBytes : 1 + varintSize(listBytes) + listBytes;
  return { tensor: t, base, shapeBytes, listBytes, bodyBytes };
}

/** The PredictResponse bytes written from typed arrays, or undefined (see the contract at the top). */
export function writePredictResponse(reply: PredictReply): Buffer | undefined {
  if (!LITTLE_ENDIAN) return undefined;
  const spec = reply.modelSpec;
  const specKeys = Object.keys(spec);
  const version = spec.version?.value;
  if (
    typeof spec.name !== 'string' ||
    !isAscii(spec.name) ||
    typeof version !== 'number' ||
    !Number.isSafeInteger(version) ||
    version < 0 ||
    Object.keys(spec.version).length !== 1 ||
    (spec.signatureName !== undefined && (typeof spec.signatureName !== 'string' || !isAscii(spec.signatureName))) ||
    specKeys.length !== (spec.signatureName !== undefined ? 3 : 2)
  ) {
    return undefined;
  }
  const aliases = Object.keys(reply.outputs);
  const sized: Sized[] = [];
  let total = 0;
  for (const alias of aliases) {
    if (!isAscii(alias)) return undefined;
    const s = sizeTensor(reply.outputs[alias]!);
    if (!s) return undefined;
    sized.push(s);
    const entry = 1 + varintSize(alias.length) + alias.length + 1 + varintSize(s.bodyBytes) + s.bodyBytes;
    total += 1 + varintSize(entry) + entry;
  }
  const versionBytes = 1 + varintSize(version);
  let specBytes = 1 + varintSize(spec.name.length) + spec.name.length + 1 + varintSize(versionBytes) + versionBytes;
  if (spec.signatureName !== undefined) specBytes += 1 + varintSize(spec.signatureName.length) + spec.signatureName.length;
  total += 1 + varintSize(specBytes) + specBytes;
  if (total > 2 ** 31 - 1) return undefined;

  const w = new Out(Buffer.allocUnsafe(total));
  aliases.forEach((alias, i) => {
    const s = sized[i]!;
    w.byte(0x0a);
    w.varint(1 + varintSize(alias.length) + alias.length + 1 + varintSize(s.bodyBytes) + s.bodyBytes);
    w.byte(0x0a);
    w.ascii(alias);
    w.byte(0x12);
    w.varint(s.bodyBytes);
    writeTensor(w, s);
  });
  w.byte(0x12);
  w.varint(specBytes);
  w.byte(0x0a);
  w.ascii(spec.name);
  w.byte(0x12);
  w.varint(versionBytes);
  w.byte(0x08);
  w.varint(version);
  if (spec.signatureName !== undefined) {
    w.byte(0x1a);
    w.ascii(spec.signatureName);
  }
  if (w.pos !== total) throw new Error(`PredictResponse writer: wrote ${w.pos} of ${total} bytes`); // a bug here, never input
  return w.buf;
}

/** A write position in the output buffer. */
class Out {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  /** A non-negative integer below 2^53. */
  varint(v: number): void {
    const b = this.buf;
    while (v >= 128) {
      b[this.pos++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    b[this.pos++] = v;
  }

  /** A 64-bit value as two's complement words. */
  varint64(lo: number, hi: number): void {
    const b = this.buf;
    while (hi !== 0 || lo >= 128) {
      b[this.pos++] = (lo & 127) | 128;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi = hi >>> 7;
    }
    b[this.pos++] = lo;
  }

  /** Length-prefixed ASCII. */
  ascii(s: string): void {
    this.varint(s.length);
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }

  raw(bytes: Uint8Array): void {
    this.buf.set(bytes, this.pos);
    this.pos += bytes.byteLength;
  }
}

function writeTensor(w: Out, s: Sized): void {
  const { tensor: t, base } = s;
  const fast = FAST[base]!;
  w.byte(0x08);
  w.byte(fast.dtype);
  w.byte(0x12);
  w.varint(s.shapeBytes);
  for (const d of t.shape) {
    w.byte(0x12);
    if (d) {
      w.varint(1 + varintSize(d));
      w.byte(0x08);
      w.varint(d);
    } else {
      w.byte(0);
    }
  }
  const d = t.data;
  if (d.length === 0) return;
  if (base === 'DT_STRING') {
    for (const v of d as Uint8Array[]) {
      w.byte(0x42);
      w.varint(v.byteLength);
      w.raw(v);
    }
    return;
  }
  w.byte(fast.tag);
  w.varint(s.listBytes);
  switch (base) {
    case 'DT_FLOAT':
    case 'DT_DOUBLE': {
      const f = d as Float32Array | Float64Array;
      w.raw(new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
      return;
    }
    case 'DT_INT64': {
      const words = new Uint32Array((d as BigInt64Array).buffer, (d as BigInt64Array).byteOffset, 2 * d.length);
      for (let i = 0; i < words.length; i += 2) w.varint64(words[i]!, words[i + 1]!);
      return;
    }
    case 'DT_BOOL': {
      const b = d as Uint8Array;
      for (let i = 0; i < b.length; i++) w.byte(b[i] !== 0 ? 1 : 0);
      return;
    }
    default: {
      // int32: negative values are sign-extended to 64 bits (10 bytes), as protobuf's int32 encoding says.
      const v = d as Int32Array;
      for (let i = 0; i < v.length; i++) {
        const x = v[i]!;
        if (x >= 0) w.varint(x);
        else w.varint64(x >>> 0, 0xffffffff);
      }
    }
  }
}
