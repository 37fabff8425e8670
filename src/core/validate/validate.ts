// `tfsvc validate`: the CI gate before a model ships. For every version of a model (or every model of a repository):
//   layout     numeric version directories, saved_model.pb present and decodable, a `serve` meta graph
//   checksums  every checkpoint entry read back with its CRC32C verified (TF's own check), every shard present
//   load       the graph converts, every op is one the engine runs (ops tfjs lacks are named with their nodes), and
//              every signature runs on generated inputs at batch 1 and 2, sequence length 1 and 3 (load-proof.ts)
//   inference  each signature runs on generated, dtype/shape-aware inputs; outputs have the signature's dtype and
//              known dims and hold only finite numbers
//   golden     (--golden F) outputs match expected values within tolerances
//   warmup     assets.extra/tf_serving_warmup_requests, when present, parses and every predict record runs
// Nothing here prints: callers render the ValidationReport.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { generateInputs, type ExampleInputs } from '../engine/generate-inputs.js';
import { loadModel, type EngineModel } from '../engine/model.js';
import { modelSourceFrom, type ModelSource } from '../graph/build.js';
import type { BackendName, HostTensor, SignatureInfo } from '../engine/types.js';
import { UsageError } from '../errors.js';
import { seededRandom } from '../prng.js';
import { openCheckpoint, type Checkpoint } from '../savedmodel/checkpoint.js';
import { baseDtype } from '../savedmodel/dtype.js';
import { exampleInputs } from '../savedmodel/example-features.js';
import { isSavedModelDir, listVersions, parseVersionName } from '../savedmodel/layout.js';
import { readSavedModel, selectMetaGraph, type SavedModelFiles } from '../savedmodel/reader.js';
import type { MetaGraphDef } from '../savedmodel/types.js';
import { compareGolden, goldenInputs, type Golden } from './golden.js';
import { warmupCheck } from './warmup-check.js';
import { describeInputs as describe, message, proveLoad } from './load-proof.js';
import { finishReport, type CheckResult, type ValidationReport, type VersionReport } from './report.js';

export interface ValidateOptions {
  /** Rows for unknown batch dimensions (default 2: catches models that only work at batch 1). */
  batch?: number;
  /** Only this signature (default: every servable signature). */
  signature?: string;
  golden?: Golden;
  backend?: BackendName;
  tags?: string[];
  /**
   * Called with the loaded model once the load check passed, before inference (export --warmup writes its warmup
   * file here, so the warmup check replays it and the model is loaded once). Errors it throws propagate.
   */
  afterLoad?: (model: EngineModel, meta: MetaGraphDef) => Promise<void>;
}

/** What a path holds: one SavedModel, a model base directory (numeric versions), or a repository of base directories. */
export type TargetKind = 'savedmodel' | 'model' | 'repository';

export function targetKind(p: string): TargetKind {
  let st;
  try {
    st = statSync(p);
  } catch {
    throw new UsageError(`${p}: no such file or directory`);
  }
  if (!st.isDirectory()) throw new UsageError(`${p}: not a directory (expected a SavedModel, a model base directory or a model repository)`);
  if (isSavedModelDir(p)) return 'savedmodel';
  const { versions, ignored } = listVersions(p);
  if (versions.length) return 'model';
  if (modelFolders(p, ignored).some((d) => isSavedModelDir(d) || listVersions(d).versions.length > 0)) return 'repository';
  if (existsSync(path.join(p, 'variables'))) return 'savedmodel'; // broken SavedModel: let layout say what is missing
  throw new UsageError(`${p}: neither a SavedModel (no saved_model.pb), a model base directory (no numeric version subdirectories) nor a repository of them`);
}

/**
 * The model base directories of a repository: its non-numeric subdirectories (listVersions already skipped files and
 * dangling links), except hidden ones: `.tfsvc-export-*` temp dirs of an export in progress, `.git`, ...
 */
function modelFolders(repo: string, subdirs: string[]): string[] {
  return subdirs.filter((n) => !n.startsWith('.')).map((n) => path.join(repo, n));
}

