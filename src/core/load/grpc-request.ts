// Request messages for TF Serving's gRPC API, encoded once before a run: PredictRequest from HostTensors (typed
// value fields, as TF Serving's own clients send them; serving/grpc/tensor-field.ts), Classification/RegressionRequest
// from generated tf.Examples, GetModelMetadataRequest. The ModelSpec carries the model, version or label and signature
// that a REST URL carries in its path.
import type { FeatureValues } from '../engine/example.js';
import type { GeneratedExample } from '../engine/generate-inputs.js';
import type { HostTensor } from '../engine/types.js';
import { decodePlain, encodePlain } from '../proto/schema.js';
import { hostToTensorProtoField } from '../wire/tensor-field.js';
import type { Target } from './target.js';

const FILE = 'tensorflow_serving.proto';

/** The ModelSpec of `target` (version or label when given; the signature when not the server's default). */
export function modelSpec(target: Target, signature: string | undefined): Record<string, unknown> {
  return {
    name: target.model,
    ...(target.version !== undefined ? { version: { value: target.version } } : target.label !== undefined ? { versionLabel: target.label } : {}),
    ...(signature !== undefined ? { signatureName: signature } : {}),
  };
}

export function predictRequest(target: Target, signature: string | undefined, inputs: Record<string, HostTensor>): Buffer {
  const protoInputs = Object.fromEntries(Object.entries(inputs).map(([alias, t]) => [alias, hostToTensorProtoField(t)]));
  return Buffer.from(encodePlain('tensorflow.serving.PredictRequest', { modelSpec: modelSpec(target, signature), inputs: protoInputs }, FILE));
}

/** A tf.Example as a plain message (feature name → one typed list). */
function exampleMessage(ex: GeneratedExample): Record<string, unknown> {
  const list = (f: FeatureValues) =>
    f.kind === 'float' ? { floatList: { value: f.values } } : f.kind === 'int64' ? { int64List: { value: f.values } } : { bytesList: { value: f.values } };
  return { features: { feature: Object.fromEntries(Object.entries(ex).map(([name, f]) => [name, list(f)])) } };
}

/** A ClassificationRequest or RegressionRequest (the same fields) with `examples` in an ExampleList. */
export function examplesRequest(target: Target, verb: 'classify' | 'regress', signature: string | undefined, examples: GeneratedExample[]): Buffer {
  const type = verb === 'classify' ? 'tensorflow.serving.ClassificationRequest' : 'tensorflow.serving.RegressionRequest';
  return Buffer.from(encodePlain(type, { modelSpec: modelSpec(target, signature), input: { exampleList: { examples: examples.map(exampleMessage) } } }, FILE));
}

export function metadataRequest(target: Target): Buffer {
  return Buffer.from(encodePlain('tensorflow.serving.GetModelMetadataRequest', { modelSpec: modelSpec(target, undefined), metadataField: ['signature_def'] }, FILE));
}

type Plain = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * A GetModelMetadataResponse as the REST metadata JSON (model_spec, metadata.signature_def.signature_def with
 * snake_case fields), so one parser (metadata.ts parseMetadata) reads both APIs' answers.
 */
export function metadataResponseAsJson(bytes: Buffer): unknown {
  const res = decodePlain<Plain>('tensorflow.serving.GetModelMetadataResponse', bytes, FILE);
  const any = res.metadata?.signature_def;
  if (!any?.value) return { model_spec: {}, metadata: {} };
  const map = decodePlain<Plain>('tensorflow.serving.SignatureDefMap', any.value, FILE);
  const signatureDef: Record<string, unknown> = {};
  for (const [name, sig] of Object.entries<Plain>(map.signatureDef ?? {})) {
    signatureDef[name] = {
      method_name: sig.methodName,
      inputs: Object.fromEntries(
        Object.entries<Plain>(sig.inputs ?? {}).map(([alias, info]) => [
          alias,
          { dtype: info.dtype, tensor_shape: { dim: (info.tensorShape?.dim ?? []).map((d: Plain) => ({ size: d.size ?? 0 })), unknown_rank: info.tensorShape?.unknownRank ?? false } },
        ]),
      ),
    };
  }
  const version = res.modelSpec?.version?.value;
  return { model_spec: { name: res.modelSpec?.name, version: version === undefined ? undefined : String(version) }, metadata: { signature_def: { signature_def: signatureDef } } };
}
