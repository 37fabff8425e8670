// Lookup tables (tf.lookup, Keras StringLookup / IntegerLookup / TextVectorization, feature-column vocabularies).
// TensorFlow fills a table when the model loads, and a lookup reaches it only through a resource handle:
//   - the init op (`__saved_model_init_op`, TF1's main_op / legacy_init_op / table_initializer) imports constants
//     (LookupTableImportV2, InitializeTableV2) or reads a vocabulary file from assets/ (InitializeTableFromTextFileV2);
//   - the checkpoint restores MutableHashTables (Keras 2.4-era StringLookup keeps its vocabulary there, as
//     `<object>/.ATTRIBUTES/table-keys` and `-values`).
// tfsvc does that work once, at load, on the host: `loadTables` computes every table's final contents, and
// `bindTables` rewrites each lookup of a signature into `TfsvcTableFind(keys, values, query, default)` over two
// constants (src/core/engine/table-ops.ts), LookupTableSizeV2 into a constant, LookupTableExportV2 into the two
// constants. The graph then holds no resource handle: nothing per request depends on load order or on state.
//
// What is not done: tables a signature writes (LookupTableInsertV2/RemoveV2 outside the init op), tables of tensors
// (MutableHashTableOfTensors), dense hash tables; a signature that still reads such a table is refused at load.
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import type { HostTensor } from '../engine/types.js';
import { ModelError } from '../errors.js';
import type { Checkpoint } from '../savedmodel/checkpoint.js';
import type { SavedModelFiles } from '../savedmodel/reader.js';
import type { FunctionDef, MetaGraphDef, NodeDef } from '../savedmodel/types.js';
import { foldConstants } from './fold.js';
import { calledFunction, inlineCalls } from './inline.js';
import type { OpRegistry } from './opdefs.js';
import { canonicalRef, constValue, splitRef, type WorkGraph } from './work-graph.js';

/** Ops that create a table resource. */
export const TABLE_OPS = new Set([
  'HashTable', 'HashTableV2', 'MutableHashTable', 'MutableHashTableV2', 'MutableHashTableOfTensors',
  'MutableHashTableOfTensorsV2', 'MutableDenseHashTable', 'MutableDenseHashTableV2',
]);
/** Tables tfsvc can fill and serve (scalar keys → scalar values). */
const SUPPORTED_TABLES = new Set(['HashTable', 'HashTableV2', 'MutableHashTable', 'MutableHashTableV2']);
/** Init ops that insert given keys and values: (table, keys, values). */
const IMPORT_OPS = new Set(['LookupTableImportV2', 'LookupTableImport', 'InitializeTableV2', 'InitializeTable', 'LookupTableInsertV2', 'LookupTableInsert']);
/** Init ops that read a text file: (table, filename). */
const TEXT_FILE_OPS = new Set(['InitializeTableFromTextFileV2', 'InitializeTableFromTextFile']);
/** Ops that only pass a handle or value through. */
const PASS_THROUGH = new Set(['Identity', 'Snapshot', 'StopGradient']);

/** The final contents of one table: 1-D keys and values, in insertion order, keys unique. */
export interface TableContents {
  /** TF dtypes of the table (`key_dtype`, `value_dtype`). */
  keyDtype: string;
  valueDtype: string;
  keys: HostTensor;
  values: HostTensor;
  /** Where the contents came from, for messages: `init op`, `checkpoint`, `assets/vocab.txt`, `empty`. */
  source: string;
}

export interface ModelTables {
  /** Top-level table node name → contents. */
  contents: Map<string, TableContents>;
  /** Top-level table node name → why tfsvc cannot serve lookups in it (the signature using it is refused). */
  problems: Map<string, string>;
}

/** What loadTables needs of an opened SavedModel (a ModelSource has all of it). */
export interface TableSource {
  files: SavedModelFiles;
  meta: MetaGraphDef;
  checkpoint?: Checkpoint;
  ops: OpRegistry;
  library: Map<string, FunctionDef>;
}

