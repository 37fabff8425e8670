// Where the requests go. Accepts a server URL plus --model [--version|--label] [--signature], or a full
// `.../v1/models/NAME[/versions/V|/labels/L][:predict|:classify|:regress]` URL, and derives TF Serving's REST paths
// from either. gRPC targets (`grpc://host:8500`, or any of the above with --protocol grpc) name the server only: the model,
// version and signature travel in each request's ModelSpec.
import { UsageError } from '../errors.js';
import { NO_SECURITY, type ClientSecurity } from './security.js';

export interface TargetOptions {
  model?: string;
  version?: string;
  /** `--model-version`, the older spelling of `--version` (kept as an alias); both given must agree. */
  modelVersion?: string;
  label?: string;
  signature?: string;
  /** `--protocol`: rest (default, or what the URL's scheme says) or grpc. */
  protocol?: string;
  /** TLS trust, client certificate, headers (--ca, --cert/--key, --header, --token-file, --grpc-tls). */
  security?: ClientSecurity;
}

/** How requests travel: TF Serving's REST API (JSON over HTTP/1.1) or its gRPC API (protobuf over HTTP/2). */
export type Protocol = 'rest' | 'grpc';

/** TF Serving's default gRPC port (`--port`), used when a grpc:// URL names none. */
export const DEFAULT_GRPC_PORT = 8500;

export interface Target {
  protocol: Protocol;
  /** gRPC only: host:port to dial. */
  grpcAddress?: string;
  origin: string;
  model: string;
  version?: string;
  label?: string;
  /** Signature to call; undefined means the server's default (serving_default). */
  signature?: string;
  /** `.../v1/models/NAME[/versions/V|/labels/L]` without the verb. */
  modelPath: string;
  /** The verb a full URL named (`...:regress`); undefined when the URL names none (then the signature decides). */
  verb?: InferenceVerb;
  predictUrl: URL;
  metadataUrl: URL;
  /** How to connect and what to send besides the request (never printed: it may hold a token). */
  security: ClientSecurity;
}

/** TF Serving's REST inference APIs: :predict takes tensors, :classify and :regress take tf.Examples. */
export type InferenceVerb = 'predict' | 'classify' | 'regress';

/** `.../v1/models/NAME[/versions/V|/labels/L]:VERB` of `target`. */
export function inferenceUrl(target: Target, verb: InferenceVerb = 'predict'): URL {
  return new URL(`${target.modelPath}:${verb}`, target.origin);
}

const MODEL_PATH_RE = /^\/v1\/models\/([^/:]+)(?:\/versions\/(\d+)|\/labels\/([^/:]+))?(?::(predict|classify|regress))?\/?$/;

export function resolveTarget(urlText: string, opts: TargetOptions): Target {
  const text = /^[a-z]+:\/\//i.test(urlText) ? urlText : `http://${urlText}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`"${urlText}" is not a URL (expected e.g. http://localhost:8501 or http://host:8501/v1/models/NAME:predict)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:' && url.protocol !== 'grpc:') {
    throw new UsageError(`${urlText}: only http://, https:// and grpc:// targets are supported`);
  }
  if (opts.protocol !== undefined && opts.protocol !== 'rest' && opts.protocol !== 'grpc') {
    throw new UsageError(`--protocol ${opts.protocol}: choose rest or grpc`);
  }
  if (url.protocol === 'grpc:' && opts.protocol === 'rest') throw new UsageError(`${urlText} is a gRPC URL, but --protocol rest was given`);
  const protocol: Protocol = url.protocol === 'grpc:' || opts.protocol === 'grpc' ? 'grpc' : 'rest';
  if (protocol === 'grpc') {
    if (url.pathname !== '/' && url.pathname !== '') {
      throw new UsageError(`${urlText}: a gRPC target is host:port only (grpc://host:8500); name the model with --model, --version, --label and --signature`);
    }
  }
  if (opts.version !== undefined && opts.modelVersion !== undefined && opts.version !== opts.modelVersion) {
    throw new UsageError(`--version ${opts.version} and --model-version ${opts.modelVersion} disagree (--model-version is another name for --version)`);
  }
  let version = opts.version ?? opts.modelVersion;
  if (version && opts.label) throw new UsageError('give --version or --label, not both');
  let model = opts.model;
  let verb: InferenceVerb | undefined;
  let label = opts.label;
  if (url.pathname !== '/' && url.pathname !== '') {
    const m = MODEL_PATH_RE.exec(url.pathname);
    if (!m) throw new UsageError(`${urlText}: expected a server URL (http://host:8501) or a TF Serving model URL (.../v1/models/NAME[/versions/V]:predict)`);
    verb = m[4] as InferenceVerb | undefined;
    if (model && model !== m[1]) throw new UsageError(`--model ${model} disagrees with the model in the URL (${m[1]})`);
    model = decodeURIComponent(m[1]!);
    if ((m[2] && version && version !== m[2]) || (m[3] && label && label !== m[3])) throw new UsageError('--version/--label disagree with the URL');
    version = m[2] ?? version;
    label = m[3] ? decodeURIComponent(m[3]) : label;
    if (version && label) throw new UsageError('give --version or --label, not both');
  }
  if (!model) throw new UsageError('which model? give --model NAME or a full URL (http://host:8501/v1/models/NAME:predict)');
  if (version !== undefined && !/^\d+$/.test(version)) throw new UsageError(`--version must be a number, got "${version}"`);
  const modelPath = `/v1/models/${encodeURIComponent(model)}${version ? `/versions/${version}` : label ? `/labels/${encodeURIComponent(label)}` : ''}`;
  const grpcPort = url.port || (url.protocol === 'grpc:' ? String(DEFAULT_GRPC_PORT) : url.protocol === 'https:' ? '443' : '80');
  const httpOrigin = url.protocol === 'grpc:' ? `http://${url.host}` : url.origin;
  return {
    protocol,
    ...(protocol === 'grpc' ? { grpcAddress: `${url.hostname}:${grpcPort}` } : {}),
    origin: protocol === 'grpc' ? `grpc://${url.hostname}:${grpcPort}` : url.origin,
    model,
    version,
    label,
    signature: opts.signature,
    modelPath,
    verb,
    predictUrl: new URL(`${modelPath}:predict`, httpOrigin),
    metadataUrl: new URL(`${modelPath}/metadata`, httpOrigin),
    // An https:// URL with --protocol grpc means gRPC over TLS.
    security: protocol === 'grpc' && url.protocol === 'https:' ? { ...(opts.security ?? NO_SECURITY), grpcTls: true } : (opts.security ?? NO_SECURITY),
  };
}
