// Writes tfjs ModelArtifacts to disk in tensorflowjs_converter's layout: model.json (format, topology, weightsManifest,
// signature) plus weight shards `group1-shardKofN.bin` of at most 4 MB each (the converter's default shard size, which
// browsers cache well). `tf.loadGraphModel('file://.../model.json')` (tfjs-node) or an http URL loads the result.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { io } from '@tensorflow/tfjs-core';
import { version } from '../../version.js';
import { ensureEmptyDir } from './savedmodel-writer.js';

export const SHARD_BYTES = 4 * 1024 * 1024;

/** All weight bytes of `artifacts` as one buffer (tfjs 4 allows an ArrayBuffer or a list of them). */
export function weightBytes(artifacts: io.ModelArtifacts): Uint8Array {
  const wd = artifacts.weightData as ArrayBuffer | ArrayBuffer[] | undefined;
  if (!wd) return new Uint8Array(0);
  if (!Array.isArray(wd)) return new Uint8Array(wd);
  return new Uint8Array(Buffer.concat(wd.map((b) => new Uint8Array(b))));
}

export interface TfjsWriteResult {
  modelJson: string;
  shards: string[];
  weightBytes: number;
}

/** Writes `artifacts` into `outDir` (created; must be new or empty). */
export async function writeTfjsGraphModel(outDir: string, artifacts: io.ModelArtifacts, shardBytes = SHARD_BYTES): Promise<TfjsWriteResult> {
  await ensureEmptyDir(outDir);
  const bytes = weightBytes(artifacts);
  const count = Math.max(1, Math.ceil(bytes.byteLength / shardBytes));
  const shards: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `group1-shard${i + 1}of${count}.bin`;
    await writeFile(path.join(outDir, name), bytes.subarray(i * shardBytes, Math.min(bytes.byteLength, (i + 1) * shardBytes)));
    shards.push(name);
  }
  const json = {
    format: artifacts.format ?? 'graph-model',
    generatedBy: artifacts.generatedBy ?? `tfsvc ${version}`,
    convertedBy: `tfsvc ${version}`,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: shards, weights: artifacts.weightSpecs ?? [] }],
    ...(artifacts.signature ? { signature: artifacts.signature } : {}),
    ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
  };
  const modelJson = path.join(outDir, 'model.json');
  await writeFile(modelJson, JSON.stringify(json));
  return { modelJson, shards: shards.map((s) => path.join(outDir, s)), weightBytes: bytes.byteLength };
}
