// `tfsvc inspect` as data: everything the command prints, gathered from disk into one plain, JSON-ready document
// (InspectReport). The command only renders it (src/commands/inspect.ts, render.ts here), so tests and scripts get the
// same facts as the screen. The shape is documented in docs/inspect.md; `format` changes if it ever changes.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SignatureInfo } from '../engine/types.js';
import { openCheckpoint, OBJECT_GRAPH_KEY, type Checkpoint } from '../savedmodel/checkpoint.js';
import { readSavedModel, selectMetaGraph, tagSets } from '../savedmodel/reader.js';
import { resolveModelDir } from '../savedmodel/layout.js';
import { signatureInfos } from '../savedmodel/signatures.js';
import { numElements } from '../savedmodel/dtype.js';
import { savedObjectKind, type MetaGraphDef, type SavedObjectGraph, type TrackableObjectGraph } from '../savedmodel/types.js';

export const REPORT_FORMAT = 'tfsvc.inspect/v1';

/** A tensor value for the report: a number, or the exact decimal string of an int64 beyond ±2^53. */
export function exactValue(v: number | bigint): number | string {
  if (typeof v !== 'bigint') return v;
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

export interface InspectOptions {
  /** Version to inspect when the path is a base directory (default: newest). */
  version?: number;
  /** Meta graph tag set (default ['serve']; when the model has a single meta graph and no tags were asked for, that one). */
  tags?: string[];
  /** Add ops, functions, the object graph, and variable values (CRC-verified). */
  all?: boolean;
  /** Check every variable's CRC32C (reads all variable data). Default true. */
  verify?: boolean;
  /** Only the signatures: skip the checkpoint entirely. */
  signaturesOnly?: boolean;
}

export interface VariableReport {
  /** Checkpoint key, e.g. `a` (TF1) or `layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE` (TF2). */
  key: string;
  /** The variable's own name from the SavedModel's object graph (TF2), e.g. `dense/kernel`; null when unknown. */
  name: string | null;
  dtype: string;
  shape: number[];
  /** Bytes the tensor takes in its shard. */
  bytes: number;
  shard: number;
  /** True for optimizer slot variables (`.OPTIMIZER_SLOT` keys): saved with the model, unused for serving. */
  optimizerSlot: boolean;
  /**
   * Up to 8 values for small numeric tensors, with --all; null otherwise. 64-bit integers a JSON number cannot hold
   * exactly (beyond ±2^53) are decimal strings, every digit kept; other values are numbers.
   */
  values: Array<number | string> | null;
}

export interface CheckpointReport {
  prefix: string;
  shards: number;
  /** Sum of `bytes` over variables. */
  totalBytes: number;
  /** 'ok' when every CRC32C was checked and matched; 'skipped' when not checked (--signatures, --no-verify). */
  crc: 'ok' | 'skipped';
  variables: VariableReport[];
}

export interface InspectReport {
  format: typeof REPORT_FORMAT;
  /** 'disk' for a directory, 'url' for a TF Serving-compatible server. */
  source: 'disk' | 'url';
  /** What the user typed. */
  path: string;
  /** The SavedModel directory inspected (absolute) or the metadata URL. */
  dir: string;
  /** saved_model.pb / saved_model.pbtxt path; null for a URL. */
  file: string | null;
  version: number | null;
  /** Versions found in the base directory (or reported by the server); [] when a version directory was given. */
  versions: number[];
  /** Non-numeric subdirectories of the base directory, ignored as TF Serving ignores them. */
  ignoredDirs: string[];
  savedModelSchemaVersion: number | null;
  /** Tag sets of every meta graph in the file. */
  tagSets: string[][];
  /** Tag set of the meta graph reported below. */
  tags: string[];
  producer: {
    tensorflowVersion: string | null;
    tensorflowGitVersion: string | null;
    graphProducer: number | null;
    graphMinConsumer: number | null;
    kerasVersion: string | null;
  };
  /** Keyed by signature key, sorted. */
  signatures: Record<string, SignatureInfo>;
  assets: string[];
  assetsExtra: string[];
  /** null when the model has no variables/ (or with --signatures). */
  checkpoint: CheckpointReport | null;
  /** Counts of the graph's nodes and function-library bodies. */
  graph: { nodes: number; functions: number };
  /** --all: every op type in the graph and function bodies, by count (descending). */
  ops?: { op: string; count: number }[];
  /** --all: the function library. */
  functions?: { name: string; inputs: number; outputs: number; nodes: number }[];
  /** --all: TF2 object graph node counts by kind (userObject, variable, function, ...); null for TF1 models. */
  objectGraph?: { nodes: number; kinds: Record<string, number> } | null;
  /** Layout oddities TensorFlow tolerates (an `assets` file where a folder belongs); absent when there are none. */
  warnings?: string[];
}

/** Reads the model at `path` (a version dir or a base dir) and builds the report. Errors are UsageError/ModelError. */
export async function inspectModel(path: string, options: InspectOptions = {}): Promise<InspectReport> {
  const resolved = resolveModelDir(path, options.version);
  const files = await readSavedModel(resolved.dir);
  const sm = files.savedModel;
  const graphs = sm.metaGraphs ?? [];
  // A model with one meta graph is inspected whatever its tags, unless the user asked for a tag set explicitly.
  const meta = !options.tags && graphs.length === 1 ? graphs[0]! : selectMetaGraph(sm, options.tags ?? ['serve']);
  const objectGraph = meta.objectGraphDef;

  let checkpoint: CheckpointReport | null = null;
  if (files.variablesPrefix && !options.signaturesOnly) {
    const ck = await openCheckpoint(files.variablesPrefix);
    checkpoint = checkpointReport(ck, objectGraph, options);
  }

  const library = meta.graphDef?.library?.function ?? [];
  const report: InspectReport = {
    format: REPORT_FORMAT,
    source: 'disk',
    path,
    dir: files.dir,
    file: files.file,
    version: resolved.version ?? null,
    versions: resolved.versions.map((v) => v.version),
    ignoredDirs: resolved.ignored,
    savedModelSchemaVersion: sm.savedModelSchemaVersion ?? null,
    tagSets: tagSets(sm),
    tags: meta.metaInfoDef?.tags ?? [],
    producer: {
      tensorflowVersion: meta.metaInfoDef?.tensorflowVersion ?? null,
      tensorflowGitVersion: meta.metaInfoDef?.tensorflowGitVersion ?? null,
      graphProducer: meta.graphDef?.versions?.producer ?? null,
      graphMinConsumer: meta.graphDef?.versions?.minConsumer ?? null,
      kerasVersion: kerasVersion(objectGraph) ?? (await kerasMetadataVersion(files.dir)),
    },
    signatures: signatureInfos(meta),
    assets: files.assets,
    assetsExtra: files.assetsExtra,
    checkpoint,
    graph: { nodes: meta.graphDef?.node?.length ?? 0, functions: library.length },
  };
  if (files.warnings?.length) report.warnings = files.warnings;
  if (options.all) {
    report.ops = opCounts(meta);
    report.functions = library
      .map((f) => ({
        name: f.signature?.name ?? '',
        inputs: f.signature?.inputArg?.length ?? 0,
        outputs: f.signature?.outputArg?.length ?? 0,
        nodes: f.nodeDef?.length ?? 0,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    report.objectGraph = objectGraph?.nodes?.length ? objectGraphKinds(objectGraph) : null;
  }
  return report;
}

function checkpointReport(ck: Checkpoint, objectGraph: SavedObjectGraph | undefined, options: InspectOptions): CheckpointReport {
  const verify = options.verify !== false;
  const names = variableNames(ck.objectGraph(), objectGraph);
  const variables: VariableReport[] = [];
  const shards = new Set<number>();
  for (const key of ck.keys()) {
    if (key === OBJECT_GRAPH_KEY) {
      if (verify) ck.read(key);
      continue;
    }
    const e = ck.entry(key);
    const shape = ck.shape(key);
    let values: Array<number | string> | null = null;
    // A partitioned variable's own entry holds no data (its slices are entries of their own, read and checked here).
    if ((verify || options.all) && !e.slices?.length) {
      const t = ck.read(key); // verifies the CRC
      if (options.all && !Array.isArray(t.data) && numElements(shape) <= 8) {
        values = Array.from(t.data as ArrayLike<number | bigint>, exactValue);
      }
    }
    shards.add(e.shardId ?? 0);
    variables.push({
      key,
      name: names.get(key) ?? null,
      dtype: e.dtype ?? 'DT_INVALID',
      shape,
      bytes: e.size ?? 0,
      shard: e.shardId ?? 0,
      optimizerSlot: key.includes('/.OPTIMIZER_SLOT/'),
      values,
    });
  }
  return {
    prefix: ck.prefix,
    shards: ck.header.numShards ?? shards.size,
    totalBytes: variables.reduce((s, v) => s + v.bytes, 0),
    crc: verify || options.all ? 'ok' : 'skipped',
    variables,
  };
}

/**
 * Checkpoint key → variable name. In a TF2 SavedModel the checkpoint's TrackableObjectGraph and the meta graph's
 * SavedObjectGraph number their nodes identically, so node i's VARIABLE_VALUE key names SavedObjectGraph node i's variable.
 */
function variableNames(ckGraph: TrackableObjectGraph | undefined, objectGraph: SavedObjectGraph | undefined): Map<string, string> {
  const names = new Map<string, string>();
  if (!ckGraph?.nodes || !objectGraph?.nodes) return names;
  ckGraph.nodes.forEach((node, i) => {
    const v = objectGraph.nodes![i]?.variable;
    if (!v?.name) return;
    for (const a of node.attributes ?? []) {
      if (a.name === 'VARIABLE_VALUE' && a.checkpointKey) names.set(a.checkpointKey, v.name);
    }
  });
  return names;
}

/** Keras 2 stores `"keras_version": "2.4.0"` in its user objects' JSON metadata; Keras 3 exports record none. */
function kerasVersion(objectGraph: SavedObjectGraph | undefined): string | null {
  for (const n of objectGraph?.nodes ?? []) {
    const m = n.userObject?.metadata;
    if (!m) continue;
    const match = /"keras_version"\s*:\s*"([^"]+)"/.exec(m);
    if (match) return match[1]!;
  }
  return null;
}

/**
 * TF 2.6+ Keras moved that metadata out of the object graph into `keras_metadata.pb` beside saved_model.pb (a Keras
 * SavedMetadata proto whose nodes carry the same JSON text). The JSON strings sit in the file as raw UTF-8, so the
 * version is read with the same pattern without decoding the proto (its schema is Keras', not TensorFlow's).
 */
async function kerasMetadataVersion(dir: string): Promise<string | null> {
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir, 'keras_metadata.pb'));
  } catch {
    return null;
  }
  return /"keras_version"\s*:\s*"([^"]+)"/.exec(bytes.toString('latin1'))?.[1] ?? null;
}

function opCounts(meta: MetaGraphDef): { op: string; count: number }[] {
  const counts = new Map<string, number>();
  const add = (op: string | undefined) => counts.set(op ?? '', (counts.get(op ?? '') ?? 0) + 1);
  for (const n of meta.graphDef?.node ?? []) add(n.op);
  for (const f of meta.graphDef?.library?.function ?? []) for (const n of f.nodeDef ?? []) add(n.op);
  return [...counts].map(([op, count]) => ({ op, count })).sort((a, b) => b.count - a.count || a.op.localeCompare(b.op));
}

function objectGraphKinds(g: SavedObjectGraph): { nodes: number; kinds: Record<string, number> } {
  const kinds: Record<string, number> = {};
  for (const n of g.nodes ?? []) {
    const k = savedObjectKind(n) ?? 'none';
    kinds[k] = (kinds[k] ?? 0) + 1;
  }
  return { nodes: g.nodes?.length ?? 0, kinds };
}
