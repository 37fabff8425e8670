// Loader: loads one model version and unloads it; knows nothing about policies or which versions should exist
// (that is the Manager's job). The real loader puts the version into every pool worker, wires it to the batch
// scheduler and warms it up; tests inject a fake ServableLoader to exercise the Manager without workers.
// Before a version is handed to the Manager (and can turn AVAILABLE), the pool has checked its files (saved_model.pb
// parses, every checkpoint CRC32C matches: DATA_LOSS otherwise) and run every signature once (engine/health.ts); then
// warmup runs. A load's error names files relative to the model's base path ("2/variables/variables.data-00000-of-00001"),
// since it reaches remote clients through the status endpoints.
import path from 'node:path';
import { realpathSync } from 'node:fs';
import type { WorkerPool } from '../engine/pool.js';
import { ModelError, RequestError } from '../errors.js';
import type { HostTensor, LoadOptions, SignatureInfo } from '../engine/types.js';
import { batchableSignature, type BatchScheduler, type QueueId } from './batcher.js';
import type { RunOptions } from './types.js';
import { warmUp, type WarmupResult } from './warmup.js';
import type { RequestLimits } from '../wire/signature-check.js';

export interface VersionSpec {
  name: string;
  version: number;
  /** The version directory. */
  path: string;
}

/** A loaded version as the Manager holds it. */
export interface LoadedServable {
  readonly signatures: Record<string, SignatureInfo>;
  readonly signatureDefs: Record<string, unknown>;
  run(signature: string, inputs: Record<string, HostTensor>, options?: RunOptions): Promise<Record<string, HostTensor>>;
  /** Frees the version everywhere. Called once, after every handle to it was released. */
  unload(): Promise<void>;
}

export interface ServableLoader {
  /** Loads and warms a version; rejects (with a message naming the problem) when it cannot be served. */
  load(spec: VersionSpec): Promise<LoadedServable>;
}

export interface LoadEvents {
  loaded?(spec: VersionSpec, info: { loadMs: number; warmupMs: number; warmup: WarmupResult; backend: string }): void;
}

export interface PoolLoaderOptions {
  loadOptions?: LoadOptions;
  /** Replay or generate warmup requests before the version turns AVAILABLE (--enable_model_warmup, default true). */
  warmup?: boolean;
  warmupIterations?: number;
  /** Batch sizes for generated warmup (allowed_batch_sizes). */
  warmupBatchSizes?: number[];
  /** Run generated warmup at every batch size even after replaying a warmup file (GPU: one shader set per size). */
  warmupEveryBatchSize?: boolean;
  /** The server's request limits (--max_request_elements): warmup records are checked against them, as requests are. */
  limits?: RequestLimits;
  events?: LoadEvents;
}

export class PoolLoader implements ServableLoader {
  private seq = 0;
  constructor(
    private readonly pool: WorkerPool,
    private readonly scheduler: BatchScheduler,
    private readonly options: PoolLoaderOptions = {},
  ) {}

  async load(spec: VersionSpec): Promise<LoadedServable> {
    try {
      return await this.loadVersion(spec);
    } catch (err) {
      throw withoutBasePath(err, path.dirname(spec.path));
    }
  }

  private async loadVersion(spec: VersionSpec): Promise<LoadedServable> {
    // A fresh key per load, so a reload of the same version never collides with the copy still draining.
    const key = `${spec.name}/${spec.version}#${++this.seq}`;
    const t0 = performance.now();
    const loaded = await this.pool.load(key, spec.path, this.options.loadOptions);
    const loadMs = performance.now() - t0;
    const { scheduler, pool } = this;
    // One queue id per signature, built once: it says whether the signature's requests may be joined into batches.
    const ids = new Map<string, QueueId>();
    for (const [signature, sig] of Object.entries(loaded.signatures)) {
      ids.set(signature, { key, name: spec.name, version: spec.version, signature, batchable: batchableSignature(sig.inputs) });
    }
    const servable: LoadedServable = {
      signatures: loaded.signatures,
      signatureDefs: loaded.signatureDefs,
      run: (signature, inputs, opts) =>
        scheduler.submit(ids.get(signature) ?? { key, name: spec.name, version: spec.version, signature }, inputs, opts?.outputFilter, opts?.signal),
      unload: async () => {
        scheduler.removeQueues(key);
        await pool.unload(key);
      },
    };
    const t1 = performance.now();
    let warmup: WarmupResult = { source: 'none', requests: 0 };
    if (this.options.warmup !== false) {
      try {
        warmup = await warmUp(servable, spec.path, {
          iterations: this.options.warmupIterations,
          batchSizes: this.options.warmupBatchSizes,
          everyBatchSize: this.options.warmupEveryBatchSize,
          limits: this.options.limits,
        });
      } catch (err) {
        await servable.unload();
        throw err;
      }
    }
    try {
      this.options.events?.loaded?.(spec, { loadMs, warmupMs: performance.now() - t1, warmup, backend: loaded.backend });
    } catch {
      // A failing observer (a log write, a metric) must not fail a load that succeeded: the version would be reported
      // END while its copy stayed loaded in every worker.
    }
    return servable;
  }
}

/**
 * `err` with every mention of the model's base path `base` (as given, and resolved through symlinks) removed, so that
 * files are named relative to it; same class and code. The absolute path stays in the error's cause for local logs.
 */
export function withoutBasePath(err: unknown, base: string): unknown {
  if (!(err instanceof Error)) return err;
  const prefixes = new Set([path.resolve(base) + path.sep]);
  try {
    prefixes.add(realpathSync(base) + path.sep);
  } catch {
    // the base path is gone: nothing more to strip
  }
  let message = err.message;
  for (const p of prefixes) message = message.split(p).join('');
  if (message === err.message) return err;
  if (err instanceof RequestError) return new RequestError(err.code, message, { cause: err });
  if (err instanceof ModelError) return new ModelError(message, err.file && path.relative(base, err.file), { cause: err });
  const plain = new Error(message, { cause: err });
  plain.name = err.name;
  return plain;
}
