// TF Serving warmup files (SavedModel assets.extra/tf_serving_warmup_requests): a TFRecord file of PredictionLog
// protos. `tfsvc warmup --write` writes one (predict logs, and classify/regress logs for tf.Example requests); `tfsvc bench --data FILE` replays its predict requests as REST bodies.
// TFRecord framing is src/core/savedmodel/tfrecord.ts; the protos are proto/tensorflow_serving.proto.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { HostTensor } from '../engine/types.js';
import { UsageError } from '../errors.js';
import { decodePlain, encodePlain } from '../proto/schema.js';
import { readTFRecordFile, writeTFRecordFile } from '../savedmodel/tfrecord.js';
import { hostToTensorProto, tensorProtoToHost } from '../savedmodel/tensor.js';
import type { TensorProto } from '../savedmodel/types.js';
import { restPredictBody } from './restbody.js';

const PROTO_FILE = 'tensorflow_serving.proto';
export const WARMUP_FILE = path.join('assets.extra', 'tf_serving_warmup_requests');

/** A predict request (tensors), or a classify/regress one (tf.Examples as plain tensorflow.Example objects). */
export type WarmupRequest =
  | { model: string; signature: string; inputs: Record<string, HostTensor> }
  | { model: string; signature: string; verb: 'classify' | 'regress'; examples: Record<string, unknown>[] };

/** Writes `requests` as DIR/assets.extra/tf_serving_warmup_requests; returns the file's path. */
export function writeWarmupFile(dir: string, requests: WarmupRequest[]): string {
  const file = path.join(dir, WARMUP_FILE);
  mkdirSync(path.dirname(file), { recursive: true });
  const records = requests.map((r) => {
    const modelSpec = { name: r.model, signatureName: r.signature };
    const log =
      'inputs' in r
        ? { predictLog: { request: { modelSpec, inputs: Object.fromEntries(Object.entries(r.inputs).map(([k, t]) => [k, hostToTensorProto(t)])) } } }
        : { [r.verb === 'classify' ? 'classifyLog' : 'regressLog']: { request: { modelSpec, input: { exampleList: { examples: r.examples } } } } };
    return encodePlain('tensorflow.serving.PredictionLog', log, PROTO_FILE);
  });
  writeTFRecordFile(file, records);
  return file;
}

interface PredictionLogPlain {
  predictLog?: { request?: { modelSpec?: { signatureName?: string }; inputs?: Record<string, TensorProto> } };
  classifyLog?: unknown;
  regressLog?: unknown;
  multiInferenceLog?: unknown;
}

/**
 * Reads a warmup file's predict requests as REST predict bodies (JSON objects). Classify, regress and
 * multi-inference records are counted in `skipped` (they go to other endpoints). UsageError when nothing is usable.
 */
export function readWarmupFile(file: string): { bodies: Array<Record<string, unknown>>; skipped: number } {
  const records = readTFRecordFile(file);
  const bodies: Array<Record<string, unknown>> = [];
  let skipped = 0;
  records.forEach((rec, i) => {
    let log: PredictionLogPlain;
    try {
      log = decodePlain<PredictionLogPlain>('tensorflow.serving.PredictionLog', rec, PROTO_FILE);
    } catch (err) {
      throw new UsageError(`${file}: record ${i} is not a PredictionLog: ${(err as Error).message}`);
    }
    const req = log.predictLog?.request;
    if (!req) {
      skipped++;
      return;
    }
    const inputs: Record<string, HostTensor> = {};
    for (const [name, t] of Object.entries(req.inputs ?? {})) {
      inputs[name] = tensorProtoToHost(t, (m) => new UsageError(`${file}: record ${i}, input ${name}: ${m}`));
    }
    bodies.push(restPredictBody(req.modelSpec?.signatureName || undefined, inputs));
  });
  if (bodies.length === 0) throw new UsageError(`${file}: no predict requests in ${records.length} records`);
  return { bodies, skipped };
}
