// Where request bodies come from: generated from the endpoint's metadata, a JSONL file (one JSON body a line), or a
// TF Serving warmup file. Bodies are prepared before the run and sent round-robin, so building them costs the
// generator nothing while it keeps the schedule.
import { readFileSync } from 'node:fs';
import { generateInputs } from '../engine/generate-inputs.js';
import type { HostTensor } from '../engine/types.js';
import { UsageError } from '../errors.js';
import { seededRandom } from '../prng.js';
import { readWarmupFile } from '../savedmodel/warmup-file.js';
import type { SignatureSpec } from './metadata.js';
import { restPredictBody } from './restbody.js';
import type { InferenceVerb } from './target.js';

export interface BodySet {
  bodies: Buffer[];
  /** One line saying where the bodies came from, for the report. */
  source: string;
  notes: string[];
  /** Rows per request, when known. */
  batch?: number;
  /** The API the bodies are for (default predict): tf.Example bodies (`"examples"`) go to :classify or :regress. */
  verb?: InferenceVerb;
  /** JSONL bodies only: they hold `"examples"` (tf.Example requests), and the signature_name of the first one. */
  examples?: { signature?: string };
}

/** `count` distinct generated bodies for `sig` (a different seed each, derived from `seed`). */
export function generatedBodies(
  sig: SignatureSpec,
  o: { batch: number; seed: number; unknownDim: number; count: number; sendSignature: boolean; encode?: (signature: string | undefined, inputs: Record<string, HostTensor>) => Buffer },
): BodySet {
  const encode = o.encode ?? ((signature, inputs) => Buffer.from(JSON.stringify(restPredictBody(signature, inputs))));
  if (!sig.method.endsWith('/predict')) {
    throw new UsageError(`signature ${sig.name} is a ${sig.method.split('/').pop()} signature (tf.Example input): its bodies come from --feature flags or --data, not from tensor metadata`);
  }
  const bodies: Buffer[] = [];
  let notes: string[] = [];
  let rows = o.batch;
  for (let i = 0; i < o.count; i++) {
    const g = generateInputs(sig.inputs, { batch: o.batch, unknownDim: o.unknownDim, values: seededRandom(o.seed + i * 7919) });
    notes = g.notes;
    // A fixed first dimension wins over --batch (see concreteShape); report the rows actually sent.
    rows = Object.values(g.inputs)[0]?.shape[0] ?? o.batch;
    bodies.push(encode(o.sendSignature ? sig.name : undefined, g.inputs));
  }
  return { bodies, source: `generated from metadata: signature ${sig.name}, batch ${rows}, seed ${o.seed}`, notes, batch: rows };
}

/**
 * Bodies from a file: a TF Serving warmup file (TFRecord; detected by its name or by not starting with JSON) or
 * JSONL. `signature` (when given) is put into JSON bodies that name none.
 */
export function fileBodies(file: string, signature?: string): BodySet {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new UsageError(`--data ${file}: ${(err as Error).message}`);
  }
  const first = bytes.toString('utf8', 0, Math.min(bytes.length, 64)).trimStart();
  const withSignature = (b: Record<string, unknown>) => (signature && b.signature_name === undefined ? { signature_name: signature, ...b } : b);
  if (file.endsWith('tf_serving_warmup_requests') || !(first.startsWith('{') || first === '')) {
    const { bodies, skipped } = warmupFileBodies(file);
    return {
      bodies: bodies.map((b) => Buffer.from(JSON.stringify(withSignature(b)))),
      source: `warmup file ${file}: ${bodies.length} predict requests`,
      notes: skipped ? [`skipped ${skipped} classify/regress/multi-inference records`] : [],
    };
  }
  const bodies: Buffer[] = [];
  let examples: boolean | undefined;
  let firstSignature: string | undefined;
  bytes.toString('utf8').split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (err) {
      throw new UsageError(`--data ${file}: line ${i + 1} is not JSON: ${(err as Error).message}`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`--data ${file}: line ${i + 1} is not a JSON object`);
    const body = withSignature(parsed as Record<string, unknown>);
    // Send the line's own text, not a re-serialization: JSON.stringify would write 1.0 as 1, which TF Serving reads as
    // an int64 feature in a tf.Example body (and would round int64s beyond 2^53).
    const text = body === parsed ? line.trim() : withSignatureText(line.trim(), body.signature_name as string, Object.keys(parsed as object).length);
    // One API per run: tf.Example bodies (classify/regress) and tensor bodies (predict) go to different URLs.
    const isExamples = 'examples' in body;
    if (examples === undefined) {
      examples = isExamples;
      firstSignature = typeof body.signature_name === 'string' ? body.signature_name : undefined;
    } else if (examples !== isExamples) {
      throw new UsageError(`--data ${file}: line ${i + 1} ${isExamples ? 'holds "examples" (a classify/regress body) among predict bodies' : 'is a predict body among "examples" (classify/regress) bodies'}; use one kind a file`);
    }
    bodies.push(Buffer.from(text));
  });
  if (!bodies.length) throw new UsageError(`--data ${file}: no request bodies (expected one JSON object per line)`);
  return { bodies, source: `JSONL file ${file}: ${bodies.length} bodies`, notes: [], ...(examples ? { examples: { signature: firstSignature } } : {}) };
}

/** A warmup file's predict requests, encoded by `encode` (gRPC: PredictRequest messages). */
export function warmupFileRequests(file: string, encode: (signature: string | undefined, inputs: Record<string, HostTensor>) => Buffer): BodySet {
  const records = readWarmupFile(file, (m) => new UsageError(`${file}: ${m}`), Infinity);
  const bodies: Buffer[] = [];
  for (const r of records) if (r.kind === 'predict') bodies.push(encode(r.signature, r.inputs));
  if (bodies.length === 0) throw new UsageError(`${file}: no predict requests in ${records.length} records`);
  const skipped = records.length - bodies.length;
  return { bodies, source: `warmup file ${file}: ${bodies.length} predict requests`, notes: skipped ? [`skipped ${skipped} classify/regress/multi-inference records`] : [] };
}

/**
 * A warmup file's predict requests as REST predict bodies (JSON objects). Classify, regress and other records are
 * counted in `skipped` (they go to other endpoints). UsageError when nothing is usable; any number of records is read.
 */
export function warmupFileBodies(file: string): { bodies: Array<Record<string, unknown>>; skipped: number } {
  const records = readWarmupFile(file, (m) => new UsageError(`${file}: ${m}`), Infinity);
  const bodies: Array<Record<string, unknown>> = [];
  for (const r of records) if (r.kind === 'predict') bodies.push(restPredictBody(r.signature, r.inputs));
  if (bodies.length === 0) throw new UsageError(`${file}: no predict requests in ${records.length} records`);
  return { bodies, skipped: records.length - bodies.length };
}

/** `{...}` with `"signature_name": S` added first, as text (the rest of the body is sent as written). */
function withSignatureText(objectText: string, signature: string, keys: number): string {
  const head = `{"signature_name": ${JSON.stringify(signature)}`;
  return keys === 0 ? `${head}}` : `${head}, ${objectText.slice(1)}`;
}
