// Generated inputs for a signature from its metadata alone: dtype- and shape-aware, `batch` rows where the batch
// dimension is open. One generator serves every caller: bench and warmup (REST bodies from TF Serving's metadata),
// validate and export --warmup (engine runs, warmup files), and serve's warmup of a version without a warmup file
// (all-zero requests at each allowed batch size).
//
// Random values come from a seeded stream, so a seed gives the same data every run, and are small and valid for the
// usual input kinds: floats in [0, 1) to 3 decimals, ints in [0, 10), booleans, 5-letter lower-case strings. A model
// that needs real data (vocabulary ids, images) takes a data file instead.
//
// tf.Example inputs (classify/regress signatures, Estimator exports) get serialized tf.Examples carrying the given
// features: named by --feature flags (load/examples.ts), or read from the graph's ParseExample nodes
// (savedmodel/example-features.ts).
import { UsageError } from '../errors.js';
import type { Random } from '../prng.js';
import { encodeExample, type FeatureValues } from './example.js';
import type { HostTensor, TensorSpec } from './types.js';

/** What generation needs of an input: its dtype and shape (-1 unknown dim, null unknown rank); `name` when known. */
export type InputSpec = Pick<TensorSpec, 'dtype' | 'shape'> & { name?: string };

export type FeatureKind = 'float' | 'int64' | 'bytes';

/** One tf.Example feature to generate. */
export interface FeatureSpec {
  name: string;
  kind: FeatureKind;
  /** Values per example (the feature's dense shape, flattened); 1 gives a scalar. */
  length: number;
}

/** One generated tf.Example: feature name → kind and values (bytes features as Uint8Array). */
export type GeneratedExample = Record<string, FeatureValues>;

/** What a model's graph says about its tf.Example inputs (see savedmodel/example-features.ts). */
export interface ExampleInputs {
  /** Dense features its ParseExample nodes read; every generated tf.Example carries all of them. */
  features: FeatureSpec[];
  /** Graph names of its top-level DT_STRING placeholders. */
  stringPlaceholders?: Set<string>;
}

export interface GenerateOptions {
  /** Rows: the size of the first (batch) dimension where the signature leaves it open (-1). */
  batch: number;
  /** Size for any other unknown (-1) dimension; default 1. */
  unknownDim?: number;
  /** A seeded stream for random values, or 'zeros' (DT_STRING and tf.Example inputs cannot be zero-filled). */
  values: Random | 'zeros';
  /**
   * 'guess' (default): an unknown rank becomes [batch], unknown inner dims become `unknownDim`, a fixed first dimension
   * is kept (with a note when it is not `batch`). 'batched': every input must have a batch dimension and known inner
   * dims, and gets exactly `batch` rows (serve's warmup of each allowed batch size); anything else throws UsageError.
   */
  shapes?: 'guess' | 'batched';
  /**
   * Send tf.Examples: DT_STRING inputs of a classify/regress `method` (or of any method when `features` is not empty)
   * and, for classify/regress, any input fed by a DT_STRING placeholder whatever dtype the signature declares (TF
   * Serving's half_plus_three testdata declares DT_FLOAT for its string tf_example placeholder).
   */
  examples?: ExampleInputs & { method: string };
}

export interface GeneratedInputs {
  inputs: Record<string, HostTensor>;
  /** Anything the user should know (a fixed first dimension that overrides `batch`). */
  notes: string[];
}

export type ExampleVerb = 'classify' | 'regress';

/** The :classify / :regress verb of a classify or regress signature method; undefined for predict (and anything else). */
export function exampleVerb(method: string): ExampleVerb | undefined {
  if (method.endsWith('/classify')) return 'classify';
  if (method.endsWith('/regress')) return 'regress';
  return undefined;
}

/** The concrete shape generated for input `name` under the 'guess' rules; `notes` collects what the user should know. */
export function concreteShape(name: string, spec: InputSpec, o: { batch: number; unknownDim?: number }, notes: string[]): number[] {
  if (spec.shape === null) return [o.batch];
  if (spec.shape.length === 0) return [];
  return spec.shape.map((d, i) => {
    if (i === 0) {
      if (d < 0) return o.batch;
      if (d !== o.batch && o.batch !== 1) notes.push(`input ${name} has a fixed first dimension ${d}; sending ${d} rows, not --batch ${o.batch}`);
      return d;
    }
    return d < 0 ? (o.unknownDim ?? 1) : d;
  });
}

/** The shape under the 'batched' rules: `batch` rows of known inner dims; UsageError for an input without them. */
function batchedShape(name: string, spec: InputSpec, batch: number): number[] {
  if (!spec.shape || spec.shape.length === 0 || spec.shape.slice(1).some((d) => d < 0)) {
    throw new UsageError(`input ${name} has no batch dimension with known inner dimensions (shape ${spec.shape ? `[${spec.shape.join(',')}]` : 'unknown'})`);
  }
  return [batch, ...spec.shape.slice(1)];
}

