// ModelService/HandleReloadConfigRequest: replaces the served models at runtime, after TF Serving's
// model_service_impl.cc and ServerCore::ReloadConfig. Only a ModelConfigList is taken; names must be unique and base
// paths absolute (TF Serving's texts); models added are loaded and the call answers OK once each has an AVAILABLE
// version ("N model(s) did not become available: {...}" otherwise); models left out are unloaded after their in-flight
// requests (then NOT_FOUND, status END); models kept keep serving throughout. The reply carries the StatusProto and,
// for each requested metric_names entry, the metric's increase over the reload (0 for metrics tfsvc does not keep).
import { RequestError, UsageError } from '../../errors.js';
import { modelConfigsOf, type ModelConfig, type PlainModelConfig } from '../config.js';

type Plain = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Applies a new model list and resolves once it is served; rejects with RequestError when it cannot be. */
export type ConfigReloader = (models: ModelConfig[]) => Promise<void>;

const invalid = (message: string) => new RequestError('INVALID_ARGUMENT', message);

/** ServerCore's ValidateModelConfigList (no model_config_list_root_dir: every base path absolute), then tfsvc's own checks. */
export function modelsOfReloadRequest(request: Plain): ModelConfig[] {
  const list = request.config?.modelConfigList as { config?: PlainModelConfig[] } | undefined;
  if (!list) {
    throw invalid('ServerModelConfig type not supported by HandleReloadConfigRequest. Only ModelConfigList is currently supported');
  }
  const configs = list.config ?? [];
  const names = new Set<string>();
  for (const c of configs) {
    const name = c.name ?? '';
    if (names.has(name)) throw invalid(`Illegal to list model ${name} multiple times in config list`);
    names.add(name);
  }
  for (const c of configs) {
    const base = c.basePath ?? '';
    // A URI (s3://, gs://) counts as absolute, as in TF Serving's UriIsRelativePath.
    if (!base.startsWith('/') && !/^[a-z][a-z0-9+.-]*:\/\//i.test(base)) {
      throw invalid(`Expected model ${c.name ?? ''} to have an absolute path or URI; got base_path()=${base}`);
    }
  }
  try {
    return modelConfigsOf(configs, 'ReloadConfigRequest');
  } catch (err) {
    if (err instanceof UsageError) throw invalid(err.message);
    throw err;
  }
}

/** TF's StatusProto for a result (error_code OK is the default, left off the wire). */
function statusProto(err: unknown): Plain {
  if (err === undefined) return {};
  const code = err instanceof RequestError ? err.code : 'UNKNOWN';
  return { errorCode: code, errorMessage: err instanceof Error ? err.message : String(err) };
}

/**
 * Handles one request. Resolves with the response on success; on failure throws the error (the gRPC status) — TF
 * Serving also fills the response's status, but a failed gRPC call carries no message, so clients see the status only.
 */
export async function handleReloadConfig(request: Plain, reload: ConfigReloader): Promise<Plain> {
  const models = modelsOfReloadRequest(request);
  const metricNames: string[] = request.metricNames ?? [];
  await reload(models);
  return {
    status: statusProto(undefined),
    // tfsvc keeps no TF monitoring counters under these names; TF Serving reports 0 for a metric it cannot find too.
    metric: metricNames.map((name) => ({ name, int64ValueIncrease: 0 })),
  };
}
