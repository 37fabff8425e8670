// Wires the serving stack together: worker pool → batch scheduler → loader → manager ← source, then the REST (and,
// when available, gRPC) front ends over the manager. `startServing` returns once the initial versions are loaded
// (like TF Serving, which opens its ports after the first load) and `close` drains in the reverse order.
import { existsSync, readFileSync } from 'node:fs';
import { WorkerPool } from '../engine/pool.js';
import type { LoadOptions } from '../engine/types.js';
import { ModelError, UsageError } from '../errors.js';
import { BatchScheduler } from './batcher.js';
import { defaultBatching, DEFAULT_METRICS_PATH, parseModelConfigList, type BatchingConfig, type ModelConfig, type MonitoringConfig } from './config.js';
import { PoolLoader } from './loader.js';
import { Manager } from './manager.js';
import { ServingMetrics } from './metrics.js';
import { startRestServer, type AccessLogEntry, type RestServer } from './rest/server.js';
import { FileSystemSource } from './source.js';
import { startGrpcServer } from './grpc/server.js';
import { DEFAULT_MAX_REQUEST_ELEMENTS } from '../wire/signature-check.js';
import type { ServableLookup, VersionState } from './types.js';
import path from 'node:path';

export interface ServeOptions {
  /** Models from the command line (one) or a model config file. */
  models: ModelConfig[];
  /** Re-read every `modelConfigPollSeconds` (0: read once) and apply added/removed models. */
  modelConfigFile?: string;
  modelConfigPollSeconds?: number;
  /** --file_system_poll_wait_seconds (default 1; 0 polls once at startup). */
  pollSeconds?: number;
  batching?: BatchingConfig;
  /** Default: Prometheus on at /monitoring/prometheus/metrics. */
  monitoring?: MonitoringConfig;
  restPort?: number;
  host?: string;
  /** gRPC port (TF Serving's --port); undefined: no gRPC server. */
  grpcPort?: number;
  timeoutMs?: number;
  maxBodyBytes?: number;
  /** --max_request_elements: most elements one request's inputs may hold (default 2^26; src/core/wire/signature-check.ts). */
  maxRequestElements?: number;
  cors?: boolean;
  accessLog?: (entry: AccessLogEntry) => void;
  warmup?: boolean;
  warmupIterations?: number;
  /** --allow_version_labels_for_unavailable_models: a new label may name a version that is not AVAILABLE yet. */
  allowVersionLabelsForUnavailableModels?: boolean;
  loadOptions?: LoadOptions;
  /** Module exporting loadModel (tests inject a fake engine). */
  loaderModule?: string;
  /** Lifecycle messages (version states, source errors). */
  log?: (event: ServingEvent) => void;
}

export type ServingEvent =
  | { kind: 'state'; model: string; version: number; state: VersionState; error?: string }
  | { kind: 'loaded'; model: string; version: number; loadMs: number; warmupMs: number; warmupRequests: number; warmupSource: string; backend: string }
  | { kind: 'source-error'; model: string; message: string }
  | { kind: 'config-error'; message: string }
  | { kind: 'listening'; protocol: 'REST' | 'gRPC'; host: string; port: number };

export interface Serving {
  readonly lookup: ServableLookup;
  readonly manager: Manager;
  readonly metrics: ServingMetrics;
  readonly rest: RestServer;
  readonly grpcPort?: number;
  readonly restPort: number;
  /** Re-polls the model directories now (tests; the timer does it every pollSeconds). */
  poll(): void;
  /** Resolves when no version is loading or unloading. */
  settled(): Promise<void>;
  /** Stops accepting, drains in-flight requests, unloads every version and stops the workers. */
  close(graceMs?: number): Promise<void>;
}

