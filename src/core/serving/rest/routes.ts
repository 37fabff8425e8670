// TF Serving's REST API routes (http_rest_api_handler.cc), resolved against a ServableLookup:
//   POST /v1/models/M[/versions/V | /labels/L]:(predict|classify|regress)
//   GET  /v1/models/M[/versions/V | /labels/L]            model status
//   GET  /v1/models/M[/versions/V | /labels/L]/metadata   signature defs
//   GET  <metrics path>                                   Prometheus text (when metrics are on)
// Paths match case-insensitively like TF Serving's RE2 patterns. Any other /v1/ path is TF Serving's
// "Malformed request" (400); anything else is 404. Errors are `{ "error": "..." }` with RequestError.httpStatus.
// Request and response bodies are the wire codecs' business (src/core/wire: predict-json.ts, example-json.ts,
// json-tensor.ts; metadata-json.ts here), and every decoded request passes the signature check (signature-check.ts)
// before it runs; this file only looks servables up, runs them and maps errors.
import { RequestError } from '../../errors.js';
import type { CancelSignal } from '../cancel.js';
import type { ApiName, ServingMetrics } from '../metrics.js';
import type { ServableHandle, ServableLookup, VersionSelector } from '../types.js';
import { isSignatureNotFoundError } from '../../wire/json-request.js';
import { encodeErrorJson, encodePredictResponse } from '../../wire/json-tensor.js';
import { encodeClassifyResponse, encodeRegressResponse } from '../../wire/example-json.js';
import { checkInputs, DEFAULT_LIMITS, type RequestLimits } from '../../wire/signature-check.js';
import { encodeMetadataResponse, encodeStatusResponse } from './metadata-json.js';
import { decodeInferenceBody, type BodyDecoder, type InferenceVerb } from './decode-body.js';

export interface RouteContext {
  lookup: ServableLookup;
  metrics?: ServingMetrics;
  /** Where Prometheus metrics are served (default /monitoring/prometheus/metrics); only when `metrics` is set. */
  metricsPath?: string;
  /** Request limits of the signature check (--max_request_elements); default DEFAULT_LIMITS. */
  limits?: RequestLimits;
}

export interface RouteRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  body: Buffer;
  signal: CancelSignal;
  /** How inference bodies are decoded (default: on this thread); the server passes one that offloads large bodies. */
  decode?: BodyDecoder;
  /** Called once the decoded, checked request joins the batch queue, with its rows (admission's pending count). */
  queued?: (rows: number) => void;
}

export interface RouteResult {
  status: number;
  body: string;
  contentType?: string;
  model?: string;
  version?: number;
  error?: string;
  closeConnection?: boolean;
  /** Extra response headers (WWW-Authenticate, Retry-After). */
  headers?: Record<string, string>;
}

const PREDICT_RE = /^\/v1\/models\/([^/:]+)(?:(?:\/versions\/(\d+))|(?:\/labels\/([^/:]+)))?:(classify|regress|predict)$/i;
const STATUS_RE = /^\/v1\/models(?:\/([^/:]+))?(?:(?:\/versions\/(\d+))|(?:\/labels\/([^/:]+)))?(?:\/(metadata))?$/i;

