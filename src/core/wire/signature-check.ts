// The request-vs-signature check: the one place a request's tensors are refused before they reach the batcher or the
// engine. REST (:predict, :classify, :regress), gRPC (Predict, Classify, Regress), `tfsvc run` and warmup replay all
// call it after decoding (the TensorProto decoder also calls it BEFORE allocating, on the shapes a request declares).
//
// What it checks, per input, in the signature's terms (errors are RequestError INVALID_ARGUMENT: 400 / gRPC 3):
//  - the alias is one of the signature's inputs, and the dtype is the signature's;
//  - the shape is compatible with the signature's: of the same rank, every fixed dimension matches (-1 matches any
//    size); of another rank (which TF Serving runs when the graph can, e.g. half_plus_two's x [-1,1] fed [3]), the
//    element count fits the fixed dimensions (see shapeCompatible); an unknown-rank signature shape matches any shape;
//  - inputs of the signature's rank whose signature shape starts with a free batch dimension (-1) agree on its size;
//  - the tensor holds as many values as its shape implies;
// and over the whole request, that the elements and decoded bytes stay within RequestLimits: at most
// `maxElements` elements (--max_request_elements, default 2^26), and at most 8 bytes per allowed element or 8x the
// request's own size, whichever is larger (a JSON or protobuf body never decodes to much more than itself, except
// through TF's splat fill of short value lists, which this bound caps).
import { RequestError } from '../errors.js';
import type { HostTensor, SignatureInfo, TensorSpec } from '../engine/types.js';

export interface RequestLimits {
  /** Most elements the inputs of one request may hold together (--max_request_elements). */
  maxElements: number;
}

/** --max_request_elements' default: 2^26 elements (256 MiB of float32). */
export const DEFAULT_MAX_REQUEST_ELEMENTS = 2 ** 26;

export const DEFAULT_LIMITS: RequestLimits = { maxElements: DEFAULT_MAX_REQUEST_ELEMENTS };

/** What the check needs to know of one input: known before its values are allocated. */
export interface TensorHeader {
  dtype: string;
  shape: readonly number[];
  /** Bytes the decoded values take (strings: the sum of their lengths). */
  bytes: number;
  /** Values the decoded tensor holds; absent before decoding (then the shape is taken at its word). */
  values?: number;
}

const invalid = (message: string) => new RequestError('INVALID_ARGUMENT', message);
const shapeText = (shape: readonly number[]) => `[${shape.join(',')}]`;
const baseType = (dtype: string) => (dtype.endsWith('_REF') ? dtype.slice(0, -4) : dtype);

/** Bytes one element takes in the HostTensor layout (src/core/savedmodel/host-tensor.ts); 0 for strings. */
export function elementBytes(dtype: string): number {
  switch (baseType(dtype)) {
    case 'DT_DOUBLE':
    case 'DT_INT64':
    case 'DT_UINT64':
    case 'DT_COMPLEX64':
      return 8;
    case 'DT_COMPLEX128':
      return 16;
    case 'DT_BOOL':
      return 1;
    case 'DT_STRING':
      return 0;
    default:
      return 4;
  }
}

