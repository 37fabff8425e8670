// The gRPC PredictRequest's inputs (map<string, TensorProto>) to HostTensors, checked against the signature: TF
// Serving's alias rules (predict-rules.ts), then the request-vs-signature check on the shapes and dtypes the protos
// DECLARE, before any value is allocated (a 34-byte request can declare 2^40 elements and one float_val that TF's splat
// rule would repeat across all of them), then Tensor::FromProto's conversion (savedmodel/tensor.ts) within the cap.
// Warmup records are PredictRequests too: serving/warmup.ts checks them with the same module.
import { RequestError } from '../errors.js';
import type { HostTensor, SignatureInfo } from '../engine/types.js';
import { protoShape, tensorProtoToHost } from '../savedmodel/tensor.js';
import type { TensorProto } from '../savedmodel/types.js';
import { checkPredictInputs } from './predict-rules.js';
import { checkHeaders, DEFAULT_LIMITS, elementBytes, shapeElements, type RequestLimits, type TensorHeader } from './signature-check.js';

const requestTensorError = (message: string) => new RequestError('INVALID_ARGUMENT', message);

/**
 * What a TensorProto declares, computed from its shape and value lists without allocating: decoded strings take the
 * lengths of the values kept plus the last one's length for each splat-filled element.
 */
export function protoHeader(t: TensorProto): TensorHeader | undefined {
  const shape = protoShape(t);
  // Unknown shapes: tensorProtoToHost refuses them (before allocating) with its own message.
  if (t.tensorShape?.unknownRank || shape.some((d) => d < 0)) return undefined;
  const dtype = t.dtype ?? 'DT_INVALID';
  const n = shapeElements(shape);
  if (dtype !== 'DT_STRING') return { dtype, shape, bytes: n * elementBytes(dtype) };
  const vals = t.stringVal ?? [];
  return { dtype, shape, bytes: splatStringBytes(vals.length, (i) => vals[i]!.length, n) };
}

/** Bytes `n` string elements take when filled from `count` values (lengths by `lengthAt`) by TF's splat rule. */
export function splatStringBytes(count: number, lengthAt: (i: number) => number, n: number): number {
  let bytes = 0;
  const kept = Math.min(count, n);
  for (let i = 0; i < kept; i++) bytes += lengthAt(i);
  if (kept > 0 && kept < n) bytes += (n - kept) * lengthAt(kept - 1);
  return bytes;
}

/**
 * Decodes and checks a PredictRequest's inputs for `signature`. Throws RequestError (INVALID_ARGUMENT, TF Serving's
 * texts for alias errors, the signature's terms for everything else). `requestBytes`: the message's size, 0 if unknown.
 */
export function decodePredictInputs(
  requestInputs: Record<string, TensorProto>,
  signature: SignatureInfo,
  limits: RequestLimits = DEFAULT_LIMITS,
  requestBytes = 0,
): Record<string, HostTensor> {
  return checkedPredictInputs(requestInputs, signature, limits, requestBytes, protoHeader, (t) => tensorProtoToHost(t, requestTensorError, limits.maxElements));
}

/**
 * The order every PredictRequest decoder follows (this file's protobufjs objects, predict-request-reader.ts' wire
 * view): TF Serving's alias rules, then the check of what each input DECLARES (`header`: undefined for an unknown
 * shape, left to `toHost` to refuse), and only then `toHost`, which allocates, input by input in the map's order.
 */
export function checkedPredictInputs<T>(
  requestInputs: Record<string, T>,
  signature: SignatureInfo,
  limits: RequestLimits,
  requestBytes: number,
  header: (t: T) => TensorHeader | undefined,
  toHost: (t: T) => HostTensor,
): Record<string, HostTensor> {
  const aliases = Object.keys(requestInputs);
  checkPredictInputs(signature, aliases);
  const headers: Record<string, TensorHeader> = {};
  for (const alias of aliases) {
    const h = header(requestInputs[alias]!);
    if (h) headers[alias] = h;
  }
  checkHeaders(signature, headers, limits, requestBytes);
  const inputs: Record<string, HostTensor> = {};
  for (const alias of aliases) inputs[alias] = toHost(requestInputs[alias]!);
  return inputs;
}
