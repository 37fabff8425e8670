// The contract between the engine (which runs models) and everything that calls it (serving, run, validate, warmup).
// Tensors cross this boundary as HostTensor: plain typed arrays that can be transferred between worker threads.

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

export type BackendName = 'wasm' | 'cpu' | 'webgpu' | 'tensorflow' | 'auto';

export interface LoadOptions {
  /** Meta graph tag set; default ['serve']. */
  tags?: string[];
  /** Backend to run on; default 'wasm'. */
  backend?: BackendName;
  /** Only prepare these signatures (default: all that the backend can run). */
  signatures?: string[];
}

/** A model version loaded into one thread's engine. Not shared between threads: each worker loads its own. */
export interface LoadedModel {
  /** Backend actually used (after resolving 'auto'). */
  readonly backend: string;
  readonly signatures: Record<string, SignatureInfo>;
  /**
   * Signatures of the SavedModel that this engine cannot run, with the reason (e.g. ops TensorFlow.js lacks). Optional:
   * added by the engine; absent means none (or an engine that does not report them).
   */
  readonly unavailable?: Record<string, string>;
  /**
   * Runs one signature. `inputs` is keyed by signature input alias; the result is keyed by output alias and holds
   * only `outputFilter` aliases when given. Rejects with RequestError(INVALID_ARGUMENT) for wrong dtypes/shapes/aliases.
   */
  run(signature: string, inputs: Record<string, HostTensor>, outputFilter?: string[]): Promise<Record<string, HostTensor>>;
  dispose(): void;
}