const randomFloat = (r: Random) => Math.round(r() * 1000) / 1000;
const randomSmallInt = (r: Random) => Math.floor(r() * 10);
const randomWord = (r: Random) => Buffer.from(Array.from({ length: 5 }, () => String.fromCharCode(97 + Math.floor(r() * 26))).join(''));

type NumericData = Exclude<HostTensor['data'], Uint8Array[]>;
/** HostTensor layout (engine/types.ts) and random value of each numeric dtype a request can carry. */
const NUMERIC: Record<string, [alloc: new (n: number) => NumericData, draw: (r: Random) => number | bigint]> = {
  DT_FLOAT: [Float32Array, randomFloat],
  DT_HALF: [Float32Array, randomFloat],
  DT_BFLOAT16: [Float32Array, randomFloat],
  DT_DOUBLE: [Float64Array, randomFloat],
  DT_INT32: [Int32Array, randomSmallInt],
  DT_INT16: [Int32Array, randomSmallInt],
  DT_INT8: [Int32Array, randomSmallInt],
  DT_UINT8: [Int32Array, randomSmallInt],
  DT_UINT16: [Int32Array, randomSmallInt],
  DT_UINT32: [Uint32Array, randomSmallInt],
  DT_INT64: [BigInt64Array, (r) => BigInt(randomSmallInt(r))],
  DT_UINT64: [BigUint64Array, (r) => BigInt(randomSmallInt(r))],
  DT_BOOL: [Uint8Array, (r) => (r() < 0.5 ? 1 : 0)],
};

/** One HostTensor of `dtype` and `shape`, random or all zeros. UsageError for dtypes a request cannot carry. */
export function fillTensor(dtype: string, shape: number[], values: Random | 'zeros'): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const numeric = NUMERIC[dtype];
  if (numeric) {
    const [Alloc, draw] = numeric;
    const data = new Alloc(n);
    if (values !== 'zeros') for (let i = 0; i < n; i++) (data as unknown as Array<number | bigint>)[i] = draw(values);
    return { dtype, shape, data };
  }
  if (dtype === 'DT_STRING') {
    if (values === 'zeros') throw new UsageError('a DT_STRING input has no zero value to guess (text and tf.Example inputs need real data)');
    return { dtype, shape, data: Array.from({ length: n }, () => randomWord(values)) };
  }
  throw new UsageError(`cannot generate data for an input of dtype ${dtype}; give request bodies with --data FILE.jsonl`);
}

/** `rows` random tf.Examples, each with every feature: floats in [0, 1) to 3 decimals, int64s in [0, 10), 5-letter bytes. */
export function generateExamples(features: FeatureSpec[], rows: number, random: Random): GeneratedExample[] {
  return Array.from({ length: rows }, () => {
    const ex: GeneratedExample = {};
    for (const f of features) {
      const values = Array.from({ length: f.length }, () => (f.kind === 'float' ? randomFloat(random) : f.kind === 'int64' ? randomSmallInt(random) : randomWord(random)));
      ex[f.name] = { kind: f.kind, values } as FeatureValues;
    }
    return ex;
  });
}

/** Inputs for one request to a signature with these `inputs` (keyed by alias). See GenerateOptions. */
export function generateInputs(inputs: Record<string, InputSpec>, o: GenerateOptions): GeneratedInputs {
  const notes: string[] = [];
  const out: Record<string, HostTensor> = {};
  const ex = o.examples;
  const exampleMethod = ex !== undefined && exampleVerb(ex.method) !== undefined;
  const anyExamples = exampleMethod || (ex?.features.length ?? 0) > 0;
  for (const [alias, spec] of Object.entries(inputs)) {
    const shape = o.shapes === 'batched' ? batchedShape(alias, spec, o.batch) : concreteShape(alias, spec, o, notes);
    const fromStringPlaceholder = exampleMethod && spec.name !== undefined && (ex.stringPlaceholders?.has(spec.name.replace(/:0$/, '')) ?? false);
    if ((spec.dtype === 'DT_STRING' && anyExamples) || fromStringPlaceholder) {
      if (o.values === 'zeros') throw new UsageError(`input ${alias} takes tf.Examples, which cannot be zero-filled`);
      const rows = generateExamples(ex!.features, shape.reduce((a, b) => a * b, 1), o.values);
      out[alias] = { dtype: 'DT_STRING', shape, data: rows.map(encodeExample) };
    } else {
      out[alias] = fillTensor(spec.dtype, shape, o.values);
    }
  }
  return { inputs: out, notes };
}
