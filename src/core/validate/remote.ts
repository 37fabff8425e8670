// `tfsvc validate http://host:8501/v1/models/NAME`: the same gate against a running TF Serving (or tfsvc serve):
//   metadata   GET .../metadata answers with signatures
//   predict:S  one generated request per predict signature (columnar `inputs`, TF Serving's REST API) answers 200
//              with every output, shapes fitting the signature, numbers finite
//   golden:S   (--golden F) the golden request's outputs match within tolerances
// Classify/regress signatures are listed as skipped: they need real tf.Example features the metadata does not give.
import { request } from 'undici';
import { NO_SECURITY, requestOptions, type ClientSecurity } from '../load/security.js';
import { generateInputs } from '../engine/generate-inputs.js';
import type { HostTensor, SignatureInfo } from '../engine/types.js';
import { UsageError } from '../errors.js';
import { inspectUrl, modelUrl } from '../inspect/remote.js';
import { tensorToJson } from '../load/restbody.js';
import { seededRandom } from '../prng.js';
import { compareGolden, type Golden } from './golden.js';
import { finishReport, type CheckResult, type ValidationReport, type VersionReport } from './report.js';

export interface RemoteValidateOptions {
  batch?: number;
  signature?: string;
  golden?: Golden;
  timeoutMs?: number;
  /** TLS trust, client certificate, headers (--ca, --cert/--key, --header, --token-file). */
  security?: ClientSecurity;
}

export async function validateUrl(raw: string, opts: RemoteValidateOptions = {}): Promise<ValidationReport> {
  const url = modelUrl(raw);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const security = opts.security ?? NO_SECURITY;
  const info = await inspectUrl(raw, { timeoutMs, security }); // UsageError (exit 2) when unreachable or the model is unknown
  const report: VersionReport = { model: url.pathname.split('/')[3], version: info.version ?? undefined, dir: url.href, ok: false, checks: [] };
  const keys = Object.keys(info.signatures).filter((k) => !k.startsWith('__') && (!opts.signature || k === opts.signature));
  report.checks.push({
    check: 'metadata',
    status: keys.length ? 'pass' : 'fail',
    detail: keys.length ? `version ${info.version ?? '?'}; signatures: ${keys.join(', ')}` : opts.signature ? `no signature ${opts.signature}` : 'no signatures',
  });
  for (const key of keys) {
    const sig = info.signatures[key]!;
    if (!sig.methodName.endsWith('/predict')) {
      report.checks.push({ check: `predict:${key}`, status: 'skip', detail: `${sig.methodName.split('/').pop()} signature: needs real tf.Example features` });
      continue;
    }
    const { inputs } = generateInputs(sig.inputs, { batch: opts.batch ?? 2, values: seededRandom(1) });
    const body = { signature_name: key, inputs: Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, tensorToJson(t)])) };
    report.checks.push(await predictCheck(`${url.href}:predict`, `predict:${key}`, sig, body, timeoutMs, inputs, security));
    const golden = opts.golden?.[key];
    if (golden) report.checks.push(await goldenCheck(`${url.href}:predict`, key, sig, golden, timeoutMs, security));
  }
  return finishReport(raw, [report]);
}

async function post(url: string, body: unknown, timeoutMs: number, security: ClientSecurity): Promise<{ status: number; json: any; ms: number }> {
  const t0 = performance.now();
  let res;
  let text: string;
  try {
    const { dispatcher, headers } = requestOptions(security);
    res = await request(url, { method: 'POST', body: JSON.stringify(body), headers: { ...headers, 'content-type': 'application/json' }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, dispatcher });
    text = await res.body.text();
  } catch (err) {
    // A server that stops answering is a connection problem (exit 2, like an unreachable one), not a failed check.
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(`${url}: request failed (${e.code ?? e.message})`, { cause: err });
  }
  const ms = Math.round((performance.now() - t0) * 10) / 10;
  let json: any;
  try {
    // TF Serving writes non-finite floats as bare NaN / Infinity, which JSON.parse rejects: read them as strings.
    json = JSON.parse(text.replace(/(?<=[[,:]\s*)(-?Infinity|NaN)(?=\s*[\],}])/g, '"$1"'));
  } catch {
    json = { error: `not JSON: ${text.slice(0, 120)}` };
  }
  return { status: res.statusCode, json, ms };
}

/** The `outputs` of a columnar predict response, keyed by alias (a single output comes back unkeyed). */
function outputsOf(json: any, sig: SignatureInfo): Record<string, unknown> {
  const aliases = Object.keys(sig.outputs);
  const out = json?.outputs;
  if (aliases.length === 1 && (Array.isArray(out) || typeof out !== 'object' || out === null)) return { [aliases[0]!]: out };
  return out ?? {};
}

