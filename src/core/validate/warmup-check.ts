// The warmup check: TF Serving replays assets.extra/tf_serving_warmup_requests before a version goes AVAILABLE and
// fails the whole load when a record is corrupt, unparsable, over the 1000-record limit, or a request errors. validate
// does the same with the engine so a bad warmup file is caught before it ships, not when a server refuses the model.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { EngineModel } from '../engine/model.js';
import type { HostTensor } from '../engine/types.js';
import { ModelError } from '../errors.js';
import { decodePlain } from '../proto/schema.js';
import { tensorProtoToHost } from '../savedmodel/tensor.js';
import { readTFRecordFile } from '../savedmodel/tfrecord.js';
import type { TensorProto } from '../savedmodel/types.js';
import type { CheckResult } from './report.js';

export const WARMUP_RELATIVE = path.join('assets.extra', 'tf_serving_warmup_requests');
const MAX_RECORDS = 1000;

interface PredictionLogPlain {
  predictLog?: { request?: { modelSpec?: { signatureName?: string }; inputs?: Record<string, TensorProto>; outputFilter?: string[] } };
}

/** undefined when the version has no warmup file. */
export async function warmupCheck(dir: string, model: EngineModel): Promise<CheckResult | undefined> {
  const file = path.join(dir, WARMUP_RELATIVE);
  if (!existsSync(file)) return undefined;
  const check = 'warmup';
  const t0 = performance.now();
  try {
    const records = readTFRecordFile(file);
    if (records.length > MAX_RECORDS) return { check, status: 'fail', detail: `${records.length} records; TF Serving accepts at most ${MAX_RECORDS} and refuses the model` };
    let replayed = 0;
    let other = 0;
    for (const [i, rec] of records.entries()) {
      let log: PredictionLogPlain;
      try {
        log = decodePlain<PredictionLogPlain>('tensorflow.serving.PredictionLog', rec, 'tensorflow_serving.proto');
      } catch (err) {
        return { check, status: 'fail', detail: `record ${i} is not a PredictionLog: ${(err as Error).message}` };
      }
      const req = log.predictLog?.request;
      if (!req) {
        other++; // classify/regress/multi-inference records: replayed by serve, not checked here
        continue;
      }
      const key = req.modelSpec?.signatureName || 'serving_default';
      const inputs: Record<string, HostTensor> = {};
      for (const [alias, t] of Object.entries(req.inputs ?? {})) inputs[alias] = tensorProtoToHost(t, (m) => new ModelError(`record ${i}, input ${alias}: ${m}`));
      try {
        await model.run(key, inputs, req.outputFilter?.length ? req.outputFilter : undefined);
      } catch (err) {
        return { check, status: 'fail', detail: `record ${i} (signature ${key}) fails: ${(err as Error).message}; TF Serving would refuse to load this version` };
      }
      replayed++;
    }
    const note = other ? `; ${other} classify/regress record${other === 1 ? '' : 's'} not replayed here` : '';
    return { check, status: 'pass', detail: `${records.length} record${records.length === 1 ? '' : 's'}, CRCs ok, ${replayed} predict request${replayed === 1 ? '' : 's'} replayed${note}`, ms: Math.round((performance.now() - t0) * 10) / 10 };
  } catch (err) {
    return { check, status: 'fail', detail: (err as Error).message };
  }
}
