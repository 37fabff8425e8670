// TF Serving's gRPC API: tensorflow.serving.PredictionService (Predict, Classify, Regress, MultiInference in
// multi-inference.ts, GetModelMetadata) and tensorflow.serving.ModelService (GetModelStatus, HandleReloadConfigRequest
// in reload-config.ts), with messages (de)serialised by protobufjs from proto/tensorflow_serving.proto, served by
// tfsvc's node:http2 server (h2-server.ts, the default) or @grpc/grpc-js (the reference: --grpc_impl grpc-js); both take
// the same grpc-js service definitions and handlers. Existing TF Serving clients (tensorflow-serving-api stubs, any
// generated client) work unchanged.
//
// Errors: RequestError codes are TF's canonical codes, which are gRPC's status codes one to one; messages over 1024
// characters are cut like TF Serving's ToGRPCStatus. Each call acquires a servable handle and releases it when done, so
// a version is unloaded only after its gRPC calls finish. A cancelled call aborts its queued work.
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { RequestError, type ErrorCodeName } from '../../errors.js';
import type { HostTensor, SignatureInfo } from '../../engine/types.js';
import { PLAIN, protoRoot } from '../../proto/schema.js';
import type { TensorProto } from '../../savedmodel/types.js';
import type { ServableHandle, ServableLookup, VersionSelector } from '../types.js';
import { checkOutputFilter, predictSignature } from '../../wire/predict-rules.js';
import { decodePredictInputs } from '../../wire/predict-proto.js';
import { checkInputs, DEFAULT_LIMITS, type RequestLimits } from '../../wire/signature-check.js';
import {
  checkClassifySignature,
  checkRegressSignature,
  classificationResult,
  examplesBytes,
  examplesFromInput,
  examplesSignature,
  regressionResult,
} from '../../wire/example-json.js';
import { statusResponseMessage } from '../rest/metadata-json.js';
import { decodeWireInputs, readPredictRequest, WirePredictRequest } from '../../wire/predict-request-reader.js';
import { encodePredictResponse, PredictReply, type ReplySpec } from '../../wire/predict-response-writer.js';
import { classificationMessage, runMultiInference } from './multi-inference.js';
import { handleReloadConfig, type ConfigReloader } from './reload-config.js';
import type { Gate } from '../gate.js';
import { gatedService } from './gated.js';
import { Admission } from '../admission.js';
import { guardInference } from './admission.js';
import { Cancellation, type CancelSignal } from '../cancel.js';
import { DEFAULT_GRPC_IDLE_TIMEOUT_MS, DEFAULT_KEEPALIVE_TIME_MS, DEFAULT_KEEPALIVE_TIMEOUT_MS, DEFAULT_MAX_CONCURRENT_STREAMS, H2GrpcServer } from './h2-server.js';
import type { TlsSource } from '../tls.js';

const PROTO_FILE = 'tensorflow_serving.proto';

/** gRPC status codes by TF canonical code name (the numbering is shared). */
const GRPC_CODE: Record<ErrorCodeName, grpc.status> = {
  CANCELLED: grpc.status.CANCELLED,
  UNKNOWN: grpc.status.UNKNOWN,
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  DEADLINE_EXCEEDED: grpc.status.DEADLINE_EXCEEDED,
  NOT_FOUND: grpc.status.NOT_FOUND,
  ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
  ABORTED: grpc.status.ABORTED,
  OUT_OF_RANGE: grpc.status.OUT_OF_RANGE,
  UNIMPLEMENTED: grpc.status.UNIMPLEMENTED,
  INTERNAL: grpc.status.INTERNAL,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  DATA_LOSS: grpc.status.DATA_LOSS,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
};

const MESSAGE_LIMIT = 1024;