/** TF Serving's error body (written by the jsontensor codec, byte for byte). */
export function errorBody(message: string): string {
  return encodeErrorJson(message);
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function selectorOf(version: string | undefined, label: string | undefined): VersionSelector | undefined {
  if (version !== undefined) {
    const v = Number(version);
    if (!Number.isSafeInteger(v)) throw new RequestError('INVALID_ARGUMENT', `Failed to convert version: ${version} to numeric.`);
    return { version: v };
  }
  if (label !== undefined) return { label: decodeSegment(label) };
  return undefined;
}

async function runInference(
  verb: InferenceVerb,
  handle: ServableHandle,
  bytes: Buffer,
  signal: CancelSignal,
  decode: BodyDecoder,
  limits: RequestLimits,
  queued?: (rows: number) => void,
): Promise<{ body: string; examples?: number }> {
  // One decoder entry per format, on this thread or a decode worker (decode-body.ts); the decoder resolved the
  // signature among the servable's own, so the lookup below cannot miss.
  const requestBytes = bytes.length; // read first: the decoder may take the body's buffer over (decode-pool.ts)
  const decoded = await decode(verb, bytes, handle.signatures);
  if (signal.aborted) throw signal.reason;
  const sig = handle.signatures[decoded.signatureName]!;
  checkInputs(sig, decoded.inputs, limits, requestBytes);
  const first = Object.values(decoded.inputs)[0];
  queued?.(first && first.shape.length > 0 ? first.shape[0]! : 1);
  const outputs = await handle.run(decoded.signatureName, decoded.inputs, { signal });
  if (decoded.verb === 'predict') return { body: encodePredictResponse(outputs, decoded.format, sig) };
  const n = decoded.count;
  return { body: decoded.verb === 'classify' ? encodeClassifyResponse(outputs, sig, n) : encodeRegressResponse(outputs, sig, n), examples: n };
}

/**
 * The model and version selector of an inference URL (POST .../M[/versions/V|/labels/L]:verb), for admission control
 * before the body is read; undefined for any other request. Throws RequestError for an unparsable version.
 */
export function inferenceTarget(method: string, path: string): { model: string; selector?: VersionSelector; api: ApiName } | undefined {
  if (method !== 'POST') return undefined;
  const m = PREDICT_RE.exec(path);
  if (!m) return undefined;
  return { model: decodeSegment(m[1]!), selector: selectorOf(m[2], m[3]), api: API_OF[m[4]!.toLowerCase()]! };
}

const API_OF: Record<string, ApiName> = { predict: 'Predict', classify: 'Classify', regress: 'Regress' };

/**
 * TF Serving reads the JSON body before it looks the model up (the predict handler parses the document and its
 * signature_name first; classify/regress decode the whole request), so a bad body wins over an unknown model: an empty
 * body gives 400 "JSON Parse error: The document is empty", not 404. The body is decoded here only when the lookup
 * failed (so the served path keeps its single parse), by the same decoder (off the HTTP thread when large) against no
 * signatures: its body errors come first, and its "signature not found" then only says the body was well formed.
 */
async function acquireAfterBody(lookup: ServableLookup, model: string, selector: VersionSelector | undefined, verb: InferenceVerb, bytes: Buffer, decode: BodyDecoder): Promise<ServableHandle> {
  try {
    return lookup.acquire(model, selector);
  } catch (lookupError) {
    try {
      await decode(verb, bytes, {});
    } catch (bodyError) {
      if (!isSignatureNotFoundError(bodyError)) throw bodyError;
    }
    throw lookupError;
  }
}

/** Answers one request. Never throws: every failure becomes a TF Serving error response. */
export async function handleRequest(ctx: RouteContext, req: RouteRequest): Promise<RouteResult> {
  const started = performance.now();
  let model: string | undefined;
  let version: number | undefined;
  let api: ApiName | undefined;
  let examples: number | undefined;
  const finish = (r: RouteResult, code: string): RouteResult => {
    // Like TF Serving, request_count and request_latency cover inference calls (predict, classify, regress).
    if (ctx.metrics && model !== undefined && (api === 'Predict' || api === 'Classify' || api === 'Regress')) {
      ctx.metrics.request(model, api, 'REST', code, (performance.now() - started) * 1000, examples);
    }
    return { ...r, model, version };
  };
  let stopInFlight: (() => void) | undefined;
  try {
    if (req.method === 'GET' && ctx.metrics && req.path === (ctx.metricsPath ?? '/monitoring/prometheus/metrics')) {
      return { status: 200, body: await ctx.metrics.text(), contentType: ctx.metrics.contentType };
    }
    let m: RegExpExecArray | null;
    if (req.method === 'POST' && (m = PREDICT_RE.exec(req.path))) {
      model = decodeSegment(m[1]!);
      const verb = m[4]!.toLowerCase() as InferenceVerb;
      api = API_OF[verb];
      const decode = req.decode ?? decodeInferenceBody;
      const handle = await acquireAfterBody(ctx.lookup, model, selectorOf(m[2], m[3]), verb, req.body, decode);
      version = handle.version;
      // After the lookup: tfsvc's in-flight gauge gets no label set for a made-up model name in a URL.
      stopInFlight = ctx.metrics?.requestStarted(model);
      try {
        const out = await runInference(verb, handle, req.body, req.signal, decode, ctx.limits ?? DEFAULT_LIMITS, req.queued);
        examples = out.examples;
        return finish({ status: 200, body: out.body }, 'OK');
      } finally {
        handle.release();
      }
    }
    if (req.method === 'GET' && (m = STATUS_RE.exec(req.path))) {
      if (m[1] === undefined) throw new RequestError('INVALID_ARGUMENT', 'Missing model name in request.');
      model = decodeSegment(m[1]);
      const selector = selectorOf(m[2], m[3]);
      if (m[4] === undefined) {
        api = 'GetModelStatus';
        return finish({ status: 200, body: encodeStatusResponse(ctx.lookup.status(model, selector)) }, 'OK');
      }
      api = 'GetModelMetadata';
      const handle = ctx.lookup.acquire(model, selector);
      version = handle.version;
      try {
        return finish({ status: 200, body: encodeMetadataResponse({ name: model, version: handle.version }, handle.signatureDefs) }, 'OK');
      } finally {
        handle.release();
      }
    }
    if (/^\/v1\//i.test(req.path)) throw new RequestError('INVALID_ARGUMENT', `Malformed request: ${req.method} ${req.path}`);
    return { status: 404, body: errorBody(`Not found: ${req.method} ${req.path}`), error: 'not found' };
  } catch (err) {
    if (err instanceof RequestError) return finish({ status: err.httpStatus, body: errorBody(err.message), error: err.message }, err.code);
    const msg = (err as Error)?.message ?? String(err);
    return finish({ status: 500, body: errorBody(msg), error: msg }, 'INTERNAL');
  } finally {
    stopInFlight?.();
  }
}
