// TF Serving's configuration files, in its own text-proto formats, read into tfsvc's plain config objects:
//  --model_config_file         ModelServerConfig { model_config_list { config { name base_path model_version_policy version_labels } } }
//  --batching_parameters_file  BatchingParameters { max_batch_size { value: 128 } ... }
//  --monitoring_config_file    MonitoringConfig { prometheus_config { enable path } }
// The message definitions below follow tensorflow_serving/config/*.proto and servables/tensorflow/
// session_bundle_config.proto (names and field numbers); only the fields tfsvc reads are declared, so a config using
// another TF Serving field fails with "unknown field" naming it rather than being silently half-applied.
// ModelServerConfig is proto/tensorflow_serving.proto's (the gRPC ReloadConfigRequest carries it too).
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import protobuf from 'protobufjs';
import { UsageError } from '../errors.js';
import { isS3Url } from '../storage/s3-url.js';
import { parseTextProto, TextFormatError } from '../proto/text-format.js';
import { protoRoot } from '../proto/schema.js';

const WRAPPERS = `
syntax = "proto3";
package google.protobuf;
message Int64Value { int64 value = 1; }
message Int32Value { int32 value = 1; }
message BoolValue { bool value = 1; }
message StringValue { string value = 1; }
`;

const SERVING_CONFIG = `
syntax = "proto3";
package tensorflow.serving;

message BatchingParameters {
  google.protobuf.Int64Value max_batch_size = 1;
  google.protobuf.Int64Value batch_timeout_micros = 2;
  google.protobuf.Int64Value max_enqueued_batches = 3;
  google.protobuf.Int64Value num_batch_threads = 4;
  google.protobuf.StringValue thread_pool_name = 5;
  repeated int64 allowed_batch_sizes = 6;
  bool pad_variable_length_inputs = 7;
  google.protobuf.BoolValue enable_large_batch_splitting = 8;
  google.protobuf.Int64Value max_execution_batch_size = 9;
}

message PrometheusConfig { bool enable = 1; string path = 2; }
message MonitoringConfig { PrometheusConfig prometheus_config = 1; }
`;

/** ModelServerConfig and its parts come from proto/tensorflow_serving.proto (shared with ReloadConfigRequest). */
const SERVING_PROTO_TYPES = new Set(['ModelServerConfig', 'ModelConfigList', 'ModelConfig']);

let root: protobuf.Root | undefined;
function configType(name: string): protobuf.Type {
  if (SERVING_PROTO_TYPES.has(name)) return protoRoot('tensorflow_serving.proto').lookupType(`tensorflow.serving.${name}`);
  if (!root) {
    root = new protobuf.Root();
    protobuf.parse(WRAPPERS, root);
    protobuf.parse(SERVING_CONFIG, root);
    root.resolveAll();
  }
  return root.lookupType(`tensorflow.serving.${name}`);
}

/** Which versions of a model should be served (TF Serving's ServableVersionPolicy; default latest 1). */
export type VersionPolicy = { kind: 'latest'; numVersions: number } | { kind: 'all' } | { kind: 'specific'; versions: number[] };

export interface ModelConfig {
  name: string;
  /** Absolute path of the directory holding numeric version subdirectories. */
  basePath: string;
  policy: VersionPolicy;
  /** Version label → version number. */
  labels: Record<string, number>;
}

export interface BatchingConfig {
  /** false (--enable_batching=false): every request runs alone, as TF Serving does without batching. */
  enabled: boolean;
  maxBatchSize: number;
  batchTimeoutMicros: number;
  maxEnqueuedBatches: number;
  numBatchThreads: number;
  allowedBatchSizes: number[];
  /** Split a request larger than maxBatchSize into several batches (otherwise it is rejected). */
  enableLargeBatchSplitting: boolean;
  /** Join requests whose inputs differ in dims other than 0, padding each to the batch's largest (pad-inputs.ts). */
  padVariableLengthInputs?: boolean;
  /**
   * Fields a batching parameters file (or a flag) set. The others are defaults, which a backend may replace with its
   * own (a GPU wants larger, padded batches: serving/gpu-plan.ts). Absent: every field is a default.
   */
  explicit?: (keyof BatchingConfig)[];
}

export interface MonitoringConfig {
  prometheusEnabled: boolean;
  path: string;
}