/** Elements a shape implies; a double, exact below 2^53 and far above every limit when larger. */
export function shapeElements(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** The most bytes the decoded inputs of a request of `requestBytes` bytes may take (see the file comment). */
export function maxDecodedBytes(limits: RequestLimits, requestBytes = 0): number {
  return 8 * Math.max(limits.maxElements, requestBytes);
}

/** The header of a decoded tensor. */
export function hostHeader(t: HostTensor): TensorHeader {
  const d = t.data;
  let bytes: number;
  if (Array.isArray(d)) {
    bytes = 0;
    for (const s of d) bytes += s.byteLength;
  } else {
    bytes = d.byteLength;
  }
  // Complex values are stored as (real, imaginary) pairs.
  const perElement = baseType(t.dtype).startsWith('DT_COMPLEX') ? 2 : 1;
  return { dtype: t.dtype, shape: t.shape, bytes, values: d.length / perElement };
}

/**
 * `spec`'s shape admits `shape`. Of the same rank: every fixed dimension equal. Of another rank, TF Serving still runs
 * the request when the graph can take it (its canonical half_plus_two example feeds `[3]` to an `x` of `[-1,1]`), so
 * such a shape is admitted when its elements fit the signature's: a whole number of the fixed dimensions' product
 * (exactly that product when no dimension is free). An unknown-rank spec admits any shape.
 */
export function shapeCompatible(spec: TensorSpec, shape: readonly number[]): boolean {
  if (spec.shape === null) return true;
  if (spec.shape.length === shape.length) {
    for (let i = 0; i < shape.length; i++) {
      const want = spec.shape[i]!;
      if (want >= 0 && want !== shape[i]) return false;
    }
    return true;
  }
  let fixed = 1;
  let free = false;
  for (const d of spec.shape) {
    if (d >= 0) fixed *= d;
    else free = true;
  }
  const n = shapeElements(shape);
  if (fixed === 0) return n === 0;
  return free ? n % fixed === 0 : n === fixed;
}

/**
 * Checks request inputs (by signature alias) against `signature` and `limits`; throws RequestError(INVALID_ARGUMENT)
 * naming the input and both shapes. `requestBytes` is the size of the request as received (0 when unknown). Inputs
 * the request leaves out are not this check's business (TF Serving's alias rules in predict-rules.ts are).
 */
export function checkHeaders(signature: SignatureInfo, inputs: Record<string, TensorHeader>, limits: RequestLimits = DEFAULT_LIMITS, requestBytes = 0): void {
  let elements = 0;
  let bytes = 0;
  let batch: { alias: string; size: number } | undefined;
  for (const alias of Object.keys(inputs)) {
    const h = inputs[alias]!;
    const spec = Object.prototype.hasOwnProperty.call(signature.inputs, alias) ? signature.inputs[alias] : undefined;
    if (!spec) {
      throw invalid(`input "${alias}" is not an input of signature "${signature.key}" (its inputs: ${Object.keys(signature.inputs).sort().join(', ')})`);
    }
    if (h.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw invalid(`input "${alias}": shape ${shapeText(h.shape)} is not a valid tensor shape`);
    if (baseType(h.dtype) !== baseType(spec.dtype)) {
      throw invalid(`input "${alias}": dtype ${baseType(h.dtype)} does not match the signature's ${baseType(spec.dtype)}`);
    }
    if (!shapeCompatible(spec, h.shape)) {
      throw invalid(`input "${alias}": shape ${shapeText(h.shape)} is not compatible with the signature's ${spec.shape === null ? 'unknown shape' : shapeText(spec.shape)}`);
    }
    const n = shapeElements(h.shape);
    if (h.values !== undefined && h.values !== n) {
      throw invalid(`input "${alias}": ${h.values} values for shape ${shapeText(h.shape)}, which holds ${n}`);
    }
    if (spec.shape !== null && spec.shape.length > 0 && spec.shape[0] === -1 && spec.shape.length === h.shape.length) {
      if (!batch) batch = { alias, size: h.shape[0]! };
      else if (batch.size !== h.shape[0]) {
        throw invalid(
          `input "${alias}": batch size ${h.shape[0]} (dimension 0 of shape ${shapeText(h.shape)}) does not match input "${batch.alias}"'s ${batch.size}; ` +
            `the signature's inputs share their first dimension`,
        );
      }
    }
    elements += n;
    if (elements > limits.maxElements) {
      throw invalid(
        `input "${alias}": shape ${shapeText(h.shape)} brings the request to ${elements} elements, more than the limit of ${limits.maxElements} (--max_request_elements)`,
      );
    }
    bytes += h.bytes;
    const maxBytes = maxDecodedBytes(limits, requestBytes);
    if (bytes > maxBytes) {
      throw invalid(`input "${alias}": the request's tensors take ${bytes} bytes, more than the limit of ${maxBytes} for this request (8 bytes per --max_request_elements element, or 8x the request's size)`);
    }
  }
}

/** checkHeaders for decoded tensors (REST bodies, `run`, warmup replay). */
export function checkInputs(signature: SignatureInfo, inputs: Record<string, HostTensor>, limits: RequestLimits = DEFAULT_LIMITS, requestBytes = 0): void {
  const headers: Record<string, TensorHeader> = {};
  for (const alias of Object.keys(inputs)) headers[alias] = hostHeader(inputs[alias]!);
  checkHeaders(signature, headers, limits, requestBytes);
}