type Key = string | number;

/** One table being filled: key (latin1 of the bytes, or the number) → [key as stored, value]. */
interface Filling {
  keyDtype: string;
  valueDtype: string;
  entries: Map<Key, [Uint8Array | number, Uint8Array | number]>;
  sources: string[];
}

/**
 * Computes the contents of every table of the meta graph's top-level graph, as TensorFlow's loader leaves them:
 * checkpoint restore first, then the init op. Never throws for one bad table: its problem is recorded, and only the
 * signatures that look keys up in it fail to load.
 */
export async function loadTables(src: TableSource): Promise<ModelTables> {
  const result: ModelTables = { contents: new Map(), problems: new Map() };
  const top = src.meta.graphDef?.node ?? [];
  const tables = new Map(top.filter((n) => TABLE_OPS.has(n.op ?? '')).map((n) => [n.name!, n]));
  if (tables.size === 0) return result;
  const fillings = new Map<string, Filling>();
  for (const [name, node] of tables) {
    if (!SUPPORTED_TABLES.has(node.op!)) {
      result.problems.set(name, `${node.op} tables are not supported by tfsvc (only HashTable and MutableHashTable of scalar keys and values)`);
      continue;
    }
    fillings.set(name, {
      keyDtype: node.attr?.key_dtype?.type ?? 'DT_STRING',
      valueDtype: node.attr?.value_dtype?.type ?? 'DT_INT64',
      entries: new Map(),
      sources: [],
    });
  }
  const fail = (table: string, why: string) => {
    if (!result.problems.has(table)) result.problems.set(table, why);
  };

  // 1. The checkpoint (MutableHashTable vocabularies saved as `<key>-keys` / `<key>-values`).
  for (const [table, keyPrefix] of checkpointTableKeys(src, tables)) {
    const f = fillings.get(table);
    if (!f || !src.checkpoint) continue;
    try {
      const keys = src.checkpoint.read(`${keyPrefix}-keys`);
      const values = src.checkpoint.read(`${keyPrefix}-values`);
      insert(f, keys, values, 'checkpoint', true);
    } catch (err) {
      fail(table, `restoring it from the checkpoint (${keyPrefix}) failed: ${(err as Error).message}`);
    }
  }

  // 2. The init op's table work.
  const g = await initGraph(src);
  const inits = [...g.nodes.values()].filter((n) => IMPORT_OPS.has(n.op ?? '') || TEXT_FILE_OPS.has(n.op ?? ''));
  if (inits.some((n) => IMPORT_OPS.has(n.op!) && n.input!.slice(1).some((r) => !isConst(g, r)))) {
    // Keys or values computed from constants (a Range of ids, a Cast): compute them once, as TF would at load.
    await foldConstants(g, new Set(inits.map((n) => n.name!)));
  }
  for (const node of inits) {
    const table = tableOf(g, node.input?.[0], tables);
    if (!table) continue; // an init op of a table no signature can reach (or of another resource): not ours to run
    const f = fillings.get(table);
    if (!f) continue;
    try {
      if (IMPORT_OPS.has(node.op!)) {
        const [keysRef, valuesRef] = [node.input![1]!, node.input![2]!];
        if (!isConst(g, keysRef) || !isConst(g, valuesRef)) throw new Error(`its keys and values are computed by ops tfsvc cannot evaluate at load time`);
        // HashTable import refuses a second value for a key; MutableHashTable import replaces the contents, insert
        // overwrites. The init op runs once, so only a conflicting duplicate within HashTable's imports is an error.
        const replace = node.op === 'LookupTableImportV2' || node.op === 'LookupTableImport';
        const mutable = tables.get(table)!.op!.startsWith('Mutable');
        if (replace && mutable) f.entries.clear();
        insert(f, valueOf(g, keysRef), valueOf(g, valuesRef), 'init op', mutable);
      } else {
        const fileRef = node.input?.[1];
        if (!fileRef || !isConst(g, fileRef)) throw new Error('its vocabulary file name is not a constant or an asset of the SavedModel');
        const file = Buffer.from((valueOf(g, fileRef).data as Uint8Array[])[0] ?? new Uint8Array()).toString('utf8');
        fillFromTextFile(f, file, node, src.files.dir);
      }
    } catch (err) {
      fail(table, `its init op ${node.name} (${node.op}) failed: ${(err as Error).message}`);
    }
  }

  for (const [name, f] of fillings) {
    if (result.problems.has(name)) continue;
    const op = tables.get(name)!.op!;
    // An uninitialised HashTable makes every TF lookup fail ("Table not initialized"); say so at load instead.
    if (f.sources.length === 0 && !op.startsWith('Mutable')) {
      result.problems.set(name, 'nothing fills it: neither the init op nor the checkpoint writes it, so TensorFlow would fail every lookup ("Table not initialized")');
      continue;
    }
    result.contents.set(name, contentsOf(f));
  }
  return result;
}

