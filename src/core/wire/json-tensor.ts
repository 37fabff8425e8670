// TF Serving's JSON tensor format (tensorflow_serving/util/json_tensor.cc), as pure functions: request bodies of
// :predict to HostTensors and HostTensors back to response text, with TF Serving's rules and error texts.
//
// Request (see json_tensor.h): {"signature_name"?: string, "instances": [...]} (row format: a list of examples, all
// with the same shape, stacked into a batch) or {"inputs": ...} (columnar: one tensor, or an object of named tensors).
// Strings may be {"b64": "..."}. Response: {"predictions": [...]} (row) or {"outputs": ...} (columnar), written with
// rapidjson's PrettyWriter layout (json-writer.ts) and TF Serving's float formatting (float-format.ts).
import { RequestError, type ErrorCodeName } from '../errors.js';
import type { HostTensor, SignatureInfo } from '../engine/types.js';
import {
  isInt32,
  isInt64,
  isJsonObject,
  isUint32,
  isUint64,
  jsonNumberInfo,
  jsonTypeName,
  preciseBody,
} from './json-parse.js';
import { PrettyJsonWriter, jsonDebugString } from './json-writer.js';
import { formatFloat32, formatFloat64 } from './float-format.js';

export { parseJsonBody } from './json-parse.js';

export type PredictFormat = 'row' | 'columnar';

export interface DecodedPredictRequest {
  inputs: Record<string, HostTensor>;
  format: PredictFormat;
}

/** A TF Serving status: code + message (what absl::Status carries), thrown as RequestError at the API boundary. */
class Status extends Error {
  constructor(
    readonly code: ErrorCodeName,
    message: string,
  ) {
    super(message);
  }
  /** absl::Status::ToString(), which TF Serving embeds in wrapped messages. */
  toStatusString(): string {
    return `${this.code}: ${this.message}`;
  }
}

const invalid = (message: string) => new Status('INVALID_ARGUMENT', message);

/** TensorFlow's DataTypeString: 'DT_FLOAT' -> 'float', 'DT_INT64' -> 'int64'. */
export function dataTypeString(dtype: string): string {
  return dtype.startsWith('DT_') ? dtype.slice(3).toLowerCase() : dtype.toLowerCase();
}

/** `{"error": message}` as TF Serving writes it (MakeJsonFromStatus). */
export function encodeErrorJson(message: string): string {
  const w = new PrettyJsonWriter();
  w.startObject();
  w.key('error');
  w.string(message);
  w.endObject();
  return w.toString();
}

/**
 * The signature a request body names: its "signature_name" or '' (meaning serving_default). Throws TF Serving's error
 * when the body is not an object or signature_name is not a string; call it before resolving the signature.
 */
export function requestSignatureName(body: unknown): string {
  if (!isJsonObject(body)) {
    throw new RequestError('INVALID_ARGUMENT', `JSON Value: ${jsonDebugString(body)} Is not object`);
  }
  const name = body.signature_name;
  if (name === undefined) return '';
  if (typeof name !== 'string') {
    throw new RequestError(
      'INVALID_ARGUMENT',
      `JSON Value: ${jsonDebugString(body)} not formatted correctly. 'signature_name' key must be a string value.`,
    );
  }
  return name;
}

/** TF Serving's error for a signature name the model does not have (HttpRestApiHandler::GetInfoMap). */
export function signatureNotFoundError(name: string): RequestError {
  return new RequestError('INVALID_ARGUMENT', `Serving signature name: "${name || 'serving_default'}" not found in signature def`);
}

// Dtypes whose decoding depends on the integer/double kind of JSON numbers (`1` vs `1.0`) or on >2^53 digits.
const KIND_SENSITIVE = new Set(['DT_INT32', 'DT_INT16', 'DT_INT8', 'DT_UINT8', 'DT_INT64', 'DT_UINT32', 'DT_UINT64']);

/**
 * Decodes a :predict body (from parseJsonBody) for `signature`. Returns one HostTensor per signature input in the
 * layout of engine/types.ts. Throws RequestError with TF Serving's code and text.
 */
