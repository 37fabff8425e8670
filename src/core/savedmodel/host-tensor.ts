// The tensor and signature types of tfsvc's lowest layer. The SavedModel reader, the checkpoint reader and the graph
// builder produce and consume them, so they live here; src/core/engine/types.ts re-exports them for the layers above
// (the engine contract is where most code meets them).

/** TensorFlow dtype names as they appear in SignatureDefs and TF Serving's metadata (`DT_FLOAT`, `DT_INT64`, ...). */
export type TfDType = string;

/**
 * A tensor in host memory. `data` layout by dtype:
 *  DT_FLOAT: Float32Array; DT_DOUBLE: Float64Array; DT_HALF/DT_BFLOAT16: Float32Array (widened);
 *  DT_INT32/DT_INT16/DT_INT8: Int32Array; DT_UINT8/DT_UINT16: Int32Array; DT_UINT32: Uint32Array;
 *  DT_INT64: BigInt64Array; DT_UINT64: BigUint64Array; DT_BOOL: Uint8Array (0/1);
 *  DT_STRING: Uint8Array[] (raw bytes; TF strings are byte strings).
 * Row-major, `data.length === product(shape)`. Whoever receives a HostTensor owns it.
 */
export interface HostTensor {
  dtype: TfDType;
  shape: number[];
  data: Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array | BigInt64Array | BigUint64Array | Uint8Array[];
}

/** One input or output of a signature. `shape` uses -1 for unknown dims and is null for unknown rank. */
export interface TensorSpec {
  /** Graph tensor name, e.g. `x:0` or `serving_default_x:0`. */
  name: string;
  dtype: TfDType;
  shape: number[] | null;
}

export interface SignatureInfo {
  /** Signature key, e.g. `serving_default`. */
  key: string;
  /** `tensorflow/serving/predict`, `.../classify` or `.../regress`. */
  methodName: string;
  inputs: Record<string, TensorSpec>;
  outputs: Record<string, TensorSpec>;
}
