// How serving lays engines out for the backend it runs on. CPU backends (wasm, cpu, tensorflow): one worker per
// batch thread (num_batch_threads, default one per core), one batch at a time each, batching adaptive with no added
// wait. WebGPU: one worker per GPU adapter, not per core (a GPU runs one batch at a time whatever the host's cores;
// more engines would only split its memory and interleave its queue), fed by the batcher two batches deep so the next
// batch is concatenated on the CPU and posted while the previous one runs (double buffering). Each input of a batch
// is one contiguous typed array (the batcher's concatenation), handed to the worker without a copy and written to
// the device by tfjs as one buffer upload.
//
// GPU batching defaults follow TF Serving's batching guide for GPUs: large batches (max_batch_size 128), a short wait
// to fill them (batch_timeout_micros 1000), allowed_batch_sizes powers of two so a shader is compiled for a few shapes
// only (warmup compiles each before the version is AVAILABLE), batches padded up to the next allowed size, and
// pad_variable_length_inputs on (requests of different inner sizes share a batch). Any field the batching parameters
// file sets wins.
import { UsageError } from '../errors.js';
import type { BackendName } from '../engine/types.js';
import type { BatchingConfig } from './config.js';

export interface EnginePlan {
  /** The backend workers start (auto resolved to webgpu when a hardware adapter exists). */
  backend: BackendName;
  batching: BatchingConfig;
  pool: { size: number; depth: number; gpuAdapters?: string[] };
  /** For the start-up log: what was chosen and why. */
  note?: string;
}

/** Powers of two from 1 up to `max`, ending at `max` itself (TF Serving requires the last entry to equal max_batch_size). */
export function powersOfTwo(max: number): number[] {
  const out: number[] = [];
  for (let s = 1; s < max; s *= 2) out.push(s);
  out.push(max);
  return out;
}

/** GPU batching defaults (see the file comment); `enabled` and the thread count come from elsewhere. */
export function gpuBatchingDefaults(): Pick<BatchingConfig, 'maxBatchSize' | 'batchTimeoutMicros' | 'allowedBatchSizes' | 'maxEnqueuedBatches' | 'padVariableLengthInputs'> {
  return { maxBatchSize: 128, batchTimeoutMicros: 1000, allowedBatchSizes: powersOfTwo(128), maxEnqueuedBatches: 64, padVariableLengthInputs: true };
}

/** GPU defaults under whatever `batching` set explicitly; allowed sizes follow an explicit max_batch_size. */
export function gpuBatching(batching: BatchingConfig, engines: number): BatchingConfig {
  const explicit = new Set(batching.explicit ?? []);
  const d = gpuBatchingDefaults();
  const maxBatchSize = explicit.has('maxBatchSize') ? batching.maxBatchSize : d.maxBatchSize;
  return {
    ...batching,
    maxBatchSize,
    batchTimeoutMicros: explicit.has('batchTimeoutMicros') ? batching.batchTimeoutMicros : d.batchTimeoutMicros,
    maxEnqueuedBatches: explicit.has('maxEnqueuedBatches') ? batching.maxEnqueuedBatches : d.maxEnqueuedBatches,
    allowedBatchSizes: explicit.has('allowedBatchSizes') ? batching.allowedBatchSizes : powersOfTwo(maxBatchSize),
    padVariableLengthInputs: explicit.has('padVariableLengthInputs') ? batching.padVariableLengthInputs : d.padVariableLengthInputs,
    numBatchThreads: engines,
  };
}

/**
 * The plan for `backend`. webgpu and auto look for adapters here, on the main thread (this loads Dawn, which only
 * these two backends do). webgpu uses the hardware adapters, or the software one when that is all there is; auto uses
 * hardware adapters only and otherwise leaves the choice to the workers (tensorflow when installed, else wasm).
 */
export async function planEngines(backend: BackendName, batching: BatchingConfig): Promise<EnginePlan> {
  const cpuPlan: EnginePlan = { backend, batching, pool: { size: batching.numBatchThreads, depth: 1 } };
  if (backend !== 'webgpu' && backend !== 'auto') return cpuPlan;
  const webgpu = await import('../engine/webgpu.js');
  let adapters = await webgpu.hardwareAdapters();
  if (backend === 'webgpu' && adapters.length === 0) {
    adapters = await webgpu.listAdapters();
    if (adapters.length === 0) throw new UsageError('backend "webgpu": Dawn found no WebGPU adapter; run `tfsvc doctor`');
  }
  if (adapters.length === 0) return cpuPlan;
  const names = adapters.map((a) => a.name);
  const ignored = batching.explicit?.includes('numBatchThreads') ? ` (num_batch_threads ${batching.numBatchThreads} ignored: one engine per adapter)` : '';
  const identical = adapters.map(webgpu.identicalAdaptersNote).filter(Boolean).map((n) => `; ${n}`).join('');
  return {
    backend: 'webgpu',
    batching: gpuBatching(batching, names.length),
    pool: { size: names.length, depth: 2, gpuAdapters: names },
    note: `webgpu: one engine per adapter: ${names.join(', ')}${adapters.some((a) => a.software) ? ' (software adapter: runs on the CPU)' : ''}${ignored}${identical}`,
  };
}
