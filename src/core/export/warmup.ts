// `--warmup N`: writes assets.extra/tf_serving_warmup_requests, the TFRecord file of PredictionLog protos that TF
// Serving (and `tfsvc serve`) replays before a version goes AVAILABLE. Requests are generated from the signatures:
// batch 1, dtype/shape aware, seeded (record i uses seed i+1), round-robin over the predict signatures that run.
import { generateInputs } from '../engine/generate-inputs.js';
import { loadModel, type EngineModel } from '../engine/model.js';
import type { BackendName } from '../engine/types.js';
import { ModelError } from '../errors.js';
import { seededRandom } from '../prng.js';
import { exampleInputs } from '../savedmodel/example-features.js';
import { readSavedModel, selectMetaGraph } from '../savedmodel/reader.js';
import type { MetaGraphDef } from '../savedmodel/types.js';
import { MAX_WARMUP_RECORDS, writeWarmupFile, type WarmupRequest } from '../savedmodel/warmup-file.js';

export interface WarmupWriteResult {
  file: string;
  records: number;
  signatures: string[];
}

export interface WarmupWriteOptions {
  backend?: BackendName;
  signature?: string;
  /** The model of `dir`, already loaded (and its meta graph): used as is and not disposed, so it is not loaded twice. */
  model?: EngineModel;
  meta?: MetaGraphDef;
}

/**
 * Generates `count` predict requests for the SavedModel in `dir` and writes them as its warmup file. Each request is
 * run once here first, so a warmup file never holds a request the model rejects (TF Serving fails the load then).
 */
export async function writeGeneratedWarmup(dir: string, modelName: string, count: number, opts: WarmupWriteOptions = {}): Promise<WarmupWriteResult> {
  if (!Number.isInteger(count) || count < 1 || count > MAX_WARMUP_RECORDS) {
    throw new ModelError(`--warmup takes 1 to ${MAX_WARMUP_RECORDS} records (TF Serving's limit), got ${count}`);
  }
  const meta = opts.meta ?? selectMetaGraph((await readSavedModel(dir)).savedModel);
  const model = opts.model ?? (await loadModel(dir, { backend: opts.backend, signatures: opts.signature ? [opts.signature] : undefined }));
  try {
    const keys = Object.entries(model.signatures)
      .filter(([, s]) => s.methodName === 'tensorflow/serving/predict')
      .map(([k]) => k)
      .sort((a, b) => (a === 'serving_default' ? -1 : b === 'serving_default' ? 1 : a.localeCompare(b)));
    if (!keys.length) throw new ModelError(`${dir}: no predict signature to generate warmup requests for (warmup files here hold PredictLogs)`);
    const examples = exampleInputs(meta);
    const requests: WarmupRequest[] = [];
    for (let i = 0; i < count; i++) {
      const key = keys[i % keys.length]!;
      const sig = model.signatures[key]!;
      const { inputs } = generateInputs(sig.inputs, { batch: 1, values: seededRandom(i + 1), examples: { method: sig.methodName, ...examples } });
      if (i < keys.length) {
        try {
          await model.run(key, inputs);
        } catch (err) {
          throw new ModelError(`warmup request for signature ${key} fails on this model: ${(err as Error).message}`, dir, { cause: err });
        }
      }
      requests.push({ kind: 'predict', model: modelName, signature: key, inputs });
    }
    const file = writeWarmupFile(dir, requests);
    return { file, records: requests.length, signatures: keys };
  } finally {
    if (!opts.model) model.dispose();
  }
}