/**
 * Rewrites the table reads of a signature's graph (after inlining: a read's handle input is the top-level table node)
 * into constants and TfsvcTableFind. Returns the tables still referenced that tfsvc cannot serve, with the reason.
 */
export function bindTables(g: WorkGraph, tables: ModelTables): Map<string, string> {
  const refused = new Map<string, string>();
  const constants = new Map<string, [keys: string, values: string]>();
  const constantsOf = (table: string, c: TableContents): [string, string] => {
    let names = constants.get(table);
    if (!names) {
      names = [`${table}/tfsvc_keys`, `${table}/tfsvc_values`];
      addConst(g, names[0], c.keys);
      addConst(g, names[1], c.values);
      constants.set(table, names);
    }
    return names;
  };
  for (const node of [...g.nodes.values()]) {
    const op = node.op ?? '';
    if (!TABLE_READ_OPS.has(op)) continue;
    const table = handleSource(g, node.input?.[0]);
    if (!table || !TABLE_OPS.has(g.nodes.get(table)?.op ?? '')) continue;
    const contents = tables.contents.get(table);
    if (!contents) {
      refused.set(table, tables.problems.get(table) ?? `${op} ${node.name} reads it, and tfsvc does not know what fills it`);
      continue;
    }
    const [keys, values] = constantsOf(table, contents);
    if (op === 'LookupTableFindV2' || op === 'LookupTableFind') {
      node.op = 'TfsvcTableFind';
      node.input = [`${keys}:0`, `${values}:0`, node.input![1]!, node.input![2]!];
      node.attr = { Tin: { type: contents.keyDtype }, Tout: { type: contents.valueDtype } };
    } else if (op === 'LookupTableSizeV2' || op === 'LookupTableSize') {
      node.op = 'Const';
      node.input = [];
      node.attr = { dtype: { type: 'DT_INT64' } };
      g.values.set(node.name!, { dtype: 'DT_INT64', shape: [], data: BigInt64Array.of(BigInt(contents.keys.shape[0]!)) });
    } else {
      // LookupTableExportV2: outputs (keys, values), now the two constants.
      node.op = 'IdentityN';
      node.input = [`${keys}:0`, `${values}:0`];
      node.attr = { T: { list: { type: [contents.keyDtype, contents.valueDtype] } } };
    }
  }
  return refused;
}

/** Ops that read a table through its handle; after bindTables none is left in a graph tfsvc runs. */
export const TABLE_READ_OPS: ReadonlySet<string> = new Set(['LookupTableFindV2', 'LookupTableFind', 'LookupTableSizeV2', 'LookupTableSize', 'LookupTableExportV2']);

function addConst(g: WorkGraph, name: string, value: HostTensor): void {
  g.nodes.set(name, { name, op: 'Const', input: [], attr: { dtype: { type: value.dtype } } });
  g.values.set(name, value);
}

