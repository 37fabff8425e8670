// Dummy input tensors for a signature, from its metadata: dtype- and shape-aware, `batch` rows, seeded so a run's
// data repeats exactly. Values are small and valid for the usual input kinds (floats in [0, 1), ints in [0, 10),
// booleans, short lower-case strings); a model that needs real data (vocabulary ids, images) takes a JSONL file.
import type { HostTensor } from '../engine/types.js';
import { UsageError } from '../errors.js';
import type { InputSpec, SignatureSpec } from './metadata.js';
import type { Random } from './prng.js';

export interface GenOptions {
  /** Rows per request: the size of the first (batch) dimension when the model leaves it open (-1). */
  batch: number;
  random: Random;
  /** Size used for any other unknown (-1) dimension. */
  unknownDim: number;
}

/** The concrete shape a request uses for an input; `notes` collects anything the user should know. */
export function concreteShape(name: string, spec: InputSpec, o: GenOptions, notes: string[]): number[] {
  if (spec.shape === null) return [o.batch];
  if (spec.shape.length === 0) return [];
  return spec.shape.map((d, i) => {
    if (i === 0) {
      if (d < 0) return o.batch;
      if (d !== o.batch && o.batch !== 1) notes.push(`input ${name} has a fixed first dimension ${d}; sending ${d} rows, not --batch ${o.batch}`);
      return d;
    }
    return d < 0 ? o.unknownDim : d;
  });
}

const FLOATS = new Set(['DT_FLOAT', 'DT_HALF', 'DT_BFLOAT16']);
const INT32S = new Set(['DT_INT32', 'DT_INT16', 'DT_INT8', 'DT_UINT8', 'DT_UINT16']);

/** One HostTensor of `dtype` and `shape` filled from `random`. UsageError for dtypes a request cannot carry. */
export function randomTensor(dtype: string, shape: number[], random: Random): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (FLOATS.has(dtype)) return { dtype, shape, data: Float32Array.from({ length: n }, () => Math.round(random() * 1000) / 1000) };
  if (dtype === 'DT_DOUBLE') return { dtype, shape, data: Float64Array.from({ length: n }, () => Math.round(random() * 1000) / 1000) };
  if (INT32S.has(dtype)) return { dtype, shape, data: Int32Array.from({ length: n }, () => Math.floor(random() * 10)) };
  if (dtype === 'DT_UINT32') return { dtype, shape, data: Uint32Array.from({ length: n }, () => Math.floor(random() * 10)) };
  if (dtype === 'DT_INT64') return { dtype, shape, data: BigInt64Array.from({ length: n }, () => BigInt(Math.floor(random() * 10))) };
  if (dtype === 'DT_UINT64') return { dtype, shape, data: BigUint64Array.from({ length: n }, () => BigInt(Math.floor(random() * 10))) };
  if (dtype === 'DT_BOOL') return { dtype, shape, data: Uint8Array.from({ length: n }, () => (random() < 0.5 ? 1 : 0)) };
  if (dtype === 'DT_STRING') {
    const word = () => Buffer.from(Array.from({ length: 5 }, () => String.fromCharCode(97 + Math.floor(random() * 26))).join(''));
    return { dtype, shape, data: Array.from({ length: n }, word) };
  }
  throw new UsageError(`cannot generate data for an input of dtype ${dtype}; give request bodies with --data FILE.jsonl`);
}

/** Inputs for one request to `sig`. */
export function generateInputs(sig: SignatureSpec, o: GenOptions): { inputs: Record<string, HostTensor>; notes: string[] } {
  const notes: string[] = [];
  const inputs: Record<string, HostTensor> = {};
  for (const [name, spec] of Object.entries(sig.inputs)) {
    inputs[name] = randomTensor(spec.dtype, concreteShape(name, spec, o, notes), o.random);
  }
  return { inputs, notes };
}
