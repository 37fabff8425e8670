// `tfsvc serve [MODEL_BASE_PATH]`: a drop-in TensorFlow Serving. Accepts TF Serving's own flag spellings
// (--model_name, --rest_api_port, --model_config_file, ...) next to tfsvc's dashed ones, so launch scripts work
// unchanged. Parses flags, calls startServing (src/core/serving/server.ts), prints where it listens and what is
// AVAILABLE, and drains on SIGTERM/SIGINT (exit 0).
import path from 'node:path';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { Command, Option } from 'commander';
import { UsageError } from '../core/errors.js';
import type { BatchingConfig, ModelConfig } from '../core/serving/config.js';
import type { ServingEvent } from '../core/serving/server.js';
import type { AccessLogEntry } from '../core/serving/rest/server.js';
import { isSavedModelDir, parseVersionName } from '../core/savedmodel/layout.js';
import { modelFromImageEnv, NO_MODEL_MESSAGE } from '../core/serving/image-env.js';
import { parseGrpcChannelArguments } from '../core/serving/grpc/channel-arguments.js';
import type { EnvelopeOptions } from '../core/serving/envelope.js';
import { isS3Url, parseS3Url } from '../core/storage/s3-url.js';
import type { BackendName } from '../core/engine/types.js';
import { parseBackend } from './options.js';

// The serving stack (engine pool, HTTP and gRPC servers, protobufjs, chalk) loads inside the action, so `tfsvc --help`
// and the other commands don't pay for it. layout.ts stays static: it needs only node:fs.

