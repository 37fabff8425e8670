// Reads a TensorFlow.js model from disk: model.json (Layers or graph format) and its binary weight shards, decoded into
// typed arrays. Format: https://www.tensorflow.org/js/guide/save_load (weightsManifest groups list shard paths in order;
// a group's weights lie back to back across the concatenation of its shards).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ModelError } from '../errors.js';
import { halfToFloat } from '../savedmodel/dtype.js';
import type { TfjsWeight } from './types.js';

export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number };
}

export interface TfjsModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology: Record<string, any>;
  weightsManifest?: { paths: string[]; weights: TfjsWeightSpec[] }[];
  signature?: Record<string, any>;
  userDefinedMetadata?: Record<string, unknown>;
  modelInitializer?: Record<string, any>;
}

export interface TfjsModel {
  /** 'layers-model' (Keras topology) or 'graph-model' (GraphDef topology). */
  kind: 'layers-model' | 'graph-model';
  json: TfjsModelJson;
  weights: Map<string, TfjsWeight>;
  /** Weight names in manifest order. */
  order: string[];
}

/** Reads `modelJsonPath` and every shard it lists. ModelError names the file at fault. */
export async function readTfjsModel(modelJsonPath: string): Promise<TfjsModel> {
  let json: TfjsModelJson;
  try {
    json = JSON.parse(await readFile(modelJsonPath, 'utf8'));
  } catch (err) {
    throw new ModelError(`cannot read tfjs model ${modelJsonPath}: ${(err as Error).message}`, modelJsonPath, { cause: err });
  }
  if (!json || typeof json !== 'object' || !json.modelTopology) {
    throw new ModelError(`${modelJsonPath} is not a TensorFlow.js model.json (no modelTopology)`, modelJsonPath);
  }
  const kind = modelKind(json);
  const dir = path.dirname(modelJsonPath);
  const weights = new Map<string, TfjsWeight>();
  const order: string[] = [];
  for (const group of json.weightsManifest ?? []) {
    const parts: Buffer[] = [];
    for (const p of group.paths) {
      const file = path.join(dir, p);
      try {
        parts.push(await readFile(file));
      } catch (err) {
        throw new ModelError(`weight shard ${p} listed in ${modelJsonPath} cannot be read: ${(err as Error).message}`, file, { cause: err });
      }
    }
    const buf = Buffer.concat(parts);
    let offset = 0;
    for (const spec of group.weights) {
      const w = decodeWeight(spec, buf, offset, modelJsonPath);
      offset += w.bytes;
      weights.set(spec.name, w.weight);
      order.push(spec.name);
    }
    if (offset !== buf.length) {
      throw new ModelError(`weight shards of ${modelJsonPath} hold ${buf.length} bytes but the manifest describes ${offset}`, modelJsonPath);
    }
  }
  return { kind, json, weights, order };
}

function modelKind(json: TfjsModelJson): TfjsModel['kind'] {
  if (json.format === 'graph-model' || Array.isArray(json.modelTopology.node)) return 'graph-model';
  if (json.format === 'layers-model' || json.modelTopology.class_name || json.modelTopology.model_config) return 'layers-model';
  throw new ModelError('model.json is neither a tfjs Layers model (Keras topology) nor a graph model (GraphDef topology)');
}

const ELEMENT_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

function decodeWeight(spec: TfjsWeightSpec, buf: Buffer, offset: number, file: string): { weight: TfjsWeight; bytes: number } {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const q = spec.quantization;
  const storedType = q ? q.dtype : spec.dtype;
  const size = ELEMENT_BYTES[storedType];
  if (size === undefined || spec.dtype === 'string' || spec.dtype === 'complex64') {
    throw new ModelError(`weight ${spec.name} has dtype ${storedType}, which tfsvc cannot convert`, file);
  }
  const bytes = n * size;
  if (offset + bytes > buf.length) throw new ModelError(`weight shards of ${file} end before weight ${spec.name}`, file);
  const raw = new Uint8Array(buf.buffer.slice(buf.byteOffset + offset, buf.byteOffset + offset + bytes));
  let data: TfjsWeight['data'];
  if (q) {
    // Quantized weights are widened back to their declared dtype: affine for uint8/uint16, IEEE half for float16.
    const src = q.dtype === 'uint8' ? raw : new Uint16Array(raw.buffer); // uint16 and float16 are both 2-byte codes
    const f = new Float32Array(n);
    for (let i = 0; i < n; i++) f[i] = q.dtype === 'float16' ? halfToFloat(src[i]!) : src[i]! * (q.scale ?? 1) + (q.min ?? 0);
    data = spec.dtype === 'int32' ? Int32Array.from(f, Math.round) : f;
  } else if (spec.dtype === 'float32') data = new Float32Array(raw.buffer);
  else if (spec.dtype === 'int32') data = new Int32Array(raw.buffer);
  else data = raw;
  return { weight: { name: spec.name, dtype: spec.dtype as TfjsWeight['dtype'], shape: spec.shape, data }, bytes };
}

/** tfjs dtype name → TF dtype name. */
export function tfDtype(tfjs: string): string {
  switch (tfjs) {
    case 'float32':
      return 'DT_FLOAT';
    case 'int32':
      return 'DT_INT32';
    case 'bool':
      return 'DT_BOOL';
    case 'string':
      return 'DT_STRING';
  }
  throw new ModelError(`tfjs dtype ${tfjs} has no TensorFlow equivalent that tfsvc writes`);
}
