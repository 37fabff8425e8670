// One offline prediction, answered as TF Serving's REST :predict would answer it (`saved_model_cli run` without
// Python): resolve the model directory, load only the signature asked for, decode the JSON request with TF Serving's
// rules, check it against the signature as `serve` does (src/core/wire/signature-check.ts), run, encode the response.
// `tfsvc run` is a thin wrapper around this. It sits above engine and wire, beside serving (it uses both).
import { UsageError } from '../errors.js';
import { resolveModelDir } from '../savedmodel/layout.js';
import { describeBackend } from '../engine/backend.js';
import { loadModel } from '../engine/model.js';
import type { BackendName, HostTensor, SignatureInfo } from '../engine/types.js';
import { parseJsonBody } from '../wire/json-parse.js';
import { requestSignatureName } from '../wire/json-request.js';
import { encodePredictResponse } from '../wire/json-tensor.js';
import { decodePredictJson } from '../wire/predict-json.js';
import { checkInputs, DEFAULT_MAX_REQUEST_ELEMENTS } from '../wire/signature-check.js';

export interface RunOnceOptions {
  /** SavedModel directory or model base directory (newest version, or `version`). */
  model: string;
  version?: number;
  /** Signature key; default the request's "signature_name", else serving_default. */
  signature?: string;
  tags?: string[];
  backend?: BackendName;
  /** The request body: {"instances": ...} or {"inputs": ...}, optionally with "signature_name". */
  body: string;
  /** --max_request_elements (default DEFAULT_MAX_REQUEST_ELEMENTS). */
  maxRequestElements?: number;
}

export interface RunOnceResult {
  /** The response body TF Serving would send ({"predictions": ...} or {"outputs": ...}). */
  response: string;
  dir: string;
  version?: number;
  signature: string;
  /** Backend description, e.g. `wasm (SIMD, single-threaded)`. */
  backend: string;
  loadMs: number;
  runMs: number;
}

export async function runOnce(opts: RunOnceOptions): Promise<RunOnceResult> {
  let body: unknown;
  try {
    body = parseJsonBody(opts.body);
  } catch (err) {
    throw new UsageError(`the input is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const signature = opts.signature ?? (requestSignatureName(body) || 'serving_default');
  const resolved = resolveModelDir(opts.model, opts.version);
  const t0 = performance.now();
  const model = await loadModel(resolved.dir, { backend: opts.backend ?? 'wasm', tags: opts.tags, signatures: [signature] });
  const t1 = performance.now();
  try {
    const bytes = Buffer.from(opts.body, 'utf8');
    const { signature: info, inputs, format } = decodePredictJson(bytes, model.signatures, 'serving_default', signature);
    checkInputs(info, inputs, { maxElements: opts.maxRequestElements ?? DEFAULT_MAX_REQUEST_ELEMENTS }, bytes.length);
    const outputs = await model.run(signature, inputs);
    const response = encodePredictResponse(outputs, format, info);
    const t2 = performance.now();
    return { response, dir: resolved.dir, version: resolved.version, signature, backend: describeBackend(), loadMs: t1 - t0, runMs: t2 - t1 };
  } finally {
    model.dispose();
  }
}

export interface RunFeedOptions extends Omit<RunOnceOptions, 'body' | 'signature'> {
  signature: string;
  /** Builds the inputs once the signature is known (saved_model_cli's --inputs / --input_exprs / --input_examples). */
  feed(signature: SignatureInfo): Record<string, HostTensor>;
}

/** One run of `signature` on tensors (saved_model_cli run): every output, keyed by alias. */
export async function runFeed(opts: RunFeedOptions): Promise<Omit<RunOnceResult, 'response'> & { outputs: Record<string, HostTensor> }> {
  const resolved = resolveModelDir(opts.model, opts.version);
  const t0 = performance.now();
  const model = await loadModel(resolved.dir, { backend: opts.backend ?? 'wasm', tags: opts.tags, signatures: [opts.signature] });
  const t1 = performance.now();
  try {
    const info = model.signatures[opts.signature];
    if (!info) {
      throw new UsageError(`Could not find signature "${opts.signature}". Please choose from: ${Object.keys(model.signatures).join(', ')}`);
    }
    const inputs = opts.feed(info);
    checkInputs(info, inputs, { maxElements: opts.maxRequestElements ?? DEFAULT_MAX_REQUEST_ELEMENTS });
    const outputs = await model.run(opts.signature, inputs);
    const t2 = performance.now();
    return { outputs, dir: resolved.dir, version: resolved.version, signature: opts.signature, backend: describeBackend(), loadMs: t1 - t0, runMs: t2 - t1 };
  } finally {
    model.dispose();
  }
}
