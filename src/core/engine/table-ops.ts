// TfsvcTableFind: a lookup in a table that the graph builder filled at load time (src/core/graph/tables.ts) and
// handed over as two constants, keys and values. TensorFlow's LookupTableFindV2 semantics: every query element maps
// to its value, or to the default (a scalar, or one default per query element) when the table lacks it; the output
// has the query's shape and the table's value dtype. String keys compare as bytes.
import * as tf from '@tensorflow/tfjs-core';
import { stringBytes, type GraphNode } from './node-attrs.js';

type Key = string | number;

interface Index {
  slot: Map<Key, number>;
  values: ArrayLike<number> | Uint8Array[];
}

/**
 * Index per keys tensor. The keys and values are weights of the GraphModel: the same tensor objects on every run, so
 * the map is built on the first lookup and reused until the model (and its weights) go away.
 */
const indexes = new WeakMap<object, Index>();

function keyOf(v: number | Uint8Array): Key {
  return typeof v === 'number' ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1');
}

function host(t: tf.Tensor): ArrayLike<number> | Uint8Array[] {
  return t.dtype === 'string' ? stringBytes(t) : (t.dataSync() as ArrayLike<number>);
}

function indexOf(keys: tf.Tensor, values: tf.Tensor): Index {
  let index = indexes.get(keys.dataId);
  if (!index) {
    const k = host(keys);
    const slot = new Map<Key, number>();
    for (let i = 0; i < k.length; i++) slot.set(keyOf(k[i]!), i);
    index = { slot, values: host(values) };
    indexes.set(keys.dataId, index);
  }
  return index;
}

/** Inputs: keys, values (the table), query, default_value. */
export function tableFind(node: GraphNode): tf.Tensor {
  const [keys, values, query, fallback] = node.inputs as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
  if ((query.dtype === 'string') !== (keys.dtype === 'string')) {
    throw new Error(`lookup key dtype ${query.dtype} does not match the table's ${keys.dtype} keys`);
  }
  const { slot, values: v } = indexOf(keys, values);
  const q = host(query);
  const d = host(fallback);
  if (d.length !== 1 && d.length !== q.length) {
    throw new Error(`default_value must be a scalar or have the keys' shape [${query.shape.join(',')}], got [${fallback.shape.join(',')}]`);
  }
  const out: (number | Uint8Array)[] = new Array(q.length);
  for (let i = 0; i < q.length; i++) {
    const at = slot.get(keyOf(q[i]!));
    out[i] = at === undefined ? d[d.length === 1 ? 0 : i]! : v[at]!;
  }
  if (values.dtype === 'string') return tf.tensor(out as Uint8Array[], query.shape, 'string');
  return tf.tensor(out as number[], query.shape, values.dtype);
}