/** The node a handle input comes from, through identities. */
function handleSource(g: WorkGraph, ref: string | undefined): string | undefined {
  if (!ref) return undefined;
  let [name] = splitRef(ref);
  for (let hops = 0; hops < 1000; hops++) {
    const n = g.nodes.get(name);
    if (!n || !PASS_THROUGH.has(n.op ?? '') || !n.input?.[0]) break;
    [name] = splitRef(n.input[0]);
  }
  return name;
}

function tableOf(g: WorkGraph, ref: string | undefined, tables: Map<string, NodeDef>): string | undefined {
  const name = handleSource(g, ref);
  return name && tables.has(name) ? name : undefined;
}

function isConst(g: WorkGraph, ref: string): boolean {
  const [name, index] = splitRef(ref);
  return index === 0 && g.nodes.get(name)?.op === 'Const';
}

function valueOf(g: WorkGraph, ref: string): HostTensor {
  return constValue(g, splitRef(ref)[0]);
}

/** Names of the init op's target nodes: the TF2 init signature, then TF1's collections. */
function initTargets(meta: MetaGraphDef): string[] {
  const targets: string[] = [];
  const init = meta.signatureDef?.__saved_model_init_op?.outputs?.__saved_model_init_op?.name;
  if (init) targets.push(init);
  for (const key of ['saved_model_main_op', 'main_op', 'legacy_init_op', 'table_initializer']) {
    for (const v of meta.collectionDef?.[key]?.nodeList?.value ?? []) targets.push(v);
  }
  return targets.map((t) => splitRef(canonicalRef(t.replace(/^\^/, ''))!)[0]);
}

/**
 * The init op's part of the top-level graph (data and control edges followed), asset tensors replaced by the absolute
 * paths of their files under assets/, every call inlined, so that each table init op's inputs are nodes of one graph.
 */
async function initGraph(src: TableSource): Promise<WorkGraph> {
  const top = new Map((src.meta.graphDef?.node ?? []).map((n) => [n.name!, n]));
  const g: WorkGraph = { nodes: new Map(), values: new Map() };
  const stack = initTargets(src.meta).filter((t) => top.has(t));
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (g.nodes.has(name)) continue;
    const n = top.get(name)!;
    const copy: NodeDef = { name, op: n.op, input: [], attr: { ...(n.attr ?? {}) } };
    src.ops.restoreDefaults(copy);
    for (const r of n.input ?? []) {
      const dep = r.startsWith('^') ? r.slice(1) : splitRef(canonicalRef(r)!)[0];
      if (top.has(dep)) stack.push(dep);
      const c = canonicalRef(r);
      if (c) copy.input!.push(c);
    }
    g.nodes.set(name, copy);
  }
  for (const asset of src.meta.assetFileDef ?? []) {
    const ref = asset.tensorInfo?.name ? canonicalRef(asset.tensorInfo.name) : undefined;
    if (!ref || !asset.filename) continue;
    const [name] = splitRef(ref);
    if (!g.nodes.has(name)) continue;
    const file = path.join(src.files.dir, 'assets', asset.filename);
    addConst(g, name, { dtype: 'DT_STRING', shape: [], data: [Buffer.from(file, 'utf8')] });
  }
  // Functions called only for their side effects (Keras' `_initializer`) have no outputs anyone reads; inline all.
  if ([...g.nodes.values()].some((n) => calledFunction(n, src.library))) inlineCalls(g, src.library, src.ops);
  return g;
}

/**
 * For TF2 checkpoints: top-level table node → checkpoint key prefix of its saved contents. The handle is a captured
 * input of a call; the called function's bound_inputs name the SavedObject; the checkpoint's object graph node with
 * that id has the `table` attribute (TF1 graphs: `<shared_name>-keys` when the checkpoint holds it).
 */
