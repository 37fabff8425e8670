// Request bodies for :classify and :regress, in TF Serving's tf.Example JSON (docs/wire-formats.md,
// src/core/serving/rest/example-json.ts): {"signature_name": S, "examples": [{"x": 0.5}, ...]}.
//
// A classify/regress signature's input is a batch of serialized tf.Examples: metadata only says DT_STRING, never which
// features the model's ParseExample reads. The user names them (`--feature x=float`, repeatable); nothing is guessed.
// Feature kinds follow TF Serving's JSON rules, so the generator writes what the server will parse as intended:
// floats always carry a decimal point (an integer literal would become an int64_list), int64s are integer literals,
// bytes are JSON strings.
import { UsageError } from '../errors.js';
import type { SignatureSpec } from './metadata.js';
import { seededRandom, type Random } from './prng.js';

export type ExampleVerb = 'classify' | 'regress';
export type FeatureKind = 'float' | 'int64' | 'bytes';

export interface FeatureSpec {
  name: string;
  kind: FeatureKind;
  /** Values per example (the feature's dense shape, flattened); 1 gives a scalar JSON value. */
  length: number;
}

const KINDS: Record<string, FeatureKind> = { float: 'float', float32: 'float', int64: 'int64', int: 'int64', bytes: 'bytes', string: 'bytes' };

/** `x=float`, `age=int64`, `words=bytes[3]` (3 values an example) → FeatureSpec. UsageError naming the problem. */
export function parseFeatureFlag(text: string): FeatureSpec {
  const m = /^([^=\s]+)=([a-z0-9]+)(?:\[(\d+)\])?$/i.exec(text.trim());
  if (!m) throw new UsageError(`--feature "${text}": expected NAME=KIND or NAME=KIND[N], KIND one of float, int64, bytes (e.g. --feature x=float)`);
  const kind = KINDS[m[2]!.toLowerCase()];
  if (!kind) throw new UsageError(`--feature "${text}": unknown kind "${m[2]}" (a tf.Example feature is float, int64 or bytes)`);
  const length = m[3] === undefined ? 1 : Number(m[3]);
  if (!Number.isSafeInteger(length) || length < 1) throw new UsageError(`--feature "${text}": [N] must be a positive number of values`);
  return { name: m[1]!, kind, length };
}

/** The :classify / :regress verb of a classify or regress signature; undefined for predict (and anything else). */
export function exampleVerb(method: string): ExampleVerb | undefined {
  if (method.endsWith('/classify')) return 'classify';
  if (method.endsWith('/regress')) return 'regress';
  return undefined;
}

export interface RequestPlan {
  /** :classify / :regress with tf.Example bodies, or :predict with generated tensors. */
  verb: 'predict' | ExampleVerb;
  /** Why a classify/regress signature is sent tensors, or tf.Examples despite its declared dtype. */
  note?: string;
  /** The same, in a few words for a table cell. */
  shortNote?: string;
}

/**
 * How to call `sig`. A classify/regress signature whose one input is DT_STRING takes tf.Examples. One with another
 * input dtype is ambiguous: half_plus_two's regress_x2_to_y3 really takes a float tensor (through :predict), while
 * half_plus_three's regress signature declares DT_FLOAT for what is a tf.Example placeholder. Named features
 * (`useFeatures`) settle it for tf.Examples; otherwise it gets tensors, with a note saying how to switch.
 */
export function planRequests(sig: SignatureSpec, useFeatures: boolean): RequestPlan {
  const verb = exampleVerb(sig.method);
  if (!verb) return { verb: 'predict' };
  const inputs = Object.values(sig.inputs);
  if (inputs.length === 1 && inputs[0]!.dtype === 'DT_STRING') return { verb };
  const declared = inputs.map((i) => i.dtype).join(', ') || 'no inputs';
  const dtypes = declared.replace(/DT_/g, '').toLowerCase();
  if (useFeatures) {
    return { verb, note: `signature ${sig.name} declares ${declared}; sending tf.Examples to :${verb} as --feature asks`, shortNote: `${dtypes} input declared; sent tf.Examples` };
  }
  return {
    verb: 'predict',
    note: `signature ${sig.name} is a ${verb} signature with ${declared} input: sending generated tensors to :predict (if it reads tf.Examples, name their features with --feature)`,
    shortNote: `${verb} signature, ${dtypes} input: sent to :predict`,
  };
}