export function decodePredictRequest(body: unknown, signature: SignatureInfo): DecodedPredictRequest {
  const needsKinds = Object.values(signature.inputs).some((s) => KIND_SENSITIVE.has(s.dtype));
  try {
    return decodePredict(needsKinds ? preciseBody(body) : body, signature);
  } catch (e) {
    // Lists nested thousands deep overflow the recursive tensor fill (TF Serving's is recursive too).
    if (e instanceof RangeError) throw new RequestError('INVALID_ARGUMENT', 'JSON Value: lists are nested too deeply');
    if (!(e instanceof Status)) throw e;
    // Error texts quote the request; redo it from the precise parse so numbers print as the client wrote them.
    let status = e;
    if (!needsKinds) {
      try {
        decodePredict(preciseBody(body), signature);
      } catch (e2) {
        if (e2 instanceof Status) status = e2;
      }
    }
    throw new RequestError(status.code, status.message);
  }
}

function decodePredict(body: unknown, signature: SignatureInfo): DecodedPredictRequest {
  let signatureName: string;
  try {
    signatureName = requestSignatureName(body);
  } catch (e) {
    throw new Status('INVALID_ARGUMENT', (e as Error).message);
  }
  const doc = body as Record<string, unknown>;
  const names = Object.keys(signature.inputs).sort();
  if (names.length === 0) {
    throw invalid(`Failed to get input map for signature: ${signatureName || 'DEFAULT'}`);
  }
  const instances = doc.instances;
  const inputs = doc.inputs;
  if (instances !== undefined) {
    if (inputs !== undefined) {
      throw invalid(
        `JSON Value: ${jsonDebugString(doc)} Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist `,
      );
    }
    if (!Array.isArray(instances)) {
      throw invalid(`JSON Value: ${jsonDebugString(doc)} Expecting 'instances' to be an list/array`);
    }
    if (instances.length === 0) {
      throw invalid(`JSON Value: ${jsonDebugString(doc)} No values in 'instances' array`);
    }
    return { inputs: decodeInstances(instances, signature, names), format: 'row' };
  }
  if (inputs !== undefined) {
    return { inputs: decodeColumnar(inputs, signature, names), format: 'columnar' };
  }
  throw invalid("Missing 'inputs' or 'instances' key");
}

