// `tfsvc export SRC --repo DIR --name NAME [--version N | --next] [--warmup N]`: publish a model version into a
// TF Serving model repository (DIR/NAME/N) atomically, so a server polling DIR/NAME never sees half a version:
//   1. build the version in a hidden temp dir inside DIR/NAME (same filesystem, so rename is atomic; the name is not
//      numeric, so TF Serving and tfsvc ignore it while it fills);
//   2. optionally write a generated warmup file; validate it (the same checks as `tfsvc validate`);
//   3. fsync every file and directory; rename to DIR/NAME/N; fsync DIR/NAME.
// An existing version is never replaced: rename(2) refuses a non-empty target (ENOTEMPTY), and an explicit --version
// that exists is refused up front. With --next, a concurrent exporter that took N first makes us retry with N+1.
import { chmod, cp, mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { BackendName } from '../engine/types.js';
import { ModelError, UsageError } from '../errors.js';
import { listVersions, resolveModelDir } from '../savedmodel/layout.js';
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

export async function publishModel(src: string, opts: PublishOptions): Promise<PublishResult> {
  if (!NAME_RE.test(opts.name)) throw new UsageError(`--name ${JSON.stringify(opts.name)}: use letters, digits, '.', '_' and '-' (it becomes a directory name and the model name in URLs)`);
  if (opts.version !== undefined && opts.next) throw new UsageError('give either --version N or --next, not both');
  if (opts.version !== undefined && (!Number.isSafeInteger(opts.version) || opts.version < 0)) throw new UsageError('--version must be a non-negative integer');

  const base = path.resolve(opts.repo, opts.name);
  await mkdir(base, { recursive: true });
  if (opts.version !== undefined && existsSync(path.join(base, String(opts.version)))) {
    throw new UsageError(`${path.join(base, String(opts.version))} already exists: refusing to overwrite a published version (use --next or another --version)`);
  }

  const temp = await mkdtemp(path.join(base, TEMP_PREFIX));
  try {
    // mkdtemp makes a private (0700) directory; a published version must be readable like any other directory
    // (TF Serving often runs as another user).
    await chmod(temp, 0o777 & ~currentUmask());
    const sourceKind = await fill(src, temp);
    let warmup: WarmupWriteResult | undefined;
    if (opts.warmup) warmup = await writeGeneratedWarmup(temp, opts.name, opts.warmup, { backend: opts.backend });
    let validation: ValidationReport | undefined;
    if (opts.validate !== false) {
      const report: VersionReport = await validateVersion(temp, { backend: opts.backend });
      validation = finishReport(temp, [report]);
      if (!validation.ok) {
        const failed = report.checks.filter((c) => c.status === 'fail').map((c) => `${c.check}: ${c.detail}`);
        throw new ModelError(`not published: validation failed (${failed.join('; ')})`);
      }
    }
    await fsyncTree(temp);
    await opts.beforeRename?.(temp);

    let version = opts.version ?? nextVersion(base);
    for (let attempt = 0; ; attempt++) {
      const target = path.join(base, String(version));
      try {
        if (existsSync(target)) throw Object.assign(new Error('exists'), { code: 'EEXIST' });
        await rename(temp, target);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw err;
        if (opts.version !== undefined || attempt >= 20) {
          throw new UsageError(`${target} already exists: refusing to overwrite a published version`);
        }
        version = nextVersion(base);
        continue;
      }
      await fsyncPath(base);
      return { dir: target, version, source: src, sourceKind, warmup, validation };
    }
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
}

function currentUmask(): number {
  const old = process.umask(0o022);
  process.umask(old);
  return old;
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
  await cp(dir, temp, { recursive: true, errorOnExist: false, force: true, dereference: true });
  return 'savedmodel';
}