export async function startServing(options: ServeOptions): Promise<Serving> {
  const batching = options.batching ?? defaultBatching();
  const log = options.log ?? (() => undefined);
  const metrics = new ServingMetrics();
  const pool = new WorkerPool({ size: batching.numBatchThreads, loaderModule: options.loaderModule });
  const scheduler = new BatchScheduler(pool, batching, {
    batch: (q, info) => metrics.batch(q, info),
    rejected: (q) => metrics.queueRejected(q),
  });
  const loader = new PoolLoader(pool, scheduler, {
    loadOptions: options.loadOptions,
    warmup: options.warmup ?? true,
    warmupIterations: options.warmupIterations,
    warmupBatchSizes: batching.allowedBatchSizes,
    events: {
      loaded: (spec, info) => {
        metrics.versionLoaded(spec.name, spec.version, spec.path, info.loadMs, info.warmupMs, info.warmup.requests > 0);
        log({ kind: 'loaded', model: spec.name, version: spec.version, loadMs: info.loadMs, warmupMs: info.warmupMs, warmupRequests: info.warmup.requests, warmupSource: info.warmup.source, backend: info.backend });
      },
    },
  });
  const manager = new Manager(loader, {
    stateChanged: (model, version, state, error, versionPath) => {
      // model_path is the version directory, as for successful loads (metrics.versionLoaded).
      if (state === 'END' && error) metrics.versionFailed(versionPath);
      log({ kind: 'state', model, version, state, error });
    },
  }, { allowVersionLabelsForUnavailableModels: options.allowVersionLabelsForUnavailableModels });
  const source = new FileSystemSource(manager, options.models, { error: (model, message) => log({ kind: 'source-error', model, message }) });

  let configTimer: NodeJS.Timeout | undefined;
  let rest: RestServer | undefined;
  let grpc: { port: number; close(): Promise<void> } | undefined;
  const shutdown = async (graceMs?: number): Promise<void> => {
    if (configTimer) clearInterval(configTimer);
    source.stop();
    await Promise.all([rest?.close(graceMs), grpc?.close()]);
    await manager.close();
    scheduler.close();
    await pool.close();
  };

  try {
    source.start(options.pollSeconds ?? 1);
    await manager.settled();
    // Like TF Serving, start only when something can serve, or when a model is merely waiting for its first version
    // (an existing, empty base path: versions may be copied in later). Every model failing is a startup error.
    const problems: string[] = [];
    let servingOrWaiting = options.models.length === 0;
    for (const m of options.models) {
      let statuses: { version: number; state: string; errorMessage: string }[] = [];
      try {
        statuses = manager.status(m.name);
      } catch {
        // no versions at all
      }
      if (statuses.some((s) => s.state === 'AVAILABLE')) servingOrWaiting = true;
      else if (statuses.length > 0) problems.push(`${m.name}: ${statuses.map((s) => `version ${s.version}: ${s.errorMessage || s.state}`).join('; ')}`);
      else if (existsSync(m.basePath)) {
        servingOrWaiting = true;
        log({ kind: 'source-error', model: m.name, message: `no versions found under ${m.basePath} yet; waiting for one` });
      } else problems.push(`${m.name}: base path ${m.basePath} does not exist`);
    }
    if (!servingOrWaiting) throw new ModelError(`no model could be loaded: ${problems.join(' | ')}`);

    if (options.modelConfigFile && (options.modelConfigPollSeconds ?? 0) > 0) {
      const file = options.modelConfigFile;
      let last = readFileSync(file, 'utf8');
      configTimer = setInterval(() => {
        try {
          if (!existsSync(file)) return;
          const text = readFileSync(file, 'utf8');
          if (text === last) return;
          last = text;
          const models = parseModelConfigList(text, file, path.dirname(path.resolve(file)));
          source.setModels(models);
        } catch (err) {
          log({ kind: 'config-error', message: (err as Error).message });
        }
      }, options.modelConfigPollSeconds! * 1000);
      configTimer.unref();
    }

    const monitoring = options.monitoring ?? { prometheusEnabled: true, path: DEFAULT_METRICS_PATH };
    const limits = { maxElements: options.maxRequestElements ?? DEFAULT_MAX_REQUEST_ELEMENTS };
    const host = options.host ?? '0.0.0.0';
    rest = await startRestServer({
      lookup: manager,
      metrics: monitoring.prometheusEnabled ? metrics : undefined,
      metricsPath: monitoring.path,
      limits,
      port: options.restPort ?? 8501,
      host,
      timeoutMs: options.timeoutMs,
      maxBodyBytes: options.maxBodyBytes,
      cors: options.cors,
      accessLog: options.accessLog,
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') throw new UsageError(`REST port ${options.restPort} is already in use (choose another with --rest_api_port)`);
      throw err;
    });
    log({ kind: 'listening', protocol: 'REST', host, port: rest.port });

    if (options.grpcPort !== undefined) {
      grpc = await startGrpcServer(manager, { port: options.grpcPort, host, limits }).catch((err: Error) => {
        if (/EADDRINUSE|address already in use/i.test(err.message)) throw new UsageError(`gRPC port ${options.grpcPort} is already in use (choose another with --port)`);
        throw err;
      });
      log({ kind: 'listening', protocol: 'gRPC', host, port: grpc.port });
    }
  } catch (err) {
    await shutdown(0);
    throw err;
  }

  return {
    lookup: manager,
    manager,
    metrics,
    rest,
    restPort: rest.port,
    grpcPort: grpc?.port,
    poll: () => source.pollOnce(),
    settled: () => manager.settled(),
    close: shutdown,
  };
}