/** Validates `target` (see targetKind) and returns the report; throws only for usage errors. */
export async function validateTarget(target: string, opts: ValidateOptions = {}): Promise<ValidationReport> {
  const abs = path.resolve(target);
  const kind = targetKind(abs);
  const versions: VersionReport[] = [];
  if (kind === 'savedmodel') {
    versions.push(await validateVersion(abs, opts));
  } else {
    const models = kind === 'model' ? [abs] : modelFolders(abs, listVersions(abs).ignored);
    for (const base of models) {
      const name = path.basename(base);
      if (kind === 'repository' && isSavedModelDir(base)) {
        // A folder of bare SavedModels (no version subdirectories): validate each, and say TF Serving needs versions.
        const r = await validateVersion(base, opts);
        r.model = name;
        r.checks.unshift({ check: 'layout', status: 'warn', detail: `${name}/ is a SavedModel without a numeric version directory; TF Serving needs ${name}/<version>/saved_model.pb` });
        versions.push(r);
        continue;
      }
      const { versions: found, ignored } = listVersions(base);
      if (!found.length) {
        if (kind === 'repository') {
          versions.push({ model: name, dir: base, ok: false, checks: [{ check: 'layout', status: 'warn', detail: 'no numeric version subdirectories: TF Serving would serve nothing from this folder' }] });
        }
        continue;
      }
      for (const v of found) {
        const r = await validateVersion(v.dir, opts);
        r.model = name;
        if (ignored.length && v === found[found.length - 1]) {
          r.checks.unshift({ check: 'layout', status: 'warn', detail: `${name}/ has non-numeric subdirectories TF Serving ignores: ${ignored.join(', ')}` });
        }
        versions.push(r);
      }
    }
  }
  return finishReport(target, versions);
}

