// `tfsvc inspect http://host:8501/v1/models/NAME`: the same report, from a running TF Serving (or tfsvc serve) through
// its REST API: GET <model URL>/metadata for the signatures and GET <model URL> for the version list.
// Only what those endpoints say is filled in; checkpoint, assets and producer fields are null/empty.
import { NO_SECURITY, requestOptions, type ClientSecurity } from '../load/security.js';
import { request } from 'undici';
import { UsageError } from '../errors.js';
import type { SignatureInfo, TensorSpec } from '../engine/types.js';
import { REPORT_FORMAT, type InspectReport } from './report.js';

interface MetadataTensorInfo {
  name?: string;
  dtype?: string;
  tensor_shape?: { dim?: { size?: string | number }[]; unknown_rank?: boolean };
}

interface MetadataSignatureDef {
  inputs?: Record<string, MetadataTensorInfo>;
  outputs?: Record<string, MetadataTensorInfo>;
  method_name?: string;
}

/** The model URL (`.../v1/models/NAME[/versions/N|/labels/L]`), with `version` applied; UsageError for other URLs. */
export function modelUrl(raw: string, version?: number): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`${raw}: not a valid URL`);
  }
  let p = url.pathname.replace(/\/+$/, '').replace(/\/metadata$/, '');
  if (!/\/v1\/models\/[^/]+(\/(versions|labels)\/[^/]+)?$/.test(p)) {
    throw new UsageError(`${raw}: expected a model URL like http://host:8501/v1/models/NAME`);
  }
  if (version !== undefined) p = p.replace(/\/(versions|labels)\/[^/]+$/, '') + `/versions/${version}`;
  url.pathname = p;
  url.search = '';
  return url;
}

/** Converts one TF Serving metadata TensorInfo (JSON, int64 sizes as strings) to a TensorSpec. */
export function specFromMetadata(info: MetadataTensorInfo): TensorSpec {
  const shape = info.tensor_shape;
  return {
    name: info.name ?? '',
    dtype: info.dtype ?? 'DT_INVALID',
    shape: !shape ? [] : shape.unknown_rank ? null : (shape.dim ?? []).map((d) => Number(d.size ?? 0)),
  };
}

/** Signatures from the body of GET .../metadata (`metadata.signature_def.signature_def`). */
export function signaturesFromMetadata(body: unknown): Record<string, SignatureInfo> {
  const defs = (body as { metadata?: { signature_def?: { signature_def?: Record<string, MetadataSignatureDef> } } })?.metadata
    ?.signature_def?.signature_def;
  if (!defs || typeof defs !== 'object') throw new UsageError('the server answered without metadata.signature_def');
  const specs = (m: Record<string, MetadataTensorInfo> | undefined) =>
    Object.fromEntries(Object.keys(m ?? {}).sort().map((alias) => [alias, specFromMetadata(m![alias]!)]));
  return Object.fromEntries(
    Object.keys(defs)
      .sort()
      .map((key) => {
        const d = defs[key]!;
        return [key, { key, methodName: d.method_name ?? '', inputs: specs(d.inputs), outputs: specs(d.outputs) }];
      }),
  );
}

async function getJson(url: string, timeoutMs: number, security: ClientSecurity): Promise<{ status: number; body: unknown }> {
  let res;
  try {
    res = await request(url, { method: 'GET', headersTimeout: timeoutMs, bodyTimeout: timeoutMs, ...requestOptions(security) });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(`${url}: cannot connect (${e.code ?? e.message})`, { cause: err });
  }
  const text = await res.body.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new UsageError(`${url}: HTTP ${res.statusCode}, not JSON: ${text.slice(0, 120).replace(/\s+/g, ' ')}`);
  }
  return { status: res.statusCode, body };
}

/** Inspects a served model through its REST metadata endpoint. UsageError when unreachable or the server says no. */
export async function inspectUrl(raw: string, options: { version?: number; timeoutMs?: number; security?: ClientSecurity } = {}): Promise<InspectReport> {
  const url = modelUrl(raw, options.version);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const security = options.security ?? NO_SECURITY;
  const meta = await getJson(`${url.href}/metadata`, timeoutMs, security);
  if (meta.status !== 200) {
    const msg = (meta.body as { error?: string })?.error ?? JSON.stringify(meta.body);
    throw new UsageError(`${url.href}/metadata: HTTP ${meta.status}: ${msg}`);
  }
  const spec = (meta.body as { model_spec?: { version?: string | number } }).model_spec;
  // The status list is a nicety: a server without it (or an error) still gives a report.
  let versions: number[] = [];
  try {
    const baseUrl = url.href.replace(/\/(versions|labels)\/[^/]+$/, '');
    const status = await getJson(baseUrl, timeoutMs, security);
    const list = (status.body as { model_version_status?: { version?: string | number }[] })?.model_version_status;
    if (status.status === 200 && Array.isArray(list)) versions = list.map((v) => Number(v.version)).sort((a, b) => a - b);
  } catch {
    versions = [];
  }
  return {
    format: REPORT_FORMAT,
    source: 'url',
    path: raw,
    dir: url.href,
    file: null,
    version: spec?.version !== undefined ? Number(spec.version) : null,
    versions,
    ignoredDirs: [],
    savedModelSchemaVersion: null,
    tagSets: [],
    tags: [],
    producer: { tensorflowVersion: null, tensorflowGitVersion: null, graphProducer: null, graphMinConsumer: null, kerasVersion: null },
    signatures: signaturesFromMetadata(meta.body),
    assets: [],
    assetsExtra: [],
    checkpoint: null,
    graph: { nodes: 0, functions: 0 },
  };
}
