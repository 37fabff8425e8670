// Wires the serving stack together: worker pool → batch scheduler → loader → manager ← source, then the REST (and,
// when available, gRPC) front ends over the manager. `startServing` returns once the initial versions are loaded
// (like TF Serving, which opens its ports after the first load) and `close` drains in the reverse order.
import { existsSync } from 'node:fs';
import { trimHeapWhenIdle } from '../engine/idle-heap.js';
import { WorkerPool } from '../engine/pool.js';
import type { LoadOptions } from '../engine/types.js';
import { ModelError, RequestError, UsageError } from '../errors.js';
import { Admission } from './admission.js';
import { BatchScheduler } from './batcher.js';
import { defaultBatching, DEFAULT_METRICS_PATH, type BatchingConfig, type ModelConfig, type MonitoringConfig } from './config.js';
import { BackendMetrics } from './gpu-metrics.js';
import { planEngines } from './gpu-plan.js';
import { PoolLoader } from './loader.js';
import { Manager } from './manager.js';
import { ServingMetrics } from './metrics.js';
import { DEFAULT_MAX_BODY_BYTES, startRestServer, type AccessLogEntry, type RestServer } from './rest/server.js';
import { FileSystemSource } from './source.js';
import { withStorageErrors } from './storage-status.js';
import { isS3Url } from '../storage/s3-url.js';
import { startGrpcServer, type GrpcImpl } from './grpc/server.js';
import { DEFAULT_MAX_CONNECTIONS } from './rest/connections.js';
import { DEFAULT_MAX_REQUEST_ELEMENTS } from '../wire/signature-check.js';
import type { ServableLookup, VersionState } from './types.js';
import path from 'node:path';
import { Health } from './health.js';
import { pollModelConfig, type ConfigPoll } from './config-poll.js';
import { openEnvelope, type Envelope, type EnvelopeOptions } from './envelope.js';

