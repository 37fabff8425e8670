// Signatures of one SavedModel usually compute with the same variables (Keras 3 exports `serve` and
// `serving_default` over one function), but each signature is its own tfjs GraphModel with its own copy of every
// weight. This keeps one tensor per distinct weight content across the GraphModels of one loaded model, and drops the
// copy of the weight bytes that GraphModel keeps for `save()` (which tfsvc never calls), so a model costs its weights
// once per thread.
//
// It reaches into GraphModel's private `executor` and `artifacts` (tfjs-converter 4.x): the executor's `weightMap`
// setter also records which tensors are weights, so they are never disposed as intermediates. The engine tests
// check outputs after sharing, so a tfjs change that breaks this shows up there.
import { createHash } from 'node:crypto';
import type * as tf from '@tensorflow/tfjs-core';
import type { io } from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';

type NamedTensorsMap = Record<string, tf.Tensor[]>;

interface GraphModelInternals {
  executor?: { weightMap: NamedTensorsMap };
  artifacts?: io.ModelArtifacts;
}

const ELEMENT_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };

/** Content key of each weight in `artifacts` (dtype, shape and a hash of its bytes), by weight name. */
export function weightKeys(artifacts: io.ModelArtifacts): Map<string, string> {
  const keys = new Map<string, string>();
  const data = new Uint8Array(artifacts.weightData as ArrayBuffer);
  let offset = 0;
  for (const spec of artifacts.weightSpecs ?? []) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    let size: number;
    if (spec.dtype === 'string') {
      size = 0;
      const view = new DataView(data.buffer, data.byteOffset);
      for (let i = 0; i < n; i++) size += 4 + view.getUint32(offset + size, true);
    } else {
      size = n * (ELEMENT_BYTES[spec.dtype] ?? 4);
    }
    const hash = createHash('sha256').update(data.subarray(offset, offset + size)).digest('base64');
    keys.set(spec.name, `${spec.dtype}|${spec.shape.join(',')}|${hash}`);
    offset += size;
  }
  return keys;
}

/** Shares weight tensors between the GraphModels of one loaded model (one instance per loaded model). */
export class WeightSharing {
  private readonly byKey = new Map<string, tf.Tensor>();
  /** Bytes of weight tensors not allocated twice. */
  savedBytes = 0;

  /** Replaces `model`'s weights by already-loaded tensors of equal content; frees its copy of the weight bytes. */
  adopt(model: GraphModel, keys: Map<string, string>): void {
    const internals = model as unknown as GraphModelInternals;
    if (internals.artifacts) internals.artifacts.weightData = undefined;
    const executor = internals.executor;
    if (!executor) return;
    const map: NamedTensorsMap = {};
    for (const [name, tensors] of Object.entries(executor.weightMap)) {
      const key = keys.get(name);
      const own = tensors[0];
      if (!key || !own || tensors.length !== 1) {
        map[name] = tensors;
        continue;
      }
      const shared = this.byKey.get(key);
      if (shared && shared !== own) {
        this.savedBytes += own.size * (ELEMENT_BYTES[own.dtype] ?? 4);
        own.dispose();
        map[name] = [shared];
      } else {
        this.byKey.set(key, own);
        map[name] = tensors;
      }
    }
    executor.weightMap = map;
  }
}