function checkpointTableKeys(src: TableSource, tables: Map<string, NodeDef>): Map<string, string> {
  const out = new Map<string, string>();
  const ckpt = src.checkpoint;
  if (!ckpt) return out;
  const tog = ckpt.objectGraph();
  const concrete = src.meta.objectGraphDef?.concreteFunctions ?? {};
  if (tog) {
    for (const call of src.meta.graphDef?.node ?? []) {
      const fname = calledFunction(call, src.library);
      const bound = fname ? concrete[fname]?.boundInputs : undefined;
      if (!bound || bound.length === 0) continue;
      const inputs = (call.input ?? []).filter((r) => !r.startsWith('^'));
      const captured = inputs.slice(inputs.length - bound.length);
      captured.forEach((ref, i) => {
        const name = ref.split(':')[0]!;
        if (!tables.has(name) || out.has(name)) return;
        const key = tog.nodes?.[bound[i]!]?.attributes?.find((a) => a.name === 'table')?.checkpointKey;
        if (key && ckpt.has(`${key}-keys`)) out.set(name, key);
      });
    }
  }
  for (const [name, node] of tables) {
    if (out.has(name)) continue;
    const shared = node.attr?.shared_name?.s ? Buffer.from(node.attr.shared_name.s).toString('utf8') : '';
    for (const candidate of [name, shared]) if (candidate && ckpt.has(`${candidate}-keys`)) out.set(name, candidate);
  }
  return out;
}

/** Table key of one element (strings compare as bytes). */
function keyOf(v: Uint8Array | number | bigint): Key {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('latin1');
  return Number(v);
}

function elements(t: HostTensor): (Uint8Array | number)[] {
  if (t.dtype === 'DT_STRING') return t.data as Uint8Array[];
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}

/** Inserts keys → values; with `overwrite` false (HashTable init) a different value for a known key is an error. */
function insert(f: Filling, keys: HostTensor, values: HostTensor, source: string, overwrite: boolean): void {
  const k = elements(keys);
  const v = elements(values);
  if (k.length !== v.length) throw new Error(`${k.length} keys but ${v.length} values`);
  if ((keys.dtype === 'DT_STRING') !== (f.keyDtype === 'DT_STRING')) throw new Error(`keys are ${keys.dtype}, the table's are ${f.keyDtype}`);
  for (let i = 0; i < k.length; i++) {
    const key = keyOf(k[i]!);
    const old = f.entries.get(key);
    if (old && !overwrite && keyOf(old[1]) !== keyOf(v[i]!)) {
      throw new Error(`HashTable has different value for same key. Key ${printable(k[i]!)} has ${printable(old[1])} and trying to add value ${printable(v[i]!)}`);
    }
    f.entries.set(key, [k[i]!, v[i]!]);
  }
  if (!f.sources.includes(source)) f.sources.push(source);
}

function printable(v: Uint8Array | number): string {
  return v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : String(v);
}

const WHOLE_LINE = -2;
const LINE_NUMBER = -1;

/**
 * InitializeTableFromTextFileV2, as TensorFlow's lookup_util reads a vocabulary: one entry per line; key and value
 * are the whole line (-2, a string), the line number (-1, an integer, plus `offset`), or column i of the line split
 * on `delimiter`. `vocab_size` > 0 reads exactly that many lines. Empty lines and missing columns are errors.
 */
