// SignatureDefs as the rest of tfsvc sees them (SignatureInfo in host-tensor.ts): dtype names, shapes with
// -1 for unknown dimensions and null for unknown rank, graph tensor names. Sparse and composite TensorInfos have no
// single tensor name; they are reported with the values tensor name (sparse) or '' (composite).
import type { SignatureInfo, TensorSpec } from './host-tensor.js';
import type { MetaGraphDef, SignatureDef, TensorInfo, TensorShapeProto } from './types.js';

/** Shape with -1 for unknown dims, null for unknown rank, [] for a scalar. */
export function shapeOf(shape: TensorShapeProto | undefined): number[] | null {
  // An unset TensorShapeProto is TF's default shape: rank 0 (a scalar), not unknown rank.
  if (!shape) return [];
  if (shape.unknownRank) return null;
  return (shape.dim ?? []).map((d) => d.size ?? 0);
}

export function tensorSpec(info: TensorInfo): TensorSpec {
  return {
    name: info.name ?? info.cooSparse?.valuesTensorName ?? '',
    dtype: info.dtype ?? 'DT_INVALID',
    shape: shapeOf(info.tensorShape),
  };
}

export function signatureInfo(key: string, def: SignatureDef): SignatureInfo {
  const specs = (m: Record<string, TensorInfo> | undefined) =>
    Object.fromEntries(Object.keys(m ?? {}).sort().map((alias) => [alias, tensorSpec(m![alias]!)]));
  return { key, methodName: def.methodName ?? '', inputs: specs(def.inputs), outputs: specs(def.outputs) };
}

/** Every signature of a meta graph, keyed and sorted by signature key. */
export function signatureInfos(meta: MetaGraphDef): Record<string, SignatureInfo> {
  const defs = meta.signatureDef ?? {};
  return Object.fromEntries(Object.keys(defs).sort().map((k) => [k, signatureInfo(k, defs[k]!)]));
}