/** A base64 object: exactly one member, "b64", holding a string. */
function isBase64Object(v: unknown): v is { b64: string } {
  if (!isJsonObject(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && keys[0] === 'b64' && typeof v.b64 === 'string';
}

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** absl::Base64Unescape: the standard alphabet, padding optional but only at the end. */
export function decodeBase64Strict(s: string): Uint8Array | undefined {
  if (!BASE64_RE.test(s)) return undefined;
  const body = s.replace(/=+$/, '');
  if (body.length % 4 === 1) return undefined;
  if (s.length !== body.length && s.length % 4 !== 0) return undefined;
  return new Uint8Array(Buffer.from(body, 'base64'));
}

function decodeBase64Object(v: unknown): Uint8Array {
  if (!isBase64Object(v)) throw invalid(`JSON Value: ${jsonDebugString(v)} not formatted correctly for base64 data`);
  const bytes = decodeBase64Strict(v.b64);
  if (!bytes) throw invalid('Unable to base64 decode');
  return bytes;
}

function typeError(v: unknown, dtype: string): Status {
  return invalid(`JSON Value: ${jsonDebugString(v)} Type: ${jsonTypeName(v)} is not of expected type: ${dataTypeString(dtype)}`);
}

const utf8 = new TextEncoder();

/** Values of one tensor as they are collected: numbers, bigints, booleans or byte strings. */
type Values = (number | bigint | boolean | Uint8Array)[];

/** AddValueToTensor: one JSON scalar into `out`, checked against `dtype`. */
function addValue(v: unknown, dtype: string, out: Values): void {
  switch (dtype) {
    case 'DT_FLOAT':
    case 'DT_DOUBLE': {
      const n = jsonNumberInfo(v);
      if (!n) throw typeError(v, dtype);
      out.push(n.value);
      return;
    }
    case 'DT_INT32':
    case 'DT_INT16':
    case 'DT_INT8':
    case 'DT_UINT8': {
      const n = jsonNumberInfo(v);
      if (!n || !isInt32(n)) throw typeError(v, dtype);
      out.push(n.value);
      return;
    }
    case 'DT_STRING':
      if (typeof v !== 'string') throw typeError(v, dtype);
      out.push(utf8.encode(v));
      return;
    case 'DT_INT64': {
      const n = jsonNumberInfo(v);
      if (!n || !isInt64(n)) throw typeError(v, dtype);
      out.push(n.big!);
      return;
    }
    case 'DT_BOOL':
      if (typeof v !== 'boolean') throw typeError(v, dtype);
      out.push(v);
      return;
    case 'DT_UINT32': {
      const n = jsonNumberInfo(v);
      if (!n || !isUint32(n)) throw typeError(v, dtype);
      out.push(n.value);
      return;
    }
    case 'DT_UINT64': {
      const n = jsonNumberInfo(v);
      if (!n || !isUint64(n)) throw typeError(v, dtype);
      out.push(n.big!);
      return;
    }
    default:
      throw new Status('UNIMPLEMENTED', `Conversion of JSON Value: ${jsonDebugString(v)} to type: ${dataTypeString(dtype)}`);
  }
}

/** GetDenseTensorShape: the shape implied by following the first element of each nested list. */
function denseShape(v: unknown): number[] {
  const shape: number[] = [];
  while (Array.isArray(v)) {
    shape.push(v.length);
    if (v.length === 0) break;
    v = v[0];
  }
  return shape;
}

/** FillTensorProto: appends the leaves of `v` to `out`, checking that the nesting is dense and of `shape`. */
function fillValues(v: unknown, level: number, dtype: string, shape: number[], out: Values): void {
  if (!Array.isArray(v)) {
    if (level !== shape.length) {
      throw invalid(
        `JSON Value: ${jsonDebugString(v)} found at incorrect level: ${level + 1} in the JSON DOM. Expected at level: ${shape.length}`,
      );
    }
    if (isJsonObject(v)) {
      if (dtype !== 'DT_STRING') throw typeError(v, dtype);
      out.push(decodeBase64Object(v));
    } else {
      addValue(v, dtype, out);
    }
    return;
  }
  if (level >= shape.length) {
    throw invalid(`Encountered list at unexpected level: ${level} expected < ${shape.length}`);
  }
  if (v.length !== shape[level]) {
    throw invalid(`Encountered list at unexpected size: ${v.length} at level: ${level} expected size: ${shape[level]}`);
  }
  for (const e of v) fillValues(e, level + 1, dtype, shape, out);
}

const shapeString = (shape: number[]) => `[${shape.join(',')}]`;

interface RowAccumulator {
  values: Values;
  /** Element count and shape of the first instance (all later ones must match). */
  size: number;
  shape: number[];
}

/** FillTensorMapFromInstancesList: the row format. */
function decodeInstances(instances: unknown[], signature: SignatureInfo, names: string[]): Record<string, HostTensor> {
  const isElementObject = (v: unknown) => isJsonObject(v) && !isBase64Object(v);
  if (!isJsonObject(instances[0]) && names.length > 1) {
    throw invalid(
      'instances is a plain list, but expecting list of objects as multiple input tensors required as per tensorinfo_map',
    );
  }
  const objects = isElementObject(instances[0]);
  const acc = new Map<string, RowAccumulator>();

  const addItem = (item: unknown, name: string) => {
    const spec = signature.inputs[name];
    if (!spec) throw invalid(`JSON object: does not have named input: ${name}`);
    let a = acc.get(name);
    const shape = denseShape(item);
    const values: Values = a ? a.values : [];
    const before = values.length;
    fillValues(item, 0, spec.dtype, shape, values);
    const size = values.length - before;
    if (!a) {
      acc.set(name, { values, size, shape });
    } else if (a.size !== size) {
      throw invalid(`Expecting tensor size: ${a.size} but got: ${size}`);
    } else if (shapeString(a.shape) !== shapeString(shape)) {
      throw invalid(`Expecting shape ${shapeString(a.shape)} but got: ${shapeString(shape)}`);
    }
  };

  instances.forEach((elem, index) => {
    if (objects) {
      if (!isElementObject(elem)) throw invalid(`Expecting object but got list at item ${index} of input list`);
      const keys = Object.keys(elem as object);
      for (const key of keys) {
        try {
          addItem((elem as Record<string, unknown>)[key], key);
        } catch (e) {
          if (!(e instanceof Status)) throw e;
          throw invalid(`Failed to process element: ${index} key: ${key} of 'instances' list. Error: ${e.toStatusString()}`);
        }
      }
      const sortedKeys = [...new Set(keys)].sort();
      if (sortedKeys.length !== names.length || sortedKeys.some((k, i) => k !== names[i])) {
        throw invalid(
          `Failed to process element: ${index} of 'instances' list. JSON object: ${jsonDebugString(elem)} keys must be equal to: ${names.join(',')}`,
        );
      }
    } else {
      if (isElementObject(elem)) throw invalid(`Expecting value/list but got object at item ${index} of input list`);
      try {
        addItem(elem, Object.keys(signature.inputs)[0]);
      } catch (e) {
        if (!(e instanceof Status)) throw e;
        throw invalid(`Failed to process element: ${index} of 'instances' list. Error: ${e.toStatusString()}`);
      }
    }
  });

  const out: Record<string, HostTensor> = {};
  for (const [name, a] of acc) {
    out[name] = toHostTensor(signature.inputs[name].dtype, [instances.length, ...a.shape], a.values);
  }
  return out;
}

/** FillTensorMapFromInputsMap: the columnar format. */
function decodeColumnar(inputs: unknown, signature: SignatureInfo, names: string[]): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  if (!isJsonObject(inputs) || isBase64Object(inputs)) {
    if (names.length > 1) {
      throw invalid(
        'inputs is a plain value/list, but expecting an object as multiple input tensors required as per tensorinfo_map',
      );
    }
    const name = names[0];
    out[name] = decodeOne(inputs, signature.inputs[name].dtype);
    return out;
  }
  for (const name of names) {
    if (!Object.prototype.hasOwnProperty.call(inputs, name)) {
      throw invalid(`Missing named input: ${name} in 'inputs' object.`);
    }
    out[name] = decodeOne(inputs[name], signature.inputs[name].dtype);
  }
  return out;
}

function decodeOne(v: unknown, dtype: string): HostTensor {
  const shape = denseShape(v);
  const values: Values = [];
  fillValues(v, 0, dtype, shape, values);
  return toHostTensor(dtype, shape, values);
}

/** Collected values as a HostTensor in engine/types.ts layout (TF's proto-to-tensor casts for narrow ints). */
function toHostTensor(dtype: string, shape: number[], values: Values): HostTensor {
  let data: HostTensor['data'];
  switch (dtype) {
    case 'DT_FLOAT':
      data = Float32Array.from(values as number[]);
      break;
    case 'DT_DOUBLE':
      data = Float64Array.from(values as number[]);
      break;
    case 'DT_INT32':
      data = Int32Array.from(values as number[]);
      break;
    case 'DT_INT16':
      data = Int32Array.from(values as number[], (x) => (x << 16) >> 16);
      break;
    case 'DT_INT8':
      data = Int32Array.from(values as number[], (x) => (x << 24) >> 24);
      break;
    case 'DT_UINT8':
      data = Int32Array.from(values as number[], (x) => x & 0xff);
      break;
    case 'DT_UINT32':
      data = Uint32Array.from(values as number[]);
      break;
    case 'DT_INT64':
      data = BigInt64Array.from(values as bigint[]);
      break;
    case 'DT_UINT64':
      data = BigUint64Array.from(values as bigint[]);
      break;
    case 'DT_BOOL':
      data = Uint8Array.from(values as boolean[], (b) => (b ? 1 : 0));
      break;
    case 'DT_STRING':
      data = values as Uint8Array[];
      break;
    default:
      throw new Status('UNIMPLEMENTED', `Conversion to type: ${dataTypeString(dtype)}`);
  }
  return { dtype, shape, data };
}

// --- responses ------------------------------------------------------------------------------------------------------

const utf8Decoder = new TextDecoder();

/** Writes element `i` of `t` (AddSingleValueAndAdvance). */
function writeElement(w: PrettyJsonWriter, t: HostTensor, i: number, asBytes: boolean, name: string): void {
  const d = t.data;
  // A fetched reference tensor (DT_FLOAT_REF in old signatures) holds plain values of its base type.
  switch (t.dtype.endsWith('_REF') ? t.dtype.slice(0, -4) : t.dtype) {
    case 'DT_FLOAT':
      w.raw(formatFloat32((d as Float32Array)[i]));
      return;
    case 'DT_DOUBLE':
      w.raw(formatFloat64((d as Float64Array)[i]));
      return;
    case 'DT_INT32':
    case 'DT_INT16':
    case 'DT_INT8':
    case 'DT_UINT8':
    case 'DT_UINT32':
    case 'DT_INT64':
    case 'DT_UINT64':
      w.raw(String((d as Int32Array | BigInt64Array)[i]));
      return;
    case 'DT_BOOL':
      w.bool((d as Uint8Array)[i] !== 0);
      return;
    case 'DT_STRING': {
      const bytes = (d as Uint8Array[])[i];
      if (asBytes) {
        w.startObject();
        w.key('b64');
        w.string(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'));
        w.endObject();
      } else {
        // rapidjson copies the bytes as they are; invalid UTF-8 cannot be carried in a JS string (U+FFFD instead).
        w.string(utf8Decoder.decode(bytes));
      }
      return;
    }
    default:
      throw invalid(`Failed to write JSON value for tensor type: ${dataTypeString(t.dtype)}`);
  }
  void name;
}

/** AddTensorValues: dims from `dim` on, as nested lists (a scalar when no dims are left). Returns the next index. */
function writeValues(w: PrettyJsonWriter, t: HostTensor, dim: number, index: number, asBytes: boolean, name: string): number {
  const rank = t.shape.length;
  if (dim > rank - 1) {
    writeElement(w, t, index, asBytes, name);
    return index + 1;
  }
  w.startArray();
  const n = t.shape[dim];
  if (dim === rank - 1) {
    if (t.dtype === 'DT_FLOAT') {
      // The innermost rows of float outputs are most of any response: no per-element dtype dispatch.
      const d = t.data as Float32Array;
      for (let i = 0; i < n; i++) w.raw(formatFloat32(d[index++]));
    } else {
      for (let i = 0; i < n; i++) writeElement(w, t, index++, asBytes, name);
    }
  } else {
    for (let i = 0; i < n; i++) index = writeValues(w, t, dim + 1, index, asBytes, name);
  }
  w.endArray();
  return index;
}

/** Output tensors named `*_bytes` holding DT_STRING are written as {"b64": ...} (IsNamedTensorBytes). */
const isBytesTensor = (name: string, t: HostTensor) => (t.dtype === 'DT_STRING' || t.dtype === 'DT_STRING_REF') && name.endsWith('_bytes');

/**
 * The :predict response text for `outputs`: {"predictions": ...} for row requests, {"outputs": ...} for columnar
 * ones, byte for byte as TF Serving writes it. A single output is written bare (no object keyed by its name).
 * Multiple outputs are written in alias order (TF Serving's own order is its proto map's, i.e. unspecified).
 * Throws RequestError(INVALID_ARGUMENT) for outputs TF Serving cannot express in JSON.
 */
export function encodePredictResponse(outputs: Record<string, HostTensor>, format: PredictFormat, signature?: SignatureInfo): string {
  void signature;
  try {
    return format === 'row' ? encodeRow(outputs) : encodeColumnar(outputs);
  } catch (e) {
    if (e instanceof Status) throw new RequestError(e.code, e.message);
    throw e;
  }
}

function sortedEntries(outputs: Record<string, HostTensor>): [string, HostTensor][] {
  const entries = Object.entries(outputs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) throw invalid('Cannot convert empty tensor map to JSON');
  return entries;
}

function encodeRow(outputs: Record<string, HostTensor>): string {
  const entries = sortedEntries(outputs);
  let batch = -1;
  for (const [name, t] of entries) {
    if (t.shape.length === 0) throw invalid(`Tensor name: ${name} has no shape information `);
    const b = t.shape[0];
    if (batch >= 0 && batch !== b) {
      throw invalid(`Tensor name: ${name} has inconsistent batch size: ${b} expecting: ${batch}`);
    }
    batch = b;
  }
  const w = new PrettyJsonWriter();
  w.startObject();
  w.key('predictions');
  w.startArray();
  const objects = entries.length > 1;
  const offsets = entries.map(() => 0);
  for (let item = 0; item < batch; item++) {
    if (objects) w.startObject();
    w.singleLineArrays = true;
    entries.forEach(([name, t], k) => {
      if (objects) w.key(name);
      offsets[k] = writeValues(w, t, 1, offsets[k], isBytesTensor(name, t), name);
    });
    w.singleLineArrays = false;
    if (objects) w.endObject();
  }
  w.endArray();
  w.endObject();
  return w.toString();
}

function encodeColumnar(outputs: Record<string, HostTensor>): string {
  const entries = sortedEntries(outputs);
  const w = new PrettyJsonWriter();
  w.startObject();
  w.key('outputs');
  const objects = entries.length > 1;
  if (objects) w.startObject();
  for (const [name, t] of entries) {
    if (objects) w.key(name);
    writeValues(w, t, 0, 0, isBytesTensor(name, t), name);
  }
  if (objects) w.endObject();
  w.endObject();
  return w.toString();
}
