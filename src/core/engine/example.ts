// tf.Example decoding (tensorflow/core/example/example.proto) for the ParseExample custom ops: a serialized Example is
// a map from feature name to one of bytes_list / float_list / int64_list.
import { protoType } from '../proto/schema.js';

export type FeatureValues =
  | { kind: 'bytes'; values: Uint8Array[] }
  | { kind: 'float'; values: number[] }
  | { kind: 'int64'; values: number[] };

interface DecodedFeature {
  bytesList?: { value?: Uint8Array[] };
  floatList?: { value?: number[] };
  int64List?: { value?: number[] };
}

/** Decodes one serialized tf.Example into feature name → values. Throws protobufjs' error on malformed bytes. */
export function decodeExample(bytes: Uint8Array): Map<string, FeatureValues> {
  const type = protoType('tensorflow.Example');
  const plain = type.toObject(type.decode(bytes), { longs: Number, arrays: false, defaults: false }) as {
    features?: { feature?: Record<string, DecodedFeature> };
  };
  const out = new Map<string, FeatureValues>();
  for (const [name, f] of Object.entries(plain.features?.feature ?? {})) {
    if (f.floatList) out.set(name, { kind: 'float', values: f.floatList.value ?? [] });
    else if (f.int64List) out.set(name, { kind: 'int64', values: f.int64List.value ?? [] });
    else if (f.bytesList) out.set(name, { kind: 'bytes', values: f.bytesList.value ?? [] });
    else out.set(name, { kind: 'float', values: [] });
  }
  return out;
}

/** Encodes features as a serialized tf.Example (for tests, warmup data and `run` conveniences). */
export function encodeExample(features: Record<string, FeatureValues>): Uint8Array {
  const type = protoType('tensorflow.Example');
  const feature: Record<string, DecodedFeature> = {};
  for (const [name, f] of Object.entries(features)) {
    if (f.kind === 'float') feature[name] = { floatList: { value: f.values } };
    else if (f.kind === 'int64') feature[name] = { int64List: { value: f.values } };
    else feature[name] = { bytesList: { value: f.values } };
  }
  return type.encode(type.fromObject({ features: { feature } })).finish();
}