export const DEFAULT_METRICS_PATH = '/monitoring/prometheus/metrics';

/**
 * Batching without a parameters file: adaptive, no added wait. A worker that frees up takes whatever is queued (up to
 * maxBatchSize rows), so batches grow with load and a lone request runs at once.
 */
export function defaultBatching(): BatchingConfig {
  return {
    enabled: true,
    maxBatchSize: 256,
    batchTimeoutMicros: 0,
    maxEnqueuedBatches: 64,
    numBatchThreads: Math.max(1, os.availableParallelism()),
    allowedBatchSizes: [],
    enableLargeBatchSplitting: true,
  };
}

function readConfigFile(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function parseAs<T>(text: string, typeName: string, file: string): T {
  try {
    return parseTextProto<T>(text, configType(typeName));
  } catch (err) {
    if (err instanceof TextFormatError) throw new UsageError(`${file}:${err.message} (expected a TF Serving ${typeName} in text format)`);
    throw err;
  }
}

/** `${VAR}` in a config path is replaced by the environment variable when it is set (TF Serving's tests use this). */
function expandEnv(s: string): string {
  return s.replace(/\$\{(\w+)\}/g, (m, v: string) => process.env[v] ?? m);
}

export interface PlainPolicy { latest?: { numVersions?: number }; all?: object; specific?: { versions?: number[] } }
export interface PlainModelConfig { name?: string; basePath?: string; modelPlatform?: string; modelVersionPolicy?: PlainPolicy; versionLabels?: Record<string, number> }

/**
 * Parses a ModelServerConfig text proto. Relative base paths resolve against `baseDir` (the config file's folder);
 * `null` (a config file in object storage, which has no folder on this machine) refuses them.
 */
export function parseModelConfigList(text: string, file = '<model config>', baseDir: string | null = process.cwd()): ModelConfig[] {
  const plain = parseAs<{ modelConfigList?: { config?: PlainModelConfig[] } }>(text, 'ModelServerConfig', file);
  return modelConfigsOf(plain.modelConfigList?.config ?? [], file, baseDir);
}

/**
 * ModelConfig messages (decoded to camelCase plain objects, from a config file or a ReloadConfigRequest) as tfsvc's
 * model configs; UsageError naming `file` and the model when one is wrong.
 */
export function modelConfigsOf(list: PlainModelConfig[], file: string, baseDir: string | null = process.cwd()): ModelConfig[] {
  const seen = new Set<string>();
  return list.map((c, i) => {
    if (!c.name) throw new UsageError(`${file}: config #${i + 1} has no name`);
    if (!c.basePath) throw new UsageError(`${file}: model '${c.name}' has no base_path`);
    if (seen.has(c.name)) throw new UsageError(`${file}: model '${c.name}' is configured twice`);
    seen.add(c.name);
    if (c.modelPlatform && c.modelPlatform !== 'tensorflow') {
      throw new UsageError(`${file}: model '${c.name}' has model_platform "${c.modelPlatform}"; tfsvc serves only "tensorflow"`);
    }
    const basePath = expandEnv(c.basePath);
    if (baseDir === null && !isS3Url(basePath) && !path.isAbsolute(basePath)) {
      throw new UsageError(`${file}: model '${c.name}' has the relative base_path "${basePath}"; a config file in object storage needs s3:// or absolute base paths`);
    }
    return {
      name: c.name,
      basePath: isS3Url(basePath) ? basePath : path.resolve(baseDir ?? '/', basePath),
      policy: policyOf(c.modelVersionPolicy, `${file}: model '${c.name}'`),
      labels: { ...(c.versionLabels ?? {}) },
    };
  });
}

function policyOf(p: PlainPolicy | undefined, where: string): VersionPolicy {
  if (p?.all) return { kind: 'all' };
  if (p?.specific) {
    const versions = p.specific.versions ?? [];
    if (versions.length === 0) throw new UsageError(`${where}: model_version_policy specific lists no versions`);
    return { kind: 'specific', versions };
  }
  const n = p?.latest?.numVersions ?? 1;
  return { kind: 'latest', numVersions: n > 0 ? n : 1 };
}

export function readModelConfigFile(file: string): ModelConfig[] {
  return parseModelConfigList(readConfigFile(file, 'model config file'), file, path.dirname(path.resolve(file)));
}

interface PlainBatching {
  maxBatchSize?: { value?: number };
  batchTimeoutMicros?: { value?: number };
  maxEnqueuedBatches?: { value?: number };
  numBatchThreads?: { value?: number };
  allowedBatchSizes?: number[];
  enableLargeBatchSplitting?: { value?: boolean };
  padVariableLengthInputs?: boolean;
}

/** Parses BatchingParameters; unset fields take tfsvc's defaults. Validates TF Serving's rules for allowed_batch_sizes. */
export function parseBatchingParameters(text: string, file = '<batching parameters>'): BatchingConfig {
  const p = parseAs<PlainBatching>(text, 'BatchingParameters', file);
  const d = defaultBatching();
  const cfg: BatchingConfig = {
    enabled: true,
    maxBatchSize: p.maxBatchSize ? p.maxBatchSize.value ?? 0 : d.maxBatchSize,
    batchTimeoutMicros: p.batchTimeoutMicros?.value ?? d.batchTimeoutMicros,
    maxEnqueuedBatches: p.maxEnqueuedBatches ? p.maxEnqueuedBatches.value ?? 0 : d.maxEnqueuedBatches,
    numBatchThreads: p.numBatchThreads ? p.numBatchThreads.value ?? 0 : d.numBatchThreads,
    allowedBatchSizes: p.allowedBatchSizes ?? [],
    enableLargeBatchSplitting: p.enableLargeBatchSplitting?.value ?? d.enableLargeBatchSplitting,
    padVariableLengthInputs: p.padVariableLengthInputs ?? false,
  };
  const set: [keyof BatchingConfig, unknown][] = [
    ['maxBatchSize', p.maxBatchSize], ['batchTimeoutMicros', p.batchTimeoutMicros], ['maxEnqueuedBatches', p.maxEnqueuedBatches],
    ['numBatchThreads', p.numBatchThreads], ['allowedBatchSizes', p.allowedBatchSizes?.length ? p.allowedBatchSizes : undefined],
    ['enableLargeBatchSplitting', p.enableLargeBatchSplitting],
    // A proto3 bool: `false` written in the file reads like an unset field, so the text says whether it was set.
    ['padVariableLengthInputs', /\bpad_variable_length_inputs\s*:/.test(text) ? true : undefined],
  ];
  cfg.explicit = set.filter(([, v]) => v !== undefined).map(([k]) => k);
  if (cfg.maxBatchSize < 1) throw new UsageError(`${file}: max_batch_size must be >= 1`);
  if (cfg.maxEnqueuedBatches < 1) throw new UsageError(`${file}: max_enqueued_batches must be >= 1`);
  if (cfg.numBatchThreads < 1) throw new UsageError(`${file}: num_batch_threads must be >= 1`);
  if (cfg.batchTimeoutMicros < 0) throw new UsageError(`${file}: batch_timeout_micros must be >= 0`);
  const a = cfg.allowedBatchSizes;
  if (a.length > 0) {
    for (let i = 1; i < a.length; i++) {
      if (a[i]! <= a[i - 1]!) throw new UsageError(`${file}: allowed_batch_sizes entries must be in increasing order`);
    }
    if (a[a.length - 1] !== cfg.maxBatchSize) {
      throw new UsageError(`${file}: the last entry in allowed_batch_sizes must equal max_batch_size (${a[a.length - 1]} vs ${cfg.maxBatchSize})`);
    }
  }
  return cfg;
}

export function readBatchingParametersFile(file: string): BatchingConfig {
  return parseBatchingParameters(readConfigFile(file, 'batching parameters file'), file);
}

export function parseMonitoringConfig(text: string, file = '<monitoring config>'): MonitoringConfig {
  const p = parseAs<{ prometheusConfig?: { enable?: boolean; path?: string } }>(text, 'MonitoringConfig', file);
  const pathValue = p.prometheusConfig?.path || DEFAULT_METRICS_PATH;
  if (!pathValue.startsWith('/')) throw new UsageError(`${file}: prometheus_config path must start with '/'`);
  return { prometheusEnabled: p.prometheusConfig?.enable ?? false, path: pathValue };
}

export function readMonitoringConfigFile(file: string): MonitoringConfig {
  return parseMonitoringConfig(readConfigFile(file, 'monitoring config file'), file);
}
