// The contract between the engine (which runs models) and everything that calls it (serving, run, validate, warmup).
// Tensors cross this boundary as HostTensor: plain typed arrays that can be transferred between worker threads.

// The tensor and signature types are the SavedModel layer's (src/core/savedmodel/host-tensor.ts); every layer above
// meets them through this contract.
import type { HostTensor, SignatureInfo } from '../savedmodel/host-tensor.js';
export type { HostTensor, SignatureInfo, TensorSpec, TfDType } from '../savedmodel/host-tensor.js';

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