/** [dashed name, TF Serving name, value placeholder, description, default]. Both spellings set the same option. */
const FLAGS: [string, string, string | null, string, unknown][] = [
  ['model-name', 'model_name', '<name>', 'model name in URLs (default: the base directory name)', undefined],
  ['model-base-path', 'model_base_path', '<dir|s3://b/p>', 'model base directory (numeric version subdirectories), or an s3:// prefix (docs/deploy.md)', undefined],
  ['rest-api-port', 'rest_api_port', '<port>', 'REST port', '8501'],
  ['port', 'port', '<port>', 'gRPC port (TF Serving PredictionService and ModelService)', '8500'],
  ['model-config-file', 'model_config_file', '<file|s3://b/key>', 'TF Serving model_config_list text proto (several models, policies, labels); also an s3:// object', undefined],
  ['model-config-file-poll-wait-seconds', 'model_config_file_poll_wait_seconds', '<s>', 're-read the model config file every s seconds (0: never)', '0'],
  ['file-system-poll-wait-seconds', 'file_system_poll_wait_seconds', '<s>', 'poll model directories for new/removed versions every s seconds (0: only at startup)', '1'],
  ['enable-batching', 'enable_batching', '[bool]', 'batch requests (default on, adaptive; false: every request runs alone)', undefined],
  ['batching-parameters-file', 'batching_parameters_file', '<file>', 'TF Serving BatchingParameters text proto', undefined],
  ['monitoring-config-file', 'monitoring_config_file', '<file>', 'TF Serving MonitoringConfig text proto (Prometheus path)', undefined],
  ['rest-api-timeout-in-ms', 'rest_api_timeout_in_ms', '<ms>', 'REST request timeout (504 after it; 0: none)', '30000'],
  ['enable-model-warmup', 'enable_model_warmup', '[bool]', 'warm each version up before it serves', undefined],
  ['num-request-iterations-for-warmup', 'num_request_iterations_for_warmup', '<n>', 'replays of each warmup record', '1'],
  ['allow-version-labels-for-unavailable-models', 'allow_version_labels_for_unavailable_models', '[bool]', 'let a new version label name a version that is not AVAILABLE yet', undefined],
  ['max-request-elements', 'max_request_elements', '<n>', 'refuse requests whose inputs hold more elements together (400 / INVALID_ARGUMENT)', String(2 ** 26)],
  ['rest-api-num-threads', 'rest_api_num_threads', '<n>', 'accepted for compatibility (Node serves HTTP on one thread)', undefined],
  // The production envelope (docs/serve.md "Production"): binding, TLS, JWT auth, rate limits.
  ['rest-host', 'rest_host', '<addr>', 'address the REST API binds (default: --host)', undefined],
  ['grpc-host', 'grpc_host', '<addr>', 'address the gRPC API binds (default: --host)', undefined],
  ['ssl-config-file', 'ssl_config_file', '<file>', 'TF Serving SSLConfig text proto (server_key, server_cert, custom_ca, client_verify): TLS for gRPC', undefined],
  ['rest-ssl-config-file', 'rest_ssl_config_file', '<file>', 'the same SSLConfig file for REST (HTTPS)', undefined],
  ['ssl-cert-file', 'ssl_cert_file', '<file>', 'REST HTTPS certificate chain (PEM)', undefined],
  ['ssl-key-file', 'ssl_key_file', '<file>', 'REST HTTPS private key (PEM)', undefined],
  ['ssl-ca-file', 'ssl_ca_file', '<file>', 'CA (PEM) that signs client certificates (REST)', undefined],
  ['ssl-client-verify', 'ssl_client_verify', '[bool]', 'REST: refuse clients without a certificate signed by --ssl_ca_file (mTLS)', undefined],
  ['auth-jwks', 'auth_jwks', '<file|url>', 'require JWT bearer tokens verified with this JWKS (file, or https URL: cached, refreshed)', undefined],
  ['auth-jwks-refresh-seconds', 'auth_jwks_refresh_seconds', '<s>', 'an https JWKS is fetched again once its copy is this old (and when a token names an unknown key, at most every 30 s)', '600'],
  ['auth-jwks-ca', 'auth_jwks_ca', '<file>', 'extra CA (PEM) trusted when fetching an https JWKS', undefined],
  ['auth-jwt-secret-file', 'auth_jwt_secret_file', '<file>', 'require JWT bearer tokens signed with this HS256 secret', undefined],
  ['auth-issuer', 'auth_issuer', '<iss>', 'accepted token issuer (iss)', undefined],
  ['auth-audience', 'auth_audience', '<aud,...>', 'accepted token audiences (aud), comma-separated', undefined],
  ['auth-algorithms', 'auth_algorithms', '<alg,...>', 'allowed signing algorithms (default: RS/PS/ES/EdDSA for a JWKS, HS256/384/512 for a secret)', undefined],
  ['auth-clock-skew-seconds', 'auth_clock_skew_seconds', '<s>', 'clock difference tolerated on exp/nbf', '30'],
  ['auth-model-claim', 'auth_model_claim', '<claim>', 'claim listing the models a token may call ("*": all; none: no per-model check)', 'models'],
  ['auth-metrics', 'auth_metrics', '[bool]', 'the metrics path needs a token too', undefined],
  ['rate-limit', 'rate_limit', '<rps>', 'requests per second per client (JWT sub, else address); 429 + Retry-After above', undefined],
  ['rate-limit-burst', 'rate_limit_burst', '<n>', 'per-client burst (default: the rate)', undefined],
  ['global-rate-limit', 'global_rate_limit', '<rps>', 'requests per second for the whole server', undefined],
  ['global-rate-limit-burst', 'global_rate_limit_burst', '<n>', 'global burst (default: the rate)', undefined],
  ['max-concurrent-requests', 'max_concurrent_requests', '<n>', 'requests in flight at once, REST and gRPC together (429 above)', undefined],
  ['drain-delay-seconds', 'drain_delay_seconds', '<s>', 'at SIGTERM, readiness turns off (/readyz 503, gRPC health NOT_SERVING) and requests are still served this long before the listeners close (preStop-style; SIGINT does not wait)', '0'],
  ['drain-timeout-seconds', 'drain_timeout_seconds', '<s>', 'then in-flight requests get this long before connections are cut', '30'],
];

