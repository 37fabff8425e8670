// TensorFlow ops tfsvc adds to tfjs-converter's executor with registerOp: the string ops of Keras text preprocessing
// (string-ops.ts), lookups in tables filled at load (TfsvcTableFind, table-ops.ts), and ParseExample /
// ParseExampleV2, which classify/regress signatures (and TF1 Estimator exports) use to turn serialized tf.Example
// protos into dense tensors.
// Dense features only: sparse and ragged features raise a clear error. Semantics follow TF's ParseExample kernel
// (tensorflow/core/util/example_proto_fast_parsing.cc): each dense feature has a fixed shape S; an Example supplies
// exactly prod(S) values of the declared type or, when absent, the feature's default (an empty default makes the
// feature required); the output is [batch, ...S].
import * as tf from '@tensorflow/tfjs-core';
import { registerOp } from '@tensorflow/tfjs-converter';
import { decodeExample, type FeatureValues } from './example.js';
import { withHostInputs } from './host-read.js';
import { stringBytes, type GraphNode } from './node-attrs.js';
import { STRING_OPS } from './string-ops.js';
import { tableFind } from './table-ops.js';

export { stringBytes } from './node-attrs.js';

/** A malformed or incomplete tf.Example in a request (the run maps it to INVALID_ARGUMENT). */
export class ExampleParseError extends Error {}

/**
 * Ops that read their inputs' values on the host (every op registered here but Equal / NotEqual, which read only
 * string inputs, always host values, and hand numbers to tfjs). On webgpu a graph holding one runs with executeAsync,
 * so these ops can first read device-only inputs asynchronously (host-read.ts).
 */
export const HOST_READ_OPS: ReadonlySet<string> = new Set([
  'ParseExample', 'ParseExampleV2', 'TfsvcTableFind', ...Object.keys(STRING_OPS).filter((op) => op !== 'Equal' && op !== 'NotEqual'),
]);

type Executor = (node: GraphNode) => tf.Tensor | tf.Tensor[];

/** Registers tfsvc's custom ops with this thread's tfjs-converter (idempotent). */
export function registerCustomOps(): void {
  if (registered) return;
  const ops: Record<string, Executor> = { ParseExampleV2: parseExampleV2, ParseExample: parseExampleV1, TfsvcTableFind: tableFind, ...STRING_OPS };
  for (const [op, run] of Object.entries(ops)) {
    registerOp(op, HOST_READ_OPS.has(op) ? (node) => withHostInputs(node as GraphNode, run) : (node) => run(node as GraphNode));
  }
  registered = true;
}

let registered = false;

function stringValues(t: tf.Tensor): string[] {
  return stringBytes(t).map((b) => Buffer.from(b).toString('utf8'));
}

// ParseExampleV2 inputs: serialized, names, sparse_keys, dense_keys, ragged_keys, dense_defaults... (one per dense key).
function parseExampleV2(node: GraphNode): tf.Tensor[] {
  const [serialized, , sparseKeys, denseKeys, raggedKeys, ...defaults] = node.inputs;
  if ((sparseKeys?.size ?? 0) > 0 || (raggedKeys?.size ?? 0) > 0) {
    throw new ExampleParseError('ParseExampleV2: sparse and ragged features are not supported by tfsvc (dense features only)');
  }
  return parseDense(serialized!, stringValues(denseKeys!), defaults, node.attrs);
}

// ParseExample inputs: serialized, names, sparse_keys (Nsparse scalars), dense_keys (Ndense scalars), dense_defaults.
function parseExampleV1(node: GraphNode): tf.Tensor[] {
  const nSparse = Number(node.attrs.Nsparse ?? 0);
  const nDense = Number(node.attrs.Ndense ?? 0);
  if (nSparse > 0) throw new ExampleParseError('ParseExample: sparse features are not supported by tfsvc (dense features only)');
  const keys = node.inputs.slice(2, 2 + nDense).flatMap(stringValues);
  return parseDense(node.inputs[0]!, keys, node.inputs.slice(2 + nDense), node.attrs);
}

function parseDense(serialized: tf.Tensor, keys: string[], defaults: tf.Tensor[], attrs: Record<string, unknown>): tf.Tensor[] {
  const types = (attrs.Tdense as string[] | undefined) ?? [];
  const shapes = (attrs.dense_shapes as number[][] | undefined) ?? [];
  const records = stringBytes(serialized);
  const batchShape = serialized.shape.length === 0 ? [] : [records.length];
  const examples = records.map((bytes, i) => {
    try {
      return decodeExample(bytes);
    } catch (err) {
      throw new ExampleParseError(`Could not parse example input, value: '${i}' (${(err as Error).message})`);
    }
  });
  return keys.map((key, k) => {
    const dtype = (types[k] ?? 'float32') as 'float32' | 'int32' | 'string';
    const shape = shapes[k] ?? [];
    if (shape.some((d) => d < 0)) throw new ExampleParseError(`ParseExample: feature ${key} has a variable-length shape, which tfsvc does not support`);
    const size = shape.reduce((a, b) => a * b, 1);
    const def = defaults[k];
    const defVals = def && def.size > 0 ? (dtype === 'string' ? stringBytes(def) : Array.from(def.dataSync() as ArrayLike<number>)) : undefined;
    const values: (number | Uint8Array)[] = [];
    // A loop, not push(...v): spreading a feature of ~100k values (an image) overflows the call stack.
    const append = (v: ArrayLike<number | Uint8Array>) => {
      for (let j = 0; j < v.length; j++) values.push(v[j]!);
    };
    examples.forEach((ex, i) => {
      const f = ex.get(key);
      if (!f) {
        if (!defVals) throw new ExampleParseError(`Name: <unknown>, Feature: ${key} (data type: ${tfTypeName(dtype)}) is required but could not be found.`);
        append(defVals);
        return;
      }
      const want = dtype === 'float32' ? 'float' : dtype === 'int32' ? 'int64' : 'bytes';
      if (f.kind !== want) {
        throw new ExampleParseError(`Name: <unknown>, Key: ${key}, Index: ${i}.  Data types don't match. Expected type: ${tfTypeName(dtype)}, Actual type: ${f.kind === 'float' ? 'float' : f.kind === 'int64' ? 'int64' : 'string'}`);
      }
      if (f.values.length !== size) {
        throw new ExampleParseError(`Name: <unknown>, Key: ${key}, Index: ${i}.  Number of ${want === 'bytes' ? 'bytes' : want} values != expected.  Values size: ${f.values.length} but output shape: [${shape.join(',')}]`);
      }
      if (dtype === 'int32') {
        // int64 features compute as int32 (see host-tensor.ts): a value outside it is refused, never wrapped.
        const bad = (f.values as number[]).find((v) => v > 2147483647 || v < -2147483648);
        if (bad !== undefined) throw new ExampleParseError(`Name: <unknown>, Key: ${key}, Index: ${i}.  int64 value ${bad} does not fit the 32-bit integers the TensorFlow.js engine computes int64 in`);
      }
      append((f as FeatureValues).values);
    });
    const outShape = [...batchShape, ...shape];
    if (dtype === 'string') return tf.tensor(values as Uint8Array[], outShape, 'string');
    return tf.tensor(values as number[], outShape, dtype);
  });
}

function tfTypeName(dtype: string): string {
  return dtype === 'float32' ? 'float' : dtype === 'int32' ? 'int64' : 'string';
}
