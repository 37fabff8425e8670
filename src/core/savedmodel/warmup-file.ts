// TF Serving warmup files: a SavedModel version's assets.extra/tf_serving_warmup_requests, a TFRecord file (framing in
// tfrecord.ts) of tensorflow.serving.PredictionLog protos (proto/tensorflow_serving.proto), which TF Serving replays
// before the version goes AVAILABLE (servables/tensorflow/saved_model_warmup_util.cc). One reader and one writer for
// every user: serve replays it, validate checks it, bench --data sends it, warmup --write and export --warmup write it.
//
// Records read as typed requests: predict (inputs as HostTensors) or classify/regress (serialized tf.Examples, with an
// ExampleListWithContext's context features merged into each example).
// Other logs (multi_inference_log, session_run_log, ...) read as kind 'other'; what to do with them is the caller's call.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { HostTensor } from './host-tensor.js';
import { ModelError } from '../errors.js';
import { decodePlain, encodePlain } from '../proto/schema.js';
import { hostToTensorProto, tensorProtoToHost, type TensorErrorFactory } from './tensor.js';
import { readTFRecordFile, writeTFRecordFile } from './tfrecord.js';
import type { TensorProto } from './types.js';

/** The warmup file's path inside a version directory. */
export const WARMUP_FILE = path.join('assets.extra', 'tf_serving_warmup_requests');
/** TF Serving refuses to load a version whose warmup file holds more records than this. */
export const MAX_WARMUP_RECORDS = 1000;

const PROTO_FILE = 'tensorflow_serving.proto';

interface RequestCommon {
  /** model_spec.name; undefined when empty. */
  model?: string;
  /** model_spec.signature_name; undefined when empty (the server's serving_default). */
  signature?: string;
}

/** A request a warmup file holds (and what writeWarmupFile takes). */
export type WarmupRequest =
  | (RequestCommon & { kind: 'predict'; inputs: Record<string, HostTensor>; outputFilter?: string[] })
  | (RequestCommon & { kind: 'classify' | 'regress'; examples: Uint8Array[] });

/** A decoded record: a request, or a log of another kind (`log` is its field name, e.g. multi_inference_log). */
export type WarmupRecord = WarmupRequest | { kind: 'other'; log: string };

interface PlainModelSpec {
  name?: string;
  signatureName?: string;
}
interface PlainExampleInput {
  exampleList?: { examples?: Record<string, unknown>[] };
  exampleListWithContext?: { examples?: Record<string, unknown>[]; context?: Record<string, unknown> };
}
interface PlainLog {
  predictLog?: { request?: { modelSpec?: PlainModelSpec; inputs?: Record<string, TensorProto>; outputFilter?: string[] } };
  classifyLog?: { request?: { modelSpec?: PlainModelSpec; input?: PlainExampleInput } };
  regressLog?: { request?: { modelSpec?: PlainModelSpec; input?: PlainExampleInput } };
  [other: string]: unknown;
}

const defaultFail: TensorErrorFactory = (message) => new ModelError(message);

function common(spec: PlainModelSpec | undefined): RequestCommon {
  return { model: spec?.name || undefined, signature: spec?.signatureName || undefined };
}

type PlainExample = { features?: { feature?: Record<string, unknown> } };

/**
 * The request's examples, serialized. A context's features are merged into each example, the example winning on a
 * name clash, as TF Serving does (and as wire/example-json.ts does for :classify/:regress): concatenating the
 * serialized context and example would not do, since protobufjs (the engine's ParseExample) keeps only the last
 * `features` of a message instead of merging them.
 */
function exampleBytes(input: PlainExampleInput | undefined): Uint8Array[] {
  const withContext = input?.exampleListWithContext;
  if (input?.exampleList || !withContext) return (input?.exampleList?.examples ?? []).map((ex) => encodePlain('tensorflow.Example', ex));
  const context = (withContext.context as PlainExample | undefined)?.features?.feature ?? {};
  return (withContext.examples ?? []).map((ex) =>
    encodePlain('tensorflow.Example', { features: { feature: { ...context, ...((ex as PlainExample).features?.feature ?? {}) } } }),
  );
}

/**
 * Decodes record `index` of a warmup file. Throws `fail(message)` (default ModelError) when it is not a PredictionLog
 * or a predict input is not a valid tensor or declares more than `maxElements` elements (refused before allocating);
 * messages start with "record N".
 */
export function decodeWarmupRecord(bytes: Uint8Array, index: number, fail: TensorErrorFactory = defaultFail, maxElements = Infinity): WarmupRecord {
  let log: PlainLog;
  try {
    log = decodePlain<PlainLog>('tensorflow.serving.PredictionLog', bytes, PROTO_FILE);
  } catch (err) {
    throw fail(`record ${index} is not a PredictionLog: ${(err as Error).message}`);
  }
  if (log.predictLog) {
    const req = log.predictLog.request ?? {};
    const inputs: Record<string, HostTensor> = {};
    for (const [name, t] of Object.entries(req.inputs ?? {})) inputs[name] = tensorProtoToHost(t, (m) => fail(`record ${index}, input ${name}: ${m}`), maxElements);
    return { kind: 'predict', ...common(req.modelSpec), inputs, ...(req.outputFilter?.length ? { outputFilter: req.outputFilter } : {}) };
  }
  for (const kind of ['classify', 'regress'] as const) {
    const l = log[`${kind}Log` as const];
    if (l) return { kind, ...common(l.request?.modelSpec), examples: exampleBytes(l.request?.input) };
  }
  const field = Object.keys(log).find((k) => log[k] !== undefined && log[k] !== null && k !== 'logMetadata');
  return { kind: 'other', log: field ? field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) : 'empty log' };
}

/**
 * The raw records of warmup file `file` (TFRecord framing and CRCs checked: ModelError naming the record otherwise).
 * More than `limit` records (default TF Serving's maximum) throws `fail(message)`; pass Infinity to read any number.
 */
export function readWarmupRecords(file: string, fail: TensorErrorFactory = defaultFail, limit = MAX_WARMUP_RECORDS): Uint8Array[] {
  const records = readTFRecordFile(file);
  if (records.length > limit) throw fail(`${records.length} records; TF Serving accepts at most ${limit} and refuses to load the model`);
  return records;
}

/** Every record of `file`, decoded (see readWarmupRecords and decodeWarmupRecord for the errors). */
export function readWarmupFile(file: string, fail: TensorErrorFactory = defaultFail, limit = MAX_WARMUP_RECORDS): WarmupRecord[] {
  return readWarmupRecords(file, fail, limit).map((rec, i) => decodeWarmupRecord(rec, i, fail));
}

/** Writes `requests` as DIR/assets.extra/tf_serving_warmup_requests (creating assets.extra); returns the file's path. */
export function writeWarmupFile(dir: string, requests: WarmupRequest[]): string {
  const file = path.join(dir, WARMUP_FILE);
  mkdirSync(path.dirname(file), { recursive: true });
  const records = requests.map((r) => {
    const modelSpec = { name: r.model, signatureName: r.signature };
    const log =
      r.kind === 'predict'
        ? { predictLog: { request: { modelSpec, inputs: Object.fromEntries(Object.entries(r.inputs).map(([k, t]) => [k, hostToTensorProto(t)])), outputFilter: r.outputFilter } } }
        : { [`${r.kind}Log`]: { request: { modelSpec, input: { exampleList: { examples: r.examples.map((b) => decodePlain('tensorflow.Example', b)) } } } } };
    return encodePlain('tensorflow.serving.PredictionLog', log, PROTO_FILE);
  });
  writeTFRecordFile(file, records);
  return file;
}
