// Reads a SavedModel directory: saved_model.pb (or saved_model.pbtxt when a model ships only that), the names of its
// assets and assets.extra files, and where its checkpoint is. Variables themselves are read on demand (checkpoint.ts).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { decodePlain, protoType } from '../proto/schema.js';
import { ModelError, UsageError } from '../errors.js';
import type { MetaGraphDef, SavedModel } from './types.js';
import { describeFsError, missingGraphFile } from './layout.js';

export interface SavedModelFiles {
  /** The SavedModel directory (absolute). */
  dir: string;
  /** The file the SavedModel was read from: `<dir>/saved_model.pb` or `<dir>/saved_model.pbtxt`. */
  file: string;
  savedModel: SavedModel;
  /** Files under `<dir>/assets`, relative to it, sorted. */
  assets: string[];
  /** Files under `<dir>/assets.extra` (e.g. tf_serving_warmup_requests), relative to it, sorted. */
  assetsExtra: string[];
  /** `<dir>/variables/variables` when the index exists; undefined for models without variables. */
  variablesPrefix?: string;
  /** Layout oddities TensorFlow tolerates but a user should hear about (e.g. `assets` is a file, not a folder). */
  warnings?: string[];
}

/**
 * Reads the SavedModel in `dir`. UsageError when `dir` is missing or has neither saved_model.pb nor .pbtxt; ModelError
 * ("<file>: <problem>") when the protobuf is truncated, garbage, or holds no meta graph.
 */
export async function readSavedModel(dir: string): Promise<SavedModelFiles> {
  const abs = path.resolve(dir);
  try {
    if (!statSync(abs).isDirectory()) throw new UsageError(`${dir}: not a directory`);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${dir}: ${describeFsError(err)}`, { cause: err });
  }
  const pb = path.join(abs, 'saved_model.pb');
  const pbtxt = path.join(abs, 'saved_model.pbtxt');
  let savedModel: SavedModel;
  let file: string;
  if (existsSync(pb)) {
    file = pb;
    savedModel = decodeSavedModel(await readOrThrow(pb), pb);
  } else if (existsSync(pbtxt)) {
    file = pbtxt;
    savedModel = await parseSavedModelText((await readOrThrow(pbtxt)).toString('utf8'), pbtxt);
  } else if (existsSync(path.join(abs, 'variables'))) {
    throw missingGraphFile(abs);
  } else {
    throw new UsageError(`${dir}: not a SavedModel directory (no saved_model.pb or saved_model.pbtxt)`);
  }
  if (!savedModel.metaGraphs?.length) throw new ModelError(`${file}: the SavedModel holds no meta graphs`, file);

  const prefix = path.join(abs, 'variables', 'variables');
  const warnings: string[] = [];
  return {
    dir: abs,
    file,
    savedModel,
    assets: listFiles(abs, 'assets', warnings),
    assetsExtra: listFiles(abs, 'assets.extra', warnings),
    variablesPrefix: existsSync(`${prefix}.index`) ? prefix : undefined,
    warnings,
  };
}

/** Decodes saved_model.pb bytes; ModelError naming `file` for anything protobufjs rejects. */
export function decodeSavedModel(bytes: Uint8Array, file: string): SavedModel {
  if (bytes.length === 0) throw new ModelError(`${file}: file is empty`, file);
  try {
    return decodePlain<SavedModel>('tensorflow.SavedModel', bytes);
  } catch (err) {
    throw new ModelError(`${file}: not a valid SavedModel protobuf (${describeDecodeError(err)})`, file, { cause: err });
  }
}

/**
 * Parses saved_model.pbtxt with the shared text-format parser (src/core/proto/text-format.ts). Fields the schema
 * leaves out are skipped, as decoding saved_model.pb drops them: TF writes many (function specs, debug info, fields
 * newer than proto/tensorflow.proto) and none of them is needed to serve the model. Malformed text is still an error.
 */
async function parseSavedModelText(text: string, file: string): Promise<SavedModel> {
  const { parseTextProto } = await import('../proto/text-format.js');
  try {
    return parseTextProto<SavedModel>(text, protoType('tensorflow.SavedModel'), { skipUnknownFields: true });
  } catch (err) {
    // TextFormatError's message starts with "line:col: ".
    throw new ModelError(`${file}:${(err as Error).message}`, file, { cause: err });
  }
}

/**
 * The meta graph whose tag set equals `tags` (order-insensitive, as TF's loader matches). UsageError listing the
 * available tag sets when there is none.
 */
export function selectMetaGraph(sm: SavedModel, tags: string[] = ['serve']): MetaGraphDef {
  const want = [...new Set(tags)].sort().join(',');
  const graphs = sm.metaGraphs ?? [];
  const found = graphs.find((g) => [...new Set(g.metaInfoDef?.tags ?? [])].sort().join(',') === want);
  if (found) return found;
  const available = graphs.map((g) => `"${(g.metaInfoDef?.tags ?? []).join(',')}"`).join(', ') || 'none';
  throw new UsageError(`no meta graph with tag set "${tags.join(',')}" (available tag sets: ${available})`);
}

/** The tag sets of every meta graph, in file order. */
export function tagSets(sm: SavedModel): string[][] {
  return (sm.metaGraphs ?? []).map((g) => g.metaInfoDef?.tags ?? []);
}

async function readOrThrow(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new ModelError(`${file}: cannot read (${describeFsError(err)})`, file, { cause: err });
  }
}

/** protobufjs' errors say "index out of range: 1234 + 10 > 1240" for truncation; say that in words. */
function describeDecodeError(err: unknown): string {
  const msg = (err as Error)?.message ?? String(err);
  if (/index out of range/.test(msg)) return `truncated: ${msg}`;
  return msg;
}

/** Regular files under `root`, recursively, relative to it and sorted; [] when `root` does not exist. */
/**
 * Files under `<dir>/<name>`, relative to it, sorted. A `<name>` that is a file (a stray placeholder copied with the
 * model) holds no assets: TensorFlow's loader only looks inside the folder, so it is reported in `warnings`, not thrown.
 */
function listFiles(dir: string, name: string, warnings: string[]): string[] {
  const root = path.join(dir, name);
  if (!existsSync(root)) return [];
  if (!statSync(root).isDirectory()) {
    warnings.push(`${name} is a file, not a folder: the model has no ${name} files (TensorFlow reads only ${name}/ as a folder)`);
    return [];
  }
  const out: string[] = [];
  for (const e of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.push(path.relative(root, path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)));
  }
  return out.sort();
}