/** A thrown error as the gRPC status TF Serving would send. */
export function toGrpcError(err: unknown): Partial<grpc.StatusObject> {
  const code = err instanceof RequestError ? GRPC_CODE[err.code] : grpc.status.INTERNAL;
  let details = err instanceof Error ? err.message : String(err);
  if (details.length > MESSAGE_LIMIT) details = `${details.slice(0, MESSAGE_LIMIT)}...TRUNCATED`;
  return { code, details };
}

type Plain = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * A grpc-js service definition for a protobufjs service: requests decode to plain objects (see PLAIN). Predict, the
 * hot method, reads its request into a WirePredictRequest when it can (wire/predict-request-reader.ts) and encodes a
 * PredictReply from the output typed arrays (wire/predict-response-writer.ts); both give protobufjs' results and fall
 * back to it for anything else, so every server calling these (de)serializers gets the same answers.
 */
function serviceDefinition(service: protobuf.Service): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<Plain, Plain>> = {};
  for (const method of service.methodsArray) {
    method.resolve();
    const req = method.resolvedRequestType!;
    const res = method.resolvedResponseType!;
    const fast = service.fullName === '.tensorflow.serving.PredictionService' && method.name === 'Predict';
    def[method.name] = {
      path: `/${service.fullName.replace(/^\./, '')}/${method.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (v: Plain) => Buffer.from(req.encode(req.fromObject(v)).finish()),
      requestDeserialize: (b: Buffer) => (fast && readPredictRequest(b)) || req.toObject(req.decode(b), PLAIN),
      responseSerialize: (v: Plain) => (fast && v instanceof PredictReply ? encodePredictResponse(v) : Buffer.from(res.encode(res.fromObject(v)).finish())),
      responseDeserialize: (b: Buffer) => res.toObject(res.decode(b), PLAIN),
    };
  }
  return def;
}

/** The client-side definitions (for tests and tools): same paths and codecs. */
export function servingServiceDefinitions(): { prediction: grpc.ServiceDefinition; model: grpc.ServiceDefinition } {
  const root = protoRoot(PROTO_FILE);
  return {
    prediction: serviceDefinition(root.lookupService('tensorflow.serving.PredictionService')),
    model: serviceDefinition(root.lookupService('tensorflow.serving.ModelService')),
  };
}

/** ModelSpec -> model name and version selector. */
function specOf(spec: Plain | undefined): { name: string; selector?: VersionSelector; signatureName: string } {
  if (!spec) throw new RequestError('INVALID_ARGUMENT', 'Missing ModelSpec');
  const name: string = spec.name ?? '';
  if (!name) throw new RequestError('INVALID_ARGUMENT', 'ModelSpec has no name specified.'); // ServerCore::GetServableHandle
  let selector: VersionSelector | undefined;
  if (spec.version) selector = { version: Number(spec.version.value ?? 0) };
  else if (spec.versionLabel !== undefined) selector = { label: spec.versionLabel };
  return { name, selector, signatureName: spec.signatureName ?? '' };
}

const responseSpec = (h: ServableHandle, signatureName?: string): Plain => ({
  name: h.name,
  version: { value: h.version },
  ...(signatureName !== undefined ? { signatureName } : {}),
});

/** Runs `body` with a handle for `spec`, releasing it afterwards; aborts when the client cancels. */
async function withHandle<T>(
  lookup: ServableLookup,
  call: grpc.ServerUnaryCall<Plain, Plain>,
  spec: Plain | undefined,
  body: (h: ServableHandle, signatureName: string, signal: CancelSignal) => Promise<T>,
): Promise<T> {
  const { name, selector, signatureName } = specOf(spec);
  // The cheap Cancellation, not an AbortController: one per call showed in the gRPC profile (bench/grpc-profile).
  const abort = new Cancellation();
  const onCancel = () => abort.abort(new RequestError('CANCELLED', 'Client cancelled the request'));
  call.on('cancelled', onCancel);
  const handle = lookup.acquire(name, selector);
  try {
    return await body(handle, signatureName, abort);
  } finally {
    handle.release();
    call.off('cancelled', onCancel);
  }
}

function unary(fn: (call: grpc.ServerUnaryCall<Plain, Plain>) => Promise<Plain>): grpc.handleUnaryCall<Plain, Plain> {
  return (call, callback) => {
    fn(call).then(
      (res) => callback(null, res),
      (err) => callback(toGrpcError(err)),
    );
  };
}

/**
 * Classify and Regress: checks the signature (`check` gives its one tf.Example input), feeds it the request's
 * serialized Examples, runs only `wanted` outputs and builds the response from them (`n`: the example count).
 */
function runExamples(
  lookup: ServableLookup,
  limits: RequestLimits,
  call: grpc.ServerUnaryCall<Plain, Plain>,
  check: (sig: SignatureInfo) => string,
  wanted: (sig: SignatureInfo) => string[],
  respond: (h: ServableHandle, key: string, outputs: Record<string, HostTensor>, n: number) => Plain,
): Promise<Plain> {
  return withHandle(lookup, call, call.request.modelSpec, async (h, sigName, signal) => {
    const key = sigName || 'serving_default';
    const sig = examplesSignature(h.signatures, key);
    const input = check(sig);
    const examples = examplesFromInput(call.request.input);
    const inputs: Record<string, HostTensor> = { [input]: { dtype: 'DT_STRING', shape: [examples.length], data: examples } };
    checkInputs(sig, inputs, limits, examplesBytes(examples));
    const outputs = await h.run(key, inputs, { outputFilter: wanted(sig), signal });
    return respond(h, key, outputs, examples.length);
  });
}

function predictionService(lookup: ServableLookup, limits: RequestLimits): grpc.UntypedServiceImplementation {
  return {
    Predict: unary((call) =>
      withHandle(lookup, call, call.request.modelSpec, async (h, sigName, signal) => {
        const key = sigName || 'serving_default';
        const sig = predictSignature(h.signatures, key);
        const req = call.request;
        const inputs = req instanceof WirePredictRequest ? decodeWireInputs(req, sig, limits) : decodePredictInputs((req.inputs ?? {}) as Record<string, TensorProto>, sig, limits);
        const filter = checkOutputFilter(sig, req.outputFilter);
        const outputs = await h.run(key, inputs, { outputFilter: filter, signal });
        const sent: Record<string, HostTensor> = {};
        for (const alias of filter) if (outputs[alias]) sent[alias] = outputs[alias];
        return new PredictReply(responseSpec(h, key) as ReplySpec, sent) as unknown as Plain; // responseSerialize writes it
      }),
    ),
    Classify: unary((call) =>
      runExamples(lookup, limits, call, checkClassifySignature, (sig) => ['classes', 'scores'].filter((a) => a in sig.outputs), (h, key, outputs, n) => ({
        modelSpec: responseSpec(h, key),
        result: classificationMessage(classificationResult(outputs, n)),
      })),
    ),
    Regress: unary((call) =>
      runExamples(lookup, limits, call, checkRegressSignature, () => ['outputs'], (h, key, outputs, n) => ({
        modelSpec: responseSpec(h, key),
        result: regressionResult(outputs, n),
      })),
    ),
    // The first task's ModelSpec picks the servable (TF Serving's GetModelSpecFromRequest; none: an empty name).
    MultiInference: unary((call) => withHandle(lookup, call, call.request.tasks?.[0]?.modelSpec ?? {}, (h, _sig, signal) => runMultiInference(h, call.request, signal, limits))),
    GetModelMetadata: unary(async (call) => {
      if (!call.request.modelSpec) throw new RequestError('INVALID_ARGUMENT', 'Missing ModelSpec');
      const fields: string[] = call.request.metadataField ?? [];
      if (fields.length === 0) {
        throw new RequestError('INVALID_ARGUMENT', 'GetModelMetadataRequest must specify at least one metadata_field');
      }
      for (const f of fields) {
        if (f !== 'signature_def') throw new RequestError('INVALID_ARGUMENT', `Metadata field ${f} is not supported`);
      }
      return withHandle(lookup, call, call.request.modelSpec, async (h) => {
        const mapType = protoRoot(PROTO_FILE).lookupType('tensorflow.serving.SignatureDefMap');
        const value = mapType.encode(mapType.fromObject({ signatureDef: h.signatureDefs })).finish();
        return {
          modelSpec: responseSpec(h),
          // protobufjs' bundled google.protobuf.Any keeps the proto field name type_url.
          metadata: { signature_def: { type_url: 'type.googleapis.com/tensorflow.serving.SignatureDefMap', value: Buffer.from(value) } },
        };
      });
    }),
  };
}

function modelService(lookup: ServableLookup, reload: ConfigReloader | undefined): grpc.UntypedServiceImplementation {
  return {
    GetModelStatus: unary(async (call) => {
      const { name, selector } = specOf(call.request.modelSpec);
      // TF Serving's GetModelStatusWithModelSpec reads the version only: a version_label gives every version's status.
      return statusResponseMessage(lookup.status(name, selector?.version !== undefined ? selector : undefined));
    }),
    HandleReloadConfigRequest: unary(async (call) => {
      if (!reload) throw new RequestError('UNIMPLEMENTED', 'HandleReloadConfigRequest is not available on this server');
      return handleReloadConfig(call.request, reload);
    }),
  };
}

/** Which server carries the calls: node:http2 with tfsvc's framing (h2-server.ts), or @grpc/grpc-js (the reference). */
export type GrpcImpl = 'h2' | 'grpc-js';
export const GRPC_IMPLS: readonly GrpcImpl[] = ['h2', 'grpc-js'];
export const DEFAULT_GRPC_IMPL: GrpcImpl = 'h2';

/** What services are added to: a grpc-js Server or the h2 server. */
export type GrpcServiceHost = Pick<grpc.Server, 'addService'>;

export interface GrpcServerOptions {
  /** Default DEFAULT_GRPC_IMPL. */
  impl?: GrpcImpl;
  /** 0 picks a free port. */
  port: number;
  /** Default 0.0.0.0 (TF Serving listens on all interfaces). */
  host?: string;
  /** Applies a ReloadConfigRequest's model list (ModelService/HandleReloadConfigRequest); absent: UNIMPLEMENTED. */
  reloadConfig?: ConfigReloader;
  /** TLS for grpc-js (grpc/tls-credentials.ts); default plaintext. */
  credentials?: grpc.ServerCredentials;
  /** TLS for the h2 server (certificates swapped in when the files change); default plaintext. */
  tls?: TlsSource;
  /** Open connections at most (h2 only: --max_connections; 0 or undefined: no cap). */
  maxConnections?: number;
  /** h2 only: a call's request message must be all in within this (--body_timeout_ms; DEADLINE_EXCEEDED). */
  bodyTimeoutMs?: number;
  /** Connections with no call in flight this long are closed (grpc.max_connection_idle_ms); 0: never. */
  idleTimeoutMs?: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS (grpc.max_concurrent_streams). */
  maxConcurrentStreams?: number;
  /** Server keepalive PINGs: every `keepaliveTimeMs`, unanswered after `keepaliveTimeoutMs` cuts the connection. */
  keepaliveTimeMs?: number;
  keepaliveTimeoutMs?: number;
  /** Auth, rate limits, concurrency cap before each call runs (../gate.ts). */
  gate?: Pick<Gate, 'admitGrpc'>;
  /** Further services on the same server (grpc.health.v1.Health: ../health.ts). */
  addServices?: (server: GrpcServiceHost) => void;
  /** Admission control shared with REST (decided before a request message is decoded). */
  admission?: Admission;
  /** Largest request message accepted (grpc-js answers RESOURCE_EXHAUSTED above); default unlimited like TF Serving. */
  maxMessageBytes?: number;
  /** Request limits of the signature check (--max_request_elements); default DEFAULT_LIMITS. */
  limits?: RequestLimits;
}

export interface RunningGrpcServer {
  port: number;
  /** Stops accepting calls, lets running ones finish (up to `graceMs`, then cancels them), then resolves. */
  close(graceMs?: number): Promise<void>;
  /** h2 only: open connections and streams now (tests, metrics). */
  transport?(): { connections: number; streams: number };
}

/** Starts TF Serving's gRPC services on host:port over `lookup`. */
export async function startGrpcServer(lookup: ServableLookup, opts: GrpcServerOptions): Promise<RunningGrpcServer> {
  const defs = servingServiceDefinitions();
  const impl = opts.impl ?? DEFAULT_GRPC_IMPL;
  // TF Serving accepts messages up to 2 GiB; grpc-js defaults to 4 MiB received.
  const maxReceive = opts.maxMessageBytes ?? -1;
  const h2 = impl === 'h2' ? new H2GrpcServer({
    maxReceiveMessageBytes: maxReceive,
    maxConnections: opts.maxConnections,
    tls: opts.tls,
    bodyTimeoutMs: opts.bodyTimeoutMs,
    idleTimeoutMs: opts.idleTimeoutMs,
    maxConcurrentStreams: opts.maxConcurrentStreams,
    keepaliveTimeMs: opts.keepaliveTimeMs,
    keepaliveTimeoutMs: opts.keepaliveTimeoutMs,
  }) : undefined;
  // grpc-js takes the same connection limits as channel arguments (0 there would mean "at once", here "never").
  const positive = (key: string, ms: number): grpc.ServerOptions => (ms > 0 ? { [key]: ms } : {});
  const server = h2
    ? undefined
    : new grpc.Server({
        'grpc.max_receive_message_length': maxReceive,
        'grpc.max_send_message_length': -1,
        'grpc.max_concurrent_streams': opts.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS,
        ...positive('grpc.max_connection_idle_ms', opts.idleTimeoutMs ?? DEFAULT_GRPC_IDLE_TIMEOUT_MS),
        ...positive('grpc.keepalive_time_ms', opts.keepaliveTimeMs ?? DEFAULT_KEEPALIVE_TIME_MS),
        ...positive('grpc.keepalive_timeout_ms', opts.keepaliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS),
      });
  const host: GrpcServiceHost = (h2 ?? server)!;
  const gate = opts.gate;
  const gated = (impl: grpc.UntypedServiceImplementation) => (gate ? gatedService(impl, gate, toGrpcError) : impl);
  // Admission first (on the raw message, before decoding); the gate then sees the decoded request's ModelSpec, so a
  // per-model authorisation check always knows the model.
  const prediction = guardInference(defs.prediction, gated(predictionService(lookup, opts.limits ?? DEFAULT_LIMITS)), { admission: opts.admission ?? new Admission(), lookup, toStatus: toGrpcError });
  host.addService(prediction.definition, prediction.implementation);
  host.addService(defs.model, gated(modelService(lookup, opts.reloadConfig)));
  opts.addServices?.(host);
  const bindHost = opts.host ?? '0.0.0.0';
  if (h2) {
    const port = await h2.listen(bindHost, opts.port);
    return { port, close: (graceMs = 30_000) => h2.close(graceMs), transport: () => ({ connections: h2.connections(), streams: h2.streams() }) };
  }
  const grpcJs = server!;
  const address = bindHost.includes(':') && !bindHost.startsWith('[') ? `[${bindHost}]:${opts.port}` : `${bindHost}:${opts.port}`;
  const port = await new Promise<number>((resolve, reject) => {
    grpcJs.bindAsync(address, opts.credentials ?? grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  return {
    port,
    close: (graceMs = 30_000) =>
      new Promise<void>((resolve) => {
        // tryShutdown stops accepting and lets calls already received finish; forceShutdown cuts what outlives grace.
        const force = setTimeout(() => grpcJs.forceShutdown(), graceMs);
        force.unref();
        grpcJs.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
