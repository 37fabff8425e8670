// Where a SavedModel lives on disk. TF Serving's layout is a model *base* directory whose children named by a number
// are versions (`/models/half_plus_two/00000123`); any other child is ignored (file_system_storage_path_source.cc).
// A user may also point straight at one version directory. Everything here is synchronous and cheap (a few stats).
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ModelError, UsageError } from '../errors.js';

export interface ModelVersionDir {
  version: number;
  dir: string;
}

export interface VersionListing {
  /** Numeric subdirectories, ascending by version number. */
  versions: ModelVersionDir[];
  /** Names of non-numeric subdirectories, which TF Serving (and tfsvc) ignore. */
  ignored: string[];
}

/** Files that make a directory a SavedModel, in the order TF's loader looks for them. */
export const SAVED_MODEL_FILES = ['saved_model.pb', 'saved_model.pbtxt'] as const;

/** True when `dir` holds saved_model.pb or saved_model.pbtxt. */
export function isSavedModelDir(dir: string): boolean {
  return SAVED_MODEL_FILES.some((f) => existsSync(path.join(dir, f)));
}

/** A version directory name: digits only, as TF Serving parses it (leading zeros allowed: `00000123` is 123). */
export function parseVersionName(name: string): number | undefined {
  if (!/^\d+$/.test(name)) return undefined;
  const v = Number(name);
  return Number.isSafeInteger(v) ? v : undefined;
}

/** Numeric version subdirectories of `baseDir` (following symlinks), and the non-numeric ones it ignores. */
export function listVersions(baseDir: string): VersionListing {
  let names: string[];
  try {
    names = readdirSync(baseDir);
  } catch (err) {
    throw new UsageError(`${baseDir}: ${describeFsError(err)}`, { cause: err });
  }
  const versions: ModelVersionDir[] = [];
  const ignored: string[] = [];
  for (const name of names.sort()) {
    const dir = path.join(baseDir, name);
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      // A dangling symlink is neither a version nor worth a note.
    }
    if (!isDir) continue;
    const version = parseVersionName(name);
    if (version === undefined) ignored.push(name);
    else versions.push({ version, dir });
  }
  versions.sort((a, b) => a.version - b.version);
  return { versions, ignored };
}

export interface ResolvedModelDir {
  /** The SavedModel directory to read (holds saved_model.pb or .pbtxt). */
  dir: string;
  /** Version number: from the chosen subdirectory, or from a numeric version directory's own name. */
  version?: number;
  /** The base directory when `path` was one (versions were listed); undefined when `path` was a version directory. */
  baseDir?: string;
  /** All versions found under baseDir (empty when `path` was a version directory). */
  versions: ModelVersionDir[];
  /** Non-numeric subdirectories of baseDir that were ignored. */
  ignored: string[];
}

/**
 * Resolves what the user typed to one SavedModel directory: a version directory as is, or a base directory's newest
 * version (or `version` when given). UsageError for a missing path, a missing version, or a directory that is neither;
 * ModelError for a directory that looks like a broken SavedModel (it has variables/ but no saved_model.pb).
 */
export function resolveModelDir(p: string, version?: number): ResolvedModelDir {
  const abs = path.resolve(p);
  let st;
  try {
    st = statSync(abs);
  } catch (err) {
    throw new UsageError(`${p}: ${describeFsError(err)}`, { cause: err });
  }
  if (!st.isDirectory()) throw new UsageError(`${p}: not a directory (expected a SavedModel directory or a model base directory)`);

  if (isSavedModelDir(abs)) {
    const own = parseVersionName(path.basename(abs));
    if (version !== undefined && own !== version) {
      throw new UsageError(`${p} is a SavedModel directory${own !== undefined ? ` for version ${own}` : ''}; --version ${version} needs the model's base directory`);
    }
    return { dir: abs, version: own, versions: [], ignored: [] };
  }

  const { versions, ignored } = listVersions(abs);
  if (versions.length === 0) {
    if (existsSync(path.join(abs, 'variables'))) throw missingGraphFile(abs);
    const note = ignored.length ? ` (ignored non-numeric subdirectories: ${ignored.join(', ')})` : '';
    throw new UsageError(`${p}: not a SavedModel directory (no saved_model.pb or saved_model.pbtxt) and no numeric version subdirectories${note}`);
  }
  let chosen: ModelVersionDir | undefined;
  if (version !== undefined) {
    chosen = versions.find((v) => v.version === version);
    if (!chosen) throw new UsageError(`${p}: no version ${version} (versions: ${versions.map((v) => v.version).join(', ')})`);
  } else {
    chosen = versions[versions.length - 1]!;
  }
  return { dir: chosen.dir, version: chosen.version, baseDir: abs, versions, ignored };
}

/** The error for `dir` that has variables/ but neither saved_model.pb nor .pbtxt: a SavedModel missing its graph. */
export function missingGraphFile(dir: string): ModelError {
  const file = path.join(dir, 'saved_model.pb');
  return new ModelError(`${file}: missing (the directory has variables/ but no saved_model.pb or saved_model.pbtxt)`, file);
}

/** 'no such file or directory' etc. from a Node fs error. */
export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOTDIR') return 'not a directory';
  return (err as Error)?.message ?? String(err);
}
