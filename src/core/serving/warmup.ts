// Warmup before a version turns AVAILABLE, so the first real request does not pay for lazy initialisation (WASM
// compilation, kernel selection, first allocations):
//  - with assets.extra/tf_serving_warmup_requests (TFRecord of tensorflow.serving.PredictionLog, as TF Serving reads
//    it): every predict/classify/regress record is replayed `iterations` times through the real batch path; a record
//    that fails fails the load (as in TF Serving), and at most 1000 records are accepted; each is checked against its
//    signature first (src/core/wire/signature-check.ts), exactly as a client's request would be;
//  - without it: generated all-zero requests for each signature with fully known inner dims, at each allowed batch
//    size (or 1); failures there are ignored, since a guessed input may simply not suit the model.
// A record that fails fails the load with the status its request got, as TF Serving's warmup returns the request's
// own status (RunPredict/RunClassify/RunRegress): INVALID_ARGUMENT for an input that does not fit, FAILED_PRECONDITION
// for an unknown signature, UNIMPLEMENTED for a log type not replayed, the engine's code when the run fails (UNKNOWN
// when it has none). The version's status (GetModelStatus, GET /v1/models/M) shows that code, and a message naming
// the file and the record. A file that cannot be read as records at all (truncated, too many) stays a ModelError.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { generateInputs } from '../engine/generate-inputs.js';
import type { HostTensor, SignatureInfo } from '../engine/types.js';
import { ModelError, RequestError } from '../errors.js';
import { decodeWarmupRecord, readWarmupRecords, WARMUP_FILE, type WarmupRecord } from '../savedmodel/warmup-file.js';
import { checkPredictInputs } from '../wire/predict-rules.js';
import { checkInputs, DEFAULT_LIMITS, type RequestLimits } from '../wire/signature-check.js';

export interface WarmupTarget {
  signatures: Record<string, SignatureInfo>;
  run(signature: string, inputs: Record<string, HostTensor>): Promise<unknown>;
}

export interface WarmupResult {
  source: 'file' | 'generated' | 'none';
  requests: number;
}

/** A failed warmup record: the request's status code, and a message naming the file and the record (`where`). */
function recordFailed(where: string, err: unknown, prefix = ''): RequestError {
  const code = err instanceof RequestError ? err.code : 'UNKNOWN';
  return new RequestError(code, `${where}: ${prefix}${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/**
 * The signature and inputs a record is replayed with, checked as a client's request is; throws RequestError (naming
 * `where`, with the code a client's request would get) for one serve cannot replay.
 */
function replayOf(rec: WarmupRecord, signatures: Record<string, SignatureInfo>, where: string, limits: RequestLimits): { signature: string; inputs: Record<string, HostTensor> } {
  if (rec.kind === 'other') throw new RequestError('UNIMPLEMENTED', `${where}: unsupported log type ${rec.log} (tfsvc replays predict_log, classify_log and regress_log records)`);
  const signature = rec.signature ?? 'serving_default';
  const sig = signatures[signature];
  if (!sig) throw new RequestError('FAILED_PRECONDITION', `${where}: signature "${signature}" not found in the model`);
  let inputs: Record<string, HostTensor>;
  if (rec.kind === 'predict') {
    inputs = rec.inputs;
  } else {
    const names = Object.keys(sig.inputs);
    if (names.length !== 1) throw new RequestError('INVALID_ARGUMENT', `${where}: signature "${signature}" must have exactly one input to take tf.Examples`);
    if (rec.examples.length === 0) throw new RequestError('INVALID_ARGUMENT', `${where}: the request holds no examples`);
    inputs = { [names[0]!]: { dtype: 'DT_STRING', shape: [rec.examples.length], data: rec.examples } };
  }
  try {
    if (rec.kind === 'predict') checkPredictInputs(sig, Object.keys(inputs));
    checkInputs(sig, inputs, limits);
  } catch (err) {
    throw recordFailed(where, err);
  }
  return { signature, inputs };
}

/**
 * All-zero inputs at `batch` rows for a signature whose inputs all have a batch dimension and known inner dims (and
 * a dtype with a zero: no strings); undefined otherwise.
 */
function zeroInputs(sig: SignatureInfo, batch: number): Record<string, HostTensor> | undefined {
  try {
    const { inputs } = generateInputs(sig.inputs, { batch, values: 'zeros', shapes: 'batched' });
    return Object.keys(inputs).length > 0 ? inputs : undefined;
  } catch {
    return undefined; // a shape or dtype that cannot be guessed (see generateInputs)
  }
}

/** Runs warmup against `target` (see the file comment). `iterations` is --num_request_iterations_for_warmup. */
export async function warmUp(
  target: WarmupTarget,
  versionDir: string,
  options: { iterations?: number; batchSizes?: number[]; everyBatchSize?: boolean; limits?: RequestLimits } = {},
): Promise<WarmupResult> {
  const iterations = Math.max(1, options.iterations ?? 1);
  const limits = options.limits ?? DEFAULT_LIMITS;
  const file = path.join(versionDir, WARMUP_FILE);
  if (existsSync(file)) {
    const replayed = await replayFile(target, file, iterations, limits);
    if (!options.everyBatchSize) return replayed;
    const generated = await generatedWarmup(target, options.batchSizes, iterations);
    return { source: 'file', requests: replayed.requests + generated.requests };
  }
  return generatedWarmup(target, options.batchSizes, iterations);
}

async function replayFile(target: WarmupTarget, file: string, iterations: number, limits: RequestLimits): Promise<WarmupResult> {
  const fail = (m: string) => new ModelError(`${file}: ${m}`, file);
  // A record that does not decode (not a PredictionLog, a tensor that is not one, more elements than the cap) is what
  // a client's request would get INVALID_ARGUMENT for. Its messages start "record N".
  const badRecord = (m: string) => new RequestError('INVALID_ARGUMENT', `${file}: ${m}`);
  const records = readWarmupRecords(file, fail);
  let n = 0;
  for (const [i, rec] of records.entries()) {
    const where = `${file}: record ${i}`;
    // Decoded once to fail the load on a bad record with its own message, then again for each iteration: each
    // replay owns its tensors (the engine may take them over).
    const decode = () => replayOf(decodeWarmupRecord(rec, i, badRecord, limits.maxElements), target.signatures, where, limits);
    let replay = decode();
    for (let it = 0; it < iterations; it++) {
      if (it > 0) replay = decode();
      try {
        await target.run(replay.signature, replay.inputs);
      } catch (err) {
        throw recordFailed(where, err, 'warmup request failed: ');
      }
      n++;
    }
  }
  return { source: 'file', requests: n };
}

/** Generated all-zero requests for each signature at each of `batchSizes` (or 1); failures are not load failures. */
async function generatedWarmup(target: WarmupTarget, batchSizes: number[] | undefined, iterations: number): Promise<WarmupResult> {
  const sizes = batchSizes && batchSizes.length > 0 ? batchSizes : [1];
  let n = 0;
  for (const [name, sig] of Object.entries(target.signatures)) {
    for (const b of sizes) {
      const make = (): Record<string, HostTensor> | undefined => zeroInputs(sig, b);
      if (!make()) break;
      for (let it = 0; it < iterations; it++) {
        try {
          await target.run(name, make()!);
          n++;
        } catch {
          // A guessed input may not suit the model (value ranges, hidden shape constraints): not a load failure.
        }
      }
    }
  }
  return { source: n > 0 ? 'generated' : 'none', requests: n };
}
