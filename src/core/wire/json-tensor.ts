// TF Serving's JSON tensor format (tensorflow_serving/util/json_tensor.cc), the response half: HostTensors to the text
// of a :predict response and of errors, byte for byte as TF Serving writes them. Requests are decoded by
// predict-json.ts (:predict) and example-json.ts (:classify, :regress).
//
// Response: {"predictions": [...]} (row) or {"outputs": ...} (columnar), written with rapidjson's PrettyWriter layout
// (json-writer.ts) and TF Serving's float formatting (float-format.ts).
import { RequestError } from '../errors.js';
import type { HostTensor, SignatureInfo } from '../engine/types.js';
import { PrettyJsonWriter } from './json-writer.js';
import { formatFloat32, formatFloat64 } from './float-format.js';
import { dataTypeString, invalid, Status } from './status.js';

/** The layout of a :predict request, which its response follows: row ("instances") or columnar ("inputs"). */
export type PredictFormat = 'row' | 'columnar';

/** `{"error": message}` as TF Serving writes it (MakeJsonFromStatus). */
export function encodeErrorJson(message: string): string {
  const w = new PrettyJsonWriter();
  w.startObject();
  w.key('error');
  w.string(message);
  w.endObject();
  return w.toString();
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
