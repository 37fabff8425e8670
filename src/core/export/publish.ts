// `tfsvc export SRC --repo DIR --name NAME [--version N | --next] [--warmup N]`: publish a model version into a
// TF Serving model repository (DIR/NAME/N) atomically, so a server polling DIR/NAME never sees half a version:
//   1. build the version in a hidden temp dir inside DIR/NAME (same filesystem, so rename is atomic; the name is not
//      numeric, so TF Serving and tfsvc ignore it while it fills);
//   2. validate it (the same checks as `tfsvc validate`), writing the optional generated warmup file with the model
//      validation loaded, before validation replays it;
//   3. fsync every file and directory; rename to DIR/NAME/N; fsync DIR/NAME.
// An existing version is never replaced: rename(2) refuses a non-empty target (ENOTEMPTY), and an explicit --version
// that exists is refused up front. With --next, a concurrent exporter that took N first makes us retry with N+1.
// Ctrl-C (SIGINT), SIGTERM and SIGHUP remove the temp dir before the process dies; only SIGKILL or a crash can leave
// one behind, and a leftover `.tfsvc-export-*` is ignored by every version scan (it is never numeric).
import { chmod, cp, mkdir, mkdtemp, readdir, realpath, rename, rm, rmdir, stat } from 'node:fs/promises';
import { existsSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { EngineModel } from '../engine/model.js';
import type { BackendName } from '../engine/types.js';
import { ModelError, UsageError } from '../errors.js';
import { listVersions, resolveModelDir } from '../savedmodel/layout.js';
import type { MetaGraphDef } from '../savedmodel/types.js';
import type { ValidationReport, VersionReport } from '../validate/report.js';
import { finishReport } from '../validate/report.js';
import { validateVersion } from '../validate/validate.js';
import { fsyncPath, fsyncTree } from './fsync.js';
import { exportTfjsAsSavedModel } from './tfjs-to-savedmodel.js';
import { writeGeneratedWarmup, type WarmupWriteResult } from './warmup.js';

export interface PublishOptions {
  repo: string;
  name: string;
  /** Explicit version; refused when it exists. */
  version?: number;
  /** Use (newest version + 1), or 1 for a new model. The default when `version` is absent. */
  next?: boolean;
  /** Generate this many warmup records (assets.extra/tf_serving_warmup_requests). */
  warmup?: number;
  /** Run validate's checks before publishing (default true). */
  validate?: boolean;
  backend?: BackendName;
  /** Called after the temp dir is complete and before the rename (tests use it to race readers). */
  beforeRename?: (tempDir: string) => Promise<void> | void;
}

export interface PublishResult {
  dir: string;
  version: number;
  source: string;
  sourceKind: 'savedmodel' | 'tfjs-layers' | 'tfjs-graph';
  warmup?: WarmupWriteResult;
  validation?: ValidationReport;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const TEMP_PREFIX = '.tfsvc-export-';

/** The checks on publish options shared by local and object-storage repositories. */
export function checkPublishOptions(opts: PublishOptions): void {
  if (!NAME_RE.test(opts.name)) throw new UsageError(`--name ${JSON.stringify(opts.name)}: use letters, digits, '.', '_' and '-' (it becomes a directory name and the model name in URLs)`);
  if (opts.version !== undefined && opts.next) throw new UsageError('give either --version N or --next, not both');
  if (opts.version !== undefined && (!Number.isSafeInteger(opts.version) || opts.version < 0)) throw new UsageError('--version must be a non-negative integer');
}

export type PreparedVersion = Pick<PublishResult, 'sourceKind' | 'warmup' | 'validation'>;

/**
 * Fills the empty directory `temp` with the version to publish (a copy of a SavedModel or a converted tfjs model),
 * makes it readable by any server, and validates it (writing the optional warmup file with the model validation
 * loaded). Throws ModelError when validation fails: nothing may be published then. Shared by the local and the
 * object-storage publishers, so both publish exactly what `tfsvc validate` accepts.
 */
export async function prepareVersion(src: string, temp: string, opts: PublishOptions): Promise<PreparedVersion> {
  const sourceKind = await fill(src, temp);
  // mkdtemp makes a private (0700) directory and cp keeps the source's modes (0600 files, read-only directories):
  // a published version must be readable like any other directory (TF Serving often runs as another user), and the
  // temp dir must stay writable (warmup file) and removable.
  await normalizeModes(temp, currentUmask());
  let warmup: WarmupWriteResult | undefined;
  let validation: ValidationReport | undefined;
  if (opts.validate !== false) {
    // The warmup file is generated with the model validation loads, so a big model is loaded once, not twice.
    const afterLoad = opts.warmup
      ? async (model: EngineModel, meta: MetaGraphDef) => {
          warmup = await writeGeneratedWarmup(temp, opts.name, opts.warmup!, { backend: opts.backend, model, meta });
        }
      : undefined;
    const report: VersionReport = await validateVersion(temp, { backend: opts.backend, afterLoad });
    validation = finishReport(temp, [report]);
    if (!validation.ok) {
      const failed = report.checks.filter((c) => c.status === 'fail').map((c) => `${c.check}: ${c.detail}`);
      throw new ModelError(`not published: validation failed (${failed.join('; ')})`);
    }
  } else if (opts.warmup) {
    warmup = await writeGeneratedWarmup(temp, opts.name, opts.warmup, { backend: opts.backend });
  }
  return { sourceKind, warmup, validation };
}

/** `err` with mentions of the temp copy replaced by the source the user named (the temp dir is gone by then). */
export function namingSource(err: unknown, temp: string, src: string): unknown {
  if (err instanceof Error && err.message.includes(temp)) err.message = err.message.split(temp).join(path.resolve(src));
  return err;
}

export async function publishModel(src: string, opts: PublishOptions): Promise<PublishResult> {
  checkPublishOptions(opts);

  const base = path.resolve(opts.repo, opts.name);
  // The first directory this export created (repo/ or repo/name/), removed again if nothing gets published into it.
  const created = await mkdir(base, { recursive: true });
  const existing = opts.version !== undefined ? versionDir(base, opts.version) : undefined;
  if (existing) {
    await removeCreatedDirs(base, created);
    throw new UsageError(`${existing} already exists: refusing to overwrite a published version (use --next or another --version)`);
  }

  // The temp dir's name is chosen and guarded before it is created: a signal that lands between the directory's
  // creation and the handler's registration would otherwise leave it behind.
  const temp = path.join(base, `${TEMP_PREFIX}${randomBytes(6).toString('base64url')}`);
  const guard = removeOnSignal(temp);
  try {
    await mkdir(temp, { mode: 0o700 });
  } catch (err) {
    guard.disarm();
    throw err;
  }
  try {
    const { sourceKind, warmup, validation } = await prepareVersion(src, temp, opts);
    await fsyncTree(temp);
    await opts.beforeRename?.(temp);

    let version = opts.version ?? nextVersion(base);
    for (let attempt = 0; ; attempt++) {
      const target = path.join(base, String(version));
      try {
        if (versionDir(base, version)) throw Object.assign(new Error('exists'), { code: 'EEXIST' });
        // From here a signal must not delete the temp dir: rename runs on libuv's thread pool, and removing the tree
        // while it moves could empty the version it just published. rename is atomic, so a signal leaves either a
        // whole version or a leftover temp dir.
        guard.renaming = true;
        await rename(temp, target);
      } catch (err) {
        guard.renaming = false;
        const code = (err as NodeJS.ErrnoException).code;
        // ENOTDIR/EISDIR: a plain file holds the number (listVersions skips files, so nextVersion can land on it).
        if (code !== 'EEXIST' && code !== 'ENOTEMPTY' && code !== 'ENOTDIR' && code !== 'EISDIR') throw err;
        if (opts.version !== undefined || attempt >= 20) {
          throw new UsageError(`${target} already exists: refusing to overwrite a published version`);
        }
        version = Math.max(nextVersion(base), version + 1);
        continue;
      }
      await fsyncPath(base);
      return { dir: target, version, source: src, sourceKind, warmup, validation };
    }
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    await removeCreatedDirs(base, created);
    // Validation ran on the temp copy; a message naming it would point at a directory that no longer exists.
    throw namingSource(err, temp, src);
  } finally {
    guard.disarm();
  }
}

/** Removes `base` and its parents up to `created` (what mkdir -p made), each only if empty. */
async function removeCreatedDirs(base: string, created: string | undefined): Promise<void> {
  if (!created) return;
  for (let dir = base; dir.length >= created.length; dir = path.dirname(dir)) {
    try {
      await rmdir(dir);
    } catch {
      return; // not empty (another export published into it meanwhile) or already gone
    }
    if (dir === created) return;
  }
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * While armed, SIGINT/SIGTERM/SIGHUP remove `dir` and then kill the process with the same signal (the default action
 * our listener replaced), so an interrupted export leaves nothing behind. Not while `renaming` (see the rename above).
 * `onInterrupt` runs (synchronously) just before the process dies: to say what an interrupted upload left behind.
 */
export function removeOnSignal(dir: string, onInterrupt?: (signal: NodeJS.Signals) => void): { renaming: boolean; disarm: () => void } {
  const guard = {
    renaming: false,
    disarm: () => {
      for (const s of SIGNALS) process.off(s, onSignal);
    },
  };
  const onSignal = (signal: NodeJS.Signals) => {
    guard.disarm();
    if (!guard.renaming) {
      try {
        // A copy still running on libuv's threads can add entries while the tree is removed (ENOTEMPTY): retry.
        rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
      } catch {
        // Dying anyway; a leftover temp dir is ignored by version scans.
      }
    }
    onInterrupt?.(signal);
    process.kill(process.pid, signal);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  return guard;
}

/** Directories 0777 and files 0666 (0755/0644 under the usual umask): readable by any server, writable by us. */
async function normalizeModes(dir: string, umask: number): Promise<void> {
  await chmod(dir, 0o777 & ~umask);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await normalizeModes(p, umask);
    else await chmod(p, 0o666 & ~umask);
  }
}

function currentUmask(): number {
  const old = process.umask(0o022);
  process.umask(old);
  return old;
}

/**
 * The entry that holds version `n` under `base`, under any spelling: TF Serving reads `00000003` as version 3, so
 * publishing `3` beside it would give the server two directories for one version.
 */
function versionDir(base: string, n: number): string | undefined {
  const plain = path.join(base, String(n));
  return existsSync(plain) ? plain : listVersions(base).versions.find((v) => v.version === n)?.dir;
}

/** Newest numeric version under `base` + 1; 1 when there is none. */
export function nextVersion(base: string): number {
  const { versions } = listVersions(base);
  return versions.length ? versions[versions.length - 1]!.version + 1 : 1;
}

/** Copies a SavedModel (a version dir, or a base dir's newest version) or converts a tfjs model.json into `temp`. */
async function fill(src: string, temp: string): Promise<PublishResult['sourceKind']> {
  let st;
  try {
    st = await stat(src);
  } catch {
    throw new UsageError(`${src}: no such file or directory`);
  }
  if (st.isFile()) {
    if (!src.endsWith('.json')) throw new UsageError(`${src}: expected a SavedModel directory or a TensorFlow.js model.json`);
    const r = await exportTfjsAsSavedModel(src, temp);
    return r.kind === 'layers-model' ? 'tfjs-layers' : 'tfjs-graph';
  }
  const { dir } = resolveModelDir(src);
  // Copying a SavedModel into a folder inside itself would recurse (cp refuses with an obscure error).
  const real = await realpath(dir);
  if ((await realpath(temp)).startsWith(real + path.sep)) {
    throw new UsageError(`${dir} contains the repository's model folder ${path.dirname(temp)}: publish into a repository outside the SavedModel`);
  }
  await cp(dir, temp, { recursive: true, errorOnExist: false, force: true, dereference: true });
  return 'savedmodel';
}