/** Why a classify/regress signature has no generated data: the metadata cannot say which features it reads. */
export function featuresNeeded(sig: SignatureSpec, verb: ExampleVerb): UsageError {
  return new UsageError(
    `signature ${sig.name} is a ${verb} signature: its requests carry tf.Examples, and the metadata does not say which ` +
      `features the model reads. Name them with --feature NAME=float|int64|bytes (repeatable, e.g. --feature x=float), ` +
      `or give request bodies with --data FILE.jsonl (one {"examples": [...]} body a line)`,
  );
}

/** One generated example: feature name → its kind and values (strings for bytes features). */
export type GeneratedExample = Record<string, { kind: FeatureKind; values: (number | string)[] }>;

function randomValue(kind: FeatureKind, random: Random): number | string {
  if (kind === 'float') return Math.round(random() * 1000) / 1000;
  if (kind === 'int64') return Math.floor(random() * 10);
  return Array.from({ length: 5 }, () => String.fromCharCode(97 + Math.floor(random() * 26))).join('');
}

/** `rows` examples with every feature: floats in [0, 1) to 3 decimals, int64s in [0, 10), 5-letter byte strings. */
export function generateExamples(features: FeatureSpec[], rows: number, random: Random): GeneratedExample[] {
  if (!features.length) throw new UsageError('a tf.Example request needs at least one --feature');
  return Array.from({ length: rows }, () =>
    Object.fromEntries(features.map((f) => [f.name, { kind: f.kind, values: Array.from({ length: f.length }, () => randomValue(f.kind, random)) }])),
  );
}

/** A value as TF Serving's JSON rules read it back: floats always with a decimal point, int64s as integer literals. */
function jsonValue(kind: FeatureKind, v: number | string): string {
  if (kind === 'float') return (v as number).toFixed(3);
  if (kind === 'int64') return String(v);
  return JSON.stringify(v);
}

/** The :classify / :regress body of `examples`. `signature` undefined leaves signature_name out (serving_default). */
export function examplesJson(signature: string | undefined, examples: GeneratedExample[]): string {
  const one = (ex: GeneratedExample) =>
    `{${Object.entries(ex)
      .map(([name, f]) => `${JSON.stringify(name)}: ${f.values.length === 1 ? jsonValue(f.kind, f.values[0]!) : `[${f.values.map((v) => jsonValue(f.kind, v)).join(', ')}]`}`)
      .join(', ')}}`;
  const name = signature === undefined ? '' : `"signature_name": ${JSON.stringify(signature)}, `;
  return `{${name}"examples": [${examples.map(one).join(', ')}]}`;
}

/** A tensorflow.Example as a plain object for encodePlain (what a warmup file's classify/regress log holds). */
export function examplePlain(ex: GeneratedExample): Record<string, unknown> {
  const feature: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(ex)) {
    if (f.kind === 'float') feature[name] = { floatList: { value: f.values } };
    else if (f.kind === 'int64') feature[name] = { int64List: { value: f.values } };
    else feature[name] = { bytesList: { value: f.values.map((v) => Buffer.from(String(v))) } };
  }
  return { features: { feature } };
}

/** A :classify / :regress body with `rows` generated examples. */
export function examplesBody(signature: string | undefined, features: FeatureSpec[], rows: number, random: Random): string {
  return examplesJson(signature, generateExamples(features, rows, random));
}

/** `count` distinct bodies (a different seed each, derived from `seed`), like the generated predict bodies. */
export function generatedExampleBodies(
  signature: string | undefined,
  features: FeatureSpec[],
  o: { batch: number; seed: number; count: number },
): Buffer[] {
  return Array.from({ length: o.count }, (_, i) => Buffer.from(examplesBody(signature, features, o.batch, seededRandom(o.seed + i * 7919))));
}
