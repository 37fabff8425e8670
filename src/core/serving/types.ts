// The contract between the model lifecycle (Manager, owned by src/core/serving) and the protocol front ends
// (REST routes, gRPC service) that look models up and run them.
import type { HostTensor, SignatureInfo } from '../engine/types.js';
import type { CancelSignal } from './cancel.js';

/** Which version of a model a request names: none (latest available), a number, or a label. */
export interface VersionSelector {
  version?: number;
  label?: string;
}

/** TF Serving's ModelVersionStatus.State names (numeric values 0, 10, 20, 30, 40, 50 in its protos). */
export type VersionState = 'UNKNOWN' | 'START' | 'LOADING' | 'AVAILABLE' | 'UNLOADING' | 'END';

/** One entry of GET /v1/models/M: `{version, state, status: {error_code, error_message}}`. */
export interface VersionStatus {
  version: number;
  state: VersionState;
  /** 'OK' or a TF Serving error code name (e.g. 'UNKNOWN', 'NOT_FOUND'). */
  errorCode: string;
  errorMessage: string;
}

export interface RunOptions {
  /** Output aliases to return (TF Serving's output_filter); all when absent. */
  outputFilter?: string[];
  /** Aborted when the client goes away or the request times out; queued work is dropped, not run. */
  signal?: CancelSignal;
}

/**
 * A loaded, AVAILABLE model version, reference-counted: the Manager unloads a version only after every handle to it is
 * released, so in-flight requests finish on the version they started on. Always `release()` in a finally block.
 */
export interface ServableHandle {
  readonly name: string;
  readonly version: number;
  readonly signatures: Record<string, SignatureInfo>;
  /** The meta graph's SignatureDefs as decoded plain objects (camelCase), for the metadata endpoint. */
  readonly signatureDefs: Record<string, unknown>;
  /**
   * Runs one signature through the batcher and worker pool (never on the calling thread). Takes ownership of `inputs`:
   * their typed-array buffers may be transferred to a worker thread (and so become detached here).
   */
  run(signature: string, inputs: Record<string, HostTensor>, options?: RunOptions): Promise<Record<string, HostTensor>>;
  release(): void;
}

/**
 * What REST and gRPC need from the Manager. Errors are RequestError with TF Serving's codes and texts (its
 * ServerCore/ServableStateMonitor answers), which clients and dashboards match on.
 */
export interface ServableLookup {
  /**
   * A handle on the newest AVAILABLE version, or the one the selector names. Throws RequestError:
   *  - INVALID_ARGUMENT "Unrecognized servable version label: L" for a label the model's config does not define
   *    (also when the model is unknown);
   *  - NOT_FOUND "Servable not found for request: Latest(M)" when no version of M is AVAILABLE: an unknown model, or
   *    one whose versions are still loading, failed or were unloaded (TF Serving says NOT_FOUND here, not UNAVAILABLE);
   *  - NOT_FOUND "Servable not found for request: Specific(M, V)" when version V (given, or a label's target) is not
   *    AVAILABLE.
   */
  acquire(name: string, selector?: VersionSelector): ServableHandle;
  /**
   * Status of every version of `name` the Manager knows, newest first (or just the selected one), whatever their state.
   * Throws RequestError NOT_FOUND "Could not find any versions of model M" (unknown model, or none known yet),
   * INVALID_ARGUMENT "Unrecognized servable version label: L", NOT_FOUND "Could not find version V of model M".
   */
  status(name: string, selector?: VersionSelector): VersionStatus[];
}