/** TF Serving flags tfsvc accepts so launch scripts run, but does not act on (each is named in a warning). */
const IGNORED_TF_FLAGS = [
  'grpc_socket_path', 'grpc_max_threads', 'use_alts_credentials',
  'max_num_load_retries', 'load_retry_interval_micros', 'platform_config_file', 'tensorflow_session_parallelism',
  'tensorflow_intra_op_parallelism', 'tensorflow_inter_op_parallelism', 'per_process_gpu_memory_fraction',
  'enable_signature_method_name_check', 'xla_cpu_compilation_enabled', 'enable_profiler', 'tensorflow_session_config_file',
  'use_tflite_model', 'prefer_tflite_model', 'num_tflite_pools', 'num_tflite_interpreters_per_pool',
  'thread_pool_factory_config_file', 'mixed_precision', 'skip_initialize_tpu', 'remove_unused_fields_from_bundle_metagraph',
  'enable_grpc_healthcheck_service', 'flush_filesystem_caches',
  'rest_api_enable_cors_support',
];

/** Transport limits (docs/serve.md, "Limits and failure behaviour"); each also takes the underscore spelling. */
const LIMIT_FLAGS = ['max-body-bytes', 'max-inflight-request-bytes', 'header-timeout-ms', 'body-timeout-ms', 'max-connections'];

function boolFlag(v: unknown, name: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === true) return true;
  const s = String(v).toLowerCase();
  if (['true', '1', 'yes', 't'].includes(s)) return true;
  if (['false', '0', 'no', 'f'].includes(s)) return false;
  throw new UsageError(`--${name} takes true or false, not "${v}"`);
}

function intFlag(v: unknown, name: string, min = 0): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, not "${v}"`);
  return n;
}

function numFlag(v: unknown, name: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a number >= 0, not "${v}"`);
  return n;
}

/**
 * The single model of `tfsvc serve DIR`. A version directory (DIR/1) is served from its parent with a `specific`
 * policy naming that version: exactly the version given, never a newer sibling.
 */
export function modelFromPath(p: string, name: string | undefined): ModelConfig {
  if (isS3Url(p)) {
    // Object storage: listed and downloaded by the server; the name defaults to the last prefix segment, as for dirs.
    const { prefix } = parseS3Url(p);
    const last = prefix.split('/').filter(Boolean).pop();
    if (!name && !last) throw new UsageError(`${p}: give --model_name, or a prefix whose last segment names the model`);
    return { name: name ?? last!, basePath: p.replace(/\/+$/, ''), policy: { kind: 'latest', numVersions: 1 }, labels: {} };
  }
  let base = path.resolve(p);
  if (!existsSync(base) || !statSync(base).isDirectory()) throw new UsageError(`${p}: no such directory`);
  if (isSavedModelDir(base)) {
    const version = parseVersionName(path.basename(base));
    if (version === undefined) {
      throw new UsageError(`${p} is a SavedModel directory; serve needs its base directory with numeric version subdirectories (e.g. ${path.join(p, '..')}/1 → serve ${path.join(p, '..')})`);
    }
    base = path.dirname(base);
    return { name: name ?? path.basename(base), basePath: base, policy: { kind: 'specific', versions: [version] }, labels: {} };
  }
  return { name: name ?? path.basename(base), basePath: base, policy: { kind: 'latest', numVersions: 1 }, labels: {} };
}

type Opts = Record<string, unknown>;

function pick(o: Opts, dashed: string, tf: string): unknown {
  const camel = dashed.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
  return o[tf] ?? o[camel];
}

