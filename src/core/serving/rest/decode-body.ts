// Decoding an inference request body (predict, classify, regress) into tensors: the CPU-heavy step between reading the
// bytes and batching. A pure function of (verb, bytes, signatures) so it runs the same on the HTTP thread (small
// bodies) and in a decode worker (large ones, see decode-pool.ts). One wire entry per format: decodePredictJson for
// :predict, decodeExamplesJson for :classify/:regress (each resolves the signature the body names and applies TF
// Serving's checks of it). Errors are RequestError with TF Serving's texts.
import type { HostTensor, SignatureInfo } from '../../engine/types.js';
import { RequestError } from '../../errors.js';
import { decodeExamplesJson } from '../../wire/example-json.js';
import type { PredictFormat } from '../../wire/json-tensor.js';
import { decodePredictJson } from '../../wire/predict-json.js';

export const DEFAULT_SIGNATURE = 'serving_default';

export type InferenceVerb = 'predict' | 'classify' | 'regress';

export type DecodedBody =
  | { verb: 'predict'; signatureName: string; inputs: Record<string, HostTensor>; format: PredictFormat }
  | { verb: 'classify' | 'regress'; signatureName: string; inputs: Record<string, HostTensor>; count: number };

/** Decodes `bytes` for `verb` against the servable's `signatures`. Throws RequestError on bad input. */
export function decodeInferenceBody(verb: InferenceVerb, bytes: Uint8Array, signatures: Record<string, SignatureInfo>): DecodedBody {
  if (verb === 'predict') {
    // One decoder per format (wire/predict-json.ts), its fast path inside it.
    const req = decodePredictJson(bytes, signatures, DEFAULT_SIGNATURE);
    return { verb, signatureName: req.signatureName, inputs: req.inputs, format: req.format };
  }
  const req = decodeExamplesJson(bytes, signatures, verb, DEFAULT_SIGNATURE);
  return { verb, signatureName: req.signatureName, inputs: req.inputs, count: req.count };
}

/** A decoder as the routes call it: on this thread, or in a worker for large bodies (which may take `bytes` over). */
export type BodyDecoder = (verb: InferenceVerb, bytes: Buffer, signatures: Record<string, SignatureInfo>) => DecodedBody | Promise<DecodedBody>;

/** Errors crossing a thread boundary as plain data, and back. */
export interface SerializedError {
  code?: string;
  message: string;
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof RequestError) return { code: err.code, message: err.message };
  return { message: err instanceof Error ? err.message : String(err) };
}

export function deserializeError(e: SerializedError): Error {
  return e.code ? new RequestError(e.code as RequestError['code'], e.message) : new Error(e.message);
}
