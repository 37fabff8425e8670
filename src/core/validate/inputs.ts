// Generated inputs for validating a signature: dtype- and shape-aware, seeded, `batch` rows for unknown batch dims.
// Numeric inputs come from load/tensorgen (floats in [0,1), small ints). A DT_STRING input that the graph feeds to
// ParseExample/ParseExampleV2 (classify/regress signatures, Estimator exports) gets serialized tf.Examples carrying
// every dense feature the parser asks for, with the right type and length, so the real parsing path runs.
import type { HostTensor, SignatureInfo } from '../engine/types.js';
import { encodeExample, type FeatureValues } from '../engine/example.js';
import { seededRandom, type Random } from '../load/prng.js';
import { concreteShape, randomTensor } from '../load/tensorgen.js';
import type { MetaGraphDef, NodeDef, TensorProto } from '../savedmodel/types.js';

export interface DenseFeature {
  key: string;
  dtype: string;
  shape: number[];
}

/** Dense features that the graph's ParseExample(V2) nodes read, found in the graph and its function library. */
export function exampleFeatures(meta: MetaGraphDef): DenseFeature[] {
  const scopes: NodeDef[][] = [meta.graphDef?.node ?? [], ...(meta.graphDef?.library?.function ?? []).map((f) => f.nodeDef ?? [])];
  const out = new Map<string, DenseFeature>();
  for (const nodes of scopes) {
    const consts = new Map(nodes.filter((n) => n.op === 'Const').map((n) => [n.name!, n.attr?.value?.tensor]));
    const stringsOf = (ref: string): string[] => {
      const t: TensorProto | undefined = consts.get(ref.replace(/^\^/, '').split(':')[0]!);
      return (t?.stringVal ?? []).map((b) => Buffer.from(b).toString('utf8'));
    };
    for (const n of nodes) {
      if (n.op !== 'ParseExample' && n.op !== 'ParseExampleV2') continue;
      const inputs = (n.input ?? []).filter((i) => !i.startsWith('^'));
      const types = n.attr?.Tdense?.list?.type ?? [];
      const shapes = (n.attr?.dense_shapes?.list?.shape ?? []).map((s) => (s.dim ?? []).map((d) => d.size ?? 0));
      let keys: string[];
      if (n.op === 'ParseExampleV2') keys = stringsOf(inputs[3] ?? '');
      else {
        const nSparse = n.attr?.Nsparse?.i ?? 0;
        const nDense = n.attr?.Ndense?.i ?? types.length;
        keys = inputs.slice(2 + nSparse, 2 + nSparse + nDense).flatMap(stringsOf);
      }
      keys.forEach((key, i) => out.set(key, { key, dtype: types[i] ?? 'DT_FLOAT', shape: shapes[i] ?? [] }));
    }
  }
  return [...out.values()];
}

function randomExample(features: DenseFeature[], random: Random): Uint8Array {
  const f: Record<string, FeatureValues> = {};
  for (const feat of features) {
    const n = feat.shape.reduce((a, b) => a * Math.max(b, 1), 1);
    if (feat.dtype === 'DT_INT64') f[feat.key] = { kind: 'int64', values: Array.from({ length: n }, () => Math.floor(random() * 10)) };
    else if (feat.dtype === 'DT_STRING') f[feat.key] = { kind: 'bytes', values: Array.from({ length: n }, () => Buffer.from('a')) };
    else f[feat.key] = { kind: 'float', values: Array.from({ length: n }, () => Math.round(random() * 1000) / 1000) };
  }
  return encodeExample(f);
}

/** Names of the top-level DT_STRING placeholders of a meta graph. */
export function stringPlaceholders(meta: MetaGraphDef): Set<string> {
  return new Set((meta.graphDef?.node ?? []).filter((n) => n.op === 'Placeholder' && n.attr?.dtype?.type === 'DT_STRING').map((n) => n.name!));
}

export interface GeneratedInputs {
  inputs: Record<string, HostTensor>;
  notes: string[];
}

/**
 * Inputs for one run of `sig`: `batch` rows where the first dimension is unknown, `unknownDim` for other unknown dims.
 * `features` (from exampleFeatures) shape the tf.Examples sent to string inputs of classify/regress signatures.
 */
export function generateSignatureInputs(sig: SignatureInfo, o: { batch: number; seed?: number; unknownDim?: number; features?: DenseFeature[]; stringPlaceholders?: Set<string> }): GeneratedInputs {
  const random = seededRandom(o.seed ?? 1);
  const notes: string[] = [];
  const inputs: Record<string, HostTensor> = {};
  // Classify and regress requests carry serialized tf.Examples into a string placeholder, whatever dtype the signature
  // declares (TF Serving's own half_plus_three testdata declares DT_FLOAT for its DT_STRING tf_example placeholder).
  const exampleMethod = sig.methodName.endsWith('/classify') || sig.methodName.endsWith('/regress');
  const examples = exampleMethod || (o.features?.length ?? 0) > 0;
  for (const [alias, spec] of Object.entries(sig.inputs)) {
    const shape = concreteShape(alias, spec, { batch: o.batch, random, unknownDim: o.unknownDim ?? 1 }, notes);
    if ((spec.dtype === 'DT_STRING' && examples) || (exampleMethod && (o.stringPlaceholders?.has(spec.name.replace(/:0$/, '')) ?? false))) {
      const n = shape.reduce((a, b) => a * b, 1);
      inputs[alias] = { dtype: 'DT_STRING', shape, data: Array.from({ length: n }, () => randomExample(o.features ?? [], random)) };
    } else {
      inputs[alias] = randomTensor(spec.dtype, shape, random);
    }
  }
  return { inputs, notes };
}
