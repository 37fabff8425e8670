// Where one kind of request goes, whatever the protocol: a label for reports, how its bodies are encoded, and a client
// factory. REST: JSON bodies POSTed to .../v1/models/NAME:VERB. gRPC: encoded PredictRequest / ClassificationRequest /
// RegressionRequest messages for PredictionService.Predict / Classify / Regress. The attack, the histograms and every
// report are the same for both; only this layer differs.
import type { GeneratedExample } from '../engine/generate-inputs.js';
import type { HostTensor } from '../engine/types.js';
import { HttpClient, type ClientOptions, type Outcome } from './client.js';
import { examplesJson } from './examples.js';
import type { GrpcMethod } from './grpc-client.js';
import { GrpcH2Sender } from './grpc-h2.js';
import { examplesRequest, predictRequest } from './grpc-request.js';
import { restPredictBody } from './restbody.js';
import { inferenceUrl, type InferenceVerb, type Target } from './target.js';

/** Sends one encoded request; never rejects. HttpClient and GrpcH2Sender both are one. */
export interface Sender {
  send(body: Buffer): Promise<Outcome>;
  close(): Promise<void>;
}

export interface Endpoint {
  /** For reports: the REST URL, or grpc://host:port/tensorflow.serving.PredictionService/Method. */
  label: string;
  open(o: ClientOptions): Sender;
}

/** Request bodies in the target's protocol. */
export interface BodyEncoder {
  predict(signature: string | undefined, inputs: Record<string, HostTensor>): Buffer;
  examples(verb: 'classify' | 'regress', signature: string | undefined, examples: GeneratedExample[]): Buffer;
}

const GRPC_METHOD: Record<InferenceVerb, GrpcMethod> = { predict: 'Predict', classify: 'Classify', regress: 'Regress' };

/** The endpoint of `target` for `verb`. */
export function endpointOf(target: Target, verb: InferenceVerb = 'predict'): Endpoint {
  if (target.protocol === 'grpc') {
    const method = GRPC_METHOD[verb];
    return {
      label: `${target.origin}/tensorflow.serving.PredictionService/${method} (model ${target.model}${target.version ? `, version ${target.version}` : target.label ? `, label ${target.label}` : ''})`,
      // Bench's hot path goes over the hand-written HTTP/2 client (grpc-h2.ts: why there), TLS and metadata included.
      open: (o) => new GrpcH2Sender(target.grpcAddress!, method, o, target.security),
    };
  }
  const url = inferenceUrl(target, verb);
  return { label: url.href, open: (o) => new HttpClient(url, o, target.security) };
}

/** A REST URL as an endpoint (what runBench and preflight were first written for). */
export function restEndpoint(url: URL): Endpoint {
  return { label: url.href, open: (o) => new HttpClient(url, o) };
}

export function encoderOf(target: Target): BodyEncoder {
  if (target.protocol === 'grpc') {
    return {
      predict: (signature, inputs) => predictRequest(target, signature, inputs),
      examples: (verb, signature, examples) => examplesRequest(target, verb, signature, examples),
    };
  }
  return {
    predict: (signature, inputs) => Buffer.from(JSON.stringify(restPredictBody(signature, inputs))),
    examples: (_verb, signature, examples) => Buffer.from(examplesJson(signature, examples)),
  };
}