export interface ServeOptions {
  /** Models from the command line (one) or a model config file. */
  models: ModelConfig[];
  /** Re-read every `modelConfigPollSeconds` (0: read once) and apply added/removed models. */
  modelConfigFile?: string;
  modelConfigPollSeconds?: number;
  /** --file_system_poll_wait_seconds (default 1; 0 polls once at startup). */
  pollSeconds?: number;
  batching?: BatchingConfig;
  /** Steps nicer than the HTTP thread the inference and decode threads run (engine/thread-priority.ts; default 5, 0: none). */
  workerNiceness?: number;
  /** Default: Prometheus on at /monitoring/prometheus/metrics. */
  monitoring?: MonitoringConfig;
  restPort?: number;
  /** Address for both APIs unless restHost / grpcHost say otherwise (default 0.0.0.0, as TF Serving). */
  host?: string;
  restHost?: string;
  grpcHost?: string;
  /** TLS, auth, rate limits, path redaction (envelope.ts). Health probes are always on. */
  envelope?: EnvelopeOptions;
  /** gRPC port (TF Serving's --port); undefined: no gRPC server. */
  grpcPort?: number;
  /** --grpc_impl: the gRPC server implementation (default h2: node:http2 with tfsvc's framing; grpc-js the reference). */
  grpcImpl?: GrpcImpl;
  /** Local cache for versions downloaded from object storage (s3:// base paths). */
  modelCacheDir?: string;
  timeoutMs?: number;
  maxBodyBytes?: number;
  /** Limits on the transports (see docs/serve.md, "Limits and failure behaviour"); defaults in each module. */
  limits?: TransportLimits;
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

export interface TransportLimits {
  /** --max_inflight_request_bytes: request bytes admitted and not yet answered, REST and gRPC together. */
  maxInFlightBytes?: number;
  /** --header_timeout_ms / --body_timeout_ms: REST request head / whole request read deadlines (408 and close). */
  headerTimeoutMs?: number;
  bodyTimeoutMs?: number;
  /** --max_connections: open connections, REST and gRPC each (gRPC: the h2 server only). */
  maxConnections?: number;
  /** --grpc_channel_arguments: grpc.max_connection_idle_ms, grpc.max_concurrent_streams, grpc.keepalive_time_ms/_timeout_ms. */
  grpcIdleTimeoutMs?: number;
  grpcMaxConcurrentStreams?: number;
  grpcKeepaliveTimeMs?: number;
  grpcKeepaliveTimeoutMs?: number;
  /** Bodies of at least this many bytes are decoded on a worker thread. */
  offThreadDecodeBytes?: number;
}

export type ServingEvent =
  | { kind: 'state'; model: string; version: number; state: VersionState; error?: string }
  | { kind: 'loaded'; model: string; version: number; loadMs: number; warmupMs: number; warmupRequests: number; warmupSource: string; backend: string }
  | { kind: 'source-error'; model: string; message: string }
  | { kind: 'config-error'; message: string }
  | { kind: 'engines'; message: string }
  | { kind: 'listening'; protocol: 'REST' | 'gRPC'; host: string; port: number; scheme?: string }
  | { kind: 'envelope'; level: 'info' | 'warn' | 'error'; message: string }
  /** Shutdown: readiness is off (`delayMs` > 0: still serving that long), or the listeners close and in-flight requests drain. */
  | { kind: 'shutdown'; phase: 'readiness-off'; delayMs: number }
  | { kind: 'shutdown'; phase: 'draining'; inFlight: number };

export interface Serving {
  readonly lookup: ServableLookup;
  readonly manager: Manager;
  readonly metrics: ServingMetrics;
  readonly rest: RestServer;
  /** Readiness and the gRPC health service's statuses. */
  readonly health: Health;
  readonly grpcPort?: number;
  readonly restPort: number;
  readonly restScheme: 'http' | 'https';
  /**
   * Re-polls the model directories now (tests; the timer does it every pollSeconds). Resolves once object-storage
   * polls have finished and the Manager has acted on what they found.
   */
  poll(): Promise<void>;
  /** Resolves when no version is loading or unloading. */
  settled(): Promise<void>;
  /**
   * Turns readiness off (/readyz 503, gRPC health NOT_SERVING), keeps both APIs accepting and serving for
   * `drainDelayMs` (--drain_delay_seconds, default 0: Kubernetes preStop semantics, so load balancers see the probe
   * fail and stop sending before the ports close), then stops accepting, drains in-flight requests (up to `graceMs`),
   * unloads every version and stops the workers.
   */
  close(graceMs?: number, drainDelayMs?: number): Promise<void>;
  /** Ends a running drain delay now (a second signal): the drain starts at once. False when no delay was running. */
  endDrainDelay(): boolean;
}

/**
 * Applies a new model list at runtime (gRPC HandleReloadConfigRequest): the Source un-aspires removed models and
 * aspires added ones; resolves once every newly added model has an AVAILABLE version, as ServerCore::ReloadConfig's
 * WaitUntilModelsAvailable, else rejects with its UNKNOWN "N model(s) did not become available: {...}". `current` is
 * updated in place so later reloads know which models are new.
 */
async function reloadModels(manager: Manager, source: FileSystemSource, current: ModelConfig[], models: ModelConfig[]): Promise<void> {
  const before = new Set(current.map((m) => m.name));
  source.setModels(models);
  current.splice(0, current.length, ...models);
  await manager.settled();
  const failed: string[] = [];
  for (const m of models) {
    if (before.has(m.name)) continue;
    let statuses: { version: number; state: string; errorMessage: string }[] = [];
    try {
      statuses = manager.status(m.name);
    } catch {
      // no version found under its base path
    }
    if (statuses.some((s) => s.state === 'AVAILABLE')) continue;
    const latest = statuses[0];
    failed.push(latest ? `{{name: ${m.name} version: ${latest.version}}${latest.errorMessage ? ` due to error: ${latest.errorMessage}` : ''}}, ` : `{{name: ${m.name}} due to error: no version found under its base path}, `);
  }
  if (failed.length) throw new RequestError('UNKNOWN', `${failed.length} model(s) did not become available: {${failed.join('')}}`);
}

export async function startServing(options: ServeOptions): Promise<Serving> {
  const log = options.log ?? (() => undefined);
  // Engines per backend (one per core on the CPU, one per adapter on a GPU) and the backend's batching defaults.
  const plan = await planEngines(options.loadOptions?.backend ?? 'wasm', options.batching ?? defaultBatching());
  if (plan.note) log({ kind: 'engines', message: plan.note });
  const batching = plan.batching;
  const loadOptions: LoadOptions = { ...options.loadOptions, backend: plan.backend };
  const metrics = new ServingMetrics();
  const backendMetrics = new BackendMetrics(metrics.registry, plan.backend, batching.maxBatchSize);
  const pool = new WorkerPool({
    size: plan.pool.size,
    depth: plan.pool.depth,
    gpuAdapters: plan.pool.gpuAdapters,
    loaderModule: options.loaderModule,
    niceness: options.workerNiceness,
    onWorkerRestart: (reason) => metrics.workerRestarted(reason),
  });
  const scheduler = new BatchScheduler(pool, batching, {
    batch: (q, info) => {
      metrics.batch(q, info);
      backendMetrics.batch(info);
    },
    rejected: (q) => metrics.queueRejected(q),
  });
  // The request limits of this server: clients' requests and warmup records are checked against the same ones.
  const limits = { maxElements: options.maxRequestElements ?? DEFAULT_MAX_REQUEST_ELEMENTS };
  const loader = new PoolLoader(pool, scheduler, {
    loadOptions,
    limits,
    warmup: options.warmup ?? true,
    // A GPU compiles its shaders per batch shape: warm every allowed batch size even when a warmup file exists.
    warmupEveryBatchSize: plan.backend === 'webgpu',
    warmupIterations: options.warmupIterations,
    warmupBatchSizes: batching.allowedBatchSizes,
    events: {
      loaded: (spec, info) => {
        metrics.versionLoaded(spec.name, spec.version, spec.path, info.loadMs, info.warmupMs, info.warmup.requests > 0);
        backendMetrics.backend = info.backend;
        log({ kind: 'loaded', model: spec.name, version: spec.version, loadMs: info.loadMs, warmupMs: info.warmupMs, warmupRequests: info.warmup.requests, warmupSource: info.warmup.source, backend: info.backend });
      },
    },
  });
  const manager = new Manager(loader, {
    stateChanged: (model, version, state, error, versionPath) => {
      // model_path is the version directory, as for successful loads (metrics.versionLoaded).
      if (state === 'END' && error) metrics.versionFailed(versionPath);
      health.refresh();
      log({ kind: 'state', model, version, state, error });
    },
  }, { allowVersionLabelsForUnavailableModels: options.allowVersionLabelsForUnavailableModels });
  const liveModels = [...options.models]; // the served list, as gRPC reloads change it
  // The manager's stateChanged above refreshes it; it runs only once the source starts, after this line.
  // Readiness lists version errors on an open endpoint: it reads statuses through what clients see (paths redacted
  // unless --debug) once the envelope is open, the manager itself until then.
  let clientLookup: Pick<ServableLookup, 'status'> = manager;
  const health = new Health({ status: (model) => clientLookup.status(model) }, liveModels.map((m) => m.name));
  // One admission controller for both transports: the byte budget is the server's, whichever API the bytes came by.
  const admission = new Admission({
    maxInFlightBytes: options.limits?.maxInFlightBytes,
    queueHasRoom: (model, version, signature, rows) => scheduler.hasRoom(model, version, signature, rows),
  });
  const source = new FileSystemSource(
    manager,
    options.models,
    { error: (model, message) => log({ kind: 'source-error', model, message }), storageError: (model) => metrics.storageError(model) },
    { cacheDir: options.modelCacheDir },
  );

  let configPoll: ConfigPoll | undefined;
  let rest: RestServer | undefined;
  let grpc: { port: number; close(graceMs?: number): Promise<void> } | undefined;
  let envelope: Envelope | undefined;
  let endDelay: (() => void) | undefined;
  // The HTTP thread's young generation grows under a burst and V8 only shrinks it at a collection an idle server
  // never makes (engine/idle-heap.ts); the workers run the same check.
  const stopHeapTrim = trimHeapWhenIdle();
  const shutdown = async (graceMs?: number, drainDelayMs = 0, startupFailed = false): Promise<void> => {
    // Readiness goes off first, so load balancers stop sending before the listeners close: during the delay both APIs
    // keep accepting and answering (REST answers with Connection: close, so keep-alive clients reconnect elsewhere),
    // gRPC health watchers are told NOT_SERVING, and only then does the drain start.
    health.startDraining();
    if (drainDelayMs > 0 && (rest || grpc)) {
      log({ kind: 'shutdown', phase: 'readiness-off', delayMs: drainDelayMs });
      rest?.announceClose();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, drainDelayMs);
        endDelay = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      endDelay = undefined;
    }
    if (rest && !startupFailed) log({ kind: 'shutdown', phase: 'draining', inFlight: rest.inFlight() });
    health.endWatches();
    stopHeapTrim();
    envelope?.close();
    configPoll?.stop();
    source.stop();
    await Promise.all([rest?.close(graceMs), grpc?.close(graceMs)]);
    await manager.close();
    scheduler.close();
    backendMetrics.close();
    await pool.close();
  };

