// Reads a model's signatures from TF Serving's metadata endpoint (GET .../v1/models/NAME[/versions/V]/metadata),
// the same JSON from TF Serving and tfsvc serve, or over gRPC from PredictionService.GetModelMetadata. Connection
// failures and error answers raise ConnectionError (exit 2) with the server's message.
import { request } from 'undici';
import type { InputSpec } from '../engine/generate-inputs.js';
import { UsageError } from '../errors.js';
import { ConnectionError } from './errors.js';
import type { Target } from './target.js';
import type * as grpc from '@grpc/grpc-js';
import { cleanDetails, GrpcClient, grpcCodeName } from './grpc-client.js';
import { metadataRequest, metadataResponseAsJson } from './grpc-request.js';
import { requestOptions } from './security.js';

export interface SignatureSpec {
  name: string;
  method: string;
  inputs: Record<string, InputSpec>;
}

interface MetadataJson {
  model_spec?: { name?: string; version?: string };
  metadata?: { signature_def?: { signature_def?: Record<string, RawSignature> } };
}
interface RawSignature {
  method_name?: string;
  inputs?: Record<string, { dtype?: string; tensor_shape?: { dim?: Array<{ size?: string | number }>; unknown_rank?: boolean } }>;
}

/** Parses TF Serving's metadata JSON into signatures, sorted by name. Throws UsageError on a shape it cannot read. */
export function parseMetadata(json: unknown): { version?: string; signatures: SignatureSpec[] } {
  const j = json as MetadataJson;
  const defs = j?.metadata?.signature_def?.signature_def;
  if (!defs || typeof defs !== 'object') throw new UsageError('metadata answer has no metadata.signature_def.signature_def');
  const signatures = Object.entries(defs)
    .filter(([name]) => name !== '__saved_model_init_op')
    .map(([name, raw]): SignatureSpec => ({
      name,
      method: raw.method_name ?? 'tensorflow/serving/predict',
      inputs: Object.fromEntries(
        Object.entries(raw.inputs ?? {}).map(([input, t]) => [
          input,
          { dtype: t.dtype ?? 'DT_INVALID', shape: t.tensor_shape?.unknown_rank ? null : (t.tensor_shape?.dim ?? []).map((d) => Number(d.size ?? -1)) },
        ]),
      ),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return { version: j.model_spec?.version, signatures };
}

/** GETs and parses the metadata of `target`'s model. */
export async function fetchMetadata(target: Target, timeoutMs = 10_000): Promise<{ version?: string; signatures: SignatureSpec[] }> {
  if (target.protocol === 'grpc') return fetchGrpcMetadata(target, timeoutMs);
  let status: number;
  let text: string;
  try {
    const res = await request(target.metadataUrl, { method: 'GET', headersTimeout: timeoutMs, bodyTimeout: timeoutMs, ...requestOptions(target.security) });
    status = res.statusCode;
    text = await res.body.text();
  } catch (err) {
    const e = err as Error & { code?: string };
    throw new ConnectionError(`cannot reach ${target.metadataUrl}: ${e.code ?? ''} ${e.message}`.replace(/\s+/g, ' ').trim(), { cause: err });
  }
  if (status !== 200) {
    let detail = text.slice(0, 300);
    try {
      detail = (JSON.parse(text) as { error?: string }).error ?? detail;
    } catch {
      /* not JSON; show the text */
    }
    throw new ConnectionError(`GET ${target.metadataUrl} answered HTTP ${status}: ${detail}`);
  }
  try {
    return parseMetadata(JSON.parse(text));
  } catch (err) {
    if (err instanceof UsageError) throw new ConnectionError(`GET ${target.metadataUrl}: ${err.message}`);
    throw new ConnectionError(`GET ${target.metadataUrl} did not answer JSON: ${(err as Error).message}`);
  }
}

/** Picks the signature to call: the named one, else serving_default, else the only predict signature. */
export function pickSignature(signatures: SignatureSpec[], name?: string): SignatureSpec {
  const names = signatures.map((s) => s.name).join(', ') || '(none)';
  if (name) {
    const s = signatures.find((x) => x.name === name);
    if (!s) throw new UsageError(`the model has no signature "${name}" (it has: ${names})`);
    return s;
  }
  const def = signatures.find((s) => s.name === 'serving_default');
  if (def) return def;
  const predict = signatures.filter((s) => s.method.endsWith('/predict'));
  if (predict.length === 1) return predict[0]!;
  throw new UsageError(`the model has no serving_default signature; pick one with --signature (it has: ${names})`);
}

/** GetModelMetadata over gRPC, parsed like the REST answer. */
async function fetchGrpcMetadata(target: Target, timeoutMs: number): Promise<{ version?: string; signatures: SignatureSpec[] }> {
  const where = `${target.origin} GetModelMetadata (model ${target.model})`;
  const client = new GrpcClient(target.grpcAddress!, 'GetModelMetadata', { connections: 1, timeoutMs }, target.security);
  let bytes: Buffer;
  try {
    bytes = await client.call(metadataRequest(target));
  } catch (err) {
    const e = err as grpc.ServiceError;
    if (typeof e.code !== 'number') throw new ConnectionError(`${where}: ${e.message}`, { cause: err });
    const unreachable = grpcCodeName(e.code) === 'UNAVAILABLE' || grpcCodeName(e.code) === 'DEADLINE_EXCEEDED';
    const details = cleanDetails(e.details);
    throw new ConnectionError(`${unreachable ? `cannot reach ${target.origin}` : where}: ${grpcCodeName(e.code)}: ${details}`, { cause: err });
  } finally {
    await client.close();
  }
  try {
    return parseMetadata(metadataResponseAsJson(bytes));
  } catch (err) {
    throw new ConnectionError(`${where}: ${(err as Error).message}`);
  }
}
