// Writes a frozen graph as a SavedModel directory that TensorFlow's C++ loader (TF Serving) and saved_model_cli load:
// saved_model.pb with one MetaGraphDef tagged `serve`, nothing else. Every weight is a Const, so there is no
// checkpoint and no variables/ folder (git would not keep an empty one anyway): TF's loader (cc/saved_model/loader.cc
// RunRestore) logs "The specified SavedModel has no variables; no checkpoints were restored" and goes on when
// variables/variables.index is absent.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ModelError, UsageError } from '../errors.js';
import { encodePlain } from '../proto/schema.js';
import type { MetaGraphDef, SavedModel } from '../savedmodel/types.js';
import { version } from '../../version.js';
import type { FrozenGraph } from './types.js';

/** The SavedModel proto for `frozen`, one meta graph with tags `tags` (default ['serve']). */
export function savedModelProto(frozen: FrozenGraph, tags: string[] = ['serve']): SavedModel {
  const names = new Set((frozen.graphDef.node ?? []).map((n) => n.name));
  for (const [key, sig] of Object.entries(frozen.signatures)) {
    for (const [alias, info] of [...Object.entries(sig.inputs ?? {}), ...Object.entries(sig.outputs ?? {})]) {
      const node = (info.name ?? '').replace(/:\d+$/, '');
      if (!names.has(node)) throw new ModelError(`signature ${key}: ${alias} names tensor ${info.name}, which is not in the graph`);
    }
  }
  const metaGraph: MetaGraphDef = {
    metaInfoDef: {
      metaGraphVersion: '',
      tags,
      // tensorflow_version names the TF release that wrote the file; none did, so it stays empty (proto3 default, not
      // written). TF's loaders only copy these two strings onto the loaded object (load.py / load_v1_in_v2.py
      // `root.tensorflow_version`) and gate on nothing but graph_def.versions, which does record the op set targeted:
      // producer 561 = TF 2.4.1's GRAPH_DEF_VERSION (graph-builder.ts GRAPH_VERSIONS). tensorflow_git_version says
      // which program wrote the file, as TF puts its own build there.
      tensorflowGitVersion: `tfsvc ${version}`,
      strippedDefaultAttrs: false,
    },
    graphDef: frozen.graphDef,
    signatureDef: frozen.signatures,
  };
  return { savedModelSchemaVersion: 1, metaGraphs: [metaGraph] };
}

export function savedModelBytes(frozen: FrozenGraph, tags?: string[]): Uint8Array {
  return encodePlain('tensorflow.SavedModel', savedModelProto(frozen, tags) as Record<string, unknown>);
}

/** Writes `frozen` as a SavedModel in `dir`, which must not exist or be empty. Returns the files written. */
export async function writeSavedModel(dir: string, frozen: FrozenGraph, tags?: string[]): Promise<string[]> {
  await ensureEmptyDir(dir);
  const pb = path.join(dir, 'saved_model.pb');
  await writeFile(pb, savedModelBytes(frozen, tags));
  return [pb];
}

/** Creates `dir` (and parents); refuses a folder that already holds files, so an export never mixes two models. */
export async function ensureEmptyDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const existing = await readdir(dir);
  if (existing.length) throw new UsageError(`output folder ${dir} is not empty (${existing.slice(0, 3).join(', ')}${existing.length > 3 ? ', ...' : ''}); refusing to overwrite`);
}