  try {
    const monitoringConfig = options.monitoring ?? { prometheusEnabled: true, path: DEFAULT_METRICS_PATH };
    // Certificates, keys and key sets are checked before models load: a bad one fails startup at once.
    envelope = await openEnvelope(options.envelope ?? {}, {
      lookup: withStorageErrors(manager, (model) => source.storageErrorOf(model)),
      health,
      registry: metrics.registry,
      metricsPath: monitoringConfig.prometheusEnabled ? monitoringConfig.path : undefined,
      basePaths: () => new Map(liveModels.map((m) => [isS3Url(m.basePath) ? m.basePath : path.resolve(m.basePath), m.name])),
      log: (level, message) => log({ kind: 'envelope', level, message }),
    });
    clientLookup = envelope.lookup;
    source.start(options.pollSeconds ?? 1);
    await source.ready();
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
      else if (isS3Url(m.basePath) ? !source.hasError(m.name) : existsSync(m.basePath)) {
        servingOrWaiting = true;
        log({ kind: 'source-error', model: m.name, message: `no versions found under ${m.basePath} yet; waiting for one` });
      } else problems.push(`${m.name}: ${isS3Url(m.basePath) ? source.errorOf(m.name) : `base path ${m.basePath} does not exist`}`);
    }
    if (!servingOrWaiting) throw new ModelError(`no model could be loaded: ${problems.join(' | ')}`);