/** TLS, auth and rate-limit flags as the serving envelope's options (src/core/serving/envelope.ts). */
function envelopeOptions(get: (d: string, tf: string, def?: unknown) => unknown, debug: boolean): EnvelopeOptions {
  const str = (d: string, tf: string): string | undefined => get(d, tf) as string | undefined;
  const list = (v: string | undefined): string[] | undefined => v?.split(',').map((x) => x.trim()).filter(Boolean);
  const optionalNum = (d: string, tf: string): number | undefined => (get(d, tf) === undefined ? undefined : numFlag(get(d, tf), tf));
  const e: EnvelopeOptions = { debug };
  const grpcConfig = str('ssl-config-file', 'ssl_config_file');
  if (grpcConfig) e.grpcTls = { kind: 'ssl-config', file: grpcConfig };
  const restConfig = str('rest-ssl-config-file', 'rest_ssl_config_file');
  const cert = str('ssl-cert-file', 'ssl_cert_file');
  const key = str('ssl-key-file', 'ssl_key_file');
  const ca = str('ssl-ca-file', 'ssl_ca_file');
  const clientVerify = boolFlag(get('ssl-client-verify', 'ssl_client_verify'), 'ssl_client_verify') ?? false;
  if (restConfig && (cert || key)) throw new UsageError('give either --rest_ssl_config_file or --ssl_cert_file/--ssl_key_file, not both');
  if (restConfig) e.restTls = { kind: 'ssl-config', file: restConfig };
  else if (cert || key) {
    if (!cert || !key) throw new UsageError('REST HTTPS needs both --ssl_cert_file and --ssl_key_file');
    e.restTls = { kind: 'pem', certFile: cert, keyFile: key, caFile: ca, clientVerify };
  } else if (ca || clientVerify) throw new UsageError('--ssl_ca_file / --ssl_client_verify need --ssl_cert_file and --ssl_key_file');
  const jwks = str('auth-jwks', 'auth_jwks');
  const secretFile = str('auth-jwt-secret-file', 'auth_jwt_secret_file');
  const authMetrics = boolFlag(get('auth-metrics', 'auth_metrics'), 'auth_metrics') ?? false;
  if (jwks || secretFile) {
    const claim = String(get('auth-model-claim', 'auth_model_claim', 'models'));
    const jwksCa = str('auth-jwks-ca', 'auth_jwks_ca');
    e.auth = {
      jwks,
      secretFile,
      issuer: str('auth-issuer', 'auth_issuer'),
      audience: list(str('auth-audience', 'auth_audience')),
      algorithms: list(str('auth-algorithms', 'auth_algorithms')),
      clockSkewSeconds: numFlag(get('auth-clock-skew-seconds', 'auth_clock_skew_seconds', '30'), 'auth_clock_skew_seconds'),
      modelClaim: claim === 'none' ? null : claim,
      jwksCa: jwksCa ? readFileSync(jwksCa) : undefined,
      jwksMaxAgeMs: numFlag(get('auth-jwks-refresh-seconds', 'auth_jwks_refresh_seconds', '600'), 'auth_jwks_refresh_seconds') * 1000,
    };
    e.authMetrics = authMetrics;
  } else if (authMetrics) throw new UsageError('--auth_metrics needs --auth_jwks or --auth_jwt_secret_file');
  const perClient = optionalNum('rate-limit', 'rate_limit');
  const global = optionalNum('global-rate-limit', 'global_rate_limit');
  if (perClient || global) {
    e.rateLimit = {
      perClient,
      perClientBurst: optionalNum('rate-limit-burst', 'rate_limit_burst'),
      global,
      globalBurst: optionalNum('global-rate-limit-burst', 'global_rate_limit_burst'),
    };
  }
  const maxConcurrent = get('max-concurrent-requests', 'max_concurrent_requests');
  if (maxConcurrent !== undefined) e.maxConcurrentRequests = intFlag(maxConcurrent, 'max_concurrent_requests', 1);
  return e;
}

