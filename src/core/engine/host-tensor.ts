// HostTensor ↔ tfjs Tensor at the engine boundary. tfjs computes in float32/int32/bool/string only: int64 and the
// small integer types run as int32 (values outside int32 are rejected, never wrapped), float64 as float32; outputs are
// converted back to the layout the signature's dtype prescribes (DT_INT64 → BigInt64Array, DT_DOUBLE → Float64Array).
import * as tf from '@tensorflow/tfjs-core';
import { RequestError } from '../errors.js';
import { tfjsDtype } from '../graph/artifacts.js';
import { stringBytes } from './custom-ops.js';
import type { HostTensor } from './types.js';

/** A tfjs tensor holding `h`, in the tfjs dtype that TF dtype `as` runs as. `what` names the input in errors. */
export function toTfjs(h: HostTensor, as: string, what: string): tf.Tensor {
  const dtype = tfjsDtype(as);
  if (!dtype) throw new RequestError('INVALID_ARGUMENT', `${what}: dtype ${as} is not supported by the TensorFlow.js engine`);
  const shape = [...h.shape];
  switch (dtype) {
    case 'string':
      return tf.tensor(h.data as Uint8Array[], shape, 'string');
    case 'float32':
      return tf.tensor(h.data instanceof Float32Array ? h.data : Float32Array.from(h.data as ArrayLike<number>, Number), shape, 'float32');
    case 'bool':
      return tf.tensor(h.data instanceof Uint8Array ? h.data : Uint8Array.from(h.data as ArrayLike<number>, (x) => (x ? 1 : 0)), shape, 'bool');
    case 'int32': {
      if (h.data instanceof Int32Array) return tf.tensor(h.data, shape, 'int32');
      const src = h.data as ArrayLike<number | bigint>;
      const out = new Int32Array(src.length);
      for (let i = 0; i < src.length; i++) {
        const v = src[i]!;
        const n = typeof v === 'bigint' ? Number(v) : v;
        if (!Number.isInteger(n) || n > 2147483647 || n < -2147483648) {
          throw new RequestError('INVALID_ARGUMENT', `${what}: value ${String(v)} does not fit the 32-bit integers the TensorFlow.js engine computes ${as} in`);
        }
        out[i] = n;
      }
      return tf.tensor(out, shape, 'int32');
    }
  }
}

/**
 * Reads `t` into a HostTensor of TF dtype `dtype` (the signature's), converting from tfjs's computation type. `values`
 * are `t`'s values when the caller already read them (`await t.data()`: the only read the WebGPU backend has in Node).
 */
export function fromTfjs(t: tf.Tensor, tfDtype: string, values?: tf.TypedArray): HostTensor {
  const dtype = tfDtype.replace(/_REF$/, '');
  const shape = [...t.shape];
  if (t.dtype === 'string') return { dtype, shape, data: stringBytes(t).map((b) => Uint8Array.from(b)) };
  const d = (values ?? t.dataSync()) as Float32Array | Int32Array | Uint8Array;
  switch (dtype) {
    case 'DT_INT64':
      return { dtype, shape, data: BigInt64Array.from(d as ArrayLike<number>, (x) => BigInt(Math.trunc(x))) };
    case 'DT_UINT64':
      return { dtype, shape, data: BigUint64Array.from(d as ArrayLike<number>, (x) => BigInt(Math.max(0, Math.trunc(x)))) };
    case 'DT_DOUBLE':
      return { dtype, shape, data: Float64Array.from(d as ArrayLike<number>) };
    case 'DT_UINT32':
      return { dtype, shape, data: Uint32Array.from(d as ArrayLike<number>) };
    case 'DT_BOOL':
      return { dtype, shape, data: Uint8Array.from(d as ArrayLike<number>, (x) => (x ? 1 : 0)) };
    case 'DT_FLOAT': case 'DT_HALF': case 'DT_BFLOAT16':
      return { dtype, shape, data: d instanceof Float32Array ? d.slice() : Float32Array.from(d as ArrayLike<number>) };
    default:
      return { dtype, shape, data: d instanceof Int32Array ? d.slice() : Int32Array.from(d as ArrayLike<number>, Math.trunc) };
  }
}