    if (options.modelConfigFile && (options.modelConfigPollSeconds ?? 0) > 0) {
      configPoll = pollModelConfig(
        options.modelConfigFile,
        options.modelConfigPollSeconds!,
        (models) => {
          source.setModels(models);
          liveModels.splice(0, liveModels.length, ...models);
          health.setModels(models.map((m) => m.name));
        },
        (message) => log({ kind: 'config-error', message }),
      );
    }

    const monitoring = monitoringConfig;
    const restHost = options.restHost ?? options.host ?? '0.0.0.0';
    const grpcHost = options.grpcHost ?? options.host ?? '0.0.0.0';
    rest = await startRestServer({
      lookup: envelope.lookup,
      gate: envelope.gate,
      createServer: envelope.createRestServer,
      metrics: monitoring.prometheusEnabled ? metrics : undefined,
      metricsPath: monitoring.path,
      limits,
      port: options.restPort ?? 8501,
      host: restHost,
      timeoutMs: options.timeoutMs,
      maxBodyBytes: options.maxBodyBytes,
      admission,
      headerTimeoutMs: options.limits?.headerTimeoutMs,
      bodyTimeoutMs: options.limits?.bodyTimeoutMs,
      maxConnections: options.limits?.maxConnections,
      offThreadDecodeBytes: options.limits?.offThreadDecodeBytes,
      workerNiceness: options.workerNiceness,
      cors: options.cors,
      accessLog: options.accessLog,
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') throw new UsageError(`REST port ${options.restPort} is already in use (choose another with --rest_api_port)`);
      throw err;
    });
    log({ kind: 'listening', protocol: 'REST', host: restHost, port: rest.port, scheme: envelope.restScheme });

    if (options.grpcPort !== undefined) {
      const env = envelope;
      grpc = await startGrpcServer(env.lookup, {
        port: options.grpcPort,
        host: grpcHost,
        impl: options.grpcImpl,
        credentials: env.grpcCredentials,
        tls: env.grpcTlsSource,
        maxConnections: options.limits?.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
        bodyTimeoutMs: options.limits?.bodyTimeoutMs,
        idleTimeoutMs: options.limits?.grpcIdleTimeoutMs,
        maxConcurrentStreams: options.limits?.grpcMaxConcurrentStreams,
        keepaliveTimeMs: options.limits?.grpcKeepaliveTimeMs,
        keepaliveTimeoutMs: options.limits?.grpcKeepaliveTimeoutMs,
        gate: env.gate.active ? env.gate : undefined,
        admission,
        limits,
        maxMessageBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
        addServices: (server) => health.addToServer(server),
        reloadConfig: (next) => reloadModels(manager, source, liveModels, next).finally(() => health.setModels(liveModels.map((m) => m.name))),
      }).catch((err: Error) => {
        if (/EADDRINUSE|address already in use/i.test(err.message)) throw new UsageError(`gRPC port ${options.grpcPort} is already in use (choose another with --port)`);
        throw err;
      });
      log({ kind: 'listening', protocol: 'gRPC', host: grpcHost, port: grpc.port, scheme: env.grpcCredentials ? 'tls' : 'plaintext' });
      health.refresh();
    }
  } catch (err) {
    await shutdown(0, 0, true);
    throw err;
  }

  return {
    lookup: manager,
    manager,
    metrics,
    rest,
    health,
    restPort: rest.port,
    restScheme: envelope.restScheme,
    grpcPort: grpc?.port,
    poll: async () => {
      source.pollOnce();
      await source.ready();
      await manager.settled();
    },
    settled: () => manager.settled(),
    close: shutdown,
    endDrainDelay: () => {
      if (!endDelay) return false;
      endDelay();
      return true;
    },
  };
}
