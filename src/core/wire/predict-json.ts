// The decoder of TF Serving's :predict JSON request (tensorflow_serving/util/json_tensor.cc FillPredictRequestFromJson):
// a request body to the signature it names and one HostTensor per input, with TF Serving's rules and error texts.
// The one entry is decodePredictJson; it tries the fast path (predict-json-fast.ts: one pass over the bytes for the
// common body) and falls back to the general decoder below, which owns every error text.
//
// Request (see json_tensor.h): {"signature_name"?: string, "instances": [...]} (row format: a list of examples, all
// with the same shape, stacked into a batch) or {"inputs": ...} (columnar: one tensor, or an object of named tensors).
// Strings may be {"b64": "..."}.
// Contract: the result is decoded, not checked against the signature's shapes; callers run signature-check.ts next.
import { RequestError } from '../errors.js';
import type { HostTensor, SignatureInfo } from '../engine/types.js';
import {
  isInt32,
  isInt64,
  isJsonObject,
  isUint32,
  isUint64,
  jsonNumberInfo,
  jsonTypeName,
  checkJsonSyntax,
  parseJsonBody,
  preciseBody,
} from './json-parse.js';
import { decodeBase64Strict, isBase64Object, requestSignatureName, signatureNotFoundError } from './json-request.js';
import { jsonDebugString } from './json-writer.js';
import type { PredictFormat } from './json-tensor.js';
import { decodePredictFast } from './predict-json-fast.js';
import { dataTypeString, invalid, Status } from './status.js';

export interface DecodedPredictRequest {
  inputs: Record<string, HostTensor>;
  format: PredictFormat;
}

/** Bodies from this size get the syntax check before the general parse (see decodePredictJson). */
const CHECK_SYNTAX_FIRST_BYTES = 1 << 20;

export interface PredictJsonRequest extends DecodedPredictRequest {
  /** The signature key the request names (its signature_name, else the default). */
  signatureName: string;
  signature: SignatureInfo;
}

/**
 * Decodes a :predict body for a servable with `signatures`: the signature it names (`override` wins over the body's
 * signature_name; '' in the body means `defaultSignature`) and its input tensors. Throws RequestError with TF
 * Serving's code and text. Takes no ownership of `body`.
 */
export function decodePredictJson(
  body: Uint8Array,
  signatures: Record<string, SignatureInfo>,
  defaultSignature = 'serving_default',
  override?: string,
): PredictJsonRequest {
  const stop = { offset: 0, whole: false };
  if (override === undefined) {
    const fast = decodePredictFast(body, signatures, defaultSignature, stop);
    if (fast) return { ...fast, signature: signatures[fast.signatureName]! };
  }
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  // A large body the fast path read most of and then stopped in, not having found it well-formed, is most often broken
  // there (a truncated or unterminated body): check its syntax first, which keeps nothing, rather than let JSON.parse
  // build the whole document before it fails (json-parse.ts checkJsonSyntax). A body the fast path stopped in early,
  // or read whole as well-formed JSON, goes straight to the parse: the check would only add a scan.
  if (body.byteLength >= CHECK_SYNTAX_FIRST_BYTES && !stop.whole && stop.offset >= body.byteLength / 2) checkJsonSyntax(text);
  const doc = parseJsonBody(text);
  const signatureName = override ?? (requestSignatureName(doc) || defaultSignature);
  const signature = Object.prototype.hasOwnProperty.call(signatures, signatureName) ? signatures[signatureName] : undefined;
  if (!signature) throw signatureNotFoundError(signatureName);
  return { signatureName, signature, ...decodePredictRequest(doc, signature) };
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