export function register(program: Command): void {
  const cmd = program
    .command('serve')
    .description('serve SavedModels over TF Serving\'s REST API (drop-in: same URLs, JSON, flags and config files)')
    .argument('[MODEL_BASE_PATH]', 'model base directory with numeric version subdirectories (e.g. models/half_plus_two with 00000123/)')
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .addHelpText('after', `
TF Serving's own spellings work too (--model_name=x, --rest_api_port=8501, --model_config_file=..., ...), so
tensorflow_model_server launch scripts run unchanged. Examples:
  tfsvc serve models/half_plus_two
  tfsvc serve --model_config_file=models.config --model_config_file_poll_wait_seconds=60
  curl -X POST localhost:8501/v1/models/half_plus_two:predict -d '{"instances": [[1.0], [2.0]]}'`);
  for (const [dashed, tf, value, desc, def] of FLAGS) {
    const v = value ? ` ${value}` : '';
    cmd.addOption(new Option(`--${dashed}${v}`, desc + (def !== undefined ? ` (default ${def})` : '')));
    if (tf !== dashed) cmd.addOption(new Option(`--${tf}${v}`).hideHelp());
  }
  for (const f of IGNORED_TF_FLAGS) cmd.addOption(new Option(`--${f} [value]`).hideHelp());
  cmd.addOption(new Option('--saved_model_tags <tags>').hideHelp());
  for (const f of LIMIT_FLAGS) cmd.addOption(new Option(`--${f.replace(/-/g, '_')} <n>`).hideHelp());
  cmd
    .option('--saved-model-tags <tags>', 'meta graph tags to load, comma-separated (TF Serving\'s --saved_model_tags)', 'serve')
    .option('--host <addr>', 'address to listen on', '0.0.0.0')
    .option('--num-workers <n>', 'inference worker threads when no batching file sets num_batch_threads (default: one per core)')
    .option('--backend <name>', 'engine backend: wasm, cpu, webgpu, tensorflow or auto (webgpu: one engine per GPU adapter, GPU batching defaults)', parseBackend, 'wasm')
    .option('--max-body-bytes <n>', 'largest request body or gRPC message accepted (413 / RESOURCE_EXHAUSTED above)', String(256 * 1024 * 1024))
    .option('--max-inflight-request-bytes <n>', 'request bytes admitted and not yet answered, REST + gRPC (503 / RESOURCE_EXHAUSTED above)', String(1024 * 1024 * 1024))
    .option('--header-timeout-ms <ms>', 'a REST request head must arrive within this (408 and close)', '10000')
    .option('--body-timeout-ms <ms>', 'a whole REST request, body included, must arrive within this (408 and close)', '20000')
    .option('--max-connections <n>', 'open connections, REST and gRPC each; beyond it 503 / UNAVAILABLE and close (0: no cap)', '4096')
    .option('--worker-niceness <n>', 'how many steps nicer than the HTTP threads the inference and decode threads run (0-19; 0: same priority). Keeps admission and answers prompt when threads share a core', '5')
    .addOption(new Option('--worker_niceness <n>').hideHelp())
    .option('--grpc-impl <impl>', 'gRPC server: h2 (node:http2, tfsvc\'s gRPC framing) or grpc-js (the reference implementation)', 'h2')
    .addOption(new Option('--grpc_impl <impl>').hideHelp())
    .option('--grpc-channel-arguments <args>', 'TF Serving\'s gRPC server arguments, key=value,...: grpc.max_connection_idle_ms (default 65000; 0: never), grpc.max_concurrent_streams (default 100), grpc.keepalive_time_ms (default 7200000) and grpc.keepalive_timeout_ms (default 20000) are applied, others ignored with a warning')
    .addOption(new Option('--grpc_channel_arguments <args>').hideHelp())
    .option('--enable-cors', 'send CORS headers and answer preflight requests')
    .option('--access-log', 'log every request')
    .addOption(new Option('--log-format <format>', 'log format').choices(['pretty', 'json']).default('pretty'))
    .action(async (basePathArg: string | undefined, o: Opts, command: Command) => {
      const [{ default: chalk }, { defaultBatching, readBatchingParametersFile, readModelConfigFile, readMonitoringConfigFile }, { startServing }] =
        await Promise.all([import('chalk'), import('../core/serving/config.js'), import('../core/serving/server.js')]);
      const get = (d: string, tf: string, def?: unknown): unknown => pick(o, d, tf) ?? def;
      // Unknown flags are kept by commander among the operands: warn about them, and take the base path from the rest.
      const unknown = command.args.filter((a) => a.startsWith('-'));
      const operands = command.args.filter((a) => !a.startsWith('-'));
      if (operands.length > 1) throw new UsageError(`serve takes one model base path; got ${operands.join(', ')}`);
      basePathArg = operands[0];
      for (const f of IGNORED_TF_FLAGS) {
        if (o[f] !== undefined) unknown.push(`--${f}`);
      }
      const json = o.logFormat === 'json';
      const emit = (level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown> = {}): void => {
        if (json) process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + '\n');
        else {
          const color = level === 'error' ? chalk.red : level === 'warn' ? chalk.yellow : (s: string) => s;
          (level === 'info' ? process.stdout : process.stderr).write(color(msg) + '\n');
        }
      };
      for (const u of unknown) emit('warn', `ignoring TF Serving flag ${u.split('=')[0]} (not supported by tfsvc)`);
      const tags = String(o.saved_model_tags ?? o.savedModelTags ?? 'serve').split(',').map((t) => t.trim()).filter(Boolean);

      const configFile = get('model-config-file', 'model_config_file') as string | undefined;
      const basePath = (get('model-base-path', 'model_base_path') as string | undefined) ?? basePathArg;
      const name = get('model-name', 'model_name') as string | undefined;
      let models: ModelConfig[];
      if (configFile) {
        if (basePath) throw new UsageError('give either --model_config_file or a model base path, not both');
        models = isS3Url(configFile)
          ? await (await import('../core/serving/remote-config.js')).readModelConfigUrl(configFile)
          : readModelConfigFile(configFile);
        if (models.length === 0) throw new UsageError(`${configFile}: model_config_list lists no models`);
      } else if (basePath) {
        models = [modelFromPath(basePath, name)];
      } else {
        const fromEnv = modelFromImageEnv(process.env, name);
        if (!fromEnv) throw new UsageError(NO_MODEL_MESSAGE);
        if (!isS3Url(fromEnv.basePath) && !existsSync(fromEnv.basePath)) throw new UsageError(`${fromEnv.basePath} (from MODEL_NAME/MODEL_BASE_PATH): no such directory`);
        models = [modelFromPath(fromEnv.basePath, fromEnv.name)];
      }

      const batchingEnabled = boolFlag(get('enable-batching', 'enable_batching'), 'enable_batching');
      const batchingFile = get('batching-parameters-file', 'batching_parameters_file') as string | undefined;
      let batching: BatchingConfig = batchingFile ? readBatchingParametersFile(batchingFile) : defaultBatching();
      if (batchingFile && batchingEnabled === undefined) emit('warn', '--batching_parameters_file is applied (tfsvc batches by default; --enable_batching=false turns it off)');
      if (batchingEnabled === false) batching = { ...batching, enabled: false };
      if (o.numWorkers !== undefined && !batchingFile) batching = { ...batching, numBatchThreads: intFlag(o.numWorkers, 'num-workers', 1), explicit: [...(batching.explicit ?? []), 'numBatchThreads'] };
      const monitoringFile = get('monitoring-config-file', 'monitoring_config_file') as string | undefined;
      const monitoring = monitoringFile ? readMonitoringConfigFile(monitoringFile) : undefined;
      const restPort = intFlag(get('rest-api-port', 'rest_api_port', '8501'), 'rest_api_port');
      // --port=0 disables gRPC, as in TF Serving.
      const grpcPortFlag = intFlag(get('port', 'port', '8500'), 'port');
      const grpcPort = grpcPortFlag === 0 ? undefined : grpcPortFlag;
      const grpcImpl = String(get('grpc-impl', 'grpc_impl', 'h2'));
      if (grpcImpl !== 'h2' && grpcImpl !== 'grpc-js') throw new UsageError(`--grpc_impl takes h2 or grpc-js, not "${grpcImpl}"`);
      const channelArgs = parseGrpcChannelArguments(String(get('grpc-channel-arguments', 'grpc_channel_arguments', '')));
      for (const k of channelArgs.ignored) emit('warn', `--grpc_channel_arguments: ignoring ${k} (not supported by tfsvc)`);
      const warmup = boolFlag(get('enable-model-warmup', 'enable_model_warmup'), 'enable_model_warmup') ?? true;
      const drainDelayMs = numFlag(get('drain-delay-seconds', 'drain_delay_seconds', '0'), 'drain_delay_seconds') * 1000;
      const drainTimeoutMs = numFlag(get('drain-timeout-seconds', 'drain_timeout_seconds', '30'), 'drain_timeout_seconds') * 1000;
      let signalName = 'shutdown';

      const logEvent = (e: ServingEvent): void => {
        switch (e.kind) {
          case 'state':
            if (e.error) emit('error', `${e.model} version ${e.version}: failed to load: ${e.error}`, { model: e.model, version: e.version, state: e.state, error: e.error });
            else if (e.state === 'AVAILABLE' || e.state === 'END') emit('info', `${e.model} version ${e.version}: ${e.state}`, { model: e.model, version: e.version, state: e.state });
            break;
          case 'loaded':
            emit('info', `${e.model} version ${e.version}: loaded in ${Math.round(e.loadMs)} ms on ${e.backend}, warmup ${e.warmupSource} (${e.warmupRequests} requests, ${Math.round(e.warmupMs)} ms)`, { ...e });
            break;
          case 'source-error':
            emit('warn', `${e.model}: ${e.message}`, { model: e.model });
            break;
          case 'config-error':
            emit('error', `model config reload failed (keeping the previous config): ${e.message}`);
            break;
          case 'engines':
            emit('info', e.message);
            break;
          case 'listening':
            emit('info', `${e.protocol} API listening on ${e.host}:${e.port}${e.scheme ? ` (${e.scheme})` : ''}`, { protocol: e.protocol, host: e.host, port: e.port, scheme: e.scheme });
            break;
          case 'envelope':
            emit(e.level, e.message);
            break;
          case 'shutdown':
            if (e.phase === 'readiness-off') emit('info', `${signalName}: readiness off (/readyz 503); still serving for ${e.delayMs / 1000} s (--drain_delay_seconds)`);
            else emit('info', `${signalName}: draining ${e.inFlight} in-flight request(s) and shutting down`);
            break;
        }
      };
      const accessLog = o.accessLog
        ? (a: AccessLogEntry): void => {
            if (json) process.stdout.write(JSON.stringify({ ...a, level: 'info', msg: 'request' }) + '\n');
            else process.stdout.write(`${a.time} ${a.method} ${a.path} ${a.status} ${a.durationMs.toFixed(2)}ms ${a.responseBytes}B${a.model ? ` ${a.model}${a.version !== undefined ? `@${a.version}` : ''}` : ''}${a.error ? ` "${a.error}"` : ''}\n`);
          }
        : undefined;

      const serving = await startServing({
        models,
        modelConfigFile: configFile,
        modelConfigPollSeconds: numFlag(get('model-config-file-poll-wait-seconds', 'model_config_file_poll_wait_seconds', '0'), 'model_config_file_poll_wait_seconds'),
        pollSeconds: numFlag(get('file-system-poll-wait-seconds', 'file_system_poll_wait_seconds', '1'), 'file_system_poll_wait_seconds'),
        batching,
        monitoring,
        restPort,
        host: o.host as string,
        restHost: get('rest-host', 'rest_host') as string | undefined,
        grpcHost: get('grpc-host', 'grpc_host') as string | undefined,
        envelope: envelopeOptions(get, Boolean(o.debug)),
        grpcPort,
        grpcImpl,
        timeoutMs: intFlag(get('rest-api-timeout-in-ms', 'rest_api_timeout_in_ms', '30000'), 'rest_api_timeout_in_ms'),
        maxBodyBytes: intFlag(get('max-body-bytes', 'max_body_bytes'), 'max-body-bytes', 1),
        workerNiceness: Math.min(19, intFlag(get('worker-niceness', 'worker_niceness'), 'worker-niceness')),
        limits: {
          maxInFlightBytes: intFlag(get('max-inflight-request-bytes', 'max_inflight_request_bytes'), 'max-inflight-request-bytes', 1),
          headerTimeoutMs: intFlag(get('header-timeout-ms', 'header_timeout_ms'), 'header-timeout-ms', 1),
          bodyTimeoutMs: intFlag(get('body-timeout-ms', 'body_timeout_ms'), 'body-timeout-ms', 1),
          maxConnections: intFlag(get('max-connections', 'max_connections'), 'max-connections'),
          grpcIdleTimeoutMs: channelArgs.idleTimeoutMs,
          grpcMaxConcurrentStreams: channelArgs.maxConcurrentStreams,
          grpcKeepaliveTimeMs: channelArgs.keepaliveTimeMs,
          grpcKeepaliveTimeoutMs: channelArgs.keepaliveTimeoutMs,
        },
        maxRequestElements: intFlag(get('max-request-elements', 'max_request_elements', String(2 ** 26)), 'max_request_elements', 1),
        cors: Boolean(o.enableCors),
        accessLog,
        warmup,
        allowVersionLabelsForUnavailableModels: boolFlag(get('allow-version-labels-for-unavailable-models', 'allow_version_labels_for_unavailable_models'), 'allow_version_labels_for_unavailable_models'),
        warmupIterations: intFlag(get('num-request-iterations-for-warmup', 'num_request_iterations_for_warmup', '1'), 'num_request_iterations_for_warmup', 1),
        loadOptions: { backend: o.backend as BackendName, tags },
        loaderModule: process.env.TFSVC_LOADER_MODULE,
        log: logEvent,
      });
      // Signal handlers go in before the "serving ... AVAILABLE" lines: whoever reads them may send SIGTERM at once.
      const stopped = new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (sig: string): void => {
          if (stopping) {
            // A second signal during the drain delay starts the drain now; while draining, it stops waiting for in-flight requests.
            if (serving.endDrainDelay()) {
              emit('warn', `${sig} again: ending the drain delay`);
              return;
            }
            emit('warn', `${sig} again: exiting without waiting for in-flight requests`);
            process.exit(sig === 'SIGINT' ? 130 : 143);
          }
          stopping = true;
          signalName = sig;
          // SIGTERM (an orchestrator) gets the drain delay: readiness off, still serving, then the drain (logged by the
          // 'shutdown' events above). Ctrl-C does not wait.
          void serving.close(drainTimeoutMs, sig === 'SIGTERM' ? drainDelayMs : 0).then(() => {
            emit('info', 'stopped');
            resolve();
          });
        };
        process.on('SIGTERM', () => stop('SIGTERM'));
        process.on('SIGINT', () => stop('SIGINT'));
      });
      for (const m of models) {
        try {
          const avail = serving.manager.status(m.name).filter((s) => s.state === 'AVAILABLE').map((s) => s.version);
          const url = `${serving.restScheme}://localhost:${serving.restPort}/v1/models/${m.name}`;
          emit('info', `serving ${m.name} versions [${avail.join(', ')}] AVAILABLE at ${url}`, { model: m.name, versions: avail, url });
        } catch {
          emit('warn', `${m.name}: no version available yet`);
        }
      }
      await stopped;
    });
}
