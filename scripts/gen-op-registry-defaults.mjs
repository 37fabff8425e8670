#!/usr/bin/env node
// Regenerates src/core/graph/op-registry-defaults.ts: the default value of every attribute TensorFlow's op registry
// gives a default, for every op tfsvc executes (the ops tfjs-converter runs plus tfsvc's own, src/core/graph/tfjs-ops.ts,
// and the ops the graph builder reads before rewriting them). SavedModels may omit such attributes (the exporter strips
// defaults, and TF 2.0-era stripped_op_lists leave out ops used only inside functions); the graph builder restores them
// from this table, so a node runs as TensorFlow would run it.
//
// Input: TensorFlow's op definitions in protobuf text format (an OpList), i.e. tensorflow/core/ops/ops.pbtxt from a
// TensorFlow checkout, and/or files of tensorflow/core/ops/compat/ops_history_v2/ (one op per file, oldest version
// first: the last definition of an op wins). Run `npx tsc -p tsconfig.json` first (the parser is tfsvc's own).
//
//   node scripts/gen-op-registry-defaults.mjs --source "tensorflow/tensorflow@<commit> tensorflow/core/ops/ops.pbtxt" \
//     path/to/tensorflow/core/ops/ops.pbtxt [more.pbtxt ...] [--out FILE]
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { parseTextProto } = await import(path.join(root, 'dist/src/core/proto/text-format.js'));
const { protoType } = await import(path.join(root, 'dist/src/core/proto/schema.js'));
const { TFJS_OPS, TFSVC_OPS } = await import(path.join(root, 'dist/src/core/graph/tfjs-ops.js'));

/** Ops the graph builder reads or rewrites before tfjs sees the graph (tables, variables, calls, feeds). */
const BUILDER_OPS = [
  'HashTable', 'HashTableV2', 'MutableHashTable', 'MutableHashTableV2', 'LookupTableImportV2', 'LookupTableImport',
  'LookupTableFindV2', 'LookupTableFind', 'LookupTableSizeV2', 'LookupTableSize', 'LookupTableExportV2',
  'LookupTableInsertV2', 'InitializeTableV2', 'InitializeTable', 'InitializeTableFromTextFileV2',
  'InitializeTableFromTextFile', 'VarHandleOp', 'ReadVariableOp', 'VariableV2', 'ResourceGather', 'PartitionedCall',
  'StatefulPartitionedCall', 'BiasAddV1', 'BatchMatMulV3',
];

const args = process.argv.slice(2);
let source = '';
let target = path.join(root, 'src/core/graph/op-registry-defaults.ts');
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--source') source = args[++i] ?? '';
  else if (args[i] === '--out') target = path.resolve(args[++i] ?? '');
  else files.push(args[i]);
}
if (files.length === 0 || !source) {
  console.error('usage: node scripts/gen-op-registry-defaults.mjs --source "<repo>@<commit> <path>" OPS.pbtxt [...]');
  process.exit(2);
}

const executed = new Set([...TFJS_OPS, ...TFSVC_OPS, ...BUILDER_OPS]);
const opList = protoType('tensorflow.OpList');
const defs = new Map();
for (const file of files) {
  const list = parseTextProto(readFileSync(file, 'utf8'), opList);
  for (const op of list.op ?? []) if (op.name) defs.set(op.name, op); // later definitions win (ops_history order)
}

/** The shortest decimal that reads back as the same float32 (float attrs are float32: 0.2, not 0.20000000298023224). */
function shortestFloat32(x) {
  for (let p = 1; p <= 9; p++) {
    const d = Number(x.toPrecision(p));
    if (Math.fround(d) === Math.fround(x)) return d;
  }
  return x;
}

/** One AttrValue as a TypeScript literal (the plain form decodePlain gives NodeDef attrs). */
function literal(v) {
  if ('s' in v) return `{ s: bytes(${JSON.stringify(Buffer.from(v.s ?? []).toString('utf8'))}) }`;
  if ('b' in v) return `{ b: ${Boolean(v.b)} }`;
  if ('i' in v) return `{ i: ${Number(v.i)} }`;
  if ('f' in v) return `{ f: ${shortestFloat32(Number(v.f))} }`;
  if ('type' in v) return `{ type: '${v.type}' }`;
  if ('list' in v) {
    const l = v.list ?? {};
    const parts = [];
    if (l.i?.length) parts.push(`i: [${l.i.map(Number).join(', ')}]`);
    if (l.f?.length) parts.push(`f: [${l.f.map(Number).join(', ')}]`);
    if (l.type?.length) parts.push(`type: [${l.type.map((t) => `'${t}'`).join(', ')}]`);
    if (l.s?.length) parts.push(`s: [${l.s.map((s) => `bytes(${JSON.stringify(Buffer.from(s).toString('utf8'))})`).join(', ')}]`);
    if (l.b?.length) parts.push(`b: [${l.b.join(', ')}]`);
    return `{ list: {${parts.length ? ` ${parts.join(', ')} ` : ''}} }`;
  }
  if ('shape' in v) return `{ shape: ${JSON.stringify(v.shape ?? {})} }`;
  return undefined; // tensor/func defaults: none among executed ops
}

const lines = [];
const names = [...defs.keys()].filter((n) => executed.has(n)).sort();
for (const name of names) {
  const attrs = (defs.get(name).attr ?? []).filter((a) => a.defaultValue && literal(a.defaultValue));
  if (attrs.length === 0) continue;
  lines.push(`  ${/^[A-Za-z_]\w*$/.test(name) ? name : JSON.stringify(name)}: { ${attrs.map((a) => `${a.name}: ${literal(a.defaultValue)}`).join(', ')} },`);
}

const missing = [...executed].filter((n) => !defs.has(n)).sort();
const wrap = (words) => {
  const lines = [];
  let line = '//  ';
  for (const w of words) {
    if (line.length + w.length > 118) {
      lines.push(line);
      line = '//  ';
    }
    line += ` ${w}`;
  }
  if (line.trim() !== '//') lines.push(line);
  return lines.join('\n');
};
const missingNote = missing.length
  ? `// Executed ops the input does not define (none of their attributes gets a default here; rerun with a full ops.pbtxt):\n${wrap(missing)}\n`
  : '';

const out = `// GENERATED by scripts/gen-op-registry-defaults.mjs: do not edit by hand; rerun the script.
// Source: ${source}
// Input files: ${files.map((f) => path.basename(f)).join(', ')}
// Ops covered: the ops tfsvc executes (src/core/graph/tfjs-ops.ts plus the graph builder's own), ${names.length} defined in
// the input, ${lines.length} with attribute defaults.
${missingNote}//
// TensorFlow's op registry defaults for attributes a SavedModel may leave out. OpRegistry.restoreDefaults applies the
// model's own stripped_op_list first, then this table.
import type { AttrValue } from '../savedmodel/types.js';

const bytes = (s: string): Uint8Array => Buffer.from(s, 'utf8');

export const OP_REGISTRY_DEFAULTS: Readonly<Record<string, Readonly<Record<string, AttrValue>>>> = {
${lines.join('\n')}
};
`;
writeFileSync(target, out);
console.log(`wrote ${path.relative(root, target)}: ${lines.length} ops with defaults (${names.length} executed ops defined in the input)`);