/** All checks on one SavedModel directory. */
export async function validateVersion(dir: string, opts: ValidateOptions = {}): Promise<VersionReport> {
  const report: VersionReport = { dir, version: parseVersionName(path.basename(dir)), ok: false, checks: [] };
  const add = (c: CheckResult) => report.checks.push(c);
  const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
    const t0 = performance.now();
    const v = await fn();
    return [v, round(performance.now() - t0)];
  };

  // layout
  let meta: MetaGraphDef;
  let files: SavedModelFiles;
  let variablesPrefix: string | undefined;
  try {
    files = await readSavedModel(dir);
    meta = selectMetaGraph(files.savedModel, opts.tags ?? ['serve']);
    variablesPrefix = files.variablesPrefix;
    const sigs = Object.keys(meta.signatureDef ?? {}).filter((k) => !k.startsWith('__'));
    const size = statSync(files.file).size;
    if (!sigs.length) {
      add({ check: 'layout', status: 'fail', detail: `${path.basename(files.file)} has no signatures: TF Serving could not serve it` });
      return report;
    }
    add({ check: 'layout', status: 'pass', detail: `${path.basename(files.file)} (${kb(size)}), tags [${(meta.metaInfoDef?.tags ?? []).join(',')}], signatures: ${sigs.join(', ')}` });
    for (const w of files.warnings ?? []) add({ check: 'layout', status: 'warn', detail: w });
  } catch (err) {
    add({ check: 'layout', status: 'fail', detail: message(err) });
    return report;
  }

  // checksums. The engine's view of the model (ModelSource) is built here, on the SavedModel decoded above and the
  // checkpoint opened here, and handed to loadModel: saved_model.pb is decoded once, and every checkpoint tensor is read
  // and CRC-checked once. Building it reads (and verifies) the TF2 object graph; its variable keys name the tensors
  // freezing will need, and those are kept in its variable cache as they are verified, the others dropped.
  let source: ModelSource | undefined;
  if (!variablesPrefix) {
    const hasDir = nonEmptyDir(path.join(dir, 'variables'));
    add({ check: 'checksums', status: hasDir ? 'fail' : 'pass', detail: hasDir ? 'variables/ holds files but no variables.index' : 'no variables (weights are graph constants)' });
    source = engineSource(files, meta);
  } else {
    try {
      const [res, ms] = await timed(async () => {
        const ckpt = await openCheckpoint(variablesPrefix!);
        source = engineSource(files, meta, ckpt);
        const wanted = new Set(source?.variableKeys.values() ?? []);
        let bytes = 0;
        const keys = ckpt.keys();
        for (const k of keys) {
          const e = ckpt.entry(k);
          if (e.slices?.length) continue; // partitioned variable: the entry itself holds no data
          if (!ckpt.verified(k)) {
            const value = ckpt.read(k);
            if (wanted.has(k)) source!.variableCache.set(k, value);
          }
          bytes += e.size ?? 0;
        }
        return { n: keys.length, bytes };
      });
      add({ check: 'checksums', status: 'pass', detail: `${res.n} checkpoint entr${res.n === 1 ? 'y' : 'ies'}, ${kb(res.bytes)}, every CRC32C verified`, ms });
    } catch (err) {
      add({ check: 'checksums', status: 'fail', detail: message(err) });
      return report;
    }
  }

  // load + op support
  let model: EngineModel;
  let bad: [string, string][];
  try {
    const [m, ms] = await timed(() => loadModel(dir, { backend: opts.backend, tags: opts.tags, signatures: opts.signature ? [opts.signature] : undefined, source }));
    model = m;
    source = undefined; // the loaded model holds its own copy of the weights: let the checkpoint tensors go
    bad = Object.entries(model.unavailable);
    for (const [key, why] of bad) add({ check: `ops:${key}`, status: 'fail', detail: `signature ${key} ${why}` });
    const n = Object.keys(model.signatures).length;
    if (bad.length) {
      add({ check: 'load', status: 'fail', detail: `${bad.length} signature${bad.length === 1 ? '' : 's'} cannot run; ${n} can`, ms });
    } else {
      // "Every op supported" only once every signature has actually run (load-proof.ts).
      const [proof, proofMs] = await timed(() => proveLoad(model, exampleInputs(meta)));
      const failed = Object.entries(proof.failures);
      const skipped = Object.entries(proof.skipped).map(([k, why]) => `; ${k} not run (${why})`).join('');
      if (failed.length) {
        add({ check: 'load', status: 'fail', detail: failed.map(([k, why]) => `signature ${k} ${why}`).join('; '), ms: round(ms + proofMs) });
        bad = failed;
      } else {
        add({ check: 'load', status: 'pass', detail: `graph converted on ${model.backend}; every op supported and ran (${proof.ran}; ${n} signature${n === 1 ? '' : 's'})${skipped}`, ms: round(ms + proofMs) });
      }
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    add({ check: 'load', status: 'fail', detail: message(err) });
    return report;
  }

  try {
    if (opts.afterLoad && !bad.length) await opts.afterLoad(model, meta);
    const gen = exampleInputs(meta);
    const batch = opts.batch ?? 2;
    for (const [key, sig] of Object.entries(model.signatures)) {
      add(await inferenceCheck(model, key, sig, batch, gen, recordedOutputShapes(meta, key)));
      const golden = opts.golden?.[key];
      if (golden) add(await goldenCheck(model, key, sig, golden));
    }
    const warm = await warmupCheck(dir, model, opts.signature);
    if (warm) add(warm);
    for (const key of Object.keys(opts.golden ?? {})) {
      if (!model.signatures[key] && !model.unavailable[key]) add({ check: `golden:${key}`, status: 'fail', detail: `golden file names signature ${key}, which the model does not have` });
    }
  } finally {
    model.dispose();
  }
  return report;
}

/**
 * The ModelSource loadModel would open itself, built from what validate already read; undefined when building it
 * fails (an object graph that does not decode, ...): loadModel then opens the model on its own and the load check
 * reports the problem exactly as it would without this reuse (a corrupt object graph fails the checksum loop first).
 */
function engineSource(files: SavedModelFiles, meta: MetaGraphDef, checkpoint?: Checkpoint): ModelSource | undefined {
  try {
    return modelSourceFrom(files, meta, checkpoint);
  } catch {
    return undefined;
  }
}

