// What every TF Serving JSON request decoder (predict-json.ts, example-json.ts) reads the same way: the signature a
// body names, the error for a signature the model lacks, and {"b64": ...} byte strings.
import { RequestError } from '../errors.js';
import { isJsonObject } from './json-parse.js';
import { jsonDebugString } from './json-writer.js';

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

/** `err` is signatureNotFoundError's (also after crossing a thread as code and message). */
export function isSignatureNotFoundError(err: unknown): boolean {
  return err instanceof RequestError && err.code === 'INVALID_ARGUMENT' && /^Serving signature name: "[^]*" not found in signature def$/.test(err.message);
}

/** A base64 object: exactly one member, "b64", holding a string. */
export function isBase64Object(v: unknown): v is { b64: string } {
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
