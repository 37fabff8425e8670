// Shapes shared by the exporters: a frozen graph (every weight a Const) plus the SignatureDefs that name its tensors.
// This is what the tfjs → SavedModel translators produce and what the SavedModel writer consumes.
import type { GraphDef, SignatureDef } from '../savedmodel/types.js';

/** A self-contained inference graph: no variables, no functions to call, ready to become a SavedModel's meta graph. */
export interface FrozenGraph {
  graphDef: GraphDef;
  /** Signature key (e.g. `serving_default`) → SignatureDef whose TensorInfo names are tensors of `graphDef`. */
  signatures: Record<string, SignatureDef>;
}

/** One weight of a tfjs model, decoded from its binary shards. `dtype` is tfjs's name: float32, int32, bool. */
export interface TfjsWeight {
  name: string;
  dtype: 'float32' | 'int32' | 'bool';
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}