/**
 * Output aliases whose SignatureDef entry records a shape. An absent tensor_shape reads as a scalar, but some exports
 * (TF Serving's half_plus_three testdata) simply never wrote one, and TensorFlow does not check shapes against the
 * SignatureDef, so validate only holds outputs to shapes that were actually recorded.
 */
function recordedOutputShapes(meta: MetaGraphDef, key: string): Set<string> {
  const outputs = meta.signatureDef?.[key]?.outputs ?? {};
  return new Set(Object.keys(outputs).filter((a) => outputs[a]!.tensorShape));
}

async function inferenceCheck(
  model: EngineModel,
  key: string,
  sig: SignatureInfo,
  batch: number,
  gen: ExampleInputs,
  shapedOutputs: Set<string>,
): Promise<CheckResult> {
  const check = `inference:${key}`;
  let inputs: Record<string, HostTensor>;
  let notes: string[];
  try {
    ({ inputs, notes } = generateInputs(sig.inputs, { batch, values: seededRandom(1), examples: { method: sig.methodName, ...gen } }));
  } catch (err) {
    return { check, status: 'skip', detail: `cannot generate inputs: ${message(err)}` };
  }
  const t0 = performance.now();
  let outputs: Record<string, HostTensor>;
  try {
    outputs = await model.run(key, inputs);
  } catch (err) {
    return { check, status: 'fail', detail: `run failed on generated inputs ${describe(inputs)}: ${message(err)}` };
  }
  const ms = round(performance.now() - t0);
  const problems: string[] = [];
  for (const [alias, spec] of Object.entries(sig.outputs)) {
    const out = outputs[alias];
    if (!out) {
      problems.push(`output ${alias} missing`);
      continue;
    }
    if (out.dtype !== baseDtype(spec.dtype)) problems.push(`output ${alias} is ${out.dtype}, signature says ${spec.dtype}`);
    if (spec.shape && shapedOutputs.has(alias)) {
      const fits = spec.shape.length === out.shape.length && spec.shape.every((d, i) => d < 0 || d === out.shape[i]);
      if (!fits) problems.push(`output ${alias} has shape [${out.shape.join(',')}], signature says [${spec.shape.join(',')}]`);
    }
    const bad = nonFinite(out);
    if (bad) problems.push(`output ${alias} holds ${bad} non-finite value${bad === 1 ? '' : 's'} (NaN/Inf)`);
  }
  const summary = `${describe(inputs)} → ${describe(outputs)}`;
  if (problems.length) return { check, status: 'fail', detail: `${problems.join('; ')} (${summary})`, ms };
  return { check, status: 'pass', detail: `${summary}; finite${notes.length ? `; ${notes.join('; ')}` : ''}`, ms };
}

async function goldenCheck(model: EngineModel, key: string, sig: SignatureInfo, golden: Golden[string]): Promise<CheckResult> {
  const check = `golden:${key}`;
  try {
    const inputs = goldenInputs(golden, sig);
    const t0 = performance.now();
    const outputs = await model.run(key, inputs, Object.keys(golden.outputs).filter((a) => sig.outputs[a]));
    const ms = round(performance.now() - t0);
    const r = compareGolden(golden, outputs);
    const tol = `atol ${golden.atol}, rtol ${golden.rtol}`;
    if (!r.ok) return { check, status: 'fail', detail: `${r.problems.join('; ')} (${tol})`, ms };
    return { check, status: 'pass', detail: `${r.values} values match, max |diff| ${r.maxAbsError.toPrecision(2)} (${tol})`, ms };
  } catch (err) {
    return { check, status: 'fail', detail: message(err) };
  }
}

function nonEmptyDir(dir: string): boolean {
  try {
    return readdirSync(dir).length > 0;
  } catch {
    return false; // absent, or not a directory: no checkpoint either way
  }
}

/** Milliseconds to 0.1 ms: the JSON report carries timings, not noise. */
function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

function nonFinite(t: HostTensor): number {
  if (!(t.data instanceof Float32Array || t.data instanceof Float64Array)) return 0;
  let n = 0;
  for (const v of t.data) if (!Number.isFinite(v)) n++;
  return n;
}

function kb(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