function fillFromTextFile(f: Filling, file: string, node: NodeDef, modelDir: string): void {
  const keyIndex = Number(node.attr?.key_index?.i ?? WHOLE_LINE);
  const valueIndex = Number(node.attr?.value_index?.i ?? LINE_NUMBER);
  const vocabSize = Number(node.attr?.vocab_size?.i ?? -1);
  const delimiter = node.attr?.delimiter?.s ? Buffer.from(node.attr.delimiter.s).toString('utf8') : '\t';
  const offset = Number(node.attr?.offset?.i ?? 0);
  const shown = path.relative(modelDir, file).startsWith('..') ? path.basename(file) : path.relative(modelDir, file);
  let text: string;
  try {
    // Only files of the model's own assets/ (symlinks resolved): a graph may name any path (a training machine's
    // /tmp/vocab.txt, or ../../etc/passwd in a hostile model), and a table's values can come back in responses.
    const assets = realpathSync(path.join(modelDir, 'assets'));
    const real = realpathSync(file);
    if (!real.startsWith(assets + path.sep)) throw Object.assign(new Error(), { code: 'outside the model\'s assets/ folder' });
    text = readFileSync(real, 'latin1');
  } catch (err) {
    throw new Error(`cannot read vocabulary file ${shown}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (vocabSize > 0 && lines.length < vocabSize) throw new Error(`Invalid vocab_size in ${shown}: expected ${vocabSize} but got ${lines.length}`);
  const count = vocabSize > 0 ? vocabSize : lines.length;
  const keys: (Uint8Array | number)[] = [];
  const values: (Uint8Array | number)[] = [];
  const pick = (line: string, lineNo: number, index: number, dtype: string, what: string): Uint8Array | number => {
    if (index === LINE_NUMBER) return lineNo + offset;
    let field = line;
    if (index >= 0) {
      const cols = line.split(delimiter);
      if (index >= cols.length) throw new Error(`Invalid number of columns in ${shown} line ${lineNo} (${line}) : expected ${index + 1} got ${cols.length}`);
      field = cols[index]!;
    }
    if (dtype === 'DT_STRING') return Buffer.from(field, 'latin1');
    const n = dtype === 'DT_FLOAT' || dtype === 'DT_DOUBLE' ? Number(field) : /^[+-]?\d+$/.test(field.trim()) ? Number(field.trim()) : NaN;
    if (!Number.isFinite(n)) throw new Error(`${shown} line ${lineNo}: ${what} "${field}" is not a valid ${dtype}`);
    return n;
  };
  for (let i = 0; i < count; i++) {
    const line = lines[i]!.endsWith('\r') ? lines[i]!.slice(0, -1) : lines[i]!;
    if (line === '') throw new Error(`Invalid content in ${shown}: empty line found at position ${i}`);
    keys.push(pick(line, i, keyIndex, f.keyDtype, 'key'));
    values.push(pick(line, i, valueIndex, f.valueDtype, 'value'));
  }
  insert(f, hostOf(f.keyDtype, keys), hostOf(f.valueDtype, values), `assets/${path.basename(file)}`, false);
}

function hostOf(dtype: string, items: (Uint8Array | number)[]): HostTensor {
  const shape = [items.length];
  if (dtype === 'DT_STRING') return { dtype, shape, data: items as Uint8Array[] };
  if (dtype === 'DT_FLOAT') return { dtype, shape, data: Float32Array.from(items as number[]) };
  if (dtype === 'DT_DOUBLE') return { dtype, shape, data: Float64Array.from(items as number[]) };
  if (dtype === 'DT_INT64') return { dtype, shape, data: BigInt64Array.from(items as number[], (n) => BigInt(n)) };
  return { dtype, shape, data: Int32Array.from(items as number[]) };
}

/**
 * The filled table as two constants. tfjs computes integers in int32: an int64 key outside it can never be looked
 * up (requests are refused outside int32 too), so it is left out rather than clamped onto another key.
 */
function contentsOf(f: Filling): TableContents {
  const fits = (k: Uint8Array | number) => typeof k !== 'number' || f.keyDtype === 'DT_FLOAT' || f.keyDtype === 'DT_DOUBLE' || (k >= -2147483648 && k <= 2147483647);
  const entries = [...f.entries.values()].filter(([k]) => fits(k));
  return {
    keyDtype: f.keyDtype,
    valueDtype: f.valueDtype,
    keys: hostOf(f.keyDtype, entries.map(([k]) => k)),
    values: hostOf(f.valueDtype, entries.map(([, v]) => v)),
    source: f.sources.join(' + ') || 'empty',
  };
}

/** ModelError for a signature whose lookups reach tables tfsvc cannot serve. */
export function tableError(key: string, refused: Map<string, string>, file: string): ModelError {
  const list = [...refused].map(([t, why]) => `table ${t}: ${why}`).join('; ');
  return new ModelError(`signature ${key} looks keys up in a lookup table tfsvc cannot fill: ${list}`, file);
}
