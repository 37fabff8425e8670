// What a meta graph says about its tf.Example inputs, for generating requests a classify/regress signature (or an
// Estimator export) really parses: the dense features its ParseExample/ParseExampleV2 nodes read, with their type and
// length, and its top-level DT_STRING placeholders (the tensor a tf.Example batch is fed into).
import type { ExampleInputs, FeatureSpec } from '../engine/generate-inputs.js';
import type { MetaGraphDef, NodeDef, TensorProto } from './types.js';

/** Dense features that the graph's ParseExample(V2) nodes read, found in the graph and its function library. */
export function exampleFeatures(meta: MetaGraphDef): FeatureSpec[] {
  const scopes: NodeDef[][] = [meta.graphDef?.node ?? [], ...(meta.graphDef?.library?.function ?? []).map((f) => f.nodeDef ?? [])];
  const out = new Map<string, FeatureSpec>();
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
      keys.forEach((key, i) => {
        const dtype = types[i] ?? 'DT_FLOAT';
        // A dense feature's values per example: its dense shape flattened (an unknown dim counted as 1).
        const length = (shapes[i] ?? []).reduce((a, b) => a * Math.max(b, 1), 1);
        out.set(key, { name: key, kind: dtype === 'DT_INT64' ? 'int64' : dtype === 'DT_STRING' ? 'bytes' : 'float', length });
      });
    }
  }
  return [...out.values()];
}

/** Names of the top-level DT_STRING placeholders of a meta graph. */
export function stringPlaceholders(meta: MetaGraphDef): Set<string> {
  return new Set((meta.graphDef?.node ?? []).filter((n) => n.op === 'Placeholder' && n.attr?.dtype?.type === 'DT_STRING').map((n) => n.name!));
}

/** Both of the above: what generateInputs needs to send tf.Examples this graph parses. */
export function exampleInputs(meta: MetaGraphDef): ExampleInputs {
  return { features: exampleFeatures(meta), stringPlaceholders: stringPlaceholders(meta) };
}