function shapeOf(v: unknown): number[] {
  const s: number[] = [];
  for (let x = v; Array.isArray(x); x = x[0]) s.push(x.length);
  return s;
}

/**
 * A JSON output as a HostTensor of `dtype`: strings (plain, or TF Serving's `{"b64": ...}` for binary) as bytes, so
 * golden files compare them as strings; numbers as doubles (NaN/Infinity arrive as strings, see post()).
 */
function hostOf(v: unknown, dtype: string): HostTensor {
  const flat = (Array.isArray(v) ? (v as unknown[]).flat(Infinity) : [v]) as unknown[];
  if (dtype === 'DT_STRING') {
    const bytes = (x: unknown) => (x && typeof x === 'object' && 'b64' in x ? Buffer.from(String((x as { b64: unknown }).b64), 'base64') : Buffer.from(String(x)));
    return { dtype, shape: shapeOf(v), data: flat.map(bytes) };
  }
  return { dtype: 'DT_DOUBLE', shape: shapeOf(v), data: Float64Array.from(flat, Number) };
}

async function predictCheck(url: string, check: string, sig: SignatureInfo, body: unknown, timeoutMs: number, inputs: Record<string, HostTensor>, security: ClientSecurity): Promise<CheckResult> {
  const r = await post(url, body, timeoutMs, security);
  const sent = Object.entries(inputs).map(([k, t]) => `${k}[${t.shape.join(',')}]`).join(', ');
  if (r.status !== 200) return { check, status: 'fail', detail: `HTTP ${r.status} for generated ${sent}: ${r.json?.error ?? JSON.stringify(r.json).slice(0, 200)}`, ms: r.ms };
  const outs = outputsOf(r.json, sig);
  const problems: string[] = [];
  const got: string[] = [];
  for (const [alias, spec] of Object.entries(sig.outputs)) {
    if (!(alias in outs)) {
      problems.push(`output ${alias} missing`);
      continue;
    }
    const shape = shapeOf(outs[alias]);
    got.push(`${alias}[${shape.join(',')}]`);
    if (spec.shape && !(spec.shape.length === shape.length && spec.shape.every((d, i) => d < 0 || d === shape[i]))) {
      problems.push(`output ${alias} has shape [${shape.join(',')}], signature says [${spec.shape.join(',')}]`);
    }
    if (spec.dtype !== 'DT_STRING') {
      const bad = [...(hostOf(outs[alias], spec.dtype).data as Float64Array)].filter((x) => !Number.isFinite(x)).length;
      if (bad) problems.push(`output ${alias} holds ${bad} non-finite value${bad === 1 ? '' : 's'}`);
    }
  }
  if (problems.length) return { check, status: 'fail', detail: problems.join('; '), ms: r.ms };
  return { check, status: 'pass', detail: `HTTP 200: ${sent} → ${got.join(', ')}; finite`, ms: r.ms };
}

async function goldenCheck(url: string, key: string, sig: SignatureInfo, golden: Golden[string], timeoutMs: number, security: ClientSecurity): Promise<CheckResult> {
  const check = `golden:${key}`;
  const r = await post(url, { signature_name: key, ...golden.request }, timeoutMs, security);
  if (r.status !== 200) return { check, status: 'fail', detail: `HTTP ${r.status}: ${r.json?.error ?? ''}`, ms: r.ms };
  let outs: Record<string, unknown>;
  if ('instances' in golden.request) {
    const preds = r.json?.predictions;
    const aliases = Object.keys(sig.outputs);
    outs = aliases.length === 1 ? { [aliases[0]!]: preds } : Object.fromEntries(aliases.map((a) => [a, (preds ?? []).map((row: any) => row[a])]));
  } else outs = outputsOf(r.json, sig);
  const actual = Object.fromEntries(Object.entries(outs).map(([k, v]) => [k, hostOf(v, sig.outputs[k]?.dtype ?? 'DT_FLOAT')]));
  const c = compareGolden(golden, actual);
  const tol = `atol ${golden.atol}, rtol ${golden.rtol}`;
  if (!c.ok) return { check, status: 'fail', detail: `${c.problems.join('; ')} (${tol})`, ms: r.ms };
  return { check, status: 'pass', detail: `${c.values} values match, max |diff| ${c.maxAbsError.toPrecision(2)} (${tol})`, ms: r.ms };
}
