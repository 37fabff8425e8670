// Warmup before a version turns AVAILABLE, so the first real request does not pay for lazy initialisation (WASM
// compilation, kernel selection, first allocations):
//  - with assets.extra/tf_serving_warmup_requests (TFRecord of tensorflow.serving.PredictionLog, as TF Serving reads
//    it): every predict/classify/regress record is replayed `iterations` times through the real batch path; a record
//    that fails fails the load (as in TF Serving), and at most 1000 records are accepted;
//  - without it: generated all-zero requests for each signature with fully known inner dims, at each allowed batch
//    size (or 1); failures there are ignored, since a guessed input may simply not suit the model.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { HostTensor, SignatureInfo } from '../engine/types.js';
import { ModelError, RequestError } from '../errors.js';
import { decodePlain, encodePlain } from '../proto/schema.js';
import { readTFRecordFile } from '../savedmodel/tfrecord.js';
import { tensorProtoToHost } from '../savedmodel/tensor.js';
import type { TensorProto } from '../savedmodel/types.js';

export const WARMUP_FILE = path.join('assets.extra', 'tf_serving_warmup_requests');
export const MAX_WARMUP_RECORDS = 1000;

export interface WarmupTarget {
  signatures: Record<string, SignatureInfo>;
  run(signature: string, inputs: Record<string, HostTensor>): Promise<unknown>;
}

export interface WarmupResult {
  source: 'file' | 'generated' | 'none';
  requests: number;
}

interface PlainModelSpec { signatureName?: string }
interface PlainInput { exampleList?: { examples?: unknown[] }; exampleListWithContext?: { examples?: unknown[]; context?: unknown } }
interface PlainLog {
  predictLog?: { request?: { modelSpec?: PlainModelSpec; inputs?: Record<string, TensorProto>; outputFilter?: string[] } };
  classifyLog?: { request?: { modelSpec?: PlainModelSpec; input?: PlainInput } };
  regressLog?: { request?: { modelSpec?: PlainModelSpec; input?: PlainInput } };
  multiInferenceLog?: unknown;
  predictStreamedLog?: unknown;
}

type Replay = { signature: string; make: () => Record<string, HostTensor> };

function exampleTensor(input: PlainInput | undefined, where: string): HostTensor {
  const list = input?.exampleList?.examples ?? input?.exampleListWithContext?.examples ?? [];
  if (list.length === 0) throw new ModelError(`${where}: the request holds no examples`);
  const ctx = input?.exampleListWithContext?.context as Record<string, unknown> | undefined;
  const ctxBytes = ctx ? encodePlain('tensorflow.Example', ctx) : undefined;
  const data = list.map((ex) => {
    const b = encodePlain('tensorflow.Example', ex as Record<string, unknown>);
    return ctxBytes ? new Uint8Array(Buffer.concat([ctxBytes, b])) : b;
  });
  return { dtype: 'DT_STRING', shape: [data.length], data };
}

function replayOf(log: PlainLog, signatures: Record<string, SignatureInfo>, where: string): Replay {
  const sigName = (spec?: PlainModelSpec): string => spec?.signatureName || 'serving_default';
  const onlyInput = (signature: string): string => {
    const sig = signatures[signature];
    if (!sig) throw new ModelError(`${where}: signature "${signature}" not found in the model`);
    const names = Object.keys(sig.inputs);
    if (names.length !== 1) throw new ModelError(`${where}: signature "${signature}" must have exactly one input to take tf.Examples`);
    return names[0]!;
  };
  if (log.predictLog) {
    const req = log.predictLog.request ?? {};
    const protos = req.inputs ?? {};
    const make = (): Record<string, HostTensor> => {
      const out: Record<string, HostTensor> = {};
      for (const [k, t] of Object.entries(protos)) out[k] = tensorProtoToHost(t, (m) => new ModelError(`${where}: input '${k}': ${m}`));
      return out;
    };
    make(); // validate once, so a bad record fails the load with its own message
    return { signature: sigName(req.modelSpec), make };
  }
  for (const kind of ['classifyLog', 'regressLog'] as const) {
    const l = log[kind];
    if (!l) continue;
    const signature = sigName(l.request?.modelSpec);
    const input = onlyInput(signature);
    exampleTensor(l.request?.input, where);
    return { signature, make: () => ({ [input]: exampleTensor(l.request?.input, where) }) };
  }
  throw new ModelError(`${where}: unsupported log type (tfsvc replays predict_log, classify_log and regress_log records)`);
}

/** Zero inputs at `batch` rows for a signature whose inputs all have known rank and known inner dims; else undefined. */
export function zeroInputs(sig: SignatureInfo, batch: number): Record<string, HostTensor> | undefined {
  const out: Record<string, HostTensor> = {};
  for (const [alias, spec] of Object.entries(sig.inputs)) {
    if (!spec.shape || spec.shape.length === 0 || spec.shape.slice(1).some((d) => d < 0)) return undefined;
    const shape = [batch, ...spec.shape.slice(1)];
    const n = shape.reduce((a, b) => a * b, 1);
    let data: HostTensor['data'];
    switch (spec.dtype) {
      case 'DT_FLOAT': case 'DT_HALF': case 'DT_BFLOAT16': data = new Float32Array(n); break;
      case 'DT_DOUBLE': data = new Float64Array(n); break;
      case 'DT_INT32': case 'DT_INT16': case 'DT_INT8': case 'DT_UINT8': case 'DT_UINT16': data = new Int32Array(n); break;
      case 'DT_UINT32': data = new Uint32Array(n); break;
      case 'DT_INT64': data = new BigInt64Array(n); break;
      case 'DT_UINT64': data = new BigUint64Array(n); break;
      case 'DT_BOOL': data = new Uint8Array(n); break;
      default: return undefined; // strings (tf.Example inputs) cannot be guessed
    }
    out[alias] = { dtype: spec.dtype, shape, data };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Runs warmup against `target` (see the file comment). `iterations` is --num_request_iterations_for_warmup. */
export async function warmUp(target: WarmupTarget, versionDir: string, options: { iterations?: number; batchSizes?: number[] } = {}): Promise<WarmupResult> {
  const iterations = Math.max(1, options.iterations ?? 1);
  const file = path.join(versionDir, WARMUP_FILE);
  if (existsSync(file)) {
    const records = readTFRecordFile(file);
    if (records.length > MAX_WARMUP_RECORDS) {
      throw new ModelError(`${file}: number of warmup records exceeds the maximum (${MAX_WARMUP_RECORDS})`, file);
    }
    let n = 0;
    for (const [i, rec] of records.entries()) {
      const where = `${file}: record ${i}`;
      let log: PlainLog;
      try {
        log = decodePlain<PlainLog>('tensorflow.serving.PredictionLog', rec, 'tensorflow_serving.proto');
      } catch (err) {
        throw new ModelError(`${where}: not a PredictionLog (${(err as Error).message})`, file);
      }
      const replay = replayOf(log, target.signatures, where);
      for (let it = 0; it < iterations; it++) {
        try {
          await target.run(replay.signature, replay.make());
        } catch (err) {
          const msg = err instanceof RequestError ? err.message : (err as Error).message;
          throw new ModelError(`${where}: warmup request failed: ${msg}`, file);
        }
        n++;
      }
    }
    return { source: 'file', requests: n };
  }
  const sizes = options.batchSizes && options.batchSizes.length > 0 ? options.batchSizes : [1];
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
