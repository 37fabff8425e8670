// Golden files: known inputs and expected outputs per signature, so `tfsvc validate --golden F` proves a model still
// computes what it should (after a re-export, a conversion, an engine upgrade). Format (JSON):
//   { "atol": 1e-5, "rtol": 1e-4,                       // defaults for every signature (these values when absent)
//     "signatures": { "serving_default": {
//         "inputs": { "image": [[...]] },               // TF Serving's columnar "inputs" (or "instances": row format)
//         "outputs": { "probabilities": [[...]] },      // expected values, nested lists (strings as strings)
//         "atol": 1e-4, "rtol": 1e-3 } } }              // optional per-signature tolerances
// A value passes when |actual - expected| <= atol + rtol * |expected| (numpy.isclose); shapes must match exactly.
import { readFile } from 'node:fs/promises';
import type { HostTensor, SignatureInfo } from '../engine/types.js';
import { UsageError } from '../errors.js';
import { decodePredictRequest } from '../wire/predict-json.js';
import { checkInputs } from '../wire/signature-check.js';

export interface GoldenCase {
  request: Record<string, unknown>;
  outputs: Record<string, unknown>;
  atol: number;
  rtol: number;
}

export type Golden = Record<string, GoldenCase>;

export async function readGolden(file: string): Promise<Golden> {
  let json: any;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`--golden ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (!json || typeof json !== 'object' || !json.signatures || typeof json.signatures !== 'object') {
    throw new UsageError(`--golden ${file}: expected {"signatures": {"<key>": {"inputs": ..., "outputs": ...}}}`);
  }
  const out: Golden = {};
  for (const [key, c] of Object.entries<any>(json.signatures)) {
    if (!c || (c.inputs === undefined && c.instances === undefined) || !c.outputs || typeof c.outputs !== 'object') {
      throw new UsageError(`--golden ${file}: signature ${key} needs "inputs" (or "instances") and "outputs"`);
    }
    for (const [alias, expected] of Object.entries<unknown>(c.outputs)) {
      // A malformed file is a usage error (exit 2) up front, not a failed check on every model it is used with.
      try {
        flatten(expected);
      } catch (err) {
        throw new UsageError(`--golden ${file}: signature ${key} output ${alias}: ${(err as Error).message}`);
      }
    }
    out[key] = {
      request: c.instances !== undefined ? { instances: c.instances } : { inputs: c.inputs },
      outputs: c.outputs,
      atol: num(c.atol ?? json.atol ?? 1e-5, `${key}.atol`, file),
      rtol: num(c.rtol ?? json.rtol ?? 1e-4, `${key}.rtol`, file),
    };
  }
  return out;
}

function num(v: unknown, what: string, file: string): number {
  if (typeof v !== 'number' || !(v >= 0)) throw new UsageError(`--golden ${file}: ${what} must be a non-negative number`);
  return v;
}

/**
 * The golden case's inputs decoded with TF Serving's JSON rules for `sig`, then checked against the signature as
 * `serve` checks a request (signature-check.ts, serve's default limits): a golden request serve would refuse fails
 * with serve's text (`input "x": shape [1,2] is not compatible with the signature's [-1,1]`), never an engine error.
 */
export function goldenInputs(c: GoldenCase, sig: SignatureInfo): Record<string, HostTensor> {
  const inputs = decodePredictRequest(c.request, sig).inputs;
  checkInputs(sig, inputs);
  return inputs;
}

export interface GoldenResult {
  ok: boolean;
  /** Largest |actual - expected| over numeric outputs. */
  maxAbsError: number;
  values: number;
  problems: string[];
}

/** Compares `actual` outputs with the expected ones of `c`; every mismatch is described (at most 3 per output). */
export function compareGolden(c: GoldenCase, actual: Record<string, HostTensor>): GoldenResult {
  const problems: string[] = [];
  let maxAbsError = 0;
  let values = 0;
  for (const [alias, expected] of Object.entries(c.outputs)) {
    const got = actual[alias];
    if (!got) {
      problems.push(`output ${alias} is missing (outputs: ${Object.keys(actual).join(', ')})`);
      continue;
    }
    const { shape, flat } = flatten(expected);
    if (shape.length !== got.shape.length || shape.some((d, i) => d !== got.shape[i])) {
      problems.push(`output ${alias}: shape [${got.shape.join(',')}], expected [${shape.join(',')}]`);
      continue;
    }
    let bad = 0;
    for (let i = 0; i < flat.length; i++) {
      values++;
      const e = flat[i];
      const a = Array.isArray(got.data) ? Buffer.from(got.data[i]!).toString('utf8') : got.data[i];
      if (typeof e === 'string' || typeof a === 'string') {
        if (String(a) !== String(e) && bad++ < 3) problems.push(`output ${alias}[${index(i, shape)}]: ${JSON.stringify(a)}, expected ${JSON.stringify(e)}`);
        continue;
      }
      const av = Number(a);
      const ev = Number(e);
      const err = Math.abs(av - ev);
      if (Number.isFinite(err)) maxAbsError = Math.max(maxAbsError, err);
      const close = err <= c.atol + c.rtol * Math.abs(ev) || (Number.isNaN(av) && Number.isNaN(ev)) || av === ev;
      if (!close && bad++ < 3) problems.push(`output ${alias}[${index(i, shape)}]: ${+av.toPrecision(7)}, expected ${ev} (|diff| ${err.toPrecision(3)})`);
    }
    if (bad > 3) problems.push(`output ${alias}: ${bad} values differ in all`);
  }
  return { ok: problems.length === 0, maxAbsError, values, problems };
}

/** Row-major flat index → `i,j,k` for messages. */
function index(flat: number, shape: number[]): string {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(flat % shape[d]!);
    flat = Math.floor(flat / shape[d]!);
  }
  return idx.join(',');
}

/** Shape and row-major values of a nested JSON list (a scalar is shape []). Ragged lists are a usage error. */
function flatten(v: unknown): { shape: number[]; flat: unknown[] } {
  const shape: number[] = [];
  for (let x = v; Array.isArray(x); x = x[0]) shape.push(x.length);
  const flat: unknown[] = [];
  const walk = (x: unknown, depth: number) => {
    if (depth === shape.length) {
      if (Array.isArray(x)) throw new UsageError('ragged nested list (every row of a dimension must have the same length)');
      flat.push(x);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[depth]) throw new UsageError('ragged nested list (every row of a dimension must have the same length)');
    for (const e of x) walk(e, depth + 1);
  };
  walk(v, 0);
  return { shape, flat };
}
